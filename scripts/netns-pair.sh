#!/bin/sh
# Two network namespaces joined by a veth pair, standing for two hosts
# (floe-gateway's tests and benchmark); needs root.
#
#   scripts/netns-pair.sh up TAG NET    namespaces floegw-aTAG, floegw-bTAG;
#                                       veth vaTAG (NET.1/24) in a, vbTAG
#                                       (NET.2/24) in b; lo up in both
#   scripts/netns-pair.sh down TAG      kill what runs in them, remove them
#
# up fails (status 1, namespaces removed again) if any step fails.
set -u
[ $# -ge 2 ] || { echo "usage: $0 up TAG NET | down TAG" >&2; exit 2; }
tag=$2 a=floegw-a$2 b=floegw-b$2

down() {
	for ns in "$a" "$b"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

case "$1" in
up)
	[ $# -eq 3 ] || { echo "usage: $0 up TAG NET" >&2; exit 2; }
	if ip netns add "$a" && ip netns add "$b" &&
	   ip link add "va$tag" netns "$a" type veth peer name "vb$tag" netns "$b" &&
	   ip -n "$a" addr add "$3.1/24" dev "va$tag" &&
	   ip -n "$b" addr add "$3.2/24" dev "vb$tag" &&
	   ip -n "$a" link set "va$tag" up && ip -n "$b" link set "vb$tag" up &&
	   ip -n "$a" link set lo up && ip -n "$b" link set lo up; then
		exit 0
	fi
	down
	exit 1
	;;
down) down ;;
*) echo "usage: $0 up TAG NET | down TAG" >&2; exit 2 ;;
esac
