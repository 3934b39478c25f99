#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The dataplane's TCP moves data intact through an impaired path, both
# ways: for each profile of rampart-impair (1 % and 5 % loss, reordering,
# duplication, 25 ms each way with 5 ms jitter, and a 2 s blackout in the
# middle of a transfer) an echo transfer (viewer -> dataplane -> viewer,
# sha256 of both directions equal) and a chargen transfer (dataplane ->
# viewer, every byte i equal to i mod 251) must complete, the bridge's
# counters must show the impairment happened, and the dataplane's must show
# the stack saw it (retransmissions under loss and blackout, out-of-order
# segments under reordering, duplicate segments under duplication) without
# ever giving a connection up. Durations are printed per profile.
#
#   netns $NS_DP          netns $NS_BR                netns $NS_VIEWER
#   rampart-dataplane <-> rampart-impair (seeded) <-> Linux TCP, tcp_peer.py
#
# IMPAIR_SEED=N replays the bridge's decisions of a failed run (printed at
# the start). IMPAIR_CAPTURE_DIR=DIR keeps a tcpdump of the viewer's side
# of every transfer there (headers only).

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/impair_topology.sh"

TCP_PEER=$(cd "$(dirname "$0")" && pwd)/tcp_peer.py
TCP_PY=/usr/bin/python3
ECHO_PORT=7
CHARGEN_PORT=19
MIB=1048576
# Per transfer: tcp_peer.py fails a connection that moves nothing for
# STALL_S or is not done in XFER_TIMEOUT_S; a hang costs at most that.
XFER_TIMEOUT_S=${RAMPART_IMPAIRED_TIMEOUT:-90}
STALL_S=30
CAPTURE_DIR=${IMPAIR_CAPTURE_DIR:-}

SUMMARY=()
PROFILE=
PROFILE_BEFORE=
XFER_BEFORE=
XFER_AFTER=
PEER_PID=
PEER_T0=
PEER_RC=
PEER_SECS=
PEER_END=
PEER_LOG=
CAP_PID=
TX_SENT=
TX_WIRE=

# ---------------------------------------------------------------- helpers

secs_since() { awk -v a="$EPOCHREALTIME" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }

# peer_start LABEL MODE SIZE: tcp_peer.py in the viewer, in the background.
peer_start() {
	local label=$1 mode=$2 size=$3 port=$ECHO_PORT
	[ "$mode" = chargen ] && port=$CHARGEN_PORT
	PEER_LOG=$TMP_DIR/$label.log
	PEER_T0=$EPOCHREALTIME
	ip netns exec "$NS_VIEWER" timeout $((XFER_TIMEOUT_S + 10)) "$TCP_PY" "$TCP_PEER" "$mode" \
		"$DP_ADDR" "$port" --size "$size" --seed "$IMPAIR_SEED" \
		--timeout "$XFER_TIMEOUT_S" --stall "$STALL_S" --verbose \
		>"$PEER_LOG" 2>&1 &
	PEER_PID=$!
	BG_PIDS+=("$PEER_PID")
}

# peer_wait: PEER_RC and PEER_SECS of the transfer peer_start began.
peer_wait() {
	wait "$PEER_PID"
	PEER_RC=$?
	PEER_END=$EPOCHREALTIME
	PEER_SECS=$(secs_since "$PEER_T0")
	PEER_PID=
}

capture_start() {
	[ -n "$CAPTURE_DIR" ] || return 0
	mkdir -p "$CAPTURE_DIR" || return 0
	# ip netns exec, not the viewer function: $! must be tcpdump itself.
	ip netns exec "$NS_VIEWER" tcpdump -q -n -s 128 -i "$VETH_VIEWER" \
		-w "$CAPTURE_DIR/$1.pcap" tcp >/dev/null 2>&1 &
	CAP_PID=$!
	BG_PIDS+=("$CAP_PID")
	# tcpdump has no ready line; the file appears once it is capturing.
	poll_wait 5 test -e "$CAPTURE_DIR/$1.pcap"
}

# SIGTERM, not SIGINT: a background job of a script starts with SIGINT
# ignored. kill_wait (lib.sh) falls back to SIGKILL after 5 s.
capture_stop() {
	[ -n "$CAP_PID" ] || return 0
	kill_wait "$CAP_PID"
	CAP_PID=
}

# delta NAME: how much a dataplane counter moved over the last transfer.
delta() { stat_delta "$XFER_BEFORE" "$XFER_AFTER" "$1"; }

# bridge_delta NAME: how much a bridge counter moved over the last transfer.
bridge_delta() {
	local b a
	b=$(impair_stat "$XFER_BEFORE.bridge" "$1")
	a=$(impair_stat "$XFER_AFTER.bridge" "$1")
	echo $((${a:-0} - ${b:-0}))
}

