#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# TLS termination end to end, basic behaviour (the heavier matrices live in
# the other test_tls_*.sh): a dataplane with its control plane, two
# distributions imported and applied through rampartctl, real clients from
# the viewer namespace:
#   - SNI selects the distribution's certificate (openssl s_client, and
#     gnutls-cli verifying chain and host name against the test root);
#   - ECDSA is served by default, RSA when the client offers only RSA
#     signature algorithms;
#   - TLSv1.3_2025 refuses a TLS 1.2 client; a TLS 1.1 client is refused by
#     every policy;
#   - curl gets the (temporary) fixed 200 naming the distribution, over
#     ALPN http/1.1; a client offering only h2 gets no_application_protocol;
#   - unknown SNI without a default distribution: unrecognized_name; no SNI
#     without a default: refused; once a distribution is "default": true,
#     no SNI and unknown names reach it;
#   - a client-initiated renegotiation is refused;
#   - a replaced certificate reaches new handshakes;
#   - the dataplane's TLS counters move accordingly.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cp_lib.sh"

PY=${PYTHON:-/usr/bin/python3}
TLS_PORT=443
CT=10           # seconds one client command may take (bounds a hang)

require_env
require_cmd openssl curl gnutls-cli "$PY"
[ -x "$CP_BIN" ] || die "$CP_BIN not found: build first"
[ -x "$CTL_BIN" ] || die "$CTL_BIN not found: build first"

# ---------------------------------------------------------------- PKI

# Root and intermediate (ECDSA), then leaves signed by the intermediate:
# shop-ec and shop-rsa for shop.example.com, blog-ec and blog-ec2 for
# blog.example.com. NAME.pem, NAME.key, NAME.chain (leaf + intermediate).
make_pki() {
	local d=$1
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		newkey() { # FILE ec|rsa
			if [ "$2" = rsa ]; then
				openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"
			else
				openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
			fi
		}
		newkey root.key ec && openssl req -x509 -new -key root.key -days 30 \
			-subj "/CN=Rampart TLS Basic Root" -out root.pem \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign || exit 1
		newkey int.key ec && openssl req -new -key int.key \
			-subj "/CN=Rampart TLS Basic Intermediate" -out int.csr || exit 1
		printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
		openssl x509 -req -in int.csr -CA root.pem -CAkey root.key \
			-CAcreateserial -days 30 -extfile int.ext -out int.pem || exit 1
		leaf() { # NAME ec|rsa HOST
			newkey "$1.key" "$2" || return 1
			printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' "$3" >"$1.ext"
			openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr" &&
				openssl x509 -req -in "$1.csr" -CA int.pem -CAkey int.key \
					-CAcreateserial -days 10 -extfile "$1.ext" -out "$1.pem" &&
				cat "$1.pem" int.pem >"$1.chain"
		}
		leaf shop-ec ec shop.example.com && leaf shop-rsa rsa shop.example.com &&
			leaf blog-ec ec blog.example.com && leaf blog-ec2 ec blog.example.com
	) >"$d/pki.log" 2>&1
}

fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1" | cut -d= -f2; }

# ---------------------------------------------------------------- clients

# sclient OUT ARGS...: openssl s_client to the dataplane from the viewer,
# sending nothing; OUT gets stdout and stderr. Returns s_client's status.
sclient() {
	local out=$1
	shift
	viewer timeout "$CT" openssl s_client -connect "$DP_ADDR:$TLS_PORT" \
		-CAfile "$PKI/root.pem" "$@" </dev/null >"$out" 2>&1
}

# served_fp OUT: SHA-256 fingerprint of the leaf s_client printed.
served_fp() {
	sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$1" |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2
}

# handshake_ok OUT: s_client completed a handshake (a cipher was agreed).
handshake_ok() {
	grep -qE '^(New|Reused), TLSv1\.[23], Cipher is [A-Z0-9_-]+' "$1" &&
		! grep -q 'Cipher is (NONE)' "$1"
}

# curl_get OUT HOST [ARGS...]: HTTPS GET of https://HOST/ through the
# dataplane, verifying against the test root.
curl_get() {
	local out=$1 host=$2
	shift 2
	viewer timeout "$CT" curl -sS --http1.1 --max-time "$CT" \
		--cacert "$PKI/root.pem" --resolve "$host:$TLS_PORT:$DP_ADDR" \
		"$@" "https://$host:$TLS_PORT/" >"$out" 2>"$out.err"
}

