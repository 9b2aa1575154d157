#!/bin/sh
# floe --help, --version, every command's --help, and usage errors (exit 2).
# the VM stages lib.sh as /files/lib.sh
# shellcheck source=tests/cli/lib.sh disable=SC1091
if [ -f "$(dirname "$0")/lib.sh" ]; then . "$(dirname "$0")/lib.sh"; else . /files/lib.sh; fi

commands="node list|node show|node cleanup|service list|service show|port list|top|publish|subscribe|notify|listen|record|replay"

plan 36

run --help
ok $rc "floe --help exits 0"
has "$out" "usage: floe" "floe --help prints the usage"
run --version
has "$out" "floe 0." "floe --version prints the version"

IFS='|'
for c in $commands; do
	unset IFS
	# shellcheck disable=SC2086 # "node list" is two words
	run $c --help
	[ "$rc" -eq 0 ] && case "$out" in "usage: floe $c"*) true ;; *) false ;; esac
	ok $? "floe $c --help exits 0 and prints its usage"
	IFS='|'
done
unset IFS

for noun in node service port; do
	run $noun --help
	[ "$rc" -eq 0 ] && case "$out" in *"usage: floe $noun <command>"*) true ;; *) false ;; esac
	ok $? "floe $noun --help lists its commands"
done

run
is "$rc" 2 "no command: exit 2"
run node
is "$rc" 2 "a noun without its command: exit 2"
run frobnicate
is "$rc" 2 "unknown command: exit 2"
has "$err" "unknown command 'frobnicate'" "unknown command: named on stderr"
run node list --frob
is "$rc" 2 "unknown option: exit 2"
run node show
is "$rc" 2 "missing argument: exit 2"
run node list extra
is "$rc" 2 "extra argument: exit 2"
run --backend nope node list
is "$rc" 2 "bad --backend: exit 2"
run subscribe svc --count x
is "$rc" 2 "bad --count: exit 2"
run subscribe svc -o x
is "$rc" 2 "-o where the command has no such option: exit 2"
run node show notanumber
is "$rc" 2 "node show with a bad id: exit 2"
run --domain 'bad.domain' node list
is "$rc" 2 "bad --domain: exit 2"
run publish svc
is "$rc" 2 "publish without a payload: exit 2"
run publish svc --hex 'zz'
is "$rc" 2 "publish with bad hex: exit 2"
run publish svc --align 3 x
is "$rc" 2 "publish --align 3 (not a power of two): exit 2"
run publish svc --size 0 x
is "$rc" 2 "publish --size 0: exit 2"
rc=$(FLOE_DOMAIN=somewhere "$FLOE_CLI" --domain '' node list >/dev/null 2>&1; echo $?)
is "$rc" 2 "an empty --domain: exit 2, even with FLOE_DOMAIN set"

finish
