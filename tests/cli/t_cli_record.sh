#!/bin/sh
# floe record -> MCAP file -> floe replay: samples of two services recorded
# (checked with the official TypeScript MCAP reader where Node.js is) and
# replayed to subscribers in order; --rate and --loop; truncated, corrupt
# and foreign files refused with the offset, nothing published.
# the VM stages lib.sh as /files/lib.sh
# shellcheck source=tests/cli/lib.sh disable=SC1091
if [ -f "$(dirname "$0")/lib.sh" ]; then . "$(dirname "$0")/lib.sh"; else . /files/lib.sh; fi

plan 56

# where scripts/deps.sh installs @mcap/core
npm_dir=${FLOE_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/floe/npm}
file=$scratch/r.mcap

# official FILE: @mcap/core's reading of FILE (tests/cli/mcap_check.cjs) in
# $check, status 0 if it found the file right; $skip says why it cannot
# run here (no Node.js), else is empty
official() {
	skip="" check=""
	if ! command -v node >/dev/null 2>&1; then
		skip="Node.js is not installed here: no @mcap/core check"
		return 0
	fi
	if [ ! -f "$npm_dir/node_modules/@mcap/core/package.json" ]; then
		check="@mcap/core is not in $npm_dir: run scripts/deps.sh"
		return 1
	fi
	check=$(node "$lib_dir/mcap_check.cjs" "$npm_dir" "$1" 2>&1)
}

subscribe_bg() {
	s=$1 log=$2
	shift 2
	start_bg "$FLOE_CLI" subscribe "$s" "$@" >"$log" 2>&1
	wait_until 30 has_ports "$s" subscriber 1
}

