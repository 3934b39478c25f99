#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A SYN flood at the echo port: 5,000 SYNs (2,000 per second) from source
# ports that never answer (the viewer's kernel is kept out of them, see
# crafted_setup), so every one would stay half-open. While it runs, real
# kernel clients must still connect and move 1 MiB with the right bytes,
# to the flooded echo port and to chargen; the half-open connections stay
# bounded; afterwards the dataplane still runs and answers ping.
#
# The flooded port can only keep serving if the listener's SYN backlog does
# not turn new clients away (SYN cookies, RFC 4987 3.6): the backlog of
# 1,024 fills within half a second of the flood, and its half-open entries
# only expire after the SYN-ACK retries (about a minute).

source "$(dirname "$0")/tcp_lib.sh"

COUNT=${RAMPART_SYNFLOOD_COUNT:-5000}
PPS=${RAMPART_SYNFLOOD_PPS:-2000}
# SYN backlog per listener (tcp_params_default.syn_backlog) and the slack
# for the clients' own connections.
BACKLOG=1024

require_env
tcp_require
setup_topology
crafted_setup
dp_start 1 --echo-port "$ECHO_PORT" --chargen-port "$CHARGEN_PORT"
wait_ping

dp_stats "$TMP_DIR/start" || die "cannot read stats from the control socket"
log "checks: $COUNT SYNs at $PPS/s to port $ECHO_PORT while kernel clients connect"
crafted_start synflood --flood-port "$ECHO_PORT" --count "$COUNT" --pps "$PPS"
flood_pid=$CRAFTED_PID

# Let the flood fill the backlog first (its frames take a moment to build).
flood_started() {
	local v
	v=$(dp_counter tcp_passive_opens) || return 1
	[ "$v" -ge "$BACKLOG" ] || ! proc_running "$flood_pid"
}
poll_wait 30 flood_started || fail "the flood did not reach $BACKLOG half-open connections in 30 s"
log "    flood under way: $(dp_counter tcp_passive_opens) passive opens, $(dp_counter tcp_backlog_full) SYNs over the backlog"

tcp_peer flood-echo echo "$DP_ADDR" "$ECHO_PORT" --size 1048576 --timeout 40 --stall 40 &
echo_pid=$!
tcp_peer flood-chargen chargen "$DP_ADDR" "$CHARGEN_PORT" --size 1048576 --timeout 40 --stall 40 &
chargen_pid=$!
BG_PIDS+=("$echo_pid" "$chargen_pid")
wait "$chargen_pid"
rc_chargen=$?
wait "$echo_pid"
rc_echo=$?

crafted_finish synflood
sent=$(awk '$1 == "sent" { print $2 }' "$TMP_DIR/crafted-synflood.log")
check "the flood sent ${sent:-0} SYNs" test "${sent:-0}" -eq "$COUNT"
check "chargen (another listener) served 1 MiB during the flood: $(tail -n 1 "$TMP_DIR/flood-chargen.log")" \
	test "$rc_chargen" -eq 0
check "echo (the flooded listener) served 1 MiB during the flood: $(tail -n 1 "$TMP_DIR/flood-echo.log")" \
	test "$rc_echo" -eq 0
[ "$rc_echo" -eq 0 ] || sed 's/^/        /' "$TMP_DIR/flood-echo.log" | tail -n 5

dp_stats "$TMP_DIR/end" || die "cannot read stats"
conns=$(stat_get "$TMP_DIR/end" tcp_conns)
check "half-open connections stay bounded: tcp_conns $conns <= $BACKLOG + 2" \
	test "${conns:-999999}" -le $((BACKLOG + 2))
expect_counter_eq "$TMP_DIR/start" "$TMP_DIR/end" tcp_conn_limit 0
show_tcp_delta "$TMP_DIR/start" "$TMP_DIR/end"

dp_still_alive "after the flood"
wait_ping
check "the dataplane answers ping after the flood" viewer_ping_ok -c 3 -i 0.2 -W 2 "$DP_ADDR"
test_exit
