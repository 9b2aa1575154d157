#!/bin/bash
# floe-gateway on one host: floe domains a, b, c stand for three hosts,
# Cyclone DDS between them on the loopback interface. Both directions, a
# plain DDS program on the topic, QoS mapping, no echo or duplicates with
# three gateways (and two on one floe domain), a late joiner's history, 16 MiB samples, garbage from
# the network, --ros2 names, --events, a SIGKILLed gateway (no ports left;
# its peers' publishers go on; restarted, it resumes).
# shellcheck source=tests/gateway/lib.sh
. "$(dirname "$0")/lib.sh"

plan 56

A=$(dom a) B=$(dom b) C=$(dom c) D=$(dom d) E=$(dom e)
conf=$scratch/gw.conf
cat >"$conf" <<'INI'
[service rel]
enable_safe_overflow = false
[service hist]
enable_safe_overflow = false
history_size = 4
[service hdr]
enable_safe_overflow = false
[service big]
enable_safe_overflow = false
max_subscribers = 2
subscriber_max_buffer_size = 1
subscriber_max_borrowed_samples = 1
publisher_max_loaned_samples = 1
INI

# --- usage and configuration errors: distinct statuses, the place said
"$GATEWAY" >/dev/null 2>&1; is $? 2 "no service: usage error (2)"
"$GATEWAY" --dds-domain 999 chat 2>"$scratch/err"; is $? 2 "--dds-domain out of range: 2"
printf '[gateway]\ncolour = red\n' >"$scratch/bad.conf"
"$GATEWAY" --config "$scratch/bad.conf" chat 2>"$scratch/err"
is "$?:$(grep -c "bad.conf:2: unknown key or bad value" "$scratch/err")" "5:1" \
	"bad configuration: status 5, file and line said"
"$GATEWAY" --help >"$scratch/help"; is "$?:$(grep -c "^usage: floe-gateway" "$scratch/help")" "0:1" "--help"

start_gw A "$A" --config "$conf" --events chat; ok $? "gateway a runs"
gw_a=$gw_pid
start_gw B "$B" --config "$conf" --events chat; ok $? "gateway b runs"
gw_b=$gw_pid
start_gw C "$C" --config "$conf" chat; ok $? "gateway c runs"
has "$(cat "$scratch/A.log")" "bridging 'rel' as DDS topic 'floe/rel' (reliable, volatile, writer keeps all, depth 4)" \
	"the log says topic and QoS"
log_has A "topic 'floe/chat': 2 DDS readers matched" 60
ok $? "a's writer matched the readers of b and c"
log_has B "topic 'floe/chat': 2 DDS readers matched" 60
ok $? "b's writer matched the readers of a and c"

# --- both ways, best-effort (floe's default QoS: safe overflow)
# stream FROM TO: 20 samples of a publisher in FROM reach a subscriber in
# TO in order, intact
stream() {
	local sub pub status
	peer_bg "$scratch/stream" "$2" sub chat --count 20
	sub=$bg_pid
	peer_bg /dev/null "$1" pub chat --count 100000 --interval-us 2000 --wait-subs 1
	pub=$bg_pid
	wait $sub
	status=$?
	kill $pub
	wait $pub 2>/dev/null
	return $status
}
stream "$A" "$B"; is $? 0 "a -> b: 20 samples, in order, intact"
stream "$B" "$A"; is $? 0 "b -> a: 20 samples, in order, intact"

# --- reliable: every sample once, in order, in every other domain, and
# none back (an echo would arrive after the 50th)
for d in "$A" "$B" "$C"; do
	peer_bg "$scratch/rel.$d" "$d" sub rel --reliable --count 50 --extra-ms 2000
	eval "sub_$d=\$bg_pid"
done
wait_until 30 grep -q "floe/rel': 2 DDS readers matched" "$scratch/A.log"
peer "$A" pub rel --reliable --block --count 50 --wait-subs 2
ok $? "a publishes 50 reliable samples"
for d in "$A" "$B" "$C"; do
	eval "wait \$sub_$d"
	is "$?:$(cat "$scratch/rel.$d")" "0:received 50 first 0 last 49 gaps 0 disorder 0 corrupt 0 extra 0" \
		"domain ${d: -1}: all 50 once, in order, no echo"
done