# tcp_moved BEFORE AFTER: log the TCP counters that moved.
tcp_moved() {
	awk 'NR == FNR { b[$1] = $2; next }
		$1 ~ /^tcp_/ && $1 !~ /^tcp_(segs|bytes)_/ && ($1 in b) && $2 != b[$1] {
			printf "%s %+d ", $1, $2 - b[$1]
			n++
		}
		END { if (n) printf "\n" }' "$1" "$2" | fold -s -w 130 | sed 's/^/        dataplane: /'
}

# xfer_expect NAME OP N [WHY]: a dataplane counter's change over the last
# transfer compares with N.
xfer_expect() {
	local name=$1 op=$2 want=$3 why=${4:-} got
	got=$(delta "$name") || {
		fail "counter $name missing from the stats reply"
		return
	}
	if test "$got" "$op" "$want"; then
		pass "$PROFILE: $name +$got ($op $want)${why:+: $why}"
	else
		fail "$PROFILE: $name +$got, expected $op $want${why:+ ($why)}"
	fi
}

# Frames the kernel put on the wire from the dataplane's veth. The
# dataplane's own tx_packets counts what its port accepted; AF_PACKET drops
# some frames after that (too long for the MTU, for one) without telling it.
wire_tx() { dp_ns cat "/sys/class/net/$VETH_DP/statistics/tx_packets"; }

# wire_snapshot FILE: the dataplane's counters and the veth's TX count (as
# wire_tx_packets) at one quiet moment: retried while the wire count moves.
wire_snapshot() {
	local w0 w1 i
	for ((i = 0; i < 20; i++)); do
		w0=$(wire_tx) || return 1
		dp_stats "$1" || return 1
		w1=$(wire_tx) || return 1
		[ "$w0" = "$w1" ] && break
		sleep 0.05
	done
	echo "wire_tx_packets $w1" >>"$1"
}

# tx_reached_wire BEFORE AFTER: every frame the dataplane counted as sent
# left its veth.
tx_reached_wire() {
	local d w
	d=$(stat_delta "$1" "$2" tx_packets) || return 1
	w=$(stat_delta "$1" "$2" wire_tx_packets) || return 1
	TX_SENT=$d
	TX_WIRE=$w
	[ "$d" -eq "$w" ]
}

# wire_settled BEFORE AFTER: take AFTER again until the two counts agree.
wire_settled() {
	wire_snapshot "$2" && tx_reached_wire "$1" "$2"
}

conns_le() {
	local v
	v=$(dp_counter tcp_conns) || return 1
	[ "$v" -le "$1" ]
}

# transfer MODE SIZE [HOOK]: one echo or chargen transfer through the
# bridge as it is; HOOK runs while it is under way. Leaves the dataplane's
# counters around it in XFER_BEFORE / XFER_AFTER. Returns 1 if it failed.
transfer() {
	local mode=$1 size=$2 hook=${3:-} label conns0 ok=0
	label="$(printf '%s' "$PROFILE" | tr -c 'a-zA-Z0-9' _)-$mode"
	XFER_BEFORE=$TMP_DIR/$label.before
	XFER_AFTER=$TMP_DIR/$label.after
	wire_snapshot "$XFER_BEFORE" || die "cannot read stats from the control socket"
	impair_stats "$XFER_BEFORE.bridge" || : >"$XFER_BEFORE.bridge"
	conns0=$(stat_get "$XFER_BEFORE" tcp_conns)
	capture_start "$label"
	peer_start "$label" "$mode" "$size"
	[ -n "$hook" ] && "$hook" "$mode" "$size"
	peer_wait
	# The echo client closes first, so its connection must go away on
	# the dataplane (LAST_ACK -> CLOSED), however many FINs that takes.
	if [ "$mode" = echo ] && ! poll_wait 15 conns_le "$conns0"; then
		fail "$PROFILE: echo connection still open on the dataplane 15 s after the transfer (tcp_conns $(dp_counter tcp_conns), was $conns0)"
	fi
	capture_stop
	# A frame can still be on its way out; give the counts 3 s to agree.
	poll_wait 3 wire_settled "$XFER_BEFORE" "$XFER_AFTER" ||
		fail "$PROFILE: $mode: the dataplane counted $TX_SENT frames sent, $TX_WIRE left $VETH_DP (the kernel dropped $((TX_SENT - TX_WIRE)); frames over the MTU? dmesg: 'af_packet: packet size is too long')"
	impair_stats "$XFER_AFTER.bridge" || : >"$XFER_AFTER.bridge"
	if [ "$PEER_RC" -eq 0 ]; then
		pass "$PROFILE: $mode $((size / MIB)) MiB intact in $PEER_SECS s"
		ok=1
	else
		fail "$PROFILE: $mode $((size / MIB)) MiB failed after $PEER_SECS s (tcp_peer.py exit $PEER_RC, seed $IMPAIR_SEED):"
		sed 's/^/        /' "$PEER_LOG" | tail -n 5
	fi
	tcp_moved "$XFER_BEFORE" "$XFER_AFTER"
	SUMMARY+=("$(printf '%-22s %-7s %2d MiB %6s s %-6s retransmits %s rto %s ooo %s dup %s tx-not-on-wire %s' \
		"$PROFILE" "$mode" $((size / MIB)) "$PEER_SECS" \
		"$([ $ok = 1 ] && echo ok || echo FAILED)" \
		"$(delta tcp_retransmits)" "$(delta tcp_rto)" \
		"$(delta tcp_ooo_segments)" "$(delta tcp_dup_segments)" \
		$((TX_SENT - TX_WIRE)))")
	dp_alive || die "the dataplane died during $PROFILE $mode"
	[ $ok = 1 ]
}

