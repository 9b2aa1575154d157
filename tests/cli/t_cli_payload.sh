#!/bin/sh
# Payloads beyond a command-line argument: floe publish --file PATH and
# --file - (standard input), 200 KiB each, received byte for byte by
# floe subscribe --raw (payloads only); bad combinations refused.
# the VM stages lib.sh as /files/lib.sh
# shellcheck source=tests/cli/lib.sh disable=SC1091
if [ -f "$(dirname "$0")/lib.sh" ]; then . "$(dirname "$0")/lib.sh"; else . /files/lib.sh; fi

plan 11

# 200 KiB: more than one argument may carry (128 KiB)
dd if=/dev/urandom of="$scratch/payload" bs=1024 count=200 2>/dev/null
printf 'second' >"$scratch/small"

"$FLOE_CLI" subscribe cli/file --raw --count 3 --timeout 60000 >"$scratch/got" 2>"$scratch/sub_err" &
sub=$!
wait_until 30 has_ports cli/file subscriber 1
ok $? "a raw subscriber"

run publish cli/file --file "$scratch/payload"
is "$out" "sent 204800 bytes to 1 subscriber" "publish --file: 200 KiB sent"
run publish cli/file --file - <"$scratch/small"
is "$out" "sent 6 bytes to 1 subscriber" "publish --file -: standard input"
# shellcheck disable=SC2002 # a pipe on purpose: no file behind stdin
cat "$scratch/payload" | "$FLOE_CLI" publish cli/file --file - >/dev/null 2>&1
is $? 0 "publish --file - from a pipe, 200 KiB"
wait "$sub"
is $? 0 "subscribe --raw --count 3: got them"
cat "$scratch/payload" "$scratch/small" "$scratch/payload" >"$scratch/want"
cmp -s "$scratch/want" "$scratch/got"
ok $? "subscribe --raw: exactly the payloads' bytes, in order"

run publish cli/file --file "$scratch/missing"
[ "$rc" -eq 2 ] && [ "$err" = "floe: publish: --file $scratch/missing: No such file or directory" ]
ok $? "a missing file: exit 2, named"
run publish cli/file text --file "$scratch/small"
[ "$rc" -eq 2 ] && [ "$err" = "floe: publish: give the payload as text, with --hex or with --file (one of them)" ]
ok $? "text and --file: exit 2"
run publish cli/file --file /dev/null
is "$rc" 2 "an empty file: exit 2"
run --json subscribe cli/file --raw
[ "$rc" -eq 2 ] && [ "$err" = "floe: subscribe: --raw and --json exclude each other" ]
ok $? "--raw with --json: exit 2"
run publish cli/file --hex 0g --count 1
is "$rc" 2 "bad hex still refused"

finish
