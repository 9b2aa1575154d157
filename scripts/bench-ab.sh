#!/bin/bash
# Is build B faster than build A? Runs two builds of one benchmark program
# in alternation, a random one of the two first each round, and compares
# them round by round.
#
#   scripts/bench-ab.sh [-n ROUNDS] [-m METRIC] [-H] A B [ARG...]
#
# A and B are the program as each tree built it (e.g. build-old/bench/scale
# and build/bench/scale); each runs as `A --json ARG...`. METRIC is a jq
# expression over the program's JSON rows giving one number per run; the
# default is floe's 8 B ping-pong p50 over the raw cache line's p50 of the
# same run (pubsub_pingpong, request_response). Lower is better unless -H
# (e.g. a throughput). Prints every round ("a b"), then the median and
# quartiles of each, and in how many rounds B did better, with the
# two-sided sign test's p-value.
#
# Why this way: the VMs here change state every 10-30 s (the raw line
# between ~40, ~55 and ~200 ns), so two runs minutes apart say more about
# the machine than about the change. A round's two runs are seconds apart
# and take turns going first; a ratio to the raw line of the same run
# cancels most of the rest. Code placement moves results as well: a change
# that only shifts functions to other addresses can win or lose every
# round. Build both trees with the same
#   CFLAGS="-O2 -g -falign-functions=64 -falign-loops=64"
# so that neither tree's hot loops gain by the other's placement. And
# count what does not depend on the machine with scripts/path-length.sh.
set -u

rounds=20
higher=0
metric='([.[] | select(.system == "floe" and .pattern == "pingpong" and .payload_bytes == 8)][0].p50_ns) /
        ([.[] | select(.system == "raw-cacheline")][0].p50_ns)'
while getopts "n:m:H" opt; do
	case $opt in
	n) rounds=$OPTARG ;;
	m) metric=$OPTARG ;;
	H) higher=1 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 2 ]; then
	sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
fi
a=$1 b=$2
shift 2
command -v jq >/dev/null || {
	echo "bench-ab.sh: jq is not installed (scripts/deps.sh bench)" >&2
	exit 1
}

# one PROGRAM's number for this round
measure() {
	local v
	v=$("$1" --json "${@:2}" 2>/dev/null | jq -e "$metric") || {
		echo "bench-ab.sh: $1 failed or printed no '$metric'" >&2
		return 1
	}
	echo "$v"
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((i = 0; i < rounds; i++)); do
	if ((RANDOM % 2)); then
		x=$(measure "$a" "$@") && y=$(measure "$b" "$@") || exit 1
	else
		y=$(measure "$b" "$@") && x=$(measure "$a" "$@") || exit 1
	fi
	echo "$x $y" | tee -a "$out"
done

awk -v higher="$higher" '
function quartiles(v, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return sprintf("%.4g (%.4g-%.4g)", v[int((n + 1) / 2)],
		       v[int((n + 3) / 4)], v[int((3 * n + 1) / 4) + 0])
}
{
	n++; a[n] = $1; b[n] = $2
	if ((higher && $2 > $1) || (!higher && $2 < $1)) wins++
	else if ($1 != $2) losses++
}
END {
	# two-sided sign test over the rounds that differ
	m = wins + losses; k = wins < losses ? wins : losses; p = 0; c = 1
	for (i = 0; i <= k; i++) {
		p += c
		c = c * (m - i) / (i + 1)
	}
	p = m ? 2 * p / 2 ^ m : 1
	if (p > 1) p = 1
	printf "A median (quartiles) %s\n", quartiles(a, n)
	printf "B median (quartiles) %s\n", quartiles(b, n)
	printf "B better in %d of %d rounds (%d ties); sign test p = %.3g\n",
	       wins + 0, n, n - m, p
}' "$out"
