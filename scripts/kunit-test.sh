#!/bin/bash
# Tier 3: KUnit and the /dev/floe tests on a debug kernel (KASAN, lockdep,
# kmemleak), built once by scripts/kunit-kernel.sh and cached.
#   boot 1: insmod floe_kunit.ko; its KTAP is checked by ktap-check.sh
#   boot 2: insmod floe.ko, run tests/kmod, rmmod
# Each boot ends with a kmemleak scan (after rmmod) that must find nothing,
# and the console must be free of KASAN/lockdep/WARN splats.
#
# Usage: scripts/kunit-test.sh
# Environment:
#   KUNIT_WAIT      minutes to wait for another debug-kernel build (default 45)
#   KUNIT_TIMEOUT   per-test timeout in seconds (default 300: TCG + KASAN)
#   VM_KMOD_TESTS   subset of tests/kmod to run
#   KUNIT_STRESS_SECS  duration of t_stress on the debug kernel (default 10)
#   KUNIT_EXTRA_TESTS  library tests (static binaries) to run in boot 2 too
#   VM_VERBOSE=1    echo the whole console
#   KUNIT_OUT       work directory (default build/kunit)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"
t_start=$(date +%s)
cache=${FLOE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/floe}
out=${KUNIT_OUT:-$repo/build/kunit}
mkdir -p "$out" "$cache"

"$here/deps.sh" kunit

# One debug-kernel build at a time. kunit-kernel.sh builds into
# <tree>.tmp and renames it when done: wait while another build (one not
# started by this script, so not under our lock) is visibly progressing.
wait_other_build() {
	local deadline=$(($(date +%s) + ${KUNIT_WAIT:-45} * 60)) busy t
	while :; do
		busy=""
		for t in "$cache"/kunit-*.tmp; do
			[ -d "$t" ] || continue
			# Progressing: something in it changed in the last 3 minutes.
			if [ -n "$(find "$t" -newermt '-3 minutes' -print -quit 2>/dev/null)" ]; then
				busy=$t
			fi
		done
		[ -n "$busy" ] || return 0
		[ "$(date +%s)" -lt "$deadline" ] || {
			echo "kunit-test: gave up waiting for the build in $busy" >&2
			return 1
		}
		echo "kunit-test: another debug-kernel build is running ($busy); waiting" >&2
		sleep 30
	done
}

echo "kunit-test: getting the debug kernel (first build ~15-25 min, then cached)"
exec 9>"$cache/kunit-build.lock"
timeout $((${KUNIT_WAIT:-45} * 60)) flock 9 || { echo "kunit-test: lock timeout" >&2; exit 1; }
wait_other_build
tree=$("$here/kunit-kernel.sh" | tail -n1)
exec 9>&-
bzimage=$tree/arch/x86/boot/bzImage
[ -f "$bzimage" ] || { echo "kunit-test: $bzimage missing" >&2; exit 1; }
t_kernel=$(date +%s)

kmod=$("$here/kmod-build.sh" "$tree" "$out/kmod" ARCH=x86_64)
for m in floe.ko floe_kunit.ko; do
	[ -f "$kmod/$m" ] || { echo "kunit-test: $kmod/$m not built" >&2; exit 1; }
done
# shellcheck disable=SC2086 # a list of names
mapfile -t kmod_tests < <("$here/kmod-tests-build.sh" "$out/tests" ${VM_KMOD_TESTS:-})
# The library's tests (KUNIT_EXTRA_TESTS) drive the module too: under KASAN,
# lockdep and kmemleak they run before t_modcycle, staged as host-<name>.
extra=()
rm -rf "$out/extra"
mkdir -p "$out/extra"
# shellcheck disable=SC2206 # a whitespace-separated list
for t in ${KUNIT_EXTRA_TESTS:-}; do
	[ -f "$t" ] || { echo "kunit-test: extra test $t not found" >&2; exit 1; }
	cp "$t" "$out/extra/host-$(basename "$t")"
	extra+=("$out/extra/host-$(basename "$t")")
done
tests=() last=()
for t in "${kmod_tests[@]}"; do
	case "$(basename "$t")" in
	t_modcycle) last+=("$t") ;;
	*) tests+=("$t") ;;
	esac
done
tests+=("${extra[@]}" "${last[@]}")
t_built=$(date +%s)

# kmemleak helpers, run inside the VM by busybox sh.
arm=$repo/tests/kmod/kmemleak-arm.sh
check=$repo/tests/kmod/kmemleak-check.sh

verbose=()
[ "${VM_VERBOSE:-0}" = 1 ] && verbose=(-v)
tmo=${KUNIT_TIMEOUT:-300}
rc=0

echo "kunit-test: boot 1: KUnit (floe_kunit.ko)"
rc1=0
"$here/vm-run.sh" -k "$bzimage" -m "$kmod/floe_kunit.ko" -r -t "$tmo" \
	-b "$arm" -a "$check" \
	-l "$out/console-kunit.log" "${verbose[@]}" || rc1=$?
rc2=0
ktap=$("$here/ktap-check.sh" --from 'FLOE-VM: INSMOD floe_kunit.ko' \
	--to 'FLOE-VM: (RMMOD|FAIL|DONE)' "$out/console-kunit.log") || rc2=$?
printf '%s\n' "$ktap"
[ "$rc1" = 0 ] && [ "$rc2" = 0 ] || rc=1
t_kunit=$(date +%s)

echo "kunit-test: boot 2: tests/kmod and library tests on floe.ko (${#tests[@]} tests)"
rc3=0
"$here/vm-run.sh" -k "$bzimage" -m "$kmod/floe.ko" -r -t "$tmo" -e FLOE_BACKEND=kmod \
	-e FLOE_STRESS_SECS="${KUNIT_STRESS_SECS:-10}" -e FLOE_STORM_N=200 \
	-e FLOE_DEATH_ROUNDS=50 -b "$arm" -a "$check" \
	-l "$out/console-kmod.log" "${verbose[@]}" "${tests[@]}" || rc3=$?
[ "$rc3" = 0 ] || rc=1
t_end=$(date +%s)

echo "kunit-test: verdicts:"
verdict() { [ "$1" = 0 ] && echo PASS || echo FAIL; }
printf 'kunit-test:   %-32s %s\n' "boot 1 (rmmod, kmemleak, console)" "$(verdict "$rc1")" \
	"KTAP of floe_kunit.ko" "$(verdict "$rc2") ($(printf '%s\n' "$ktap" | tail -n1))"
for t in "${tests[@]}" "$check"; do
	n=$(basename "$t")
	line=$(grep -E "FLOE-VM: (PASS|FAIL) $n( |\$)" "$out/console-kmod.log" | head -n1 || true)
	case "$line" in
	*"FLOE-VM: PASS"*) v="PASS ${line##* }" ;;
	*"FLOE-VM: FAIL"*) v="FAIL ${line#*FLOE-VM: FAIL "$n" }" ;;
	*) v="NOT RUN" ;;
	esac
	printf 'kunit-test:   %-32s %s\n' "$n" "$v"
done
echo "kunit-test: timing: kernel $((t_kernel - t_start))s, build $((t_built - t_kernel))s," \
	"kunit boot $((t_kunit - t_built))s, kmod boot $((t_end - t_kunit))s, total $((t_end - t_start))s"
if [ "$rc" = 0 ]; then echo "kunit-test: PASS"; else echo "kunit-test: FAIL (logs $out/console-*.log)"; fi
exit "$rc"
