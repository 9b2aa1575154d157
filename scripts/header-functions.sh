#!/bin/sh
# Print "name line" for every function include/floe.h declares, one per
# line, in header order. The compiler lists them (gcc -aux-info), so
# declarations split over lines, function-pointer parameters and typedefs
# cannot confuse it. Used by scripts/check-abi.sh and scripts/check-man.sh.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/floe-hdr.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo '#include <floe.h>' >"$tmp/h.c"
gcc -I"$repo/include" -fsyntax-only -aux-info "$tmp/aux" "$tmp/h.c"
# /* .../include/floe.h:93:NC */ extern const char *floe_strerror (int);
# (static inline functions are not part of the library's ABI)
grep -v '\*/ static ' "$tmp/aux" |
	sed -n 's|^/\* .*/include/floe\.h:\([0-9]*\):[A-Z]* \*/ .*[ *]\(floe_[A-Za-z0-9_]*\) (.*|\2 \1|p'