stats_json() { rctl_dp --json stats >"$1"; }
counter() { jget "$1" "j['total']['$2']"; }

# expect_more BEFORE AFTER COUNTER N: COUNTER grew by at least N.
expect_more() {
	local b a
	b=$(counter "$1" "$3")
	a=$(counter "$2" "$3")
	if [ -n "$a" ] && [ -n "$b" ] && [ $((a - b)) -ge "$4" ]; then
		pass "counter $3 grew by $((a - b)) (>= $4)"
	else
		fail "counter $3 went from '${b}' to '${a}', expected +$4"
	fi
}

# ---------------------------------------------------------------- setup

setup_topology
# The distributions' origin: answers what the proxy forwarded.
echo_origin_start 192.0.2.80 80
dp_start 1 --https-port "$TLS_PORT"
make_pki "$TMP_DIR/pki" || die "cannot make the test PKI (see $TMP_DIR/pki/pki.log)"
PKI=$TMP_DIR/pki
cp_start

for c in shop-ec shop-rsa blog-ec; do
	rctl cert import --name "$c" --cert "$PKI/$c.chain" --key "$PKI/$c.key" \
		--ca "$PKI/root.pem" >/dev/null || die "cert import $c failed: $(tail -n 3 "$TMP_DIR/rctl.err")"
done

dist_json() { # NAME ALIAS CERTS_JSON POLICY DEFAULT FILE
	cat >"$6" <<EOF
{
  "name": "$1",
  "aliases": ["$2"],
  "certificates": $3,
  "default": $5,
  "tls": { "security_policy": "$4" },
  "origins": [ { "id": "web", "domain": "origin.example.com", "address": "192.0.2.80", "protocol_policy": "http-only" } ],
  "default_behavior": { "origin": "web" }
}
EOF
}
dist_json shop shop.example.com '{ "ecdsa": "shop-ec", "rsa": "shop-rsa" }' \
	TLSv1.2_2021 false "$TMP_DIR/shop.json"
dist_json blog blog.example.com '{ "ecdsa": "blog-ec" }' TLSv1.3_2025 false \
	"$TMP_DIR/blog.json"
rctl apply -f "$TMP_DIR/shop.json" >/dev/null || die "apply shop failed: $(tail -n 3 "$TMP_DIR/rctl.err")"
rctl apply -f "$TMP_DIR/blog.json" >/dev/null || die "apply blog failed: $(tail -n 3 "$TMP_DIR/rctl.err")"
dp_dists() { [ "$(rctl_dp --json status | jget - 'j["distributions"]')" = 2 ]; }
poll_wait 10 dp_dists || die "the dataplane never held both distributions"
wait_ping

stats_json "$TMP_DIR/s0.json" || die "stats failed"

# ---------------------------------------------------------------- SNI and certificates

log "checks: SNI selects the certificate; ECDSA by default, RSA for RSA-only clients"
sclient "$TMP_DIR/shop.out" -servername shop.example.com
check "s_client shop.example.com: handshake" handshake_ok "$TMP_DIR/shop.out"
check "  ... served shop-ec (ECDSA)" [ "$(served_fp "$TMP_DIR/shop.out")" = "$(fingerprint "$PKI/shop-ec.pem")" ]
check "  ... chain verified against the root (intermediate sent)" \
	grep -q 'Verify return code: 0 (ok)' "$TMP_DIR/shop.out"
sclient "$TMP_DIR/blog.out" -servername blog.example.com
check "s_client blog.example.com: served blog-ec" \
	[ "$(served_fp "$TMP_DIR/blog.out")" = "$(fingerprint "$PKI/blog-ec.pem")" ]
check "  ... over TLS 1.3 (TLSv1.3_2025)" grep -q '^New, TLSv1.3' "$TMP_DIR/blog.out"

sclient "$TMP_DIR/rsa13.out" -servername shop.example.com -sigalgs 'RSA+SHA256:RSA-PSS+SHA256'
check "RSA-only sigalgs (TLS 1.3): served shop-rsa" \
	[ "$(served_fp "$TMP_DIR/rsa13.out")" = "$(fingerprint "$PKI/shop-rsa.pem")" ]
