#!/bin/sh
# floe service list|show and port list for request-response and blackboard
# services, run by the examples' server and writer: pattern, types, entries,
# port roles in text and JSON; a SIGKILLed writer's blackboard goes with
# node cleanup (shm backend; with the module at once).
# the VM stages lib.sh as /files/lib.sh
# shellcheck source=tests/cli/lib.sh disable=SC1091
if [ -f "$(dirname "$0")/lib.sh" ]; then . "$(dirname "$0")/lib.sh"; else . /files/lib.sh; fi

writer=$(example blackboard_writer) || { echo "Bail out! no blackboard_writer example"; exit 1; }
server=$(example request_response_server) || { echo "Bail out! no request_response_server example"; exit 1; }
bb=My/Blackboard
rr=My/Funk/RequestResponse
plan 10

start_bg "$writer" 1000000 >/dev/null 2>&1
writer_pid=$bg_pid
start_bg "$server" 1 3600 >/dev/null 2>&1
wait_until 30 has_ports "$bb" writer 1 && wait_until 30 has_ports "$rr" server 1
ok $? "a blackboard writer and a request-response server are up"

run service list
row=$(printf '%s\n' "$out" | awk -v s="$rr" '$1 == s { $1 = ""; print substr($0, 2) }')
is "$row" "request-response StreamRequest 16 8 1 0 1" \
	"service list: request-response pattern, request type, nodes, clients, servers"
row=$(printf '%s\n' "$out" | awk -v s="$bb" '$1 == s && $2 == "blackboard" { $1 = ""; print substr($0, 2) }')
is "$row" "blackboard - - - 1 1 0" "service list: blackboard, nodes, writers, readers"

run --json service list
json_ok "[s for s in d if s['name'] == '$rr' and s['pattern'] == 'request-response' and s['response_type'] == 'TransmissionData' and s['servers'] == 1 and s['clients'] == 0]" \
	'"response_type": "TransmissionData"' "service list --json: the response type and the server"
json_ok "[s for s in d if s['name'] == '$bb' and s['pattern'] == 'blackboard' and s['entries'] == 2 and s['writers'] == 1]" \
	'"entries": 2' "service list --json: the blackboard's entries and writer"

run service show "$rr" --json
json_ok "len(d) == 1 and sorted(p['role'] for p in d[0]['ports']) == ['node', 'server']" \
	'"role": "server"' "service show --json: the server and its node"

run port list
roles=$(printf '%s\n' "$out" | awk -v s="$bb" '$NF == s && $(NF-1) == "blackboard" { print $2 }' | sort | tr '\n' ' ')
is "$roles" "node writer " "port list: the blackboard's writer and node"
wpid=$(printf '%s\n' "$out" | awk -v s="$bb" '$NF == s && $2 == "writer" { print $5 }')
is "$wpid" "$writer_pid" "port list: the writer's pid"

kill -9 "$writer_pid"
wait "$writer_pid" 2>/dev/null
run node cleanup
is "$rc" 0 "node cleanup after the writer was SIGKILLed"
run service list
printf '%s\n' "$out" | awk -v s="$bb" '$1 == s { found = 1 } END { exit found }'
ok $? "the dead writer's blackboard is gone from service list"

finish
