#!/bin/sh
# Check KUnit's KTAP output in a console log.
# Usage: scripts/ktap-check.sh [--from ERE] [--to ERE] [--suites N] LOG
#   --from ERE   only look after the first line matching ERE
#   --to ERE     ...and before the next line matching ERE
#   --suites N   exactly N top-level suites must have reported
# Every "ok"/"not ok" line is counted. Fails on any "not ok", any "# SKIP"
# (a skipped test is not a passed one), a subtest whose results do not match
# its plan "1..N" (missing plan, short or long count, misnumbered results), a
# suite that started but never reported, or no results at all. (Plans are
# required of suites; 6.1 prints none for parameterised cases.)
# Prints "kunit: N passed, M failed, S skipped (K suites)".
set -eu

from="" to="" suites=""
while [ $# -gt 1 ]; do
	case "$1" in
	--from) from=$2; shift 2 ;;
	--to) to=$2; shift 2 ;;
	--suites) suites=$2; shift 2 ;;
	*) break ;;
	esac
done
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
	sed -n '2,11s/^# \{0,1\}//p' "$0" >&2
	exit 2
fi

awk -v from="$from" -v to="$to" -v want_suites="$suites" '
function fail(msg) { errors++; print "kunit: ERROR: " msg }
# Close the level at indentation d: its results must match its plan.
function close_level(d,   name) {
	if (!open[d])
		return
	name = (subname[d] != "") ? subname[d] : "(unnamed)"
	# KUnit prints a plan for every suite (depth 4); 6.1 prints none for
	# the cases of a parameterised test (depth 8), nor at the top for a
	# module (depth 0).
	if (!planned[d] && count[d] > 0 && d == 4)
		fail("subtest " name ": " count[d] " results but no plan")
	else if (planned[d] && count[d] != plan[d])
		fail("subtest " name ": plan 1.." plan[d] " but " count[d] " results")
	open[d] = 0; planned[d] = 0; count[d] = 0; subname[d] = ""
}
function ensure_open(d) {
	if (!open[d]) { open[d] = 1; planned[d] = 0; count[d] = 0 }
}
BEGIN { active = (from == ""); maxd = 0 }
{
	sub(/\r$/, "")
	line = $0
	sub(/^\[ *[0-9]+\.[0-9]+\] /, "", line)
	if (!active) {
		if (line ~ from) active = 1
		next
	}
	if (to != "" && line ~ to) exit
	match(line, /^ */)
	d = RLENGTH
	body = substr(line, d + 1)
	if (d > maxd) maxd = d

	if (body ~ /^KTAP version [0-9]+$/ || body ~ /^TAP version [0-9]+$/) {
		# A new (sub)test document starts at this depth.
		close_level(d)
		ensure_open(d)
		next
	}
	if (body ~ /^# Subtest: /) {
		ensure_open(d)
		subname[d] = substr(body, 12)
		if (d == 4) pending[subname[d]] = 1
		next
	}
	if (body ~ /^1\.\.[0-9]+$/) {
		ensure_open(d)
		if (planned[d] && count[d] > 0) fail("second plan at depth " d)
		planned[d] = 1; plan[d] = substr(body, 4) + 0
		next
	}
	if (body ~ /^(not )?ok [0-9]+( |$)/) {
		notok = (body ~ /^not ok/)
		rest = body; sub(/^(not )?ok /, "", rest)
		num = rest + 0
		desc = rest; sub(/^[0-9]+ ?(- )?/, "", desc)
		skip = (desc ~ /# SKIP/ || desc ~ /# skip/)
		name = desc; sub(/ *#.*$/, "", name)
		ensure_open(d)
		count[d]++
		if (num != count[d] && !(d == 0 && !planned[0]))
			fail("result \"" body "\" out of sequence (expected " count[d] ")")
		if (planned[d] && count[d] > plan[d])
			fail("result \"" body "\" beyond the plan 1.." plan[d])
		# A result closes the deeper level it summarises.
		leaf = 1
		for (k = d + 1; k <= maxd; k++)
			if (open[k]) {
				if (count[k] > 0) leaf = 0
				close_level(k)
			}
		if (notok) anynotok = 1
		if (skip) anyskip = 1
		if (d == 0) {
			nsuites++
			delete pending[name]
			status = notok ? "FAILED" : (skip ? "SKIPPED" : "ok")
			print "kunit: suite " name ": " status
		}
		# Summaries of deeper results are not counted again; a suite
		# without results (its init failed) counts as one test.
		if (!leaf)
			next
		if (notok) { nfail++; print "kunit:   not ok: " name }
		else if (skip) { nskip++; print "kunit:   skipped: " name }
		else npass++
		next
	}
}
END {
	if (!active && from != "") fail("no line matching /" from "/")
	for (k = maxd; k >= 1; k--) close_level(k)
	if (planned[0]) close_level(0)
	for (n in pending) fail("suite " n " started but never reported")
	if (npass + nfail + nskip == 0) fail("no KTAP test results")
	if (want_suites != "" && nsuites != want_suites + 0)
		fail(nsuites + 0 " suites reported, expected " want_suites)
	printf "kunit: %d passed, %d failed, %d skipped (%d suites)\n", npass, nfail, nskip, nsuites
	if (anynotok && !nfail) fail("a summary line is \"not ok\"")
	if (anyskip && !nskip) fail("a summary line is skipped")
	exit (nfail || nskip || errors) ? 1 : 0
}' "$1"
