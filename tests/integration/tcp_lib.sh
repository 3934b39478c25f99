# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Helpers for the TCP integration tests (test_tcp_*.sh), which source this
# file in place of lib.sh (it sources lib.sh). The peer of the dataplane's TCP is the Linux kernel of the viewer
# namespace (or of the client namespace, see loss_topology), driven by
# tcp_peer.py for transfers whose bytes are checked one by one.

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TCP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TCP_PEER=$TCP_DIR/tcp_peer.py
# Standard library only, but the same interpreter as the scapy helpers.
TCP_PY=/usr/bin/python3
ECHO_PORT=7
CHARGEN_PORT=19

# Where the clients run: the viewer namespace unless loss_topology moved
# them behind a bridge.
NS_CLIENT=

tcp_require() {
	[ -x "$TCP_PY" ] || die "$TCP_PY not found (python3 is in tools/setup-deps)"
}

# client CMD...: run CMD where the TCP clients live.
client() { ip netns exec "${NS_CLIENT:-$NS_VIEWER}" "$@"; }

# tcp_peer LABEL ARGS...: run tcp_peer.py ARGS in the client namespace,
# keep its output in $TMP_DIR/LABEL.log (shown in dump_logs). Returns its
# exit status; sets PEER_SECS (wall time) and PEER_SUMMARY (its last line).
PEER_SECS=0
PEER_SUMMARY=
tcp_peer() {
	local label=$1 rc t0
	shift
	t0=$EPOCHREALTIME
	client timeout 300 "$TCP_PY" "$TCP_PEER" "$@" >"$TMP_DIR/$label.log" 2>&1
	rc=$?
	PEER_SECS=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
	PEER_SUMMARY=$(tail -n 1 "$TMP_DIR/$label.log")
	return $rc
}

# peer_check DESCRIPTION LABEL ARGS...: tcp_peer as one check; on failure
# the helper's report (which connection, how many bytes, what error).
peer_check() {
	local what=$1 label=$2
	shift 2
	if tcp_peer "$label" "$@"; then
		pass "$what: ${PEER_SUMMARY#*: }"
	else
		fail "$what (tcp_peer.py $*; ${PEER_SECS} s)"
		sed 's/^/        /' "$TMP_DIR/$label.log" | tail -n 25
	fi
}

# ---------------------------------------------------------------- counters

# tcp_conns_is N: the dataplane holds exactly N connections now.
tcp_conns_is() { [ "$(dp_counter tcp_conns)" = "$1" ]; }
tcp_conns_le() {
	local v
	v=$(dp_counter tcp_conns) || return 1
	[ "$v" -le "$1" ]
}

# expect_conns N WHY [TIMEOUT_S]: poll until tcp_conns is N.
expect_conns() {
	local want=$1 why=$2 timeout=${3:-10}
	if poll_wait "$timeout" tcp_conns_is "$want"; then
		pass "tcp_conns is $want ($why)"
	else
		fail "tcp_conns is $(dp_counter tcp_conns), expected $want within ${timeout}s ($why)"
		dp_ctl stats | awk '$1 ~ /^tcp_/ && $2 != 0 { printf "%s %s  ", $1, $2 }' |
			fold -s -w 140 | sed 's/^/        nonzero: /'
		echo
	fi
}

# expect_counter_eq BEFORE AFTER NAME N: NAME moved by exactly N.
expect_counter_eq() { expect_delta "$1" "$2" "$3" -eq "$4"; }

# show_tcp_delta BEFORE AFTER: log the TCP counters that moved.
show_tcp_delta() {
	local before=$1 after=$2
	awk 'NR == FNR { b[$1] = $2; next }
		$1 ~ /^tcp_/ && ($1 in b) && $2 != b[$1] {
			printf "%s +%d ", $1, $2 - b[$1]
		}' "$before" "$after" | fold -s -w 150 | sed 's/^/    counters: /'
	echo
}

# dp_still_alive WHEN: the dataplane process is still running.
dp_still_alive() {
	check "dataplane still running $1" dp_alive
	dp_alive || die "the dataplane died ($1); see its log below"
}

# ---------------------------------------------------------------- loss

