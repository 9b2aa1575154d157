#!/bin/bash
# Run host test binaries (TAP programs) and judge them.
#
# Usage: tests/run-host.sh BIN...
#
# Each test runs with FLOE_BACKEND=shm (unless the caller set FLOE_BACKEND),
# in a domain of its own (FLOE_DOMAIN=h<index>x<pid>, which the tests keep),
# under `timeout` (FLOE_TEST_TIMEOUT seconds, default 120; the tests arm a
# watchdog a little below it). A test fails if it exits non-zero, times out,
# dies of a signal, prints no TAP plan, or leaves shared-memory objects of
# its domain behind (/dev/shm/<domain>.*, /sys/kernel/floe/segments/<domain>.*);
# leftover /dev/shm files are removed so that they cannot affect later runs.
# Prints every test's TAP, a verdict line per test and a summary; exits
# non-zero if any test failed.
set -u

[ $# -gt 0 ] || { echo "usage: $0 BIN..." >&2; exit 2; }

export FLOE_BACKEND=${FLOE_BACKEND:-shm}
export FLOE_TEST_TIMEOUT=${FLOE_TEST_TIMEOUT:-120}

leftovers() {	# domain -> names of its shared objects, one per line
	local d=$1 f
	for f in /dev/shm/"$d".* /sys/kernel/floe/segments/"$d".*; do
		[ -e "$f" ] && echo "$f"
	done
}

ms_now() {	# monotonic enough: wall clock in milliseconds
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

pass=0 fail=0 idx=0
failed=()
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for bin in "$@"; do
	idx=$((idx + 1))
	name=$(basename "$bin")
	domain="h${idx}x$$"
	echo "# ---- $name (domain $domain, backend $FLOE_BACKEND)"
	start_ms=$(ms_now)
	# timeout signals the whole process group, so forked children die too.
	FLOE_DOMAIN=$domain timeout --kill-after=10 "$FLOE_TEST_TIMEOUT" \
		"$bin" >"$out" 2>&1
	rc=$?
	ms=$(($(ms_now) - start_ms))
	secs=$((ms / 1000)).$(printf %03d $((ms % 1000)))
	cat "$out"

	verdict=PASS why=""
	if [ $rc -eq 124 ] ||
	   { [ $rc -eq 137 ] && [ $ms -ge $((FLOE_TEST_TIMEOUT * 1000)) ]; }; then
		verdict=TIMEOUT why="killed after ${FLOE_TEST_TIMEOUT}s"
	elif grep -q '^Bail out!' "$out"; then
		verdict=FAIL why="$(grep -m1 '^Bail out!' "$out")"
	elif [ $rc -gt 128 ]; then
		verdict=CRASH why="signal $((rc - 128))"
	elif [ $rc -ne 0 ]; then
		verdict=FAIL why="exit $rc, $(grep -c '^not ok' "$out") failed checks"
	elif ! grep -q '^1\.\.[0-9]' "$out"; then
		verdict=FAIL why="no TAP plan"
	elif grep -q '^not ok' "$out"; then
		verdict=FAIL why="'not ok' lines but exit 0"
	fi

	left=$(leftovers "$domain")
	if [ -n "$left" ]; then
		echo "# $name left shared objects behind:"
		echo "$left" | sed 's/^/#   /'
		rm -f /dev/shm/"$domain".* 2>/dev/null
		if [ $verdict = PASS ]; then
			verdict=LEAK why="$(echo "$left" | wc -l) shared objects left"
		else
			why="$why; $(echo "$left" | wc -l) shared objects left"
		fi
	fi

	if [ $verdict = PASS ]; then
		pass=$((pass + 1))
		echo "# verdict: $name PASS (${secs}s)"
	else
		fail=$((fail + 1))
		failed+=("$name:$verdict")
		echo "# verdict: $name $verdict - $why (${secs}s)"
	fi
done

echo "# summary: $pass passed, $fail failed of $idx (backend $FLOE_BACKEND)"
if [ $fail -ne 0 ]; then
	echo "# failed: ${failed[*]}"
	exit 1
fi
exit 0
