#!/bin/bash
# Tier 2: floe.ko on Debian's own kernel under qemu.
# Builds floe.ko against the installed linux-headers (from a copy of kmod/),
# the tests in tests/kmod/ (static), and boots Debian's vmlinuz with them;
# rmmod at the end must succeed. t_modcycle (unload/reload cycles) runs last.
#
# Usage: scripts/vm-test.sh [EXTRA_TEST...]
# Environment:
#   VM_EXTRA_TESTS  more static test binaries (e.g. the library's tests),
#                   run with FLOE_BACKEND=kmod; also taken as arguments
#   VM_EXTRA_FILES  files the extra tests need, staged as /files/<name>
#   VM_KMOD_TESTS   subset of tests/kmod to run (e.g. "t_death t_perm")
#   VM_TIMEOUT      per-test timeout in seconds (default 120)
#   VM_VERBOSE=1    echo the whole console
#   VM_OUT          work directory (default build/vm)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"
t_start=$(date +%s)

"$here/deps.sh" vm
ver=$("$here/debian-kernel.sh" --version)
kernel=$("$here/debian-kernel.sh")
kdir=/lib/modules/$ver/build
out=${VM_OUT:-$repo/build/vm}

echo "vm-test: kernel $ver"
kmod=$("$here/kmod-build.sh" "$kdir" "$out/kmod")
[ -f "$kmod/floe.ko" ] || { echo "vm-test: $kmod/floe.ko not built" >&2; exit 1; }

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

t_built=$(date +%s)
echo "vm-test: built in $((t_built - t_start))s; running ${#ordered[@]} tests"
verbose=()
[ "${VM_VERBOSE:-0}" = 1 ] && verbose=(-v)
rc=0
"$here/vm-run.sh" -k "$kernel" -m "$kmod/floe.ko" -r -e FLOE_BACKEND=kmod \
	"${staged[@]}" -t "${VM_TIMEOUT:-120}" -l "$out/console.log" "${verbose[@]}" "${ordered[@]}" || rc=$?
t_end=$(date +%s)

echo "vm-test: verdicts:"
for t in "${ordered[@]}"; do
	n=$(basename "$t")
	line=$(grep -E "FLOE-VM: (PASS|FAIL) $n( |\$)" "$out/console.log" | head -n1 || true)
	case "$line" in
	*"FLOE-VM: PASS"*) v="PASS ${line##* }" ;;
	*"FLOE-VM: FAIL"*) v="FAIL ${line#*FLOE-VM: FAIL "$n" }" ;;
	*) v="NOT RUN" ;;
	esac
	printf 'vm-test:   %-32s %s\n' "$n" "$v"
done
echo "vm-test: timing: build $((t_built - t_start))s, vm $((t_end - t_built))s, total $((t_end - t_start))s"
if [ "$rc" = 0 ]; then echo "vm-test: PASS"; else echo "vm-test: FAIL (console log $out/console.log)"; fi
exit "$rc"
