#!/bin/sh
# Configuration files: errors reported as "<file>:<line>: <reason>" with
# exit 5 (and refused by the library itself); backend, domain and [pubsub]
# defaults honoured, with options > environment > files; the user file;
# domains keep services apart; [event] defaults for the tool's event
# services; floe config show (values and origins), generate, check.
# the VM stages lib.sh as /files/lib.sh
# shellcheck source=tests/cli/lib.sh disable=SC1091
if [ -f "$(dirname "$0")/lib.sh" ]; then . "$(dirname "$0")/lib.sh"; else . /files/lib.sh; fi

plan 34

conf=$scratch/floe.conf
dom_a=$(other_domain A)
dom_b=$(other_domain B)

# bad CONTENT LINE REASON: the file is refused with that line and reason
bad() {
	printf '%b' "$1" >"$conf"
	FLOE_CONFIG=$conf
	run node list
	FLOE_CONFIG=/dev/null
	[ "$rc" -eq 5 ] && [ "$err" = "floe: $conf:$2: $3" ]
	ok $? "refused: $3"
	[ "$rc" -eq 5 ] || echo "#   exit $rc"
	[ "$err" = "floe: $conf:$2: $3" ] || echo "#   stderr: $err"
}

# --- errors
bad '[global]\nbackend shm\n' 2 "syntax error (expected [section] or key = value)"
bad '; comment\n[global]\ncolour = blue\n' 3 "unknown key 'colour' in [global]"
bad '[global]\ndomain = x\n[colours]\nred = 1\n' 4 "unknown section [colours]"
bad '[global]\nbackend = fast\n' 2 "backend must be auto, kmod or shm, not 'fast'"
bad '[pubsub]\nmax_nodes = -3\n' 2 "max_nodes must be a number from 1 to 4096, not '-3'"
bad '[pubsub]\nenable_safe_overflow = perhaps\n' 2 "enable_safe_overflow must be true or false, not 'perhaps'"
bad 'domain = x\n' 1 "'domain' is outside a section ([global], [pubsub], ...)"
FLOE_CONFIG=$scratch/missing.conf
run node list
FLOE_CONFIG=/dev/null
[ "$rc" -eq 5 ] && [ "$err" = "floe: $scratch/missing.conf: No such file or directory" ]
ok $? "a missing \$FLOE_CONFIG: exit 5, named"

example=$lib_dir/../../build/examples/pubsub_publisher
printf '[global]\nbackend = fast\n' >"$conf"
if [ -x "$example" ]; then
	FLOE_CONFIG=$conf "$example" 1 >/dev/null 2>&1
	is $? 1 "the library refuses a bad file too (floe_node_create fails)"
else
	echo "ok $((tap_run += 1)) - the library refuses a bad file too # SKIP no example program"
fi

# --- domain and backend: options > environment > configuration
printf '[global]\nbackend = shm\ndomain = %s\n' "$dom_a" >"$conf"
(unset FLOE_DOMAIN FLOE_BACKEND; FLOE_CONFIG=$conf "$FLOE_CLI" --json top --once) >"$scratch/view" 2>&1
out=$(cat "$scratch/view")
json_ok "d['domain'] == '$dom_a' and d['backend'] == 'shm'" "\"domain\": \"$dom_a\", \"backend\": \"shm\"" \
	"domain and backend from the file"
out=$(FLOE_CONFIG=$conf FLOE_DOMAIN=$dom_b "$FLOE_CLI" --json top --once 2>&1)
json_ok "d['domain'] == '$dom_b'" "\"domain\": \"$dom_b\"" "\$FLOE_DOMAIN beats the file"
mine=$FLOE_DOMAIN
out=$(FLOE_CONFIG=$conf FLOE_DOMAIN=$dom_b "$FLOE_CLI" --domain "$mine" --json top --once 2>&1)
json_ok "d['domain'] == '$mine'" "\"domain\": \"$mine\"" "--domain beats \$FLOE_DOMAIN"
printf '[global]\nbackend = kmod\n' >"$conf"
out=$(FLOE_CONFIG=$conf FLOE_BACKEND=shm "$FLOE_CLI" --json top --once 2>&1)
json_ok "d['backend'] == 'shm'" '"backend": "shm"' "\$FLOE_BACKEND beats the file"
out=$(FLOE_CONFIG=$conf FLOE_BACKEND=kmod "$FLOE_CLI" --backend shm --json top --once 2>&1)
json_ok "d['backend'] == 'shm'" '"backend": "shm"' "--backend beats \$FLOE_BACKEND"

# --- the user's file, found through XDG_CONFIG_HOME
mkdir -p "$scratch/xdg/floe"
printf '[global]\ndomain = %s\n' "$dom_b" >"$scratch/xdg/floe/floe.conf"
out=$(unset FLOE_CONFIG FLOE_DOMAIN; XDG_CONFIG_HOME=$scratch/xdg "$FLOE_CLI" --json top --once 2>&1)
json_ok "d['domain'] == '$dom_b'" "\"domain\": \"$dom_b\"" "the user's file (\$XDG_CONFIG_HOME/floe/floe.conf)"

