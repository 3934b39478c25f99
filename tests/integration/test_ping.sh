#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The dataplane answers ICMP echo for its address: a burst of pings and
# full-size pings get every reply, pings to an address it does not own get
# none, and its echo counters match what was sent.

source "$(dirname "$0")/lib.sh"

require_env
setup_topology
dp_start 1

log "checks: echo replies from $DP_ADDR"
wait_ping
dp_stats "$TMP_DIR/before" || die "cannot read stats from the control socket"

expect_ping_loss 0 "20 pings at 50 ms intervals" -c 20 -i 0.05 -W 2 "$DP_ADDR"
expect_ping_loss 0 "5 pings of 1400 bytes" -c 5 -i 0.05 -W 2 -s 1400 "$DP_ADDR"
# 1472 bytes of data + 8 ICMP + 20 IP = 1500, the largest unfragmented echo.
expect_ping_loss 0 "3 pings of 1472 bytes (1500-byte packets)" -c 3 -i 0.05 -W 2 -s 1472 -M "do" "$DP_ADDR"
answered=28

dp_stats "$TMP_DIR/after" || die "cannot read stats from the control socket"
expect_delta "$TMP_DIR/before" "$TMP_DIR/after" icmp_echo_in -eq "$answered"
expect_delta "$TMP_DIR/before" "$TMP_DIR/after" icmp_echo_out -eq "$answered"

log "checks: no replies for an address the dataplane does not own"
# An address with no ARP answer: the viewer never even sends the echo.
expect_ping_loss 100 "ping 192.0.2.11 (nobody there)" -c 2 -i 0.2 -W 1 192.0.2.11
# Force the echo onto the wire at the dataplane's MAC with a foreign IP.
viewer ip neigh replace 192.0.2.12 lladdr "$DP_MAC" dev "$VETH_VIEWER" nud permanent
dp_stats "$TMP_DIR/before" || die "cannot read stats"
expect_ping_loss 100 "ping 192.0.2.12 via the dataplane's MAC" -c 3 -i 0.2 -W 1 192.0.2.12
dp_stats "$TMP_DIR/after" || die "cannot read stats"
expect_delta "$TMP_DIR/before" "$TMP_DIR/after" ip_not_for_us -eq 3
expect_delta "$TMP_DIR/before" "$TMP_DIR/after" icmp_echo_out -eq 0

check "dataplane still running" dp_alive
test_exit
