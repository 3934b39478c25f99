#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# OCSP stapling on real handshakes:
#   - the control plane fetches staples from `openssl ocsp` for an ECDSA
#     and an RSA leaf of one distribution; openssl s_client -status, in
#     TLS 1.2 and TLS 1.3, shows "OCSP Response Status: successful", "Cert
#     Status: good" and a response for the very certificate served (ECDSA
#     to a default client, RSA to a client offering RSA signatures only);
#   - curl --cert-status (OpenSSL) and gnutls-cli --ocsp accept the staple;
#   - a certificate with no staple held gets none; a staple pushed with a
#     short validity is served until it expires and then no longer (the
#     dataplane honours the expiry itself, nobody withdraws it);
#   - the dataplane counts staples served.

source "$(dirname "$0")/tls_lib.sh"

require_env
tls_require
# shellcheck disable=SC2034 # read by tls_lib.sh
OCSP_URL=http://127.0.0.1:$OCSP_PORT
tls_make_pki "$TMP_DIR/pki" || die "cannot make the test PKI (see $TMP_DIR/pki/pki.log)"
# The control plane and the responder share the viewer's loopback.
# shellcheck disable=SC2034
CP_NETNS=$NS_VIEWER
tls_start --ocsp-min-refresh 5 --ocsp-max-refresh 20 --ocsp-retry 3
tls_ocsp_start
tls_cert_import shop-ec "$PKI/shop-ec.chain" "$PKI/shop-ec.key" || die "cert import"
tls_cert_import shop-rsa "$PKI/shop-rsa.chain" "$PKI/shop-rsa.key" || die "cert import"
tls_cert_import other-ec "$PKI/other-ec.chain" "$PKI/other-ec.key" || die "cert import"
tls_dist_apply shop shop.example.com shop-ec shop-rsa default=true || die "apply shop"
tls_dist_apply other other.example.com other-ec "" || die "apply other"

ocsp_stapled() { # CERT: the control plane holds and pushed a good staple
	[ "$(rctl --json ocsp status | jget - "[i['stapled'] for i in j['items'] if i['cert'] == '$1'][0]")" = true ]
}
if tls_is_rampart; then
	poll_wait 30 ocsp_stapled shop-ec && poll_wait 10 ocsp_stapled shop-rsa ||
		die "the control plane did not staple both leaves in 30 s: $(rctl --json ocsp status)"
	poll_wait 10 eval '[ "$(rctl_dp --json status | jget - "j[\"staples\"]")" = 2 ]' ||
		die "the dataplane does not hold 2 staples"
	tls_stats "$TMP_DIR/stats.before" || die "no stats"
else
	# The stand-in serves one file per server block: the ECDSA leaf's.
	tls_ocsp_der shop-ec "$TMP_DIR/shop-ec.ocsp" && tls_staple_set shop "$TMP_DIR/shop-ec.ocsp" 0
fi

RSA_SIGALGS=rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:RSA+SHA256:RSA+SHA384
log "checks: the staple of the certificate served"
n=0
for v in 2 3; do
	for kt in ec rsa; do
		if [ "$kt" = rsa ] && ! tls_is_rampart; then
			log "  (stand-in: one staple per server block, RSA not checked)"
			continue
		fi
		o=$TMP_DIR/status-$kt-$v.out
		args=(-status "-tls1_$v")
		[ "$kt" = rsa ] && args+=(-sigalgs "$RSA_SIGALGS")
		if ! tls_get "$o" shop.example.com "${args[@]}"; then
			fail "TLS 1.$v $kt: handshake or GET failed: $(grep -m1 -i error "$o")"
			continue
		fi
		n=$((n + 1))
		want=$(tls_fingerprint "$PKI/shop-$kt.pem")
		check "TLS 1.$v: the $kt leaf is served" [ "$(tls_served_fp "$o")" = "$want" ]
		check "TLS 1.$v $kt: OCSP Response Status: successful" \
			grep -q 'OCSP Response Status: successful' "$o"
		check "TLS 1.$v $kt: Cert Status: good" grep -q 'Cert Status: good' "$o"
		check "TLS 1.$v $kt: the response is for serial $(tls_served_serial "$o"), the leaf served" \
			[ "$(tls_status_serial "$o")" = "$(tls_served_serial "$o")" ]
	done
done

co=$TMP_DIR/curl.out
viewer timeout "$TLS_CLIENT_TIMEOUT" curl -sS --cert-status --cacert "$PKI/root.pem" \
	--resolve "shop.example.com:$TLS_PORT:$TLS_ADDR" "https://shop.example.com:$TLS_PORT/" \
	>"$co" 2>&1
check "curl --cert-status: verified the staple and got the answer" \
	grep -q 'distribution' "$co"
go=$TMP_DIR/gnutls.out
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' |
	viewer timeout "$TLS_CLIENT_TIMEOUT" gnutls-cli --ocsp --x509cafile "$PKI/root.pem" \
		--sni-hostname shop.example.com --verify-hostname shop.example.com \
		--priority 'NORMAL:-SIGN-ALL:+SIGN-ECDSA-SECP256R1-SHA256:+SIGN-ECDSA-SHA256' \
		-p "$TLS_PORT" "$TLS_ADDR" >"$go" 2>&1
check "gnutls-cli --ocsp (ECDSA): the certificate and its stapled response verified" \
	grep -q 'Status: The certificate is trusted' "$go"
check "gnutls-cli: the server answered the status request" \
	grep -q 'Options:.*OCSP status request' "$go"

log "checks: no staple held, a staple expiring"
o=$TMP_DIR/none.out
if tls_get "$o" other.example.com -status; then
	check "other (no staple held): no response sent" grep -q 'OCSP response: no response sent' "$o"
else
	fail "other: handshake or GET failed: $(grep -m1 -i error "$o")"
fi
tls_ocsp_der other-ec "$TMP_DIR/other.ocsp" 10 || die "cannot make an OCSP response for other-ec"
expiry=$(($(date +%s) + 4))
# shellcheck disable=SC2034
TLS_NGX_DIST=other
tls_staple_set other-ec "$TMP_DIR/other.ocsp" "$expiry" || die "staple_set refused"
o=$TMP_DIR/short.out
if tls_get "$o" other.example.com -status; then
	check "other: the pushed staple is served before it expires" \
		grep -q 'OCSP Response Status: successful' "$o"
else
	fail "other: handshake or GET failed: $(grep -m1 -i error "$o")"
fi
if tls_is_rampart; then
	poll_wait 10 eval '[ "$(date +%s)" -gt "$expiry" ]'
	o=$TMP_DIR/expired.out
	if tls_get "$o" other.example.com -status; then
		check "other: no staple after it expired" grep -q 'OCSP response: no response sent' "$o"
	else
		fail "other after expiry: handshake or GET failed: $(grep -m1 -i error "$o")"
	fi
	tls_stats "$TMP_DIR/stats.after" || die "no stats"
	expect_delta "$TMP_DIR/stats.before" "$TMP_DIR/stats.after" tls_staples_served -ge $((n + 3))
fi
check "dataplane still running" dp_alive
test_exit
