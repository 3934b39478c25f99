#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# rampart-impair, the bridge the impaired-path TCP tests put between two
# namespaces, impairs what it forwards the way its options say: delay raises
# the ping RTT in both directions (or one), loss and duplication show in
# ping, and Linux TCP at both ends moves 20 MiB intact through loss,
# duplication, reordering, delay with jitter and a 2 s blackout triggered
# mid-transfer. No dataplane: kernel stacks at both ends.
#
#   netns A                    netns BR                      netns B
#   10.55.0.1/24               rampart-impair --a .. --b ..  10.55.0.2/24
#   $VETH_A <--veth--> $VETH_BRA                $VETH_BRB <--veth--> $VETH_B

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/impair.sh"

NS_A=rampart-ia-$SUFFIX
NS_BR=rampart-ibr-$SUFFIX
NS_B=rampart-ib-$SUFFIX
VETH_A=ia$SUFFIX
VETH_BRA=iba$SUFFIX
VETH_BRB=ibb$SUFFIX
VETH_B=ib$SUFFIX
ADDR_A=10.55.0.1
ADDR_B=10.55.0.2
SEED=${IMPAIR_SEED:-20250611}
XFER_MIB=20
XFER_TIMEOUT=40
# Frames one 20 MiB transfer needs at an MSS of 1448.
XFER_FRAMES=$((XFER_MIB * 1048576 / 1448))

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

require_impair_env() {
	local probe=rampart-probe-$SUFFIX
	[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, veth)"
	command -v ip >/dev/null 2>&1 || skip "iproute2 'ip' not installed"
	ip netns add "$probe" >/dev/null 2>&1 || skip "cannot create network namespaces"
	if ! ip -n "$probe" link add name p0 type veth peer name p1 >/dev/null 2>&1; then
		ip netns del "$probe" >/dev/null 2>&1
		skip "cannot create veth interfaces"
	fi
	ip netns del "$probe" >/dev/null 2>&1
	require_cmd ethtool ping timeout socat ss sha256sum nstat
	[ -x "$IMPAIR_BIN" ] || die "$IMPAIR_BIN not found: build first (meson setup build && ninja -C build)"
	TMP_DIR=$(mktemp -d "/tmp/rampart-$TEST_NAME.XXXXXX") || die "mktemp failed"
}

setup_impair_topology() {
	netns_make "$NS_A" "$NS_BR" "$NS_B"
	ip link add "$VETH_A" netns "$NS_A" type veth peer name "$VETH_BRA" netns "$NS_BR" ||
		die "cannot create veth $VETH_A/$VETH_BRA"
	ip link add "$VETH_B" netns "$NS_B" type veth peer name "$VETH_BRB" netns "$NS_BR" ||
		die "cannot create veth $VETH_B/$VETH_BRB"
	impair_prepare_if "$NS_A" "$VETH_A" || die "cannot configure $VETH_A"
	impair_prepare_if "$NS_BR" "$VETH_BRA" || die "cannot configure $VETH_BRA"
	impair_prepare_if "$NS_BR" "$VETH_BRB" || die "cannot configure $VETH_BRB"
	impair_prepare_if "$NS_B" "$VETH_B" || die "cannot configure $VETH_B"
	ip -n "$NS_A" addr add "$ADDR_A/24" dev "$VETH_A" || die "cannot address $VETH_A"
	ip -n "$NS_B" addr add "$ADDR_B/24" dev "$VETH_B" || die "cannot address $VETH_B"
	log "topology: $NS_A/$VETH_A ($ADDR_A) <-> $NS_BR [$VETH_BRA | $VETH_BRB] <-> $NS_B/$VETH_B ($ADDR_B)"
}

# bridge [OPTS...]: (re)start the bridge with OPTS, the test's seed first.
bridge() {
	impair_start "$NS_BR" "$VETH_BRA" "$VETH_BRB" --seed "$SEED" "$@" ||
		die "rampart-impair did not start with: $*"
	log "bridge: $*"
}

stats() { impair_stats "$TMP_DIR/stats" || die "no stats from rampart-impair (SIGUSR2)"; }
counter() { impair_stat "$TMP_DIR/stats" "$1"; }

# expect_stat NAME OP N: a counter of the last stats() compares with N.
expect_stat() {
	local v
	v=$(counter "$1")
	if [ -n "$v" ] && test "$v" "$2" "$3"; then
		pass "$1 = $v ($2 $3)"
	else
		fail "$1 = ${v:-missing}, expected $2 $3"
	fi
}