# --- [pubsub] defaults for services the tool creates
printf '[pubsub]\nmax_publishers = 5\nhistory_size = 3\nenable_safe_overflow = off\n' >"$conf"
start_bg env FLOE_CONFIG="$conf" "$FLOE_CLI" subscribe cli/qos >/dev/null 2>&1
wait_until 30 has_ports cli/qos subscriber 1
ok $? "a subscriber created the service"
run --json service show cli/qos
json_ok "d[0]['qos']['max_publishers'] == 5 and d[0]['qos']['history_size'] == 3 and not d[0]['qos']['enable_safe_overflow']" \
	'"history_size": 3' "the service has the file's QoS"

# --- domains keep services apart
start_bg "$FLOE_CLI" --domain "$dom_a" subscribe cli/only-in-a >/dev/null 2>&1
in_a() { "$FLOE_CLI" --domain "$dom_a" service list | grep -q '^cli/only-in-a '; }
wait_until 30 in_a
ok $? "service list in domain A shows A's service"
run --domain "$dom_b" service list
printf '%s\n' "$out" | grep -q 'only-in-a'
ok $((!$?)) "service list in domain B does not"
run --domain "$dom_b" port list
printf '%s\n' "$out" | grep -q 'only-in-a'
ok $((!$?)) "port list in domain B does not show A's ports"

# --- [event] defaults for event services the tool creates
printf '[event]\nevent_id_max = 99\n' >"$conf"
start_bg env FLOE_CONFIG="$conf" "$FLOE_CLI" listen cli/ev-qos >/dev/null 2>&1
wait_until 30 has_ports cli/ev-qos listener 1
run --json service show cli/ev-qos
json_ok "d[0]['qos']['event_id_max'] == 99" '"event_id_max": 99' \
	"a listener created the event service with the file's [event] QoS"

# --- floe config generate / check / show
run config generate
is "$(printf '%s\n' "$out" | grep -c '^;[a-z_]* = ')" 24 "config generate: every key, commented out"
has "$out" "[request_response]" "config generate: every section"
printf '%s\n' "$out" >"$scratch/generated.conf"
run config check "$scratch/generated.conf"
[ "$rc" -eq 0 ] && [ "$out" = "$scratch/generated.conf: valid" ]
ok $? "config check: the generated file is valid"
sed 's/^;//' "$scratch/generated.conf" >"$scratch/defaults.conf"
run config check "$scratch/defaults.conf"
is "$rc" 0 "config check: so is every default written out"
printf '[pubsub]\nhistory_size = 3\ncolour = red\n' >"$scratch/bad.conf"
run config check "$scratch/bad.conf"
[ "$rc" -eq 5 ] && [ "$err" = "floe: $scratch/bad.conf:3: unknown key 'colour' in [pubsub]" ]
ok $? "config check: a bad file, exit 5, where and why"
run --json config check "$scratch/bad.conf"
json_ok "not d['valid'] and d['error'].endswith(\"unknown key 'colour' in [pubsub]\")" '"valid": false' \
	"config check --json: invalid, with the reason"

mkfifo "$scratch/fifo"
run config check "$scratch/fifo"
[ "$rc" -eq 5 ] && [ "$err" = "floe: $scratch/fifo: a FIFO or socket, not a file" ]
ok $? "config check of a FIFO: refused at once, exit 5"
run config check /dev/zero
[ "$rc" -eq 5 ] && [ "$err" = "floe: /dev/zero:10001: more than 10000 lines" ]
ok $? "config check of an endless file: refused, exit 5"

printf '[global]\ndomain = %s\n[pubsub]\nhistory_size = 3\n' "$dom_a" >"$conf"
FLOE_CONFIG=$conf
out=$(FLOE_CONFIG=$conf FLOE_BACKEND=shm "$FLOE_CLI" config show 2>&1)
FLOE_CONFIG=/dev/null
printf '%s\n' "$out" | grep -q "^pubsub  *history_size  *3  *$conf:4$"
ok $? "config show: a file's value with its file and line"
printf '%s\n' "$out" | grep -q '^pubsub  *max_publishers  *2  *default$'
ok $? "config show: a default"
# shellcheck disable=SC2016 # the variable's name, literally
printf '%s\n' "$out" | grep -q '^global  *backend  *shm  *\$FLOE_BACKEND$'
ok $? "config show: the environment's backend"
out=$(FLOE_CONFIG=$conf "$FLOE_CLI" --domain "$dom_b" --json config show 2>&1)
json_ok "len(d) == 24 and [r for r in d if r['key'] == 'domain' and r['value'] == '$dom_b' and r['origin'] == '--domain']" \
	"\"origin\": \"--domain\"" "config show --json: every key; the option's domain"
out=$(FLOE_CONFIG=$scratch/bad.conf "$FLOE_CLI" config show 2>&1)
is $? 5 "config show with a bad file: exit 5"

finish
