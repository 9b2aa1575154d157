#!/bin/bash
# The path length of a message: instructions and stores per message of
# each case of bench/path_length.c, counted by valgrind's lackey (one
# process, so the count is the same on any machine state; a timing is
# not). Lackey counts every instruction's stores, a read-modify-write (a
# counter's increment) and a push included; cachegrind counts such an
# instruction as a read only. Each case runs at two lengths; the
# difference divided by the messages in between leaves out setup and
# teardown.
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
	valgrind --tool=lackey --detailed-counts=yes "$prog" "$1" "$2" \
		>/dev/null 2>"$tmp/log" || {
		echo "path-length.sh: $1 failed:" >&2
		cat "$tmp/log" >&2
		return 1
	}
	# "guest instrs: N", then a table of loads, stores and ALU
	# operations by type: its stores summed
	awk '/guest instrs:/ { gsub(",", "", $4); instrs = $4 }
	     /^==[0-9]+== +[A-Z][0-9]+ / { gsub(",", "", $4); stores += $4 }
	     END { print instrs, stores }' "$tmp/log"
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
