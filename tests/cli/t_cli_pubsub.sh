#!/bin/sh
# floe publish -> floe subscribe round trips (text, hex, JSON, a typed
# payload), type mismatches, timeouts; floe notify -> floe listen.
# the VM stages lib.sh as /files/lib.sh
# shellcheck source=tests/cli/lib.sh disable=SC1091
if [ -f "$(dirname "$0")/lib.sh" ]; then . "$(dirname "$0")/lib.sh"; else . /files/lib.sh; fi

plan 25

# subscribe_bg SERVICE LOG ARGS...: a subscriber in the background, ready
subscribe_bg() {
	s=$1 log=$2
	shift 2
	start_bg "$FLOE_CLI" subscribe "$s" "$@" >"$log" 2>&1
	wait_until 30 has_ports "$s" subscriber 1
}

# --- text
subscribe_bg cli/text "$scratch/text.log" --count 1 --timeout 30000
ok $? "subscriber ready"
sub=$bg_pid
run publish cli/text hello floe
is "$out" "sent 10 bytes to 1 subscriber" "publish: sent to the subscriber"
wait "$sub"
is $? 0 "subscribe --count 1: exit 0 after one sample"
log=$(cat "$scratch/text.log")
has "$log" "text: hello floe" "subscribe prints the text"
has "$log" "hex:  68 65 6c 6c 6f 20 66 6c 6f 65" "subscribe prints the hex"

# --- hex and JSON, several samples in order
subscribe_bg cli/json "$scratch/json.log" --json --count 3 --timeout 30000
ok $? "JSON subscriber ready"
sub=$bg_pid
run --json publish cli/json --hex "00 ff 41"
out=$(printf '%s\n' "$out" | head -n 1)
json_ok "d['size'] == 3 and d['subscribers'] == 1" '"subscribers": 1' "publish --json: size and subscribers"
run publish cli/json --count 2 --interval 10 again
is "$(printf '%s\n' "$out" | grep -c '^sent 5 bytes to 1 subscriber$')" 2 "publish --count 2: two sends"
wait "$sub"
is $? 0 "subscribe --count 3: exit 0"
out=$(head -n 1 "$scratch/json.log")
json_ok "d['hex'] == '00ff41' and d['text'] == '..A' and d['size'] == 3 and d['sequence'] == 0" \
	'"hex": "00ff41"' "subscribe --json: hex, text, size, sequence"
out=$(sed -n 3p "$scratch/json.log")
json_ok "d['text'] == 'again' and d['sequence'] == 1" '"text": "again"' "subscribe --json: the third sample, second of its publisher"

# --- typed payloads
subscribe_bg cli/typed "$scratch/typed.log" --type u32 --size 4 --align 4 --count 1 --timeout 30000
ok $? "typed subscriber ready"
sub=$bg_pid
run publish cli/typed --hex 01
is "$rc" 6 "publish with another type: exit 6"
has "$err" "payload type differs from the service's" "publish with another type: the library's reason"
run publish cli/typed --type u32 --size 4 --align 4 --hex 010203
is "$rc" 2 "payload not a multiple of the type size: exit 2"
run publish cli/typed --type u32 --size 4 --align 4 --hex "01000000 02000000"
is "$out" "sent 8 bytes to 1 subscriber" "publish of two u32 elements"
wait "$sub"
has "$(cat "$scratch/typed.log")" "hex:  01 00 00 00 02 00 00 00" "typed sample received"

# --- timeouts
run subscribe cli/idle --count 1 --timeout 200
is "$rc" 4 "subscribe --count with nothing sent: exit 4 at the timeout"
run subscribe cli/idle --timeout 200
is "$rc" 0 "subscribe without --count: the timeout ends it, exit 0"

# --- events
start_bg "$FLOE_CLI" listen cli/ev --count 2 --timeout 30000 >"$scratch/ev.log" 2>&1
lis=$bg_pid
wait_until 30 has_ports cli/ev listener 1
ok $? "listener ready"
run notify cli/ev 3
is "$out" "notified 1 listener of event 3" "notify: one listener"
run --json notify cli/ev 9
json_ok "d['event'] == 9 and d['listeners'] == 1" '"event": 9' "notify --json"
wait "$lis"
is "$(tr '\n' ' ' <"$scratch/ev.log")" "event 3 event 9 " "listen printed both events"
run listen cli/ev --count 1 --timeout 200
is "$rc" 4 "listen --count with no event: exit 4 at the timeout"
run notify cli/ev 99999999
is "$rc" 2 "notify of an id beyond the service's maximum: exit 2"

finish