# --- two gateways on one floe domain: neither re-exports what the other
# imported (b would get its own samples back)
start_gw A2 "$A" --config "$conf" chat; ok $? "a second gateway in domain a"
gw_a2=$gw_pid
log_has B "topic 'floe/rel': 3 DDS readers matched" 60
peer_bg "$scratch/rel2" "$B" sub rel --reliable --count 30 --extra-ms 2000
sub=$bg_pid
peer "$B" pub rel --reliable --block --count 30 --wait-subs 2
wait $sub
is "$?:$(cat "$scratch/rel2")" "0:received 30 first 0 last 29 gaps 0 disorder 0 corrupt 0 extra 0" \
	"b gets its 30 samples once: no loop through a's two gateways"
kill "$gw_a2"; wait "$gw_a2"
is $? 0 "the second gateway stops cleanly on SIGTERM"

# --- a plain Cyclone DDS program reads a bridged topic, QoS as mapped
dds_peer_bg "$scratch/dds1" sub floe/rel --reliable --show-qos --count 3
sub=$bg_pid
peer_bg /dev/null "$A" pub rel --reliable --block --count 100000 --interval-us 5000 --wait-subs 1
pub=$bg_pid
wait $sub; is $? 0 "plain DDS reader: 3 envelopes"
kill $pub; wait $pub 2>/dev/null
has "$(cat "$scratch/dds1")" "qos reliable volatile keep-all" "no safe overflow -> reliable, volatile, keep all"
has "$(cat "$scratch/dds1")" "service rel type floe.bytes/1/1 seq" "envelope: service, type, sequence"
dds_peer_bg "$scratch/dds2" sub floe/chat --show-qos --count 1
sub=$bg_pid
peer_bg /dev/null "$A" pub chat --count 100000 --interval-us 5000 --wait-subs 1
pub=$bg_pid
wait $sub; kill $pub; wait $pub 2>/dev/null
has "$(cat "$scratch/dds2")" "qos best-effort volatile keep-last 4" "safe overflow -> best-effort"

# --- history: transient-local; a gateway that joins late gets the last 4
peer "$A" pub hist --reliable --block --history 4 --count 10 --wait-subs 1
ok $? "a publishes 10 samples of a service with history 4"
dds_peer sub floe/hist --reliable --transient-local --show-qos --count 4 >"$scratch/dds3"
is "$?" 0 "a plain DDS reader that joins late gets the history"
has "$(cat "$scratch/dds3")" "qos reliable transient-local keep-last 4" "history -> transient-local, keep last 4"
has "$(cat "$scratch/dds3")" "seq 9 len 16" "the history ends with the last sample"
start_gw D "$D" --config "$conf"; ok $? "gateway d joins late"
log_has D "'hist': created locally with type 'floe.bytes' (size 1, align 1)" 60
ok $? "d creates the service with the remote type"
peer "$D" sub hist --reliable --history 4 --count 4 --timeout-ms 30000 >"$scratch/hist"
is "$?:$(cat "$scratch/hist")" "0:received 4 first 6 last 9 gaps 0 disorder 0 corrupt 0 extra 0" \
	"a late floe subscriber in d gets the last 4"

# --- 16 MiB samples (DDS fragments them); small pools keep memory low
peer_bg "$scratch/big" "$B" sub big --small --reliable --size 16777216 --count 3 --timeout-ms 90000
sub=$bg_pid
peer_bg /dev/null "$A" pub big --small --reliable --block --size 16777216 --count 100000 --interval-us 300000 --wait-subs 1
pub=$bg_pid
wait $sub; is "$?" 0 "16 MiB samples a -> b, intact and in order"
kill $pub; wait $pub 2>/dev/null

# --- a user header travels; the receiving side creates the service with it
peer_bg "$scratch/hdr" "$B" sub hdr --reliable --user-header 8 --count 5
sub=$bg_pid
peer_bg /dev/null "$A" pub hdr --reliable --block --user-header 8 --count 100000 --interval-us 5000 --wait-subs 1
pub=$bg_pid
wait $sub; is $? 0 "samples with an 8-byte user header: header and payload intact"
kill $pub; wait $pub 2>/dev/null

