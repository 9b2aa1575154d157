#!/bin/bash
# The path length of a message: instructions and stores per message of
# each case of bench/path_length.c, counted by valgrind's cachegrind (one
# process, so the count is the same on any machine state; a timing is
# not). Each case runs at two lengths; the difference divided by the
# messages in between leaves out setup and teardown.
#
#   scripts/path-length.sh [PROGRAM]   (default build/bench/path_length)
#
# Prints one line per case: "case instructions stores unit", the unit
# being a message, or a round trip for rr. Exit status non-zero if a case
# failed or valgrind is missing.
set -u
prog=${1:-build/bench/path_length}
command -v valgrind >/dev/null || {
	echo "path-length.sh: valgrind is not installed" >&2
	exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# totals CASE ROUNDS: "instructions stores" of one run
totals() {
	local out=$tmp/cg.$1.$2
	valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file="$out" \
		"$prog" "$1" "$2" >/dev/null 2>"$tmp/log" || {
		echo "path-length.sh: $1 failed:" >&2
		cat "$tmp/log" >&2
		return 1
	}
	awk '/^events:/ { for (i = 2; i <= NF; i++) col[$i] = i - 1 }
	     /^summary:/ { print $(col["Ir"] + 1), $(col["Dw"] + 1) }' "$out"
}

status=0
# case, rounds, messages per round, unit
while read -r c rounds per unit; do
	a=$(totals "$c" "$rounds") && b=$(totals "$c" $((2 * rounds))) || {
		status=1
		continue
	}
	echo "$a $b" | awk -v c="$c" -v n=$((rounds * per)) -v u="$unit" \
		'{ printf "%s %.0f %.0f %s\n", c, ($3 - $1) / n, ($4 - $2) / n, u }'
done <<'CASES'
pingpong 20000 1 message
default 20000 1 message
stream 1000 32 message
rr 10000 1 round-trip
CASES
exit $status
