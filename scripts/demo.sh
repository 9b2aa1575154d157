#!/bin/bash
# The examples, end to end (run by `make demo`, which builds them first;
# this script builds nothing): publish-subscribe, events, event-driven
# publish-subscribe, the blackboard, the waitset and the health monitor;
# then across languages (examples/cxx, examples/python): C++ -> Python and
# Python -> C++ publish-subscribe, a Python client of the C++ server.
#
# Usage: scripts/demo.sh [COUNT]
#
# For each example pair (typed payload, then dynamic slices): start the
# subscriber in the background, wait until it is subscribed, run the
# publisher (COUNT samples, default 10, 100 ms apart), wait for the
# subscriber and print what it received. Exits non-zero unless every
# subscriber received all COUNT samples.
#
# Backend: auto (the kernel module if /dev/floe is usable, else /dev/shm),
# or whatever FLOE_BACKEND says. Runs in its own floe domain unless
# FLOE_DOMAIN is set. Examples are taken from $O/examples (O=build).
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${O:-build}
case "$out" in /*) ;; *) out=$repo/$out ;; esac
bin=$out/examples
# the Python examples: Debian's python3, the package from the source tree
# over the library just built
python=${PYTHON:-/usr/bin/python3}
export PYTHONPATH=$repo/bindings/python FLOE_LIBRARY=$out/libfloe.so.0
export PYTHONDONTWRITEBYTECODE=1
count=${1:-10}
export FLOE_DOMAIN=${FLOE_DOMAIN:-demo$$}

log=$(mktemp)
sub_pid=
cleanup() {
	[ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null
	rm -f "$log"
}
trap cleanup EXIT

# program NAME: the command of an example; py:NAME is
# examples/python/NAME.py, anything else a program in $bin
program() {
	case "$1" in
	py:*) echo "$python $repo/examples/python/${1#py:}.py" ;;
	*) echo "$bin/$1" ;;
	esac
}

# await_ready NAME PATTERN: wait until the background example $sub_pid,
# NAME, printed a line matching PATTERN (ERE) into $log, or is gone;
# status 1, with its output, if it never did
await_ready() {
	for _ in $(seq 200); do
		grep -Eq "$2" "$log" && return 0
		kill -0 "$sub_pid" 2>/dev/null || break
		sleep 0.05
	done
	grep -Eq "$2" "$log" && return 0
	echo "demo: $1 did not get ready:" >&2
	cat "$log" >&2
	return 1
}

# run_pair TITLE PUBLISHER SUBSCRIBER LINE_PATTERN
run_pair() {
	local title=$1 pub=$2 sub=$3 pattern=$4 rc got f

	for b in "$pub" "$sub"; do
		f=$(program "$b")
		f=${f##* }
		[ -x "$f" ] || [ -r "$f" ] ||
			{ echo "demo: $f missing (make examples)" >&2; return 1; }
	done
	echo "==== $title (domain $FLOE_DOMAIN, backend ${FLOE_BACKEND:-auto})"
	: >"$log"
	# shellcheck disable=SC2046 # the command's words
	$(program "$sub") "$count" >"$log" 2>&1 &
	sub_pid=$!

	# The publisher sends no history: wait until the subscriber is
	# subscribed, or gone.
	await_ready "$sub" '^(subscriber|listener|reader|client) ready' ||
		return 1

	echo "---- $pub:"
	# shellcheck disable=SC2046
	$(program "$pub") "$count" || echo "demo: $pub failed" >&2
	wait "$sub_pid"
	rc=$?
	sub_pid=
	echo "---- $sub:"
	cat "$log"
	got=$(grep -c "$pattern" "$log")
	if [ "$rc" -ne 0 ] || [ "$got" -ne "$count" ]; then
		echo "demo: $title FAILED: subscriber got $got of $count (exit $rc)" >&2
		return 1
	fi
	echo "==== $title: subscriber received all $count"
	return 0
}

# The waitset example listens on two event services plus an interval;
# event_notifier fires COUNT events into one of them.
run_waitset() {
	local secs=$((count / 10 + 5)) pid rc got

	for b in waitset event_notifier; do
		[ -x "$bin/$b" ] || { echo "demo: $bin/$b missing (make examples)" >&2; return 1; }
	done
	echo "==== waitset (domain $FLOE_DOMAIN, backend ${FLOE_BACKEND:-auto})"
	: >"$log"
	"$bin/waitset" "$secs" >"$log" 2>&1 &
	pid=$!
	sub_pid=$pid
	await_ready waitset '^waitset ready' || return 1
	echo "---- event_notifier:"
	"$bin/event_notifier" "$count" || echo "demo: event_notifier failed" >&2
	wait "$pid"
	rc=$?
	sub_pid=
	echo "---- waitset:"
	cat "$log"
	got=$(grep -c '^MyEventName: event id' "$log")
	if [ "$rc" -ne 0 ] || [ "$got" -ne "$count" ]; then
		echo "demo: waitset FAILED: got $got of $count events (exit $rc)" >&2
		return 1
	fi
	echo "==== waitset: received all $count events"
	return 0
}

# The health monitor watches the domain and a heartbeat service with a
# deadline: a publisher SIGKILLed under it is reported dead, and the
# heartbeat nobody sends is reported as a missed deadline.
run_health() {
	local pid pub rc

	for b in health_monitor pubsub_publisher; do
		[ -x "$bin/$b" ] || { echo "demo: $bin/$b missing (make examples)" >&2; return 1; }
	done
	echo "==== health monitor (domain $FLOE_DOMAIN, backend ${FLOE_BACKEND:-auto})"
	: >"$log"
	"$bin/health_monitor" 4 >"$log" 2>&1 &
	pid=$!
	sub_pid=$pid
	await_ready health_monitor '^health monitor ready' || return 1
	echo "---- pubsub_publisher, killed with SIGKILL after a second:"
	"$bin/pubsub_publisher" 1000 >/dev/null 2>&1 &
	pub=$!
	sleep 1
	kill -9 "$pub"
	wait "$pub" 2>/dev/null
	wait "$pid"
	rc=$?
	sub_pid=
	echo "---- health_monitor:"
	cat "$log"
	if [ "$rc" -ne 0 ] || ! grep -q '^port dead: publisher' "$log" ||
	   ! grep -q '^missed deadline: ' "$log"; then
		echo "demo: health monitor FAILED: no dead publisher or no missed deadline (exit $rc)" >&2
		return 1
	fi
	echo "==== health monitor: saw the dead publisher and the missed deadline"
	return 0
}

fail=0
run_pair "typed publish-subscribe" pubsub_publisher pubsub_subscriber \
	'^received: ' || fail=1
run_pair "dynamic slices" pubsub_slice_publisher pubsub_slice_subscriber \
	'^received slice .*all elements correct' || fail=1
run_pair "events" event_notifier event_listener '^received event id ' || fail=1
run_pair "event-based publish-subscribe" pubsub_event_publisher \
	pubsub_event_subscriber '^received: ' || fail=1
run_pair "blackboard" blackboard_writer blackboard_reader '^read: ' || fail=1
run_pair "request-response (streams)" request_response_server \
	request_response_client '^response: ' || fail=1
run_waitset || fail=1
run_health || fail=1
run_pair "C++ publisher -> Python subscriber" cxx/pubsub_publisher \
	py:subscriber '^received: ' || fail=1
run_pair "Python publisher -> C++ subscriber" py:publisher \
	cxx/pubsub_subscriber '^received: ' || fail=1
run_pair "Python client, C++ server (streams)" \
	cxx/request_response_server py:request_response_client \
	'^response: ' || fail=1
[ $fail -eq 0 ] && echo "demo: OK" || echo "demo: FAILED" >&2
exit $fail