# the texts of the samples a JSON subscriber printed, space-separated
texts() { sed -n 's/.*"text": *"\([^"]*\)".*/\1/p' "$1" | tr '\n' ' '; }
# a number member of the JSON in $out
num() { printf '%s\n' "$out" | sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p" | head -n 1; }
publisher() { printf '%s\n' "$out" | head -n 1 | sed -n 's/.*"publisher": *\([0-9]*\).*/\1/p'; }

# --- record two services (created by the recorder: floe.bytes)
start_bg "$FLOE_CLI" record rec/a rec/b -o "$file" --count 5 --timeout 60000 \
	>"$scratch/rec.log" 2>&1
rec=$bg_pid
wait_until 30 has_ports rec/a subscriber 1 && wait_until 30 has_ports rec/b subscriber 1
ok $? "the recorder subscribed to both services"
run --json publish rec/a a1
pa1=$(publisher)
run --json publish rec/b --count 2 --interval 50 b
pb=$(publisher)
run --json publish rec/a a2
pa2=$(publisher)
run --json publish rec/a a3
pa3=$(publisher)
ok $? "five samples published"
wait "$rec"
is $? 0 "record --count 5: exit 0"
has "$(cat "$scratch/rec.log")" "recorded 5 samples of 2 services to $file" "record reports what it wrote"

# --- the official reader
official "$file"
status=$?
if [ -n "$skip" ]; then
	for i in 1 2 3 4; do ok 0 "# SKIP $skip"; done
else
	ok $status "@mcap/core reads the file: streaming and indexed readers agree, CRCs and statistics hold"
	[ $status -eq 0 ] || printf '%s\n' "$check" | sed 's/^/#   /'
	has "$check" "channel rec/a floe.bytes 1 1 0 floe
channel rec/b floe.bytes 1 1 0 floe" "@mcap/core: a channel per service, its type in the metadata"
	is "$(printf '%s\n' "$check" | grep '^message rec/a' | tr '\n' '|')" \
		"message rec/a $pa1 0 6131|message rec/a $pa2 0 6132|message rec/a $pa3 0 6133|" \
		"@mcap/core: rec/a's samples, publishers, sequences, bytes, in order"
	is "$(printf '%s\n' "$check" | grep '^message rec/b' | tr '\n' '|')" \
		"message rec/b $pb 0 62|message rec/b $pb 1 62|" \
		"@mcap/core: rec/b's two samples of one publisher"
fi

# --- replay to subscribers
subscribe_bg rec/a "$scratch/a.log" --json --count 3 --timeout 60000
ok $? "subscriber of rec/a ready"
suba=$bg_pid
subscribe_bg rec/b "$scratch/b.log" --json --count 2 --timeout 60000
ok $? "subscriber of rec/b ready"
subb=$bg_pid
run --json replay "$file"
is "$rc" 0 "replay: exit 0"
json_ok "d['samples'] == 5 and d['services'] == 2 and d['loops'] == 1" '"samples": 5' "replay --json: 5 samples, 2 services, 1 pass"
wait "$suba"
is $? 0 "rec/a's subscriber got 3 samples"
wait "$subb"
is $? 0 "rec/b's subscriber got 2 samples"
is "$(texts "$scratch/a.log")" "a1 a2 a3 " "rec/a: the recorded samples, in order"
is "$(texts "$scratch/b.log")" "b b " "rec/b: the recorded samples"
is "$(sed -n 's/.*"sequence": *\([0-9]*\).*/\1/p' "$scratch/a.log" | tr '\n' ' ')" "0 1 2 " \
	"rec/a: replayed by one publisher (sequences 0 1 2)"

# --- an existing service is recorded with its own type, and replayed so
subscribe_bg rec/u32 "$scratch/u32.log" --type u32 --size 4 --align 4 --count 1 --timeout 60000
ok $? "a u32 service exists (its subscriber created it)"
sub=$bg_pid
start_bg "$FLOE_CLI" record rec/u32 -o "$scratch/u32.mcap" --count 1 --timeout 60000 \
	>"$scratch/rec.log" 2>&1
rec=$bg_pid
wait_until 30 has_ports rec/u32 subscriber 2
run publish rec/u32 --type u32 --size 4 --align 4 --hex "01000000 02000000"
wait "$rec"
is $? 0 "record of the u32 service (no --type given): exit 0"
wait "$sub"
subscribe_bg rec/u32 "$scratch/u32.log" --type u32 --size 4 --align 4 --count 1 --timeout 60000
sub=$bg_pid
run replay "$scratch/u32.mcap"
is "$rc" 0 "replay to the u32 service: its type was recorded"
wait "$sub"
has "$(cat "$scratch/u32.log")" "hex:  01 00 00 00 02 00 00 00" "the u32 sample replayed"

# --- a user header: recorded beside the payload, replayed with it
svc=My/Funk/WithHeader
sub_ex=$(example pubsub_user_header_subscriber) &&
	pub_ex=$(example pubsub_user_header_publisher)
ok $? "the user header examples are there"
start_bg "$sub_ex" 3 60 >"$scratch/uh1.log" 2>&1
sub=$bg_pid
wait_until 30 has_ports "$svc" subscriber 1
start_bg "$FLOE_CLI" record "$svc" -o "$scratch/uh.mcap" --count 3 --timeout 60000 \
	>/dev/null 2>&1
rec=$bg_pid
wait_until 30 has_ports "$svc" subscriber 2
"$pub_ex" 3 >/dev/null 2>&1
wait "$rec"
is $? 0 "record of a service with a user header: exit 0"
wait "$sub"
is $? 0 "the example's subscriber received the 3 samples published"
start_bg "$sub_ex" 3 60 >"$scratch/uh2.log" 2>&1
sub=$bg_pid
wait_until 30 has_ports "$svc" subscriber 1
run replay "$scratch/uh.mcap"
is "$rc" 0 "replay to the service with a user header: exit 0"
wait "$sub"
is $? 0 "its subscriber got the 3 samples"
is "$(grep '^received:' "$scratch/uh2.log")" "$(grep '^received:' "$scratch/uh1.log")" \
	"user headers and payloads replayed as they were received"
official "$scratch/uh.mcap"
if [ -n "$skip" ]; then
	ok 0 "# SKIP $skip"
else
	has "$check" "channel $svc u64 8 8 16 floe" "@mcap/core: the user header's size in the metadata"
fi

# --- timing: three samples a second apart
start_bg "$FLOE_CLI" record rec/t -o "$scratch/t.mcap" --count 3 --timeout 60000 \
	>/dev/null 2>&1
rec=$bg_pid
wait_until 30 has_ports rec/t subscriber 1
ok $? "recorder of rec/t ready"
run publish rec/t --count 3 --interval 1000 t
wait "$rec"
is $? 0 "rec/t recorded"
run --json replay "$scratch/t.mcap"
span=$(num recorded_ms) took=$(num elapsed_ms)
ok $((took < span)) "replay at the original pace takes the recorded time ($took >= $span ms)"
run --json replay "$scratch/t.mcap" --rate 0.5
took=$(num elapsed_ms)
ok $((took < 2 * span)) "--rate 0.5 takes twice the time ($took >= 2 x $span ms)"
run --json replay "$scratch/t.mcap" --rate 20
took=$(num elapsed_ms)
if [ "$span" -ge 1000 ]; then
	ok $((took >= span)) "--rate 20 is faster than the original ($took < $span ms)"
else
	ok 0 "# SKIP the recorder was held up: $span ms recorded"
fi
run replay "$scratch/t.mcap" --rate 0
is "$rc" 2 "--rate 0: usage error"

# --- loop: the file twice, in order, until SIGTERM
subscribe_bg rec/a "$scratch/loop.log" --json --count 6 --timeout 60000
ok $? "subscriber for the loop ready"
sub=$bg_pid
start_bg "$FLOE_CLI" --json replay "$file" --loop --rate 4 >"$scratch/loop.out" 2>&1
loop=$bg_pid
wait "$sub"
is $? 0 "--loop: six samples received"
is "$(texts "$scratch/loop.log")" "a1 a2 a3 a1 a2 a3 " "--loop: the recording again, in order"
kill -TERM "$loop"
wait "$loop"
is $? 0 "--loop: SIGTERM ends it, exit 0"
out=$(cat "$scratch/loop.out")
json_ok "d['loops'] >= 2" '"loops": [2-9]' "--loop: two passes or more reported"

# --- damaged files: the offset, nothing published
size=$(wc -c <"$file")
head -c $((size / 2)) "$file" >"$scratch/cut.mcap"
subscribe_bg rec/a "$scratch/none.log" --count 1 --timeout 1500
ok $? "subscriber for damaged files ready"
sub=$bg_pid
run replay "$scratch/cut.mcap"
is "$rc" 1 "a truncated file: exit 1"
has "$err" "cut.mcap: offset " "a truncated file: the offset is reported"
has "$err" "truncated" "a truncated file: said so"
cp "$file" "$scratch/bad.mcap"
at=$((size / 2))
byte=$(od -An -tu1 -j "$at" -N 1 "$file" | tr -d ' ')
# shellcheck disable=SC2059 # the byte, as an octal escape
printf "\\$(printf %o $((byte ^ 255)))" |
	dd of="$scratch/bad.mcap" bs=1 seek="$at" conv=notrunc 2>/dev/null
run replay "$scratch/bad.mcap"
is "$rc" 1 "a file with a byte changed: exit 1"
has "$err" "bad.mcap: offset " "a changed byte: the offset is reported"
wait "$sub"
is $? 4 "nothing of the damaged files was published"
printf 'not a recording\n' >"$scratch/text.mcap"
run replay "$scratch/text.mcap"
has "$err" "offset 0: malformed: not an MCAP file" "a text file: not MCAP, at offset 0"
run replay "$scratch/absent.mcap"
is "$rc" 3 "a missing file: exit 3"

# --- record until SIGTERM: a complete file; SIGKILLed: one that ends early
start_bg "$FLOE_CLI" record rec/s -o "$scratch/s.mcap" >/dev/null 2>&1
rec=$bg_pid
wait_until 30 has_ports rec/s subscriber 1
run publish rec/s signalled
kill -TERM "$rec"
wait "$rec"
is $? 0 "record ended by SIGTERM: exit 0"
run --json replay "$scratch/s.mcap" --linger 0
json_ok "d['samples'] == 1" '"samples": 1' "... and its file is complete, with the sample"
start_bg "$FLOE_CLI" record rec/s -o "$scratch/k.mcap" >/dev/null 2>&1
rec=$bg_pid
wait_until 30 has_ports rec/s subscriber 1
run publish rec/s killed
kill -KILL "$rec"
wait "$rec"
run replay "$scratch/k.mcap"
has "$err" "truncated: the file ends without a footer" "a SIGKILLed recorder's file: refused, it ends early"
"$FLOE_CLI" node cleanup >/dev/null 2>&1

# --- services that do not fit
subscribe_bg rec/a "$scratch/other.log" --type u32 --size 4 --align 4 --timeout 60000
sub=$bg_pid
run replay "$file"
is "$rc" 6 "replay to a service of another type: exit 6"
has "$err" "service 'rec/a'" "... naming the service"
kill "$sub"
start_bg "$FLOE_CLI" listen rec/ev --timeout 60000 >/dev/null 2>&1
lis=$bg_pid
wait_until 30 has_ports rec/ev listener 1
run record rec/ev -o "$scratch/ev.mcap" --timeout 100
is "$rc" 6 "record of an event service: exit 6"
kill "$lis"

# --- record's usage errors
run record rec/x
is "$rc" 2 "record without -o: usage error"
run record rec/x -o /nonexistent/dir/x.mcap --timeout 100
has "$err" "cannot create '/nonexistent/dir/x.mcap'" "record to a path that cannot be created: said so"

finish