sclient "$TMP_DIR/rsa12.out" -servername shop.example.com -tls1_2 -sigalgs 'RSA+SHA256:RSA-PSS+SHA256'
check "RSA-only sigalgs (TLS 1.2): served shop-rsa" \
	[ "$(served_fp "$TMP_DIR/rsa12.out")" = "$(fingerprint "$PKI/shop-rsa.pem")" ]
check "  ... with an ECDHE-RSA AEAD suite" grep -qE 'Cipher is ECDHE-RSA-(AES128-GCM|AES256-GCM|CHACHA20)' "$TMP_DIR/rsa12.out"

gnutls() { # SNI OUT [ARGS...]
	local sni=$1 out=$2
	shift 2
	viewer timeout "$CT" gnutls-cli --port "$TLS_PORT" --x509cafile "$PKI/root.pem" \
		--sni-hostname "$sni" --verify-hostname "$sni" "$@" "$DP_ADDR" </dev/null >"$out" 2>&1
}
gnutls blog.example.com "$TMP_DIR/gnutls-blog.out"
check "gnutls-cli blog.example.com: chain and host name verify" \
	grep -q 'Handshake was completed' "$TMP_DIR/gnutls-blog.out"
gnutls shop.example.com "$TMP_DIR/gnutls-shop.out" --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2'
check "gnutls-cli shop.example.com over TLS 1.2: verifies" \
	grep -q 'Handshake was completed' "$TMP_DIR/gnutls-shop.out"

# ---------------------------------------------------------------- policies

log "checks: security policies refuse old protocols"
sclient "$TMP_DIR/blog12.out" -servername blog.example.com -tls1_2
check "TLS 1.2 client against TLSv1.3_2025: refused" eval '! handshake_ok "$TMP_DIR/blog12.out"'
check "  ... with a protocol_version alert" grep -qi 'alert protocol version' "$TMP_DIR/blog12.out"
for host in shop.example.com blog.example.com; do
	sclient "$TMP_DIR/tls11-$host.out" -servername "$host" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'
	check "TLS 1.1 client against $host: refused" eval '! handshake_ok "$TMP_DIR/tls11-$host.out"'
done

# ---------------------------------------------------------------- HTTP

log "checks: curl reaches the origin through the proxy over ALPN http/1.1"
curl_get "$TMP_DIR/curl-shop.out" shop.example.com -v
check "curl https://shop.example.com/: 200 naming distribution shop" \
	grep -q '^distribution: shop$' "$TMP_DIR/curl-shop.out"
check "  ... curl saw ALPN http/1.1 accepted" grep -qi 'ALPN.*accepted.*http/1.1\|ALPN: server accepted http/1.1' "$TMP_DIR/curl-shop.out.err"
sclient "$TMP_DIR/alpn.out" -servername shop.example.com -alpn http/1.1
check "  ... s_client: ALPN protocol: http/1.1" grep -q '^ALPN protocol: http/1.1$' "$TMP_DIR/alpn.out"
curl_get "$TMP_DIR/curl-blog.out" blog.example.com
check "curl https://blog.example.com/: distribution blog over TLSv1.3" \
	[ "$(grep -E '^(distribution|protocol):' "$TMP_DIR/curl-blog.out" | tr '\n' ' ')" = "distribution: blog protocol: TLSv1.3 " ]
sclient "$TMP_DIR/h2only.out" -servername shop.example.com -alpn h2
check "ALPN offering only h2: no_application_protocol alert" \
	grep -qi 'no application protocol' "$TMP_DIR/h2only.out"

# ---------------------------------------------------------------- default distribution

log "checks: unknown names and clients without SNI"
sclient "$TMP_DIR/unknown.out" -servername nope.example.com
check "unknown SNI, no default: refused" eval '! handshake_ok "$TMP_DIR/unknown.out"'
check "  ... with an unrecognized_name alert" grep -qi 'unrecognized name' "$TMP_DIR/unknown.out"
sclient "$TMP_DIR/nosni0.out" -noservername
check "no SNI, no default: refused" eval '! handshake_ok "$TMP_DIR/nosni0.out"'

