# shellcheck shell=bash
# Sourced by the gateway's tests (tests/gateway/t_*.sh, bash): the TAP
# helpers of tests/cli/lib.sh, the programs, and gateways in the
# background.
#
#   GW_BIN    where floe-gateway, tests/gateway/* are (default: build/)
#   FLOE_DOMAIN  the test's domain (run-host.sh sets it); the test's floe
#             domains derive from it: dom a, dom b, ...
#
# Cyclone DDS is confined to the loopback interface, unicast, in a DDS
# domain of its own per test run (from the pid), so that parallel runs
# and other hosts never meet.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"

root=$(cd "$(dirname "$0")/../.." && pwd)
GW_BIN=${GW_BIN:-$root/build}
GATEWAY=$GW_BIN/tools/floe-gateway
FLOE_PEER=$GW_BIN/tests/gateway/floe_peer
DDS_PEER=$GW_BIN/tests/gateway/dds_peer
for p in "$GATEWAY" "$FLOE_PEER" "$DDS_PEER"; do
	[ -x "$p" ] || { echo "Bail out! $p not built (make check-gateway)"; exit 1; }
done
DDS_DOMAIN=$(($$ % 200 + 10))
# lo has no multicast by default: discovery by unicast to the peers
dds_uri_on() {	# INTERFACE PEER_ADDRESS...
	local iface=$1 peers="" a
	shift
	for a in "$@"; do peers="$peers<Peer address=\"$a\"/>"; done
	printf '%s' "<CycloneDDS><Domain id=\"any\"><General><Interfaces><NetworkInterface name=\"$iface\"/></Interfaces><AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>40</MaxAutoParticipantIndex><Peers>$peers</Peers></Discovery></Domain></CycloneDDS>"
}
CYCLONEDDS_URI=$(dds_uri_on lo 127.0.0.1)
export CYCLONEDDS_URI

# dom X: the floe domain X of this test (at most 16 characters)
dom() { printf '%.15s%s' "$FLOE_DOMAIN" "$1"; }
domains_used=""

# start_gw NAME DOMAIN ARGS...: floe-gateway in the background, logging to
# $scratch/NAME.log; its pid in gw_pid; waits until it runs. $gw_prefix
# (e.g. ip netns exec NS) goes in front of it.
start_gw() {
	local name=$1 d=$2
	shift 2
	case " $domains_used " in *" $d "*) ;; *) domains_used="$domains_used $d" ;; esac
	$gw_prefix "$GATEWAY" --domain "$d" --dds-domain "$DDS_DOMAIN" "$@" \
		>>"$scratch/$name.log" 2>&1 &
	gw_pid=$!
	bg_pids="$bg_pids $gw_pid"
	wait_until 60 grep -q "running" "$scratch/$name.log"
}

# log_has NAME TEXT [SECONDS]: the gateway's log shows TEXT (waits for it)
log_has() { wait_until "${3:-30}" grep -qF -- "$2" "$scratch/$1.log"; }

# peer DOMAIN ARGS...: floe_peer in a floe domain
peer() {
	local d=$1
	shift
	case " $domains_used " in *" $d "*) ;; *) domains_used="$domains_used $d" ;; esac
	FLOE_DOMAIN=$d $gw_prefix "$FLOE_PEER" "$@"
}

dds_peer() { "$DDS_PEER" --dds-domain "$DDS_DOMAIN" "$@"; }

# peer_bg OUT DOMAIN ARGS... / dds_peer_bg OUT ARGS...: in the background
# (the program itself, so that its pid in bg_pid can be signalled),
# stdout to OUT; stopped at the end
peer_bg() {
	local o=$1 d=$2
	shift 2
	case " $domains_used " in *" $d "*) ;; *) domains_used="$domains_used $d" ;; esac
	FLOE_DOMAIN=$d $gw_prefix "$FLOE_PEER" "$@" >"$o" &
	bg_pid=$!
	bg_pids="$bg_pids $bg_pid"
}
dds_peer_bg() {
	local o=$1
	shift
	"$DDS_PEER" --dds-domain "$DDS_DOMAIN" "$@" >"$o" &
	bg_pid=$!
	bg_pids="$bg_pids $bg_pid"
}

# shm_left: the shared-memory objects of the test's floe domains
shm_left() {
	local d f
	for d in $domains_used; do
		for f in /dev/shm/"$d".*; do [ -e "$f" ] && echo "$f"; done
	done
}

# Stop everything, clean the domains of what SIGKILLed processes left.
gw_cleanup() {
	local d
	for p in $bg_pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${cleanup_more:-}" ] && $cleanup_more
	for d in $domains_used; do
		FLOE_DOMAIN=$d "$FLOE_CLI" node cleanup >/dev/null 2>&1
	done
	shm_left | xargs -r rm -f
	[ -n "${GW_KEEP:-}" ] && echo "# kept $scratch" || rm -rf "$scratch"
}
trap gw_cleanup EXIT

# finish_clean: every process stopped, then no shared memory may be left
finish_clean() {
	local p left
	for p in $bg_pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	bg_pids=""
	left=$(shm_left)
	is "$left" "" "no shared memory left in the test's floe domains"
	finish
}

# has_ports_in DOMAIN SERVICE ROLE N: as has_ports, in another domain
has_ports_in() { FLOE_DOMAIN=$1 has_ports "$2" "$3" "$4"; }

# ports_of_pid DOMAIN PID: how many ports of the domain a process has
ports_of_pid() {
	"$FLOE_CLI" --domain "$1" port list 2>/dev/null |
		awk -v p="$2" '$5 == p { n++ } END { print n + 0 }'
}