# --- from plain DDS into floe
start_bg "$FLOE_CLI" --domain "$B" subscribe chat --count 1 --timeout 60000 >"$scratch/fromdds"
sub=$bg_pid
wait_until 30 has_ports_in "$B" chat subscriber 2
dds_peer_bg /dev/null pub floe/chat chat --text from-dds --count 200 --readers 3
pub=$bg_pid
wait $sub; is $? 0 "a floe subscriber gets what a plain DDS writer sent"
kill $pub; wait $pub 2>/dev/null
has "$(cat "$scratch/fromdds")" "text: from-dds" "the text arrived"

# --- garbage from the network: logged, dropped, the gateway lives on
start_bg "$FLOE_CLI" --domain "$B" subscribe rel --count 1 --timeout 60000 >"$scratch/after"
sub=$bg_pid
wait_until 30 has_ports_in "$B" rel subscriber 2
# (volatile: the gateways of a, b, c, d must all be there first)
dds_peer garbage floe/rel rel --reliable --readers 4
wait $sub
is "$?" 0 "the valid envelope after the garbage arrives"
has "$(cat "$scratch/after")" "text: after-garbage" "it is the right one"
log=$(cat "$scratch/B.log")
has "$log" "'rel': dropped an envelope: unknown service 'no/such/service'" "unknown service: dropped, logged"
has "$log" "'rel': dropped an envelope: payload of 3 bytes is not 1..16777216 bytes in whole elements of 4" "payload not whole elements: dropped"
has "$log" "bad type size 1 or alignment 3" "bad alignment: dropped"
has "$log" "bad type size 0 or alignment 1" "type size 0: dropped"
has "$log" "payload of 0 bytes" "empty payload: dropped"
has "$log" "'rel': dropped an envelope: bad type name" "empty type name: dropped"
has "$log" "user header of 5000 bytes (at most 4096)" "oversized user header: dropped"
has "$log" "'rel': refused: remote type 'other' (size 2, align 2, user header 0) does not match the local service's 'floe.bytes'" \
	"type mismatch: refused, clearly"
kill -0 "$gw_b"; ok $? "gateway b still runs"

# --- --ros2: rt/<service>
start_gw E "$E" --ros2 chat; ok $? "a gateway with --ros2"
dds_peer_bg "$scratch/ros" sub rt/chat --count 1
sub=$bg_pid
peer_bg /dev/null "$E" pub chat --count 100000 --interval-us 5000 --wait-subs 1
pub=$bg_pid
wait $sub; is $? 0 "a DDS reader of rt/chat gets the samples"
kill $pub; wait $pub 2>/dev/null

# --- --events: an id notified in a is fired in b, and not sent back (a
# plain DDS reader of the event topic sees it once)
start_bg "$FLOE_CLI" --domain "$B" listen chat --count 1 --timeout 60000 >"$scratch/ev"
sub=$bg_pid
wait_until 30 has_ports_in "$B" chat listener 2
dds_peer_bg "$scratch/evdds" sub floe_event/chat --reliable --count 2 --timeout-ms 5000
evdds=$bg_pid
log_has A "topic 'floe_event/chat': 2 DDS readers matched" 60
"$FLOE_CLI" --domain "$A" notify chat 3 >/dev/null
wait $sub; is "$?:$(cat "$scratch/ev")" "0:event 3" "event 3 of a fires in b"
wait $evdds
is "$?:$(grep -c "service chat type floe.event/8/8" "$scratch/evdds")" "1:1" \
	"the event crossed DDS once: b's gateway did not send it back"

# --- SIGKILL: no ports left after the usual cleanup; peers go on; restart
[ "$(ports_of_pid "$B" "$gw_b")" -gt 0 ]; ok $? "gateway b has ports before"
kill -KILL "$gw_b"; wait "$gw_b" 2>/dev/null
"$FLOE_CLI" --domain "$B" node cleanup >/dev/null
is "$(ports_of_pid "$B" "$gw_b")" 0 \
	"no port of the killed gateway is left"
# a's gateway still sees b's reader (until its lease ends): its
# publisher must not wait for it
peer_bg "$scratch/local" "$A" sub rel --reliable --size 65536 --count 100
sub=$bg_pid
peer "$A" pub rel --reliable --block --size 65536 --count 100 --wait-subs 2
ok $? "a's blocking publisher finishes while b is gone"
wait $sub; is "$?" 0 "a's local subscriber got all 100"
start_gw B2 "$B" --config "$conf" chat; ok $? "gateway b restarted"
stream "$A" "$B"; is $? 0 "the restarted gateway resumes"

finish_clean