# expect_ratio NUM DEN LO HI: 100 * NUM / DEN of the last stats() in [LO, HI].
expect_ratio() {
	local n d pct
	n=$(counter "$1")
	d=$(counter "$2")
	if [ -z "$n" ] || [ -z "$d" ] || [ "$d" -eq 0 ]; then
		fail "$1 / $2: counters missing or zero (${n:-?} / ${d:-?})"
		return
	fi
	pct=$(awk -v n="$n" -v d="$d" 'BEGIN { printf "%.2f", 100 * n / d }')
	if awk -v p="$pct" -v lo="$3" -v hi="$4" 'BEGIN { exit !(p >= lo && p <= hi) }'; then
		pass "$1 / $2 = $n / $d = $pct% (in $3..$4%)"
	else
		fail "$1 / $2 = $n / $d = $pct%, expected $3..$4%"
	fi
}

quiet() { "$@" >/dev/null 2>&1; }
no_answer() { ! in_a ping -c 1 -W 1 "$ADDR_B" >/dev/null 2>&1; }

wait_path() {
	poll_wait 10 quiet in_a ping -c 1 -W 1 "$ADDR_B" ||
		die "no ping answer from $ADDR_B through the bridge within 10 s"
}

# expect_rtt NS ADDR LO_MS HI_MS DESCRIPTION: 5 pings, average RTT in range.
expect_rtt() {
	local ns=$1 addr=$2 lo=$3 hi=$4 what=$5 out=$TMP_DIR/ping.log avg
	ip netns exec "$ns" ping -c 5 -i 0.1 -W 2 "$addr" >"$out" 2>&1
	avg=$(sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p' "$out")
	if [ -n "$avg" ] && awk -v a="$avg" -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(a >= lo && a <= hi) }'; then
		pass "$what: average RTT $avg ms (in $lo..$hi)"
	else
		fail "$what: average RTT ${avg:-none} ms, expected $lo..$hi"
		sed 's/^/        /' "$out" | tail -n 4
	fi
}

# ---------------------------------------------------------------- transfers

XFER_N=0
XFER_DST=
XFER_RECV_PID=
XFER_SEND_PID=
XFER_T0=
XFER_MS=