dist_json shop shop.example.com '{ "ecdsa": "shop-ec", "rsa": "shop-rsa" }' \
	TLSv1.2_2021 true "$TMP_DIR/shop.json"
rctl apply -f "$TMP_DIR/shop.json" >/dev/null || fail "apply shop as default: $(tail -n 3 "$TMP_DIR/rctl.err")"
nosni_is_shop() {
	sclient "$TMP_DIR/nosni.out" -noservername &&
		[ "$(served_fp "$TMP_DIR/nosni.out")" = "$(fingerprint "$PKI/shop-ec.pem")" ]
}
check "no SNI with shop as default: served shop-ec" poll_wait 10 nosni_is_shop
sclient "$TMP_DIR/unknown2.out" -servername nope.example.com
check "unknown SNI with a default: served the default's certificate" \
	[ "$(served_fp "$TMP_DIR/unknown2.out")" = "$(fingerprint "$PKI/shop-ec.pem")" ]

# ---------------------------------------------------------------- renegotiation

log "checks: renegotiation is refused"
# s_client reads "R" from stdin after the handshake and asks to
# renegotiate; its input is a FIFO so the R goes only once the handshake
# is seen in the output.
mkfifo "$TMP_DIR/reneg.in"
viewer timeout "$CT" openssl s_client -connect "$DP_ADDR:$TLS_PORT" -tls1_2 \
	-servername shop.example.com -CAfile "$PKI/root.pem" \
	<"$TMP_DIR/reneg.in" >"$TMP_DIR/reneg.out" 2>&1 &
RENEG_PID=$!
BG_PIDS+=("$RENEG_PID")
exec 7>"$TMP_DIR/reneg.in"
if poll_wait "$CT" grep -q 'Verify return code' "$TMP_DIR/reneg.out"; then
	echo R >&7
	poll_wait "$CT" proc_exited "$RENEG_PID"
fi
exec 7>&-
wait "$RENEG_PID" 2>/dev/null
check "s_client 'R' asked to renegotiate" grep -q 'RENEGOTIATING' "$TMP_DIR/reneg.out"
# A completed renegotiation verifies the server's chain a second time.
check "  ... the server refused it (the chain was verified once)" \
	[ "$(grep -c '^depth=0 ' "$TMP_DIR/reneg.out")" = 1 ]

# ---------------------------------------------------------------- hot swap

log "checks: a replaced certificate reaches new handshakes"
rctl cert import --name blog-ec --replace --cert "$PKI/blog-ec2.chain" \
	--key "$PKI/blog-ec2.key" --ca "$PKI/root.pem" >/dev/null ||
	fail "cert import --replace blog-ec: $(tail -n 3 "$TMP_DIR/rctl.err")"
blog_is_new() {
	sclient "$TMP_DIR/blog2.out" -servername blog.example.com &&
		[ "$(served_fp "$TMP_DIR/blog2.out")" = "$(fingerprint "$PKI/blog-ec2.pem")" ]
}
check "blog.example.com now serves the replacement" poll_wait 10 blog_is_new

# ---------------------------------------------------------------- counters

log "checks: TLS counters"
stats_json "$TMP_DIR/s1.json" || fail "stats failed"
expect_more "$TMP_DIR/s0.json" "$TMP_DIR/s1.json" tls_handshakes 8
expect_more "$TMP_DIR/s0.json" "$TMP_DIR/s1.json" tls_v13 3
expect_more "$TMP_DIR/s0.json" "$TMP_DIR/s1.json" tls_v12 2
expect_more "$TMP_DIR/s0.json" "$TMP_DIR/s1.json" tls_fail_protocol_version 2
expect_more "$TMP_DIR/s0.json" "$TMP_DIR/s1.json" tls_fail_unknown_sni 2
expect_more "$TMP_DIR/s0.json" "$TMP_DIR/s1.json" tls_handshake_failures 5
expect_more "$TMP_DIR/s0.json" "$TMP_DIR/s1.json" tls_renegotiation_refused 1
check "tls_active is back to 0 once the clients are gone" \
	poll_wait 10 eval '[ "$(rctl_dp --json stats | jget - "j[\"total\"][\"tls_active\"]")" = 0 ]'

check "the dataplane is still running" dp_alive
test_exit
