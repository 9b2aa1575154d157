#!/bin/sh
# Build the /dev/floe tests (tests/kmod/t_*.c) as static binaries.
# Usage: scripts/kmod-tests-build.sh OUTDIR [NAME...]
#   NAMEs (e.g. t_death) select tests; default: all. Prints the binaries'
#   paths, one a line, with t_modcycle (it reloads the module) last.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [NAME...]" >&2; exit 2; }
out=$1
shift
mkdir -p "$out"

if [ $# -eq 0 ]; then
	# shellcheck disable=SC2046 # test names have no spaces
	set -- $(cd "$repo/tests/kmod" && for f in t_*.c; do echo "${f%.c}"; done)
fi
last=""
for t in "$@"; do
	t=${t%.c}
	src="$repo/tests/kmod/$t.c"
	[ -f "$src" ] || { echo "kmod-tests-build: no $src" >&2; exit 2; }
	bin="$out/$t"
	# Rebuild when the source or a shared header is newer.
	if [ ! -x "$bin" ] || [ -n "$(find "$src" "$repo/tests/tap.h" \
		"$repo/tests/kmod/floe_test.h" "$repo/include/uapi/linux/floe.h" \
		-newer "$bin" 2>/dev/null)" ]; then
		gcc -static -O2 -Wall -Wextra -Werror -I"$repo/include/uapi" \
			-I"$repo/tests" \
			-o "$bin" "$src" >&2
	fi
	if [ "$t" = t_modcycle ]; then last=$bin; else echo "$bin"; fi
done
[ -z "$last" ] || echo "$last"
