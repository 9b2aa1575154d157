#!/bin/sh
# Run in the VM after rmmod: fail if kmemleak finds anything. Objects
# younger than 5 s are not reported, so wait, then scan twice.
k=/sys/kernel/debug/kmemleak
[ -w $k ] || { echo "kmemleak-check: $k missing"; exit 1; }
sleep 6
echo scan >$k && sleep 1 && echo scan >$k || exit 1
# debugfs files have size 0: read the report, do not test -s.
report=$(cat $k)
if [ -n "$report" ]; then
	echo "kmemleak-check: LEAKS:"
	echo "$report"
	exit 1
fi
echo "kmemleak-check: none found"
