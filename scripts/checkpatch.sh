#!/bin/sh
# The kernel's checkpatch.pl --strict over the module and its uapi header:
# any error, warning or check fails. checkpatch.pl, spelling.txt and
# const_structs.checkpatch are extracted once from the installed
# linux-source-6.1 tarball into a cache keyed by its version (no download).
#
# floe_compat.h exists to key code on LINUX_VERSION_CODE, which checkpatch
# discourages for code merged into one kernel version: there only, the
# LINUX_VERSION_CODE and CONSTANT_COMPARISON (the version on the left of
# "<") messages are ignored.
# Usage: scripts/checkpatch.sh [FILE...]   (default: kmod/* and include/uapi/)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
src_tar=/usr/src/linux-source-6.1.tar.xz
cache=${FLOE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/floe}

[ -f "$src_tar" ] || { echo "checkpatch: $src_tar missing (scripts/deps.sh kunit)" >&2; exit 1; }
src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
dir=$cache/checkpatch-$src_ver
if [ ! -f "$dir/.floe-done" ]; then
	echo "checkpatch: extracting checkpatch.pl from $src_tar (first run only)" >&2
	mkdir -p "$cache"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	tar -xJf "$src_tar" -C "$dir.tmp" --strip-components=2 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	touch "$dir.tmp/.floe-done"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
fi

cd "$repo"
# The module's sources as make install-dkms installs them, and the uapi.
[ $# -gt 0 ] || set -- kmod/*.[ch] kmod/Kbuild kmod/Makefile kmod/dkms.conf \
	include/uapi/linux/*.h
rc=0 n=0
for f in "$@"; do
	case "$f" in *.mod.c) continue ;; esac
	ignore=""
	[ "$(basename "$f")" = floe_compat.h ] && ignore="--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON"
	n=$((n + 1))
	# shellcheck disable=SC2086 # $ignore is words
	if ! res=$(perl "$dir/checkpatch.pl" --strict --no-tree --no-summary --terse \
		--show-types $ignore -f "$f" 2>&1) || [ -n "$res" ]; then
		printf '%s\n' "$res"
		rc=1
	fi
done
if [ "$rc" = 0 ]; then
	echo "checkpatch: PASS ($n files, --strict, no error, warning or check)"
else
	echo "checkpatch: FAIL"
fi
exit "$rc"
