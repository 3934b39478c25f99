#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The dataplane built with ASan/UBSan (build-asan/) runs real traffic, then
# stops on SIGTERM with every port closed and every buffer freed:
# LeakSanitizer at exit finds nothing, and no sanitizer error is reported.
# Covers the "clean shutdown, memory freed" requirement end to end; ping,
# ARP, malformed frames and a TCP echo exchange go through first so the
# exit path has real state (ARP entries, TCP connections) to free.

source "$(dirname "$0")/lib.sh"

ASAN_BUILD=${RAMPART_BUILD_ASAN:-$REPO_ROOT/build-asan}
DP_BIN=$ASAN_BUILD/dataplane/rampart-dataplane
[ -x "$DP_BIN" ] || skip "no sanitizer build at $ASAN_BUILD (tests/run-all makes one)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

require_env
setup_topology
dp_start 1 --echo-port 7

wait_ping
expect_ping_loss 0 "10 pings" -c 10 -i 0.05 -W 2 "$DP_ADDR"
reply=$(echo sanitizer | viewer timeout 5 socat -t 2 - "TCP:$DP_ADDR:7")
check "TCP echo through the sanitizer build" [ "$reply" = sanitizer ]
# An open connection at exit: its buffers must be freed too.
viewer timeout 20 socat -u OPEN:/dev/zero "TCP:$DP_ADDR:7" >/dev/null 2>&1 &
conns_open() { [ "$(dp_counter tcp_conns)" != 0 ]; }
check "a TCP connection is open at shutdown" poll_wait 5 conns_open

dp_stop TERM
check "exit status 0 (23 means LeakSanitizer found leaks)" [ "$DP_RC" = 0 ]
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$DP_ERR"; then
	fail "sanitizer report in the dataplane's stderr"
	sed -n '1,60p' "$DP_ERR"
else
	pass "no sanitizer report"
fi
test_exit