# loss_topology: put the clients behind a bridge so that dropped frames are
# lost on the wire for both kernels:
#
#   $NS_DP  <--veth-->  $NS_VIEWER: br0 (nft bridge filter)  <--veth-->  $NS_CLIENT 192.0.2.1
#
# A drop in the client's own output hook would not do: the kernel's TCP sees
# the local error (-EPERM) and sends the segment again at once, so the
# dataplane would never see a hole in the kernel's data. A bridge forwards
# silently, and a frame it drops is gone.
loss_topology() {
	NS_CLIENT=rampart-client-$SUFFIX
	ip netns add "$NS_CLIENT" || die "ip netns add $NS_CLIENT"
	NETNS_MADE+=("$NS_CLIENT")
	ip -n "$NS_CLIENT" link set lo up
	ip netns exec "$NS_CLIENT" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$NS_CLIENT" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	local vcl=rpc$SUFFIX vbr=rpb$SUFFIX
	ip link add "$vcl" netns "$NS_CLIENT" type veth peer name "$vbr" netns "$NS_VIEWER" ||
		die "cannot create veth $vcl/$vbr"
	veth_prepare "$NS_CLIENT" "$vcl" || die "cannot configure $vcl"
	veth_prepare "$NS_VIEWER" "$vbr" || die "cannot configure $vbr"
	ip -n "$NS_VIEWER" addr flush dev "$VETH_VIEWER"
	ip -n "$NS_VIEWER" link add name br0 type bridge stp_state 0 forward_delay 0 ||
		die "cannot create a bridge in $NS_VIEWER"
	viewer sysctl -qw net.ipv6.conf.br0.disable_ipv6=1
	ip -n "$NS_VIEWER" link set "$VETH_VIEWER" master br0 || die "cannot enslave $VETH_VIEWER"
	ip -n "$NS_VIEWER" link set "$vbr" master br0 || die "cannot enslave $vbr"
	ip -n "$NS_VIEWER" link set "$vbr" up
	ip -n "$NS_VIEWER" link set br0 up
	ip -n "$NS_CLIENT" addr add "$VIEWER_ADDR/$DP_PREFIX" dev "$vcl" || die "cannot address $vcl"
	ip -n "$NS_CLIENT" link set "$vcl" up
	log "loss topology: $NS_DP <-> $NS_VIEWER (bridge br0) <-> $NS_CLIENT/$vcl ($VIEWER_ADDR)"
	poll_wait 10 client ping -q -c 1 -W 1 "$DP_ADDR" >/dev/null 2>&1 ||
		die "no answer to ping $DP_ADDR from $NS_CLIENT through the bridge"
}

# loss_set PCT: drop PCT% of the TCP frames the bridge forwards, each
# direction on its own draw. 0 removes the rule.
loss_set() {
	local pct=$1
	viewer nft delete table bridge rampart_loss >/dev/null 2>&1
	[ "$pct" -eq 0 ] && return 0
	viewer nft -f - <<EOF || die "cannot load the nftables loss rule"
table bridge rampart_loss {
	chain forward {
		type filter hook forward priority 0; policy accept;
		meta l4proto tcp numgen random mod 100 < $pct counter drop
	}
}
EOF
}

# loss_dropped: frames the loss rule has dropped so far.
loss_dropped() {
	viewer nft list table bridge rampart_loss 2>/dev/null |
		sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' | head -n 1
}

# ---------------------------------------------------------------- crafted segments

# crafted_setup: keep the viewer's kernel out of the connections that
# tcp_crafted.py makes by hand from ports CRAFTED_PORTS: without this it
# would answer the dataplane's SYN-ACKs to those ports with RSTs. The input
# hook comes after AF_PACKET's taps, so tcp_crafted.py still sees them.
CRAFTED_PORTS=20000-29999
SCAPY_PY=
crafted_setup() {
	SCAPY_PY=$(find_scapy_python) ||
		die "python3-scapy is not installed (tools/setup-deps installs it)"
	command -v nft >/dev/null 2>&1 ||
		die "nft is not installed (tools/setup-deps installs nftables)"
	viewer nft -f - <<EOF_NFT || die "cannot load the nftables rule for the crafted ports"
table inet rampart_crafted {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr $DP_ADDR tcp dport $CRAFTED_PORTS counter drop
	}
}
EOF_NFT
}

# crafted_start GROUP [ARGS...]: run one group of tcp_crafted.py in the
# background (CRAFTED_PID); crafted_finish GROUP waits for it and turns its
# output into checks: its pass/fail lines as they are, each `expect NAMES
# OP N` against the counters read before and after the run.
CRAFTED_PID=
crafted_start() {
	local group=$1
	shift
	dp_stats "$TMP_DIR/crafted-$group.before" || die "cannot read stats from the control socket"
	viewer timeout 150 "$SCAPY_PY" "$TCP_DIR/tcp_crafted.py" "$group" \
		--iface "$VETH_VIEWER" --src-mac "$VIEWER_MAC" --dst-mac "$DP_MAC" \
		--src-ip "$VIEWER_ADDR" --dst-ip "$DP_ADDR" \
		--echo-port "$ECHO_PORT" --chargen-port "$CHARGEN_PORT" \
		--port-lo "${CRAFTED_PORTS%-*}" --port-hi "${CRAFTED_PORTS#*-}" "$@" \
		>"$TMP_DIR/crafted-$group.log" 2>&1 &
	CRAFTED_PID=$!
	BG_PIDS+=("$CRAFTED_PID")
}

crafted_finish() {
	local group=$1 rc kind rest names op n
	local out=$TMP_DIR/crafted-$group.log
	local before=$TMP_DIR/crafted-$group.before after=$TMP_DIR/crafted-$group.after
	wait "$CRAFTED_PID"
	rc=$?
	dp_stats "$after" || die "cannot read stats from the control socket"
	while read -r kind rest; do
		case $kind in
		pass) pass "$rest" ;;
		fail) fail "$rest" ;;
		info) log "    $rest" ;;
		expect)
			read -r names op n <<<"$rest"
			expect_delta "$before" "$after" "$names" "$op" "$n"
			;;
		esac
	done <"$out"
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
		fail "tcp_crafted.py $group exited with $rc"
		sed 's/^/        /' "$out" | tail -n 20
	fi
	return 0
}

crafted() {
	crafted_start "$@"
	crafted_finish "$1"
}