# profile NAME [BRIDGE OPTS...]: a fresh bridge with these impairments,
# and a path that answers ping through it.
profile() {
	PROFILE=$1
	shift
	log "checks: $PROFILE (rampart-impair ${*:-without impairment})"
	impair_bridge "$@"
	poll_wait 15 viewer_ping_ok -c 1 -W 1 "$DP_ADDR" ||
		fail "$PROFILE: no answer to ping $DP_ADDR through the bridge within 15 s"
	PROFILE_BEFORE=$TMP_DIR/profile.before
	dp_stats "$PROFILE_BEFORE" || die "cannot read stats"
}

# bridge_expect NAME OP N: a counter of the bridge now (it started with the
# profile, so its counters are the profile's).
bridge_expect() {
	local f=$TMP_DIR/bridge.stats v
	impair_stats "$f" || {
		fail "$PROFILE: no counters from rampart-impair (SIGUSR2)"
		return
	}
	v=$(impair_stat "$f" "$1")
	if [ -n "$v" ] && test "$v" "$2" "$3"; then
		pass "$PROFILE: bridge $1 = $v ($2 $3)"
	else
		fail "$PROFILE: bridge $1 = ${v:-missing}, expected $2 $3"
	fi
}

# profile_expect NAME OP N: a dataplane counter's change over the profile.
profile_expect() {
	local after=$TMP_DIR/profile.after
	local got
	dp_stats "$after" || die "cannot read stats"
	got=$(stat_delta "$PROFILE_BEFORE" "$after" "$1") || {
		fail "counter $1 missing from the stats reply"
		return
	}
	if test "$got" "$2" "$3"; then
		pass "$PROFILE: $1 +$got over the profile ($2 $3)"
	else
		fail "$PROFILE: $1 +$got over the profile, expected $2 $3"
	fi
}

# ---------------------------------------------------------------- blackout

BLACKOUT_MS=2000
BLACKOUT_T0=

bytes_out_at_least() {
	local v
	v=$(dp_counter tcp_bytes_out) || return 1
	[ "$v" -ge "$1" ]
}

# A transfer hook: once a quarter of the data has left the dataplane, the
# bridge drops everything for BLACKOUT_MS; the transfer must still be
# running then (so the blackout is in its middle) and end after it.
blackout_hook() {
	local size=$2 base
	base=$(stat_get "$XFER_BEFORE" tcp_bytes_out)
	if ! poll_wait 30 bytes_out_at_least $((base + size / 4)); then
		fail "$PROFILE: a quarter of the data never left the dataplane (no blackout sent)"
		return
	fi
	if ! proc_running "$PEER_PID"; then
		fail "$PROFILE: the transfer was over before the blackout began: make it longer"
		return
	fi
	BLACKOUT_T0=$EPOCHREALTIME
	check "$PROFILE: SIGUSR1 starts a ${BLACKOUT_MS} ms blackout mid-transfer" impair_blackout
}

blackout_transfer() {
	local mode=$1 size=$2 since
	transfer "$mode" "$size" blackout_hook || return
	[ -n "$BLACKOUT_T0" ] || return
	since=$(awk -v a="$PEER_END" -v b="$BLACKOUT_T0" 'BEGIN { printf "%.2f", a - b }')
	check "$PROFILE: $mode ended ${since} s after the blackout began (>= 2 s)" \
		awk -v s="$since" 'BEGIN { exit !(s >= 2) }'
	xfer_expect tcp_rto -gt 0 "2 s without an ACK times out"
	xfer_expect tcp_retransmits -gt 0
	BLACKOUT_T0=
}

# ---------------------------------------------------------------- checks

