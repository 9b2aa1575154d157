#!/bin/sh
# Build the module from a COPY of kmod/ (the source tree stays clean).
# Usage: scripts/kmod-build.sh KDIR OUTDIR [MAKE_ARG...]
#   KDIR    kernel build tree (/lib/modules/<ver>/build, or a built tree)
#   OUTDIR  build directory under build/ (e.g. build/vm/kmod)
# Timestamps are preserved, so unchanged sources are not rebuilt. The build
# log is OUTDIR.log; its tail is shown on failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 KDIR OUTDIR [MAKE_ARG...]" >&2; exit 2; }
kdir=$1 out=$2
shift 2
[ -d "$kdir" ] || { echo "kmod-build: no kernel tree $kdir" >&2; exit 1; }
[ -d "$repo/kmod" ] || { echo "kmod-build: $repo/kmod missing" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
# Drop sources that are gone from kmod/, then copy the current ones.
for f in "$out"/*.c "$out"/*.h "$out"/Kbuild "$out"/Makefile; do
	[ -e "$f" ] || continue
	[ -e "$repo/kmod/$(basename "$f")" ] || rm -f "$f"
done
for f in "$repo"/kmod/*.c "$repo"/kmod/*.h "$repo"/kmod/Kbuild "$repo"/kmod/Makefile; do
	[ -e "$f" ] || continue
	cmp -s "$f" "$out/$(basename "$f")" || cp -p "$f" "$out/"
done

echo "kmod-build: building $out against $kdir" >&2
# O= on an outer make command line is the library build dir, not Kbuild's
if ! timeout 900 make -C "$kdir" M="$out" O= FLOE_UAPI="$repo/include/uapi" "$@" modules \
	>"$out.log" 2>&1; then
	tail -40 "$out.log" >&2
	echo "kmod-build: FAILED (log $out.log)" >&2
	exit 1
fi
# Compiler warnings are worth seeing even when the build passed. Without
# the tree's Module.symvers (a tree prepared with modules_prepare only),
# modpost cannot resolve any kernel symbol: those warnings are noise, and
# unresolved symbols show up as insmod failures instead.
if [ -f "$kdir/Module.symvers" ]; then
	grep -E 'warning:|WARNING:' "$out.log" >&2 || true
else
	echo "kmod-build: note: $kdir has no Module.symvers; symbols are checked at insmod" >&2
	grep -E 'warning:|WARNING:' "$out.log" |
		grep -vE 'undefined!$|Module.symvers is missing|unresolved symbol warnings' >&2 || true
fi
echo "$out"
