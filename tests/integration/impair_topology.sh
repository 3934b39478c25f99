# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# lib.sh's topology with rampart-impair (tools/impair) in the middle of the
# wire, for tests that move TCP through a lossy, slow or flapping path.
# Source it after lib.sh; it loads impair.sh itself. It sets the variables
# lib.sh's setup_topology sets (NS_DP, VETH_DP, NS_VIEWER, VETH_VIEWER,
# DP_MAC, VIEWER_MAC), so dp_start, viewer, dp_ctl and dp_counter work
# unchanged, and adds its namespace to NETNS_MADE and the bridge to BG_PIDS,
# so lib.sh's cleanup trap removes everything.
#
#   netns $NS_DP            netns $NS_BR                         netns $NS_VIEWER
#   rampart-dataplane       rampart-impair --a $VETH_BR_VIEWER   192.0.2.1/24
#   (net_af_packet)                        --b $VETH_BR_DP
#   $VETH_DP <--veth--> $VETH_BR_DP            $VETH_BR_VIEWER <--veth--> $VETH_VIEWER
#
# The bridge's direction "ab" is viewer -> dataplane, "ba" dataplane ->
# viewer (the counters in impair_stats say ab_* / ba_*). Offloads and IPv6
# are off on all four veth ends. Until impair_bridge starts a bridge the
# two sides cannot reach each other.
#
#   impair_require_env       lib.sh's require_env, and skip (77) when the
#                            bridge binary is missing
#   impair_topology          namespaces, veths, the viewer's address
#   impair_bridge [OPTS...]  (re)start the bridge with rampart-impair OPTS
#                            after --seed $IMPAIR_SEED; dies if it fails

if ! declare -F setup_topology >/dev/null; then
	# shellcheck source=lib.sh
	source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fi
if ! declare -F impair_start >/dev/null; then
	# shellcheck source=impair.sh
	source "$(dirname "${BASH_SOURCE[0]}")/impair.sh"
fi

NS_BR=rampart-br-$SUFFIX
VETH_BR_DP=rbd$SUFFIX
VETH_BR_VIEWER=rbv$SUFFIX
# Printed by every test that uses it, so a failure can be replayed:
# IMPAIR_SEED=N bash tests/integration/test_....sh
IMPAIR_SEED=${IMPAIR_SEED:-$((RANDOM * 32768 + RANDOM))}

impair_require_env() {
	require_env
	[ -x "$IMPAIR_BIN" ] ||
		skip "$IMPAIR_BIN not built (ninja -C $RAMPART_BUILD builds tools/impair)"
}

impair_topology() {
	netns_make "$NS_DP" "$NS_BR" "$NS_VIEWER"
	ip link add "$VETH_DP" netns "$NS_DP" type veth \
		peer name "$VETH_BR_DP" netns "$NS_BR" ||
		die "cannot create veth $VETH_DP/$VETH_BR_DP"
	ip link add "$VETH_VIEWER" netns "$NS_VIEWER" type veth \
		peer name "$VETH_BR_VIEWER" netns "$NS_BR" ||
		die "cannot create veth $VETH_VIEWER/$VETH_BR_VIEWER"
	veth_prepare "$NS_DP" "$VETH_DP" || die "cannot configure $VETH_DP"
	veth_prepare "$NS_VIEWER" "$VETH_VIEWER" || die "cannot configure $VETH_VIEWER"
	impair_prepare_if "$NS_BR" "$VETH_BR_DP" || die "cannot configure $VETH_BR_DP"
	impair_prepare_if "$NS_BR" "$VETH_BR_VIEWER" || die "cannot configure $VETH_BR_VIEWER"
	endpoints_up
	log "topology: $NS_DP/$VETH_DP ($DP_MAC) <-> $NS_BR [$VETH_BR_DP | $VETH_BR_VIEWER]" \
		"<-> $NS_VIEWER/$VETH_VIEWER ($VIEWER_MAC, $VIEWER_ADDR); seed $IMPAIR_SEED"
}

impair_bridge() {
	impair_start "$NS_BR" "$VETH_BR_VIEWER" "$VETH_BR_DP" --seed "$IMPAIR_SEED" "$@" ||
		die "rampart-impair did not start with: $*"
	log "bridge: ${*:-no impairment} (seed $IMPAIR_SEED)"
}