listening() { [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ]; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# xfer_start SRC_NS DST_NS DST_ADDR: send $SRC over TCP in the background.
xfer_start() {
	local src_ns=$1 dst_ns=$2 addr=$3 port
	XFER_N=$((XFER_N + 1))
	port=$((20000 + XFER_N))
	XFER_DST=$TMP_DIR/recv.$XFER_N
	ip netns exec "$dst_ns" timeout "$XFER_TIMEOUT" socat -u \
		"TCP-LISTEN:$port,reuseaddr" "OPEN:$XFER_DST,creat,trunc" \
		2>"$TMP_DIR/xfer.$XFER_N.recv.log" &
	XFER_RECV_PID=$!
	BG_PIDS+=("$XFER_RECV_PID")
	poll_wait 5 listening "$dst_ns" "$port" || {
		log "receiver never listened on $port"
		return 1
	}
	XFER_T0=$(now_ms)
	ip netns exec "$src_ns" timeout "$XFER_TIMEOUT" socat -u \
		"FILE:$SRC" "TCP:$addr:$port" 2>"$TMP_DIR/xfer.$XFER_N.send.log" &
	XFER_SEND_PID=$!
	BG_PIDS+=("$XFER_SEND_PID")
}

# xfer_wait: both ends exited 0 and the bytes arrived intact.
xfer_wait() {
	local rc_s rc_r sum
	wait "$XFER_SEND_PID"
	rc_s=$?
	wait "$XFER_RECV_PID"
	rc_r=$?
	XFER_MS=$(($(now_ms) - XFER_T0))
	if [ "$rc_s" -ne 0 ] || [ "$rc_r" -ne 0 ]; then
		log "transfer: sender exit $rc_s, receiver exit $rc_r (124: timed out after ${XFER_TIMEOUT}s)"
		return 1
	fi
	sum=$(sha256sum <"$XFER_DST" | cut -d' ' -f1)
	if [ "$sum" != "$SRC_SUM" ]; then
		log "transfer: received $(stat_size "$XFER_DST") bytes, sha256 $sum, sent $SRC_SUM"
		return 1
	fi
	rm -f "$XFER_DST"
}

stat_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# transfer DESCRIPTION SRC_NS DST_NS DST_ADDR
transfer() {
	local what=$1
	shift
	if xfer_start "$@" && xfer_wait; then
		pass "$what: $XFER_MIB MiB over TCP, sha256 equal, $XFER_MS ms"
	else
		fail "$what: $XFER_MIB MiB over TCP did not arrive intact"
	fi
}

size_at_least() { [ "$(stat_size "$1")" -ge "$2" ]; }

nstat_b() { in_b nstat -asz "$1" | awk -v n="$1" '$1 == n { print $2 }'; }

# ---------------------------------------------------------------- checks

require_impair_env
setup_impair_topology
SRC=$TMP_DIR/src
head -c $((XFER_MIB * 1048576)) /dev/urandom >"$SRC" || die "cannot make $SRC"
SRC_SUM=$(sha256sum <"$SRC" | cut -d' ' -f1)

log "checks: command line"
check "--help exits 0" quiet "$IMPAIR_BIN" --help
"$IMPAIR_BIN" --a x --b y --loss 101 >/dev/null 2>&1
rc=$?
check "--loss 101 is refused with exit 2 (got $rc)" test "$rc" -eq 2

log "checks: a plain bridge forwards everything both ways"
bridge
wait_path
check "10 pings A -> B, none lost" quiet in_a ping -c 10 -i 0.02 -W 1 "$ADDR_B"
check "10 pings B -> A, none lost" quiet in_b ping -c 10 -i 0.02 -W 1 "$ADDR_A"
transfer "plain bridge A -> B" "$NS_A" "$NS_B" "$ADDR_B"
stats
expect_stat ab_forwarded -ge "$XFER_FRAMES"
expect_stat ba_forwarded -gt 0
check "every frame received was forwarded" test "$(counter ab_rx_frames)" -eq "$(counter ab_forwarded)"
expect_stat ab_oversize_frames -eq 0
expect_stat ab_partial_csum_frames -eq 0

log "checks: delay and jitter"
bridge --delay 50
expect_rtt "$NS_A" "$ADDR_B" 98 150 "--delay 50, ping A -> B"
expect_rtt "$NS_B" "$ADDR_A" 98 150 "--delay 50, ping B -> A"
bridge --delay-ab 30
expect_rtt "$NS_A" "$ADDR_B" 29 60 "--delay-ab 30 (one way), ping A -> B"
bridge --delay 40 --b-to-a-only
expect_rtt "$NS_A" "$ADDR_B" 39 70 "--delay 40 --b-to-a-only, ping A -> B"
bridge --delay 50 --jitter 10
expect_rtt "$NS_A" "$ADDR_B" 80 150 "--delay 50 --jitter 10, ping A -> B"
transfer "--delay 50 --jitter 10, A -> B" "$NS_A" "$NS_B" "$ADDR_B"
stats
expect_stat ab_delayed -ge "$XFER_FRAMES"
expect_stat ba_delayed -gt 0
expect_stat ab_reordered -eq 0

log "checks: loss"
bridge --loss 5
out=$TMP_DIR/ping-loss.log
in_a ping -c 200 -i 0.01 -W 1 "$ADDR_B" >"$out" 2>&1
loss=$(ping_loss "$out")
# Each round trip crosses the bridge twice: 1 - 0.95^2 = 9.75% expected.
if [ -n "$loss" ] && awk -v l="$loss" 'BEGIN { exit !(l >= 3 && l <= 20) }'; then
	pass "--loss 5: ${loss}% of 200 pings lost (expected about 10%)"
else
	fail "--loss 5: ${loss:-?}% of 200 pings lost, expected 3..20%"
fi
transfer "--loss 5, A -> B" "$NS_A" "$NS_B" "$ADDR_B"
stats
expect_ratio ab_loss_drops ab_rx_frames 3.5 6.5
expect_ratio ba_loss_drops ba_rx_frames 3 7

log "checks: duplication"
bridge --duplicate 50
out=$TMP_DIR/ping-dup.log
in_a ping -c 10 -i 0.05 -W 1 "$ADDR_B" >"$out" 2>&1
check "--duplicate 50: ping reports DUP!" grep -q 'DUP!' "$out"
transfer "--duplicate 50, B -> A" "$NS_B" "$NS_A" "$ADDR_A"
stats
expect_ratio ba_duplicated ba_rx_frames 45 55
check "ba_forwarded = ba_rx_frames + ba_duplicated" \
	test "$(counter ba_forwarded)" -eq $(($(counter ba_rx_frames) + $(counter ba_duplicated)))

log "checks: reordering"
bridge --reorder 25 --reorder-gap 5
ofo_before=$(nstat_b TcpExtTCPOFOQueue)
transfer "--reorder 25, A -> B" "$NS_A" "$NS_B" "$ADDR_B"
ofo_after=$(nstat_b TcpExtTCPOFOQueue)
stats
expect_ratio ab_reordered ab_rx_frames 20 30
check "B's TCP queued out-of-order segments (TCPOFOQueue $ofo_before -> $ofo_after)" \
	test "${ofo_after:-0}" -gt "${ofo_before:-0}"
expect_stat ab_loss_drops -eq 0

log "checks: a 2 s blackout (SIGUSR1) in the middle of a transfer"
# The rate limit stretches the transfer to a few seconds, so the blackout
# lands in its middle.
bridge --rate 80 --signal-blackout 2000
if xfer_start "$NS_A" "$NS_B" "$ADDR_B"; then
	poll_wait 20 size_at_least "$XFER_DST" $((4 * 1048576)) ||
		fail "less than 4 MiB arrived in 20 s before the blackout"
	check "SIGUSR1 starts a blackout" impair_blackout
	bo_start=$(now_ms)
	# Measuring that nothing arrives needs a wait of its own: frames in
	# flight land within the first 0.3 s, then the link must stay dark.
	sleep 0.3
	size0=$(stat_size "$XFER_DST")
	sleep 1.2
	size1=$(stat_size "$XFER_DST")
	check "no data crosses during the blackout ($size0 -> $size1 bytes)" test "$size0" -eq "$size1"
	if xfer_wait; then
		pass "transfer survives the blackout: sha256 equal, $XFER_MS ms"
	else
		fail "transfer did not survive the blackout"
	fi
	bo_ms=$(($(now_ms) - bo_start))
	check "transfer finished after the blackout ended (${bo_ms} ms after it began)" test "$bo_ms" -ge 2000
	stats
	expect_stat ab_blackout_drops -gt 0
	expect_stat signal_blackouts -eq 1
else
	fail "could not start the transfer for the blackout check"
fi

log "checks: a configured blackout window"
bridge --blackout 0:2000
check "--blackout 0:2000: no ping answer in the first second" no_answer
check "--blackout 0:2000: ping answers again after it" \
	poll_wait 10 quiet in_a ping -c 1 -W 1 "$ADDR_B"
stats
expect_stat ab_blackout_drops -gt 0
expect_stat uptime_ms -ge 2000

log "checks: offloads left on are reported, not fatal"
# GRO on the bridge's ingress merges A's segments into frames larger than
# the MTU, which the bridge must warn about (and cannot forward).
ip netns exec "$NS_BR" ethtool -K "$VETH_BRA" gro on >/dev/null 2>&1 ||
	fail "cannot turn GRO on for $VETH_BRA"
bridge
SRC_BIG=$SRC
SRC=$TMP_DIR/small
head -c 2097152 "$SRC_BIG" >"$SRC"
if xfer_start "$NS_A" "$NS_B" "$ADDR_B"; then
	poll_wait 10 grep -q 'more than MTU' "$IMPAIR_LOG"
	kill "$XFER_SEND_PID" "$XFER_RECV_PID" 2>/dev/null
	wait "$XFER_SEND_PID" "$XFER_RECV_PID" 2>/dev/null
fi
SRC=$SRC_BIG
ip netns exec "$NS_BR" ethtool -K "$VETH_BRA" gro off >/dev/null 2>&1
check "bridge warned at start that GRO is on" grep -q "$VETH_BRA: GRO is on" "$IMPAIR_LOG"
check "bridge warned about frames larger than the MTU" grep -q 'more than MTU' "$IMPAIR_LOG"
check "bridge still running" impair_alive
stats
expect_stat ab_oversize_frames -gt 0
check "bridge still forwards" quiet in_a ping -c 1 -W 1 "$ADDR_B"

log "checks: clean exit on SIGTERM"
impair_stop
check "exit status 0 after SIGTERM (got $IMPAIR_RC)" test "$IMPAIR_RC" -eq 0
check "counters printed at exit" grep -q '^ab_forwarded ' "$IMPAIR_LOG"
check "stats file written at exit" test -s "$IMPAIR_STATS"

test_exit
