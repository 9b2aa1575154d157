#!/bin/sh
# floe top, non-interactively (--once, --iterations, --interval): text and
# JSON views of a running subscriber, from /sys/kernel/floe when the module
# is loaded, else from the shared registry.
# the VM stages lib.sh as /files/lib.sh
# shellcheck source=tests/cli/lib.sh disable=SC1091
if [ -f "$(dirname "$0")/lib.sh" ]; then . "$(dirname "$0")/lib.sh"; else . /files/lib.sh; fi

plan 11

start_bg "$FLOE_CLI" subscribe cli/top >/dev/null 2>&1
sub=$bg_pid
wait_until 30 has_ports cli/top subscriber 1
ok $? "subscriber ready"

if [ -r /sys/kernel/floe/nr_ports ]; then source=sysfs; else source=registry; fi

run top --once
has "$(printf '%s\n' "$out" | head -n 1)" "floe top: domain $FLOE_DOMAIN, backend" "top --once: the header names the domain"
printf '%s\n' "$out" | grep -q '^  cli/top  *pubsub  *floe.bytes '
ok $? "top --once: the service is listed"
printf '%s\n' "$out" | grep -q " subscriber .* $sub "
ok $? "top --once: the subscriber's port, with its pid"

run --json top --once
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 1 "top --once --json: one line"
if [ $source = sysfs ]; then
	json_ok "d['source'] == 'sysfs' and d['totals']['nr_ports'] >= 2 and [p for p in d['ports'] if p['role'] == 'subscriber' and p['pid'] == $sub] and d['segments']" \
		'"source": "sysfs"' "top --json: kernel totals, the subscriber's port, segments"
else
	json_ok "d['source'] == 'registry' and d['totals']['subscribers'] == 1 and [n for n in d['nodes'] if n['pid'] == $sub and n['state'] == 'alive']" \
		'"subscribers": 1' "top --json: registry totals and the subscriber's node"
fi
json_ok "[s for s in d['services'] if s['name'] == 'cli/top' and s['subscribers'] == 1]" \
	'"name": "cli/top"' "top --json: the service"

run top --iterations 3 --interval 20
is "$(printf '%s\n' "$out" | grep -c '^floe top: ')" 3 "top --iterations 3: three views"

# A reader that goes away: top stops cleanly, its node goes with it.
nodes_before=$("$FLOE_CLI" --json node list | grep -o '"state": *"[a-z]*"' | grep -vc alive)
line=$({ "$FLOE_CLI" --json top --interval 10; echo "status $?" >"$scratch/top_rc"; } | head -n 1)
case "$line" in "{"*) true ;; *) false ;; esac
ok $? "top --json | head -1: one JSON view"
is "$(cat "$scratch/top_rc")" "status 0" "top after its reader left: exit 0, no SIGPIPE"
nodes_after=$("$FLOE_CLI" --json node list | grep -o '"state": *"[a-z]*"' | grep -vc alive)
is "$nodes_after" "$nodes_before" "top after its reader left: no dead node behind"

finish
