#!/bin/sh
# floe service list|show, port list, node list|show|cleanup against running
# ports (started with the tool itself), in text and JSON; a node killed with
# SIGKILL shows as dead (shm backend; with the module it vanishes at once)
# and node cleanup removes what it left.
# the VM stages lib.sh as /files/lib.sh
# shellcheck source=tests/cli/lib.sh disable=SC1091
if [ -f "$(dirname "$0")/lib.sh" ]; then . "$(dirname "$0")/lib.sh"; else . /files/lib.sh; fi

svc=cli/discovery
plan 23

start_bg "$FLOE_CLI" subscribe "$svc" >"$scratch/sub.log" 2>&1
sub_pid=$bg_pid
start_bg "$FLOE_CLI" publish "$svc" --count 100000 --interval 50 tick >/dev/null 2>&1
pub_pid=$bg_pid
start_bg "$FLOE_CLI" listen cli/events >/dev/null 2>&1
wait_until 30 has_ports "$svc" subscriber 1 && wait_until 30 has_ports "$svc" publisher 1 &&
	wait_until 30 has_ports cli/events listener 1
ok $? "a publisher, a subscriber and a listener are up"

# --- services
run service list
row=$(printf '%s\n' "$out" | awk -v s="$svc" '$1 == s { $1 = ""; print substr($0, 2) }')
is "$row" "pubsub floe.bytes 1 1 2 1 1" "service list: pattern, type, size, align, nodes, publishers, subscribers"
row=$(printf '%s\n' "$out" | awk '$1 == "cli/events" { $1 = ""; print substr($0, 2) }')
is "$row" "event - - - 1 0 1" "service list: the event service (no type), nodes, notifiers, listeners"
run --json service list
json_ok "[s for s in d if s['name'] == '$svc' and s['pattern'] == 'pubsub' and s['type'] == 'floe.bytes' and s['type_size'] == 1 and s['publishers'] == 1 and s['subscribers'] == 1 and s['nodes'] == 2]" \
	"\"name\": \"$svc\"" "service list --json: type and counts"
json_ok "[s for s in d if s['name'] == 'cli/events' and s['pattern'] == 'event' and s['listeners'] == 1 and 'type' not in s]" \
	'"listeners": 1' "service list --json: the event service and its listener"

run service show "$svc"
printf '%s\n' "$out" | grep -q '^type  *floe.bytes$' &&
	printf '%s\n' "$out" | grep -q '^  max_publishers  *2$' &&
	printf '%s\n' "$out" | grep -q ' publisher  *alive '
ok $? "service show: type, QoS and ports"
run service show "$svc" --json
json_ok "len(d) == 1 and d[0]['qos']['subscriber_max_buffer_size'] == 4 and d[0]['mode'] == '0600' and sorted(p['role'] for p in d[0]['ports']) == ['node', 'node', 'publisher', 'subscriber']" \
	'"role": "subscriber"' "service show --json: QoS, mode and the four ports"
run service show no/such/service
is "$rc" 3 "service show of an unknown service: exit 3"

# --- ports
run port list
roles=$(printf '%s\n' "$out" | awk -v s="$svc" '$NF == s { print $2 }' | sort | tr '\n' ' ')
is "$roles" "node node publisher subscriber " "port list: the service's roles"
alive=$(printf '%s\n' "$out" | awk -v s="$svc" '$NF == s && $3 == "alive"' | wc -l)
is "$alive" 4 "port list: all alive"
sub_node=$(printf '%s\n' "$out" | awk -v s="$svc" '$NF == s && $2 == "subscriber" { print $4 }')
sub_pid_listed=$(printf '%s\n' "$out" | awk -v s="$svc" '$NF == s && $2 == "subscriber" { print $5 }')
is "$sub_pid_listed" "$sub_pid" "port list: the subscriber's pid"
run --json port list
json_ok "[p for p in d if p['service'] == '$svc' and p['role'] == 'publisher' and p['state'] == 'alive' and p['pid'] == $pub_pid]" \
	'"role": "publisher"' "port list --json: the publisher, alive, with its pid"

# --- nodes
run node list
row=$(printf '%s\n' "$out" | awk -v id="$sub_node" '$1 == id { print $2, $3, $4, $5 }')
is "$row" "$sub_pid alive floe subscribe" "node list: the subscriber's node, alive"
run --json node list
json_ok "len([n for n in d if n['state'] == 'alive']) == 3 and [n for n in d if n['name'] == 'floe publish' and n['pid'] == $pub_pid]" \
	'"name": "floe publish"' "node list --json: three live nodes, the publisher's among them"
run node show "$sub_node"
printf '%s\n' "$out" | grep -q '^state  *alive$' &&
	printf '%s\n' "$out" | grep -q ' subscriber  *alive  *pubsub  *cli/discovery$'
ok $? "node show: state and the node's ports"
run node show 123456789
is "$rc" 3 "node show of an unknown node: exit 3"

# --- death and cleanup
kill -9 "$sub_pid"
wait "$sub_pid" 2>/dev/null
node_state() {	# id -> dead|alive|inaccessible, or nothing when it is gone
	"$FLOE_CLI" node list | awk -v id="$1" '$1 == id { print $3 }'
}
if [ "${FLOE_BACKEND:-}" = kmod ]; then
	want_state=""	# the kernel unlinks a dead node's record at once
else
	want_state=dead
fi
state_is() { [ "$(node_state "$1")" = "$2" ]; }
wait_until 10 state_is "$sub_node" "$want_state"
ok $? "node list: the SIGKILLed node is ${want_state:-gone}"
run port list
state=$(printf '%s\n' "$out" | awk -v s="$svc" '$NF == s && $2 == "subscriber" { print $3 }')
if [ "${FLOE_BACKEND:-}" = kmod ] && [ -z "$state" ]; then
	state=dead	# with the module the dead port may already be reclaimed
fi
is "$state" dead "port list: the dead node's subscriber is dead (or, with the module, reclaimed)"
run node cleanup
if [ "$want_state" = dead ]; then want="removed 1 dead node"; else want="removed 0 dead nodes"; fi
is "$out" "$want" "node cleanup: what it removed"
is "$(node_state "$sub_node")" "" "node list: the dead node is gone after cleanup"
is "$(ports "$svc" subscriber)" 0 "port list: the dead subscriber's port is gone after cleanup"
run --json node cleanup
json_ok "d['removed'] == 0" '"removed": 0' "node cleanup --json: nothing left to remove"

# --- a service goes with its last node
kill "$pub_pid"
wait "$pub_pid"
run service list
printf '%s\n' "$out" | awk -v s="$svc" '$1 == s { exit 1 }'
ok $? "service list: the service is gone with its last port"

finish
