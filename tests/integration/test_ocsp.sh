#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# OCSP stapling against a real responder (`openssl ocsp -port`, a test CA):
# the control plane fetches and checks a staple and pushes it to the
# dataplane, refreshes it, keeps it through a responder outage, withdraws it
# at its nextUpdate, and reports (and never staples) a revoked status.
# Responses are valid for one minute (-nmin 1) and the control plane's
# refresh bounds are lowered so the whole life cycle takes about 90 s.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cp_lib.sh"

require_env
require_cmd openssl
setup_topology
dp_start 1

# Responder and control plane share the viewer namespace's loopback, so the
# port cannot collide with anything on the host.
OCSP_PORT=8080
OCSP_URL=http://127.0.0.1:$OCSP_PORT
PKI=$TMP_DIR/pki
make_test_pki "$PKI" || { cat "$PKI/pki.log"; die "cannot make the test PKI"; }
RESP_PID=

responder_start() {
	ip netns exec "$NS_VIEWER" openssl ocsp -index "$PKI/int-db/index.txt" \
		-port "$OCSP_PORT" -rsigner "$PKI/int.pem" -rkey "$PKI/int.key" \
		-CA "$PKI/int.pem" -nmin 1 >>"$TMP_DIR/responder.log" 2>&1 &
	RESP_PID=$!
	BG_PIDS+=("$RESP_PID")
	poll_wait 10 grep -q 'waiting for OCSP client' "$TMP_DIR/responder.log" ||
		die "openssl ocsp responder did not start"
}
responder_stop() { kill_wait "$RESP_PID"; }

responder_start
CP_NETNS=$NS_VIEWER
cp_start --ocsp-min-refresh 5 --ocsp-max-refresh 20 --ocsp-retry 3

rctl cert import --name ocsp-ec --cert "$PKI/chain.pem" --key "$PKI/leaf.key" \
	--ca "$PKI/root.pem" >/dev/null || die "cert import refused: $(tail -1 "$TMP_DIR/rctl.err")"

ocsp_json() { rctl --json ocsp status >"$TMP_DIR/ocsp.json"; }
ocsp_field() { # FIELD of the ocsp-ec item
	ocsp_json && jget "$TMP_DIR/ocsp.json" \
		"[i for i in j['items'] if i['cert'] == 'ocsp-ec'][0]['$1']"
}
dp_staples() { rctl_dp --json status | jget - "j['staples']"; }
is_stapled() { [ "$(ocsp_field stapled)" = true ] && [ "$(dp_staples)" = 1 ]; }
status_is() { [ "$(ocsp_field status)" = "$1" ]; }

log "checks: fetch and push"
if poll_wait 20 is_stapled; then
	pass "staple fetched, verified and held by the dataplane"
else
	fail "no staple after 20 s (ocsp status: $(cat "$TMP_DIR/ocsp.json" 2>/dev/null))"
fi
check "status good" status_is good
check "responder named from the leaf's AIA" test "$(ocsp_field responder)" = "$OCSP_URL"
t1=$(ocsp_field this_update)

log "checks: refresh before it goes stale"
refreshed() { local t; t=$(ocsp_field this_update) && [ -n "$t" ] && [ "$t" -gt "${t1:-0}" ]; }
if poll_wait 40 refreshed; then
	pass "refreshed (thisUpdate $t1 -> $(ocsp_field this_update))"
else
	fail "not refreshed within 40 s (max refresh 20 s)"
fi
check "still stapled after the refresh" is_stapled

log "checks: responder outage"
responder_stop
next_update=$(ocsp_field next_update)
has_error() { [ -n "$(ocsp_field last_error)" ] && [ "$(ocsp_field last_error)" != null ]; }
if poll_wait 40 has_error; then
	pass "fetch failure reported: $(ocsp_field last_error)"
else
	fail "no failure reported 40 s into the outage"
fi
if [ "$(date +%s)" -lt "$((next_update - 1))" ]; then
	check "last good staple kept while valid" is_stapled
else
	fail "test too slow: the staple expired before the outage was seen"
fi

log "checks: withdrawn at nextUpdate ($next_update)"
withdrawn() { [ "$(ocsp_field stapled)" = false ] && [ "$(dp_staples)" = 0 ]; }
if poll_wait 75 withdrawn; then
	now=$(date +%s)
	pass "withdrawn from the dataplane after nextUpdate"
	check "not withdrawn before nextUpdate (now $now >= $next_update)" test "$now" -ge "$next_update"
else
	fail "staple still served 75 s into the outage"
fi

log "checks: revoked"
(cd "$PKI" && openssl ca -config ca.cnf -revoke leaf.pem) >>"$PKI/pki.log" 2>&1 ||
	die "openssl ca -revoke failed"
responder_start
rctl ocsp refresh --cert ocsp-ec >/dev/null || fail "ocsp refresh refused: $(tail -1 "$TMP_DIR/rctl.err")"
if poll_wait 20 status_is revoked; then
	pass "revoked status reported"
else
	fail "status $(ocsp_field status), want revoked"
fi
check "a revoked response is not stapled" withdrawn
check "control plane logged the revocation" grep -qi revoked "$CP_ERR"

check "control plane still running" proc_running "$CP_PID"
check "dataplane still running" dp_alive
test_exit
