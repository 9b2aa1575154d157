#!/bin/bash
# Tier 2: floe.ko on Debian's own kernels under qemu, one boot per kernel
# line (KVERS; scripts/debian-kernel.sh says which version each line is).
# For each kernel:
#   - the module to load comes from a provider, scripts/vm-module/<name>.sh
#     KVER OUTDIR, which prints the path of a floe.ko: `dkms` (default)
#     builds and installs the installed DKMS source with dkms, as users do
#     (a failed build prints DKMS's make.log); `kbuild` builds kmod/
#     directly;
#   - floe.ko must also build from kmod/ against its headers with W=1 and
#     without a single warning;
#   - Debian's vmlinuz boots with it and runs the tests in tests/kmod
#     (static) and the extra (library) tests on the kmod backend; rmmod at
#     the end must succeed. t_modcycle (unload/reload cycles) runs last.
#
# Usage: scripts/vm-test.sh [EXTRA_TEST...]
# Environment:
#   KVERS           kernel lines, e.g. "6.12" (default "6.1 6.12")
#   VM_MODULE       module provider (default dkms): scripts/vm-module/$VM_MODULE.sh
#   VM_EXTRA_TESTS  more static test binaries (e.g. the library's tests),
#                   run with FLOE_BACKEND=kmod; also taken as arguments
#   VM_EXTRA_FILES  files the extra tests need, staged as /files/<name>
#   VM_KMOD_TESTS   subset of tests/kmod to run (e.g. "t_death t_perm")
#   VM_TIMEOUT      per-test timeout in seconds (default 120)
#   VM_VERBOSE=1    echo the whole console
#   VM_OUT          work directory (default build/vm; one subdirectory per line)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"
t_start=$(date +%s)

kvers=${KVERS:-6.1 6.12}
provider_name=${VM_MODULE:-dkms}
provider=$here/vm-module/$provider_name.sh
[ -x "$provider" ] || {
	echo "vm-test: no module provider $provider (VM_MODULE=$provider_name)" >&2
	exit 2
}
out=${VM_OUT:-$repo/build/vm}

"$here/deps.sh" vm

# shellcheck disable=SC2086 # a list of names
mapfile -t tests < <("$here/kmod-tests-build.sh" "$out/tests" ${VM_KMOD_TESTS:-})
[ "${#tests[@]}" -gt 0 ] || { echo "vm-test: no tests built" >&2; exit 1; }

# Extra (library) tests: staged as host-<name> so names cannot clash with
# tests/kmod; they must be static binaries or scripts.
extra=()
rm -rf "$out/extra"
mkdir -p "$out/extra"
# shellcheck disable=SC2206 # a whitespace-separated list
extra_src=(${VM_EXTRA_TESTS:-} "$@")
for t in "${extra_src[@]}"; do
	[ -f "$t" ] || { echo "vm-test: extra test $t not found" >&2; exit 1; }
	if [ "$(head -c2 "$t")" != "#!" ] && ldd "$t" >/dev/null 2>&1; then
		echo "vm-test: $t is dynamically linked; link it -static" >&2
		exit 1
	fi
	cp "$t" "$out/extra/host-$(basename "$t")"
	extra+=("$out/extra/host-$(basename "$t")")
done

# Files beside the tests (e.g. the floe tool and the CLI tests' lib.sh).
staged=()
# shellcheck disable=SC2206 # a whitespace-separated list
for f in ${VM_EXTRA_FILES:-}; do
	[ -f "$f" ] || { echo "vm-test: extra file $f not found" >&2; exit 1; }
	staged+=(-f "$f")
done

# Order: tests/kmod (t_modcycle excluded), extra tests, then t_modcycle.
ordered=()
last=()
for t in "${tests[@]}"; do
	if [ "$(basename "$t")" = t_modcycle ]; then last+=("$t"); else ordered+=("$t"); fi
done
ordered+=("${extra[@]}" "${last[@]}")
t_tests=$(date +%s)
echo "vm-test: kernels: $kvers; module: $provider_name; ${#ordered[@]} tests (built in $((t_tests - t_start))s)"

verbose=()
[ "${VM_VERBOSE:-0}" = 1 ] && verbose=(-v)
rc=0 summary=()

# One kernel line: build checks, module, boot. Returns non-zero on failure.
run_line() {
	local line=$1 dir=$out/$1 ver kernel ko t0 t1 t2 vrc=0 n l v
	t0=$(date +%s)
	ver=$("$here/debian-kernel.sh" --version "$line") || return 1
	kernel=$("$here/debian-kernel.sh" "$line") || return 1
	echo "vm-test: [$line] kernel $ver"
	mkdir -p "$dir"
	ko=$("$provider" "$ver" "$dir/module") || {
		echo "vm-test: [$line] FAIL: module provider $provider_name"
		return 1
	}
	if [ "$(basename "$ko")" != floe.ko ] || [ ! -f "$ko" ]; then
		echo "vm-test: [$line] FAIL: provider $provider_name gave '$ko', not a floe.ko"
		return 1
	fi
	# Zero warnings, W=1 included (kmod-build.sh prints them).
	"$here/kmod-build.sh" "/lib/modules/$ver/build" "$dir/w1" W=1 >/dev/null || return 1
	if grep -E 'warning:|WARNING:' "$dir/w1.log" >/dev/null; then
		echo "vm-test: [$line] FAIL: floe.ko builds with warnings (W=1; log $dir/w1.log)"
		return 1
	fi
	echo "vm-test: [$line] module $ko ($provider_name)"
	t1=$(date +%s)
	"$here/vm-run.sh" -k "$kernel" -m "$ko" -r -e FLOE_BACKEND=kmod \
		"${staged[@]}" -t "${VM_TIMEOUT:-120}" -l "$dir/console.log" \
		"${verbose[@]}" "${ordered[@]}" || vrc=$?
	t2=$(date +%s)

	echo "vm-test: [$line] verdicts:"
	for t in "${ordered[@]}"; do
		n=$(basename "$t")
		l=$(grep -E "FLOE-VM: (PASS|FAIL) $n( |\$)" "$dir/console.log" | head -n1 || true)
		case "$l" in
		*"FLOE-VM: PASS"*) v="PASS ${l##* }" ;;
		*"FLOE-VM: FAIL"*) v="FAIL ${l#*FLOE-VM: FAIL "$n" }" ;;
		*) v="NOT RUN" ;;
		esac
		printf 'vm-test:   %-32s %s\n' "$n" "$v"
	done
	echo "vm-test: [$line] timing: builds and module $((t1 - t0))s, vm $((t2 - t1))s"
	return "$vrc"
}

for line in $kvers; do
	t0=$(date +%s)
	lrc=0
	run_line "$line" || lrc=$?
	t1=$(date +%s)
	if [ "$lrc" = 0 ]; then
		summary+=("$line PASS ($((t1 - t0))s)")
	else
		summary+=("$line FAIL ($((t1 - t0))s; console log $out/$line/console.log)")
		rc=1
	fi
done

t_end=$(date +%s)
for s in "${summary[@]}"; do echo "vm-test: kernel $s"; done
echo "vm-test: timing: tests $((t_tests - t_start))s, total $((t_end - t_start))s"
if [ "$rc" = 0 ]; then echo "vm-test: PASS"; else echo "vm-test: FAIL"; fi
exit "$rc"
