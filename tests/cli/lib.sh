# shellcheck shell=sh disable=SC2034 # out, err, rc, bg_pid are the tests'
# Sourced by the floe tool's tests (tests/cli/t_cli_*.sh): POSIX sh only, so
# that the tests run under busybox sh in the qemu VM as well as on the host.
#
#   FLOE_CLI      the tool (default: build/tools/floe of this tree, else
#                 /files/floe, where the VM run stages it)
#   FLOE_DOMAIN   the domain the tests work in (default: c<pid>); other
#                 domains are derived from it with other_domain
#   FLOE_BACKEND  as for the library (the VM sets kmod)
#   FLOE_EXAMPLES where the example programs are (default: build/examples
#                 of this tree, else /files, where the VM run stages them)
#
# Configuration files are neutralised (FLOE_CONFIG=/dev/null) unless a test
# sets its own. JSON is checked with python3 where there is one (the host),
# else with grep on the pretty-printed output (the VM).
#
# TAP helpers: plan N; ok COND_STATUS DESC; is GOT WANT DESC; has TEXT
# NEEDLE DESC; finish (exit status). run ARGS... runs the tool and sets
# $out, $err and $rc.

lib_dir=$(cd "$(dirname "$0")" && pwd)
if [ -z "${FLOE_CLI:-}" ]; then
	FLOE_CLI=$lib_dir/../../build/tools/floe
	[ -x "$FLOE_CLI" ] || FLOE_CLI=/files/floe
fi
[ -x "$FLOE_CLI" ] || { echo "Bail out! floe tool not found ($FLOE_CLI)"; exit 1; }
export FLOE_DOMAIN="${FLOE_DOMAIN:-c$$}"
export FLOE_CONFIG=/dev/null
scratch=$(mktemp -d "${TMPDIR:-/tmp}/floe-cli.XXXXXX")

tap_run=0 tap_failed=0 tap_planned=0 bg_pids=""

plan() { tap_planned=$1; echo "1..$1"; }

# ok STATUS DESC: passes when STATUS is 0
ok() {
	tap_run=$((tap_run + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_run - $2"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_run - $2"
	fi
}

is() {
	[ "$1" = "$2" ]
	ok $? "$3"
	[ "$1" = "$2" ] || echo "#   got '$1', want '$2'"
}

has() {
	case "$1" in *"$2"*) ok 0 "$3" ;; *)
		ok 1 "$3"
		echo "#   '$2' not in:"
		printf '%s\n' "$1" | sed 's/^/#     /'
		;;
	esac
}

# run ARGS...: the tool's stdout in $out, stderr in $err, status in $rc
run() {
	out=$("$FLOE_CLI" "$@" 2>"$scratch/stderr")
	rc=$?
	err=$(cat "$scratch/stderr")
}

# example NAME: the path of an example program; status 1 if not found
example() {
	for d in "${FLOE_EXAMPLES:-}" "$lib_dir/../../build/examples" /files; do
		[ -n "$d" ] && [ -x "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}

have_python() { command -v python3 >/dev/null 2>&1; }

# json_ok PY_EXPR GREP_PATTERN DESC: $out parsed as JSON and PY_EXPR (over
# `d`) true, or, without python3, GREP_PATTERN found in $out
json_ok() {
	if have_python; then
		printf '%s' "$out" | python3 -c "import json, sys
d = json.load(sys.stdin)
sys.exit(0 if ($1) else 1)" 2>"$scratch/pyerr"
		ok $? "$3"
	else
		printf '%s' "$out" | grep -q -- "$2"
		ok $? "$3 (grep)"
	fi
}

# A second domain for isolation tests: at most 16 characters.
other_domain() { printf '%.14s%s' "$FLOE_DOMAIN" "$1"; }

# Start a command in the background; it is stopped (SIGTERM) at the end.
start_bg() {
	"$@" &
	bg_pid=$!
	bg_pids="$bg_pids $bg_pid"
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s; status 0 once it passes
wait_until() {
	tries=$(($1 * 10))
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		tries=$((tries - 1))
		sleep 0.1
	done
	return 1
}

# ports SERVICE ROLE: how many ports of ROLE the service has (alive or not)
ports() {
	"$FLOE_CLI" port list 2>/dev/null |
		awk -v s="$1" -v r="$2" '$2 == r && $NF == s { n++ } END { print n + 0 }'
}

# has_ports SERVICE ROLE N: the service has at least N ports of ROLE
has_ports() { [ "$(ports "$1" "$2")" -ge "$3" ]; }

cleanup() {
	for p in $bg_pids; do kill "$p" 2>/dev/null; done
	wait
	# what SIGKILLed test processes left (shm backend)
	"$FLOE_CLI" node cleanup >/dev/null 2>&1
	rm -rf "$scratch"
}
trap cleanup EXIT

finish() {
	if [ "$tap_run" -ne "$tap_planned" ]; then
		echo "# planned $tap_planned tests but ran $tap_run"
		exit 1
	fi
	[ "$tap_failed" -eq 0 ]
	exit $?
}
