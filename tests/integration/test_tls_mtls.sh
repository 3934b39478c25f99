#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Viewer mTLS against a trust store with a CRL (rampartctl truststore
# create), TLS 1.2 and TLS 1.3:
#   - required: a good client certificate gets the 200, mTLS ok and its
#     subject in the body; no certificate, an untrusted one (another CA), an
#     expired one and a revoked one (in the CRL) each fail the handshake
#     with the matching alert (certificate_required or handshake_failure,
#     unknown_ca, certificate_expired, certificate_revoked);
#   - optional: a good certificate → mTLS ok, none → mTLS none, an
#     untrusted one → served, with the failure reported;
#   - off: no certificate is asked for;
#   - replacing the trust store with a CRL that revokes the good
#     certificate refuses it on the next handshake;
#   - the dataplane counts the outcomes.
# The nginx stand-in answers a refused certificate with a 400 after the
# handshake instead of an alert; with it the refusals check for that.

source "$(dirname "$0")/tls_lib.sh"

require_env
tls_require
tls_make_pki "$TMP_DIR/pki" || die "cannot make the test PKI (see $TMP_DIR/pki/pki.log)"
tls_issue "$PKI" client-ca client-late ec viewer-late "" || die "cannot issue client-late"
tls_start
tls_cert_import shop-ec "$PKI/shop-ec.chain" "$PKI/shop-ec.key" || die "cert import"
tls_truststore viewers "$PKI/client-ca.pem" "$PKI/client.crl.pem" || die "truststore create"
tls_dist_apply shop shop.example.com shop-ec "" default=true || die "apply shop"
tls_dist_apply req req.shop.example.com shop-ec "" \
	'tls.mtls={"mode":"required","trust_store":"viewers"}' || die "apply req"
tls_dist_apply opt opt.shop.example.com shop-ec "" \
	'tls.mtls={"mode":"optional","trust_store":"viewers"}' || die "apply opt"

tls_is_rampart && { tls_stats "$TMP_DIR/stats.before" || die "no stats"; }

# not_served OUT: neither resumed nor answered.
not_served() { ! grep -qE '^(Reused, |HTTP/1.1 200)' "$1"; }

# client NAME: s_client arguments presenting client certificate NAME.
client() { echo "-cert $PKI/$1.pem -key $PKI/$1.key"; }

# expect_ok SNI V TAG MTLS [CLIENT]: 200 with mtls=MTLS in the body.
expect_ok() {
	local sni=$1 v=$2 tag=$3 want=$4 who=${5:-} o
	o=$TMP_DIR/$tag-$v.out
	# shellcheck disable=SC2046 # word-split client arguments
	if tls_get "$o" "$sni" "-tls1_$v" $([ -n "$who" ] && client "$who"); then
		check "$sni TLS 1.$v ${who:-no certificate}: 200, mTLS $want" \
			[ "$(tls_body_field "$o" mtls)" = "$want" ]
	else
		fail "$sni TLS 1.$v ${who:-no certificate}: no 200 ($(grep -m1 -iE 'alert|error' "$o"))"
	fi
}

# expect_refused V WHO ALERT_ERE: the required distribution refuses WHO.
expect_refused() {
	local v=$1 who=$2 alert=$3 o
	o=$TMP_DIR/req-$who-$v.out
	# shellcheck disable=SC2046
	tls_get "$o" req.shop.example.com "-tls1_$v" $([ "$who" != none ] && client "$who")
	if ! tls_is_rampart; then
		check "TLS 1.$v $who: refused (stand-in: 400)" grep -q '^HTTP/1.1 400' "$o"
		return
	fi
	if grep -q '^HTTP/1.1 200' "$o"; then
		fail "TLS 1.$v $who: served a 200, want a failed handshake"
	elif grep -qiE "alert ($alert)" "$o"; then
		pass "TLS 1.$v $who: handshake failed, $(grep -m1 -oiE "alert ($alert)" "$o")"
	else
		fail "TLS 1.$v $who: no '$alert' alert: $(grep -m1 -iE 'alert|error' "$o")"
	fi
}

for v in 2 3; do
	log "checks: TLS 1.$v, mTLS required"
	expect_ok req.shop.example.com "$v" req-good ok client-good
	check "  ... the body names the client certificate's subject" \
		grep -q 'viewer-good' <(tls_body_field "$TMP_DIR/req-good-$v.out" client_subject)
	if [ "$v" = 3 ]; then
		expect_refused "$v" none 'certificate required|handshake failure'
	else
		expect_refused "$v" none 'handshake failure|certificate required'
	fi
	expect_refused "$v" client-untrusted 'unknown ca'
	expect_refused "$v" client-expired 'certificate expired'
	expect_refused "$v" client-revoked 'certificate revoked'

	log "checks: TLS 1.$v, mTLS optional and off"
	expect_ok opt.shop.example.com "$v" opt-good ok client-good
	expect_ok opt.shop.example.com "$v" opt-none none
	expect_ok opt.shop.example.com "$v" opt-untrusted failed client-untrusted
	o=$TMP_DIR/off-$v.out
	if tls_get "$o" shop.example.com "-tls1_$v"; then
		check "off TLS 1.$v: no certificate requested" \
			grep -q 'No client certificate CA names sent' "$o"
	else
		fail "off TLS 1.$v: no 200"
	fi
	# Every distribution shares the ticket ring, and a resumption skips
	# client verification: a ticket from the distribution without mTLS
	# must not let a viewer without a certificate into the required one.
	tls_is_rampart || continue
	if tls_get "$TMP_DIR/off-ticket-$v.out" shop.example.com "-tls1_$v" \
		-sess_out "$TMP_DIR/off-$v.sess" && [ -s "$TMP_DIR/off-$v.sess" ]; then
		o=$TMP_DIR/req-foreign-ticket-$v.out
		tls_get "$o" req.shop.example.com "-tls1_$v" -sess_in "$TMP_DIR/off-$v.sess"
		check "TLS 1.$v: a ticket of the mTLS-off distribution is not resumed on the required one ($(grep -m1 -E '^(New|Reused), ' "$o"))" \
			not_served "$o"
	else
		fail "off TLS 1.$v: no ticket saved"
	fi
done

log "checks: a new CRL reaches the next handshake"
expect_ok req.shop.example.com 3 late-before ok client-late
(
	cd "$PKI" || exit 1
	export TLS_SAN=DNS:unused
	openssl ca -config client-ca.cnf -revoke client-late.pem &&
		openssl ca -config client-ca.cnf -gencrl -out client2.crl.pem
) >>"$PKI/pki.log" 2>&1 || die "cannot revoke client-late"
tls_truststore viewers "$PKI/client-ca.pem" "$PKI/client2.crl.pem" --replace ||
	die "truststore replace refused"
expect_refused 3 client-late 'certificate revoked'
expect_ok req.shop.example.com 3 good-after ok client-good

if tls_is_rampart; then
	tls_stats "$TMP_DIR/stats.after" || die "no stats"
	b=$TMP_DIR/stats.before a=$TMP_DIR/stats.after
	expect_delta "$b" "$a" tls_mtls_ok -ge 6
	expect_delta "$b" "$a" tls_mtls_none -ge 2
	expect_delta "$b" "$a" tls_mtls_failed -ge 2
	expect_delta "$b" "$a" tls_fail_bad_certificate -ge 7
fi
check "dataplane still running" dp_alive
test_exit