impair_require_env
[ -r "$TCP_PEER" ] || die "$TCP_PEER missing"
[ -x "$TCP_PY" ] || die "$TCP_PY not found (python3 is in tools/setup-deps)"
[ -z "$CAPTURE_DIR" ] || require_cmd tcpdump
impair_topology
dp_start 1 --echo-port "$ECHO_PORT" --chargen-port "$CHARGEN_PORT"
dp_stats "$TMP_DIR/start" || die "cannot read stats from the control socket"
T_START=$SECONDS

profile "no impairment"
transfer echo $((8 * MIB))
transfer chargen $((8 * MIB))

profile "loss 1%" --loss 1
transfer echo $((4 * MIB)) &&
	xfer_expect tcp_ooo_segments -gt 0 "the kernel's lost segments leave holes"
transfer chargen $((4 * MIB)) && xfer_expect tcp_retransmits -gt 0
bridge_expect ab_loss_drops -gt 0
bridge_expect ba_loss_drops -gt 0

profile "loss 5%" --loss 5
transfer echo $((4 * MIB)) &&
	xfer_expect tcp_ooo_segments -gt 0 "the kernel's lost segments leave holes"
transfer chargen $((4 * MIB)) && xfer_expect tcp_retransmits -gt 0
bridge_expect ab_loss_drops -gt 0
bridge_expect ba_loss_drops -gt 0

profile "reorder 10%" --reorder 10 --reorder-gap 5
transfer echo $((4 * MIB)) &&
	xfer_expect tcp_ooo_segments -gt 0 "the kernel's segments arrive out of order"
transfer chargen $((4 * MIB))
bridge_expect ab_reordered -gt 0
bridge_expect ba_reordered -gt 0
bridge_expect ab_loss_drops -eq 0

profile "duplicate 10%" --duplicate 10
# About half of what the kernel sends in an echo transfer is data, and every
# second copy of a data segment is entirely old data when it arrives: a
# quarter of the bridge's duplicates is a floor with a wide margin.
if transfer echo $((16 * MIB)); then
	dups=$(bridge_delta ab_duplicated)
	xfer_expect tcp_dup_segments -ge $((dups / 4)) \
		"the bridge sent $dups frames of the kernel's twice"
fi
transfer chargen $((16 * MIB))
bridge_expect ab_duplicated -gt 0
bridge_expect ba_duplicated -gt 0

profile "delay 25ms jitter 5ms" --delay 25 --jitter 5
out=$TMP_DIR/ping-delay.log
viewer ping -c 5 -i 0.2 -W 2 "$DP_ADDR" >"$out" 2>&1
avg=$(sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p' "$out")
check "$PROFILE: ping RTT through the bridge ${avg:-none} ms (40..80)" \
	awk -v a="${avg:-0}" 'BEGIN { exit !(a >= 40 && a <= 80) }'
transfer echo $((8 * MIB))
transfer chargen $((8 * MIB))
bridge_expect ab_delayed -gt 0
bridge_expect ba_delayed -gt 0
# Nothing is lost or reordered on this path: a retransmission would be
# spurious, unless the bridge itself could not keep up.
profile_expect tcp_rto -eq 0
impair_stats "$TMP_DIR/bridge.stats" || die "no counters from rampart-impair"
drops=0
for c in ab_kernel_drops ba_kernel_drops ab_queue_full_drops ba_queue_full_drops; do
	drops=$((drops + $(impair_stat "$TMP_DIR/bridge.stats" "$c")))
done
if [ "$drops" -eq 0 ]; then
	profile_expect tcp_retransmits -eq 0
else
	log "  --    $PROFILE: the bridge dropped $drops frames it could not keep up with: retransmissions not checked"
fi

# The rate limit (5 MB/s) stretches an 8 MiB transfer over about 2 s, so
# that the 2 s blackout lands in its middle.
profile "blackout 2s" --rate 40 --signal-blackout "$BLACKOUT_MS"
blackout_transfer echo $((8 * MIB))
blackout_transfer chargen $((8 * MIB))
bridge_expect signal_blackouts -eq 2
bridge_expect ab_blackout_drops -gt 0
bridge_expect ba_blackout_drops -gt 0

log "checks: the whole run"
dp_stats "$TMP_DIR/end" || die "cannot read stats"
for c in tcp_timeouts tcp_conn_limit tcp_nomem tcp_bad_checksum; do
	expect_delta "$TMP_DIR/start" "$TMP_DIR/end" "$c" -eq 0
done
check "dataplane still running" dp_alive
wait_ping

log "durations (seed $IMPAIR_SEED, $((SECONDS - T_START)) s in all):"
for line in "${SUMMARY[@]}"; do
	log "    $line"
done
test_exit
