#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Session resumption by ticket, TLS 1.2 and TLS 1.3, with the control plane
# rotating the ticket keys (started with --ticket-keys-kept 1: the ring is
# the encrypting key and one decrypt-only key):
#   - openssl s_client -sess_out / -sess_in resumes ("Reused") and the
#     server says so in its body;
#   - after one `rampartctl tickets rotate` the old ticket still resumes,
#     and the server issues a new ticket under the new key (TLS 1.2: a
#     NewSessionTicket in the abbreviated handshake);
#   - after a second rotation the first key has left the ring: the old
#     ticket falls back to a full handshake ("New") that succeeds, while the
#     TLS 1.3 ticket issued after the rotation still resumes;
#   - gnutls-cli --resume (an independent implementation) resumes in both
#     versions;
#   - the dataplane counts the resumptions.

source "$(dirname "$0")/tls_lib.sh"

require_env
tls_require
TLS_TICKET_KEPT=1
tls_make_pki "$TMP_DIR/pki" || die "cannot make the test PKI (see $TMP_DIR/pki/pki.log)"
tls_start --ticket-keys-kept "$TLS_TICKET_KEPT"
tls_cert_import shop-ec "$PKI/shop-ec.chain" "$PKI/shop-ec.key" || die "cert import"
tls_cert_import shop-rsa "$PKI/shop-rsa.chain" "$PKI/shop-rsa.key" || die "cert import"
tls_dist_apply shop shop.example.com,www.shop.example.com shop-ec shop-rsa default=true ||
	die "cannot apply the distribution"

SNI=www.shop.example.com
# get VERSION TAG [s_client ARGS...]: one GET over TLS 1.VERSION into
# $TMP_DIR/TAG.out.
get() {
	local v=$1 tag=$2
	shift 2
	tls_get "$TMP_DIR/$tag.out" "$SNI" "-tls1_$v" "$@"
}
out() { echo "$TMP_DIR/$1.out"; }

# expect_resumed V TAG DESCRIPTION ARGS...: a resumption that completed.
expect_resumed() {
	local v=$1 tag=$2 what=$3
	shift 3
	if get "$v" "$tag" "$@" && tls_reused "$(out "$tag")"; then
		pass "TLS 1.$v $what: Reused"
		check "  ... the server says resumed" tls_body_yes "$(out "$tag")" resumed
	else
		fail "TLS 1.$v $what: not resumed ($(grep -m1 -E '^(New|Reused)|error' "$(out "$tag")"))"
	fi
}

# expect_full V TAG DESCRIPTION ARGS...: a full handshake that completed.
expect_full() {
	local v=$1 tag=$2 what=$3
	shift 3
	if get "$v" "$tag" "$@" && tls_new "$(out "$tag")"; then
		pass "TLS 1.$v $what: New (full handshake), 200"
		check "  ... the server says not resumed" tls_body_no "$(out "$tag")" resumed
	else
		fail "TLS 1.$v $what: $(grep -m1 -E '^(New|Reused)|error' "$(out "$tag")") (want a completed full handshake)"
	fi
}

if tls_is_rampart; then
	tls_stats "$TMP_DIR/stats.before" || die "no stats from the dataplane"
fi

log "checks: a ticket resumes"
for v in 2 3; do
	expect_full "$v" "first$v" "first connection" -sess_out "$TMP_DIR/sess$v"
	check "TLS 1.$v: the body names TLSv1.$v" \
		grep -q "TLSv1\.$v" <(tls_body_field "$(out "first$v")" protocol)
	check "TLS 1.$v: a ticket was saved" test -s "$TMP_DIR/sess$v"
	expect_resumed "$v" "again$v" "resumption" -sess_in "$TMP_DIR/sess$v"
done

log "checks: one rotation keeps the old key in the ring"
tls_tickets_rotate || die "tickets rotate refused: $(tail -n 1 "$TMP_DIR/rctl.err")"
for v in 2 3; do
	expect_resumed "$v" "rot1-$v" "ticket of the previous key" \
		-sess_in "$TMP_DIR/sess$v" -sess_out "$TMP_DIR/reissued$v" -msg
done
# A TLS 1.2 client learns of a new ticket in an abbreviated handshake from
# a NewSessionTicket before the server's Finished, but s_client only saves
# sessions of full handshakes: check the message. TLS 1.3 tickets come after
# every handshake and s_client saves them.
check "TLS 1.2: a ticket opened with the previous key is re-issued (NewSessionTicket)" \
	grep -q '^<<< .*NewSessionTicket' "$(out rot1-2)"
check "TLS 1.3: a ticket is issued after the resumption" test -s "$TMP_DIR/reissued3"

log "checks: a second rotation drops the first key"
tls_tickets_rotate || die "tickets rotate refused: $(tail -n 1 "$TMP_DIR/rctl.err")"
for v in 2 3; do
	expect_full "$v" "rot2-$v" "ticket whose key left the ring" -sess_in "$TMP_DIR/sess$v"
done
expect_resumed 3 reissued3 "ticket issued under the second key" -sess_in "$TMP_DIR/reissued3"

log "checks: gnutls-cli --resume"
for v in 1.2 1.3; do
	o=$TMP_DIR/gnutls-$v.out
	printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' |
		viewer timeout "$TLS_CLIENT_TIMEOUT" gnutls-cli --resume \
			--x509cafile "$PKI/root.pem" --sni-hostname "$SNI" \
			--verify-hostname "$SNI" --priority "NORMAL:-VERS-ALL:+VERS-TLS$v" \
			-p "$TLS_PORT" "$TLS_ADDR" >"$o" 2>&1
	check "gnutls-cli TLS $v: the second connection is resumed" \
		grep -q 'This is a resumed session' "$o"
done

if tls_is_rampart; then
	tls_stats "$TMP_DIR/stats.after" || die "no stats from the dataplane"
	# Resumed above: 2 + 2 + 1 (openssl) and 2 (gnutls-cli).
	expect_delta "$TMP_DIR/stats.before" "$TMP_DIR/stats.after" tls_resumed -ge 7
	expect_delta "$TMP_DIR/stats.before" "$TMP_DIR/stats.after" tls_tickets_renewed -ge 1
fi
check "dataplane still running" dp_alive
test_exit
