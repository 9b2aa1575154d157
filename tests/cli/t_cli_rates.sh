#!/bin/sh
# Rates: floe top's messages, bytes and drops per second per service and
# port (from the ports' own counters, on either backend), busiest first;
# a dead port and a service silent past its deadline_ms flagged; floe hz
# for one service.
# the VM stages lib.sh as /files/lib.sh
# shellcheck source=tests/cli/lib.sh disable=SC1091
if [ -f "$(dirname "$0")/lib.sh" ]; then . "$(dirname "$0")/lib.sh"; else . /files/lib.sh; fi

plan 19

# cli/busy: a steady publisher ("tick", 4 bytes every 5 ms), a deadline it
# keeps; cli/quiet: a deadline nobody keeps
start_bg "$FLOE_CLI" subscribe cli/busy --attr deadline_ms=5000 >/dev/null 2>&1
wait_until 30 has_ports cli/busy subscriber 1
start_bg "$FLOE_CLI" publish cli/busy tick --count 1000000 --interval 5 >/dev/null 2>&1
wait_until 30 has_ports cli/busy publisher 1
ok $? "a steady publisher and its subscriber"
start_bg "$FLOE_CLI" subscribe cli/quiet --attr deadline_ms=100 >/dev/null 2>&1
wait_until 30 has_ports cli/quiet subscriber 1

# cli/drops: a subscriber that stopped reading (SIGSTOP), so that safe
# overflow pushes samples out of its full queue
start_bg "$FLOE_CLI" subscribe cli/drops >/dev/null 2>&1
stopped=$bg_pid
wait_until 30 has_ports cli/drops subscriber 1
kill -STOP "$stopped"
start_bg "$FLOE_CLI" publish cli/drops x --count 1000000 --interval 5 >/dev/null 2>&1
wait_until 30 has_ports cli/drops publisher 1

# cli/dead: a subscriber killed; its port stays in the registry, dead
start_bg "$FLOE_CLI" subscribe cli/dead >/dev/null 2>&1
wait_until 30 has_ports cli/dead subscriber 1
kill -9 "$bg_pid"
wait "$bg_pid" 2>/dev/null
dead_port() { "$FLOE_CLI" port list | grep -q " dead .* cli/dead$"; }
wait_until 30 dead_port
ok $? "a killed subscriber's port is listed dead"
# a moment of traffic before measuring
sleep 0.5

run --json top --once
json_ok "[s for s in d['services'] if s['name'] == 'cli/busy' and s['msg_s'] > 0 and s['bytes_s'] >= 3 * s['msg_s']]" \
	'"msg_s": [1-9]' "top --json: the busy service's messages and bytes per second"
json_ok "all(a['msg_s'] >= b['msg_s'] for a, b in zip(d['services'], d['services'][1:])) and d['services'][0]['msg_s'] > 0" \
	'"name": "cli/' "top --json: services busiest first"
json_ok "all(a.get('msg_s', 0) >= b.get('msg_s', 0) for a, b in zip(d['ports'], d['ports'][1:]) if 'msg_s' in b)" \
	'"msg_s"' "top --json: ports busiest first"
json_ok "[p for p in d['ports'] if p['role'] == 'publisher' and p['service'] == 'cli/busy' and p['msg_s'] > 0]" \
	'"role": "publisher"' "top --json: the publisher's own rate"
json_ok "[s for s in d['services'] if s['name'] == 'cli/drops' and s['drop_s'] > 0]" \
	'"drop_s": [1-9]' "top --json: samples pushed out of a full queue are drops"
json_ok "[s for s in d['services'] if s['name'] == 'cli/quiet' and s['deadline_missed'] and s['alert'] == 'deadline missed']" \
	'"deadline_missed": true' "top --json: a service silent past its deadline is flagged"
json_ok "[s for s in d['services'] if s['name'] == 'cli/busy' and not s['deadline_missed'] and 'alert' not in s]" \
	'"deadline_missed": false' "top --json: a service keeping its deadline is not"
json_ok "[p for p in d['ports'] if p['service'] == 'cli/dead' and p['role'] == 'subscriber' and p['state'] == 'dead' and p.get('alert') == 'dead']" \
	'"alert": "dead"' "top --json: the dead port is flagged"

run top --once
printf '%s\n' "$out" | grep -q '^  cli/quiet .* deadline missed$'
ok $? "top: the missed deadline in the ALERT column"
printf '%s\n' "$out" | grep -q 'MSG/S  BYTES/S  DROP/S'
ok $? "top: rate columns"

# on a terminal (script(1) gives it one): views redrawn in place, flagged
# rows in bold red
if command -v script >/dev/null 2>&1; then
	script -q -c "\"$FLOE_CLI\" top --iterations 2 --interval 100" /dev/null \
		>"$scratch/tty" 2>&1 </dev/null
	esc=$(printf '\033')
	is "$(grep -c "${esc}\[H${esc}\[J" "$scratch/tty")" 2 \
		"top on a terminal: each view drawn from the top left"
	grep -q "  ${esc}\[1;31mcli/quiet .* deadline missed${esc}\[0m" "$scratch/tty"
	ok $? "top on a terminal: the missed deadline in bold red"
else
	echo "ok $((tap_run += 1)) - # SKIP no script(1) to give top a terminal"
	echo "ok $((tap_run += 1)) - # SKIP no script(1) to give top a terminal"
fi

run hz cli/busy --count 2 --interval 300
is "$(printf '%s\n' "$out" | grep -Ec '^cli/busy: [0-9]+\.[0-9] msg/s, [0-9]+\.[0-9] B/s, [0-9]+\.[0-9] drops/s \(over 0\.[0-9] s\)$')" 2 \
	"hz --count 2: two rates"
printf '%s\n' "$out" | grep -q '^cli/busy: [1-9]'
ok $? "hz: the publisher's rate is not zero"
run --json hz cli/busy --count 1 --interval 300
json_ok "d['name'] == 'cli/busy' and d['msg_s'] > 0 and d['bytes_s'] > 0 and d['window_s'] > 0" \
	'"msg_s": [1-9]' "hz --json: one object per rate"
run hz cli/none --count 1
is "$rc" 3 "hz of an unknown service: exit 3"
run hz cli/busy --timeout 500 --interval 100
[ "$rc" -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c '^cli/busy: ')" -ge 1 ]
ok $? "hz --timeout: rates until then, exit 0"

kill -CONT "$stopped"
finish
