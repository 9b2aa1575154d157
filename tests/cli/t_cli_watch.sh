#!/bin/sh
# floe watch: a publisher started and SIGKILLed, then cleaned up, shows as
# node, service and port created, dead and removed, in text and JSON;
# --count and --timeout end it (status 4 when --count was not reached).
# the VM stages lib.sh as /files/lib.sh
# shellcheck source=tests/cli/lib.sh disable=SC1091
if [ -f "$(dirname "$0")/lib.sh" ]; then . "$(dirname "$0")/lib.sh"; else . /files/lib.sh; fi

pub=$(example pubsub_publisher) || { echo "Bail out! no pubsub_publisher example"; exit 1; }
svc=My/Funk/ServiceName
plan 9

# text: created
"$FLOE_CLI" watch --timeout 20000 >"$scratch/watch.txt" 2>&1 &
watcher=$!
sleep 0.5
start_bg "$pub" 1000000 >/dev/null 2>&1
pub_pid=$bg_pid
wait_until 30 grep -q "port-created.*publisher.*$svc" "$scratch/watch.txt"
ok $? "text: the publisher's port appears"
grep -q "node-created.*pid $pub_pid pubsub_publisher" "$scratch/watch.txt"
ok $? "text: its node, with pid and name"
grep -q "service-created *$svc (pubsub)" "$scratch/watch.txt"
ok $? "text: its service"
[ "$tap_failed" -eq 0 ] || sed 's/^/#   watch: /' "$scratch/watch.txt"

# JSON: death and removal
"$FLOE_CLI" --json watch --timeout 20000 >"$scratch/watch.json" 2>&1 &
jwatcher=$!
sleep 0.5
kill -9 "$pub_pid"
wait "$pub_pid" 2>/dev/null
wait_until 30 grep -q '"change": *"port-dead"' "$scratch/watch.json"
ok $? "json: SIGKILL makes the port dead"
grep -q "\"change\": *\"node-dead\".*\"pid\": *$pub_pid" "$scratch/watch.json"
ok $? "json: and its node"
run node cleanup
wait_until 30 grep -q '"change": *"service-removed"' "$scratch/watch.json"
ok $? "json: cleanup removes the service"
kill "$watcher" "$jwatcher" 2>/dev/null
wait "$watcher" "$jwatcher" 2>/dev/null
out=$(cat "$scratch/watch.json")
if have_python; then
	printf '%s\n' "$out" | python3 -c "import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
sys.exit(0 if rows and all('change' in r for r in rows) else 1)"
	ok $? "json: one object per line"
else
	ok 0 "json: one object per line (no python3, skipped)"
fi

# --count / --timeout
run watch --count 1 --timeout 300
is "$rc" 4 "--count not reached by --timeout: status 4"
run watch --timeout 200
is "$rc" 0 "--timeout alone ends the watch: status 0"
finish
