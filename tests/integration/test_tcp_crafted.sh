#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hand-made TCP segments (tcp_crafted.py, scapy over AF_PACKET from the
# viewer namespace) and the dataplane's answers, segment by segment:
#
#   malformed    bad checksum, data offset < 5 or past the segment, option
#                lengths that overrun, runts: dropped without a reply and
#                counted; a known option with a wrong length is ignored
#   closed       RFC 9293 resets for segments that match no connection
#   established  on a connection made by hand: RSTs out of and in the window
#                (RFC 5961), SYN on an established connection, data beyond
#                the window, duplicates and overlaps, a hole with SACK, an
#                ACK of unsent data, PAWS, a bad checksum; the connection
#                keeps echoing after each
#   finrto       the dataplane's FIN retransmitted by an RTO and then
#                acknowledged: the close completes (LAST_ACK and FIN_WAIT_1)
#
# After every group the dataplane must still run and hold no connection it
# should not.

source "$(dirname "$0")/tcp_lib.sh"

require_env
setup_topology
crafted_setup
dp_start 1 --echo-port "$ECHO_PORT" --chargen-port "$CHARGEN_PORT"
wait_ping

log "checks: malformed segments"
crafted malformed
dp_still_alive "after the malformed segments"
expect_conns 0 "nothing left from the malformed segments"

log "checks: segments for no connection"
crafted closed
dp_still_alive "after the segments for no connection"
expect_conns 0 "no connection was made"

log "checks: an established connection"
crafted established
dp_still_alive "after the established-connection checks"
expect_conns 0 "the connection was reset"

log "checks: FIN retransmitted after an RTO, then acknowledged"
crafted finrto
dp_still_alive "after the FIN/RTO checks"
# The echo connection is closed; the chargen one sits in TIME_WAIT.
expect_conns 1 "echo's LAST_ACK closed, chargen's TIME_WAIT remains" 5

wait_ping
check "the dataplane answers ping" viewer_ping_ok -c 3 -i 0.2 -W 2 "$DP_ADDR"
test_exit
