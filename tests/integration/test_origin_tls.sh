#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The origin TLS leg, against a real nginx origin (origin_lib.sh), every
# origin verified strictly against the trust store "origin-ca" (the test
# root alone):
#   - protocol policies from HTTP and HTTPS viewers: https-only reaches the
#     origin's https_port over TLS, http-only its http_port in plain,
#     match-viewer the one matching the viewer's scheme (the origin's
#     $scheme and port in its body);
#   - tls_protocols: TLS 1.3 only against an origin speaking only TLS 1.2
#     (and the reverse) is refused: 502, px_origin_tls_fail_handshake, the
#     access log's reason, nothing reached the origin; the version asked for
#     against an origin that speaks it is what the origin logs;
#   - ECDSA preferred: an origin holding an ECDSA and an RSA certificate,
#     TLS 1.2, its cipher order left to the client (nginx would pick RSA
#     for a client preferring it, checked with openssl): the edge gets
#     ECDHE-ECDSA;
#   - session resumption to the origin, TLS 1.2 and 1.3: an origin that
#     closes after every response, three requests: one full handshake, two
#     resumed (px_origin_tls_handshakes, px_origin_tls_resumed; nginx's
#     $ssl_session_reused);
#   - forward_host: SNI and verification use the viewer's Host (its port
#     dropped); a Host the certificate does not name is refused; a pooled
#     connection verified for a.fwd.test is reused for a.fwd.test and never
#     for b.fwd.test;
#   - bodies byte for byte through an HTTPS origin: a small file, 10 MiB
#     down (HTTP and HTTPS viewers), 10 MiB up (Content-Length and chunked,
#     nginx DAV PUT, the stored file compared); keep-alive: two requests on
#     one viewer connection ride one pooled TLS origin connection;
#     pipelining: two requests in one write, two responses in order.

# shellcheck disable=SC2016 # check ... eval '...' expands when it runs
source "$(dirname "$0")/origin_lib.sh"

require_env
origin_require
origin_make_pki "$TMP_DIR/opki" || die "cannot make the origin PKI (see $TMP_DIR/opki/pki.log)"

BIG=$((10 << 20))

# ---------------------------------------------------------------- origin

P_PLAIN=8080      # plain HTTP
P_TLS=8443        # good chain, TLS 1.2 and 1.3
P_TLS12=8461      # TLS 1.2 only
P_TLS13=8467      # TLS 1.3 only
P_DUAL=8462       # ECDSA and RSA certificates, TLS 1.2 only
P_RES12=8463      # resumes sessions, closes after each response, TLS 1.2
P_RES13=8464      # the same, TLS 1.3
P_FWD=8465        # a.fwd.test and b.fwd.test, keep-alive
P_BODY=8466       # files and DAV PUT, keep-alive

ongx_init
GOOD=("$OPKI/good.chain" "$OPKI/good.key")
ongx_plain_server $P_PLAIN plain
ongx_tls_server $P_TLS tls "${GOOD[@]}"
ongx_tls_server $P_TLS12 tls12 "${GOOD[@]}" 'ssl_protocols TLSv1.2;'
ongx_tls_server $P_TLS13 tls13 "${GOOD[@]}" 'ssl_protocols TLSv1.3;'
# The client's cipher order decides (ssl_prefer_server_ciphers off), and
# RSA comes first in the server's list.
ongx_tls_server $P_DUAL dual "${GOOD[@]}" 'ssl_protocols TLSv1.2;' \
	"ssl_certificate $OPKI/rsa.chain;" "ssl_certificate_key $OPKI/rsa.key;" \
	'ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305;'
ongx_tls_server $P_RES12 res12 "${GOOD[@]}" 'ssl_protocols TLSv1.2;' "$ONGX_RESUME"
ongx_tls_server $P_RES13 res13 "${GOOD[@]}" 'ssl_protocols TLSv1.3;' "$ONGX_RESUME"
ongx_tls_server $P_FWD fwd "$OPKI/fwd.chain" "$OPKI/fwd.key" "$ONGX_KEEPALIVE"
ongx_tls_server $P_BODY body "${GOOD[@]}" "$ONGX_KEEPALIVE" \
	"root $ONGX_DIR/www;" \
	'location /b/upload/ { dav_methods PUT; create_full_put_path on; }' \
	'location / { default_type application/octet-stream; }'

mkdir -p "$ONGX_DIR/www/b/upload"
printf 'origin=body small file\n' >"$ONGX_DIR/www/b/small.txt"
head -c "$BIG" /dev/urandom >"$ONGX_DIR/www/b/big.bin"
head -c "$BIG" /dev/urandom >"$TMP_DIR/up.bin"

origin_stack_start

# ---------------------------------------------------------------- distribution

odist_reset site "$EDGE_HOST,a.fwd.test,b.fwd.test,c.fwd.test"
odist_origin p-https $P_TLS http_port=$P_PLAIN
odist_origin p-http $P_TLS http_port=$P_PLAIN protocol_policy=http-only
odist_origin p-match $P_TLS http_port=$P_PLAIN protocol_policy=match-viewer
odist_origin v13-on-12 $P_TLS12 'tls_protocols=["TLSv1.3"]'
odist_origin v12-on-12 $P_TLS12 'tls_protocols=["TLSv1.2"]'
odist_origin v12-on-13 $P_TLS13 'tls_protocols=["TLSv1.2"]'
odist_origin v13-on-13 $P_TLS13 'tls_protocols=["TLSv1.3"]'
odist_origin dual $P_DUAL
odist_origin res12 $P_RES12 'tls_protocols=["TLSv1.2"]'
odist_origin res13 $P_RES13 'tls_protocols=["TLSv1.3"]'
odist_origin fwd $P_FWD forward_host=true
odist_origin body $P_BODY
for o in p-https p-http p-match v13-on-12 v12-on-12 v12-on-13 v13-on-13 dual res12 res13 fwd; do
	odist_behavior "/$o/*" "$o"
done
odist_behavior "/b/*" body
odist_apply || die "apply refused"

ostats_next
E=$EDGE_HOST

# ---------------------------------------------------------------- policies

log "checks: origin protocol policies"
origin_req "https-only, HTTP viewer: TLS to the https_port" $P_TLS 200 tls "http://$E/p-https/h"
origin_req "https-only, HTTPS viewer: TLS to the https_port" $P_TLS 200 tls "https://$E/p-https/s"
origin_req "http-only, HTTP viewer: plain to the http_port" $P_PLAIN 200/plain plain "http://$E/p-http/h"
origin_req "http-only, HTTPS viewer: plain to the http_port" $P_PLAIN 200/plain plain "https://$E/p-http/s"
origin_req "match-viewer, HTTP viewer: plain to the http_port" $P_PLAIN 200/plain plain "http://$E/p-match/h"
origin_req "match-viewer, HTTPS viewer: TLS to the https_port" $P_TLS 200 tls "https://$E/p-match/s"

# ---------------------------------------------------------------- protocols

log "checks: tls_protocols"
origin_req "TLS 1.3 only against a TLS 1.2 origin" $P_TLS12 502/handshake tls12 "http://$E/v13-on-12/x"
origin_req "TLS 1.2 only against a TLS 1.3 origin" $P_TLS13 502/handshake tls13 "http://$E/v12-on-13/x"
origin_req "TLS 1.2 against a TLS 1.2 origin" $P_TLS12 200 tls12 "http://$E/v12-on-12/x"
check "  ... the origin logged TLSv1.2 ($(ongx_field "$ORQ_LINE" proto))" \
	[ "$(ongx_field "$ORQ_LINE" proto)" = TLSv1.2 ]
origin_req "TLS 1.3 against a TLS 1.3 origin" $P_TLS13 200 tls13 "http://$E/v13-on-13/x"
check "  ... the origin logged TLSv1.3 ($(ongx_field "$ORQ_LINE" proto))" \
	[ "$(ongx_field "$ORQ_LINE" proto)" = TLSv1.3 ]

# ---------------------------------------------------------------- ECDSA

log "checks: ECDSA preferred"
# Without this the check below could not fail: the origin does serve its
# RSA certificate to a client that prefers RSA.
served_rsa() {
	ip netns exec "$NS_VIEWER" timeout 10 openssl s_client -connect "$ORIGIN_ADDR:$P_DUAL" \
		-servername "$ORIGIN_DOMAIN" -tls1_2 \
		-cipher ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256 </dev/null 2>/dev/null |
		grep -q '^Server public key is 2048 bit'
}
check "the dual origin serves RSA to a client preferring it (openssl s_client)" served_rsa
origin_req "an origin with ECDSA and RSA certificates" $P_DUAL 200 dual "http://$E/dual/x"
check "  ... the edge negotiated ECDHE-ECDSA ($(ongx_field "$ORQ_LINE" cipher))" \
	grep -q '^ECDHE-ECDSA-' <<<"$(ongx_field "$ORQ_LINE" cipher)"

# ---------------------------------------------------------------- resumption

# resume_checks NAME PORT: three requests, each on a new origin connection
# (the origin closes after every response).
resume_checks() {
	local o=$1 port=$2 s0 i r reused=() conns=()
	log "checks: session resumption to the origin ($o)"
	s0=$OSTATS_CUR
	for i in 1 2 3; do
		origin_req "$o: request $i" "$port" 200 "$o" "http://$E/$o/$i"
		reused+=("$(ongx_field "$ORQ_LINE" reused)")
		conns+=("$(ongx_field "$ORQ_LINE" conn)")
	done
	r="${reused[*]}"
	check "$o: three origin connections (nginx connections ${conns[*]})" \
		[ "$(printf '%s\n' "${conns[@]}" | sort -u | grep -c .)" = 3 ]
	check "$o: the first a full handshake, the next two resumed (\$ssl_session_reused: $r)" \
		[ "$r" = ". r r" ]
	expect_delta "$s0" "$OSTATS_CUR" px_origin_tls_handshakes -eq 1
	expect_delta "$s0" "$OSTATS_CUR" px_origin_tls_resumed -eq 2
}
resume_checks res12 $P_RES12
resume_checks res13 $P_RES13

# ---------------------------------------------------------------- forward_host

log "checks: forward_host: the viewer's Host is the verified name"
s0=$OSTATS_CUR
declare -A FWD_CONN
# fwd_req TAG HOST WANT_SNI [curl ARGS...]
fwd_req() {
	local tag=$1 host=$2 sni=$3
	shift 3
	ORQ_SNI=$sni
	origin_req "forward_host, Host $host ($tag)" $P_FWD 200 fwd "http://$host/fwd/$tag" "$@"
	ORQ_SNI=
	FWD_CONN[$tag]=$(ongx_field "$ORQ_LINE" conn)
	check "  ... the origin saw Host $sni" [ "$(ongx_field "$ORQ_LINE" host)" = "$sni" ]
}
fwd_req a1 a.fwd.test a.fwd.test
fwd_req a2 a.fwd.test a.fwd.test
fwd_req b1 b.fwd.test b.fwd.test
fwd_req b2 b.fwd.test b.fwd.test -H 'Host: b.fwd.test:80'
fwd_req a3 a.fwd.test a.fwd.test
origin_req "forward_host, Host c.fwd.test (not in the origin's certificate)" $P_FWD 502/name fwd \
	"http://c.fwd.test/fwd/c1"
check "a.fwd.test's second request reused its pooled connection (nginx connections ${FWD_CONN[a1]}, ${FWD_CONN[a2]})" \
	eval '[ -n "${FWD_CONN[a1]}" ] && [ "${FWD_CONN[a1]}" = "${FWD_CONN[a2]}" ]'
fwd_disjoint() {
	local a b
	for a in "${FWD_CONN[a1]}" "${FWD_CONN[a2]}" "${FWD_CONN[a3]}"; do
		for b in "${FWD_CONN[b1]}" "${FWD_CONN[b2]}"; do
			[ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ] || return 1
		done
	done
}
check "no connection verified for a.fwd.test carried b.fwd.test, or the reverse (a: ${FWD_CONN[a1]} ${FWD_CONN[a2]} ${FWD_CONN[a3]}; b: ${FWD_CONN[b1]} ${FWD_CONN[b2]})" \
	fwd_disjoint
expect_delta "$s0" "$OSTATS_CUR" px_origin_reused -ge 1

# ---------------------------------------------------------------- bodies

log "checks: bodies byte for byte through an HTTPS origin"
W=$ONGX_DIR/www/b
code=$(ocurl "$TMP_DIR/small" "http://$E/b/small.txt")
check "small file: 200, same bytes" eval '[ "$code" = 200 ] && cmp -s "$TMP_DIR/small" "$W/small.txt"'
code=$(ocurl "$TMP_DIR/big" "http://$E/b/big.bin")
check "10 MiB download, HTTP viewer: 200 ($code), same bytes" \
	eval '[ "$code" = 200 ] && cmp -s "$TMP_DIR/big" "$W/big.bin"'
code=$(ocurl "$TMP_DIR/bigs" "https://$E/b/big.bin")
check "10 MiB download, HTTPS viewer: 200 ($code), same bytes" \
	eval '[ "$code" = 200 ] && cmp -s "$TMP_DIR/bigs" "$W/big.bin"'
code=$(ocurl "$TMP_DIR/put" "http://$E/b/upload/cl.bin" -T "$TMP_DIR/up.bin")
check "10 MiB upload (Content-Length): 201 ($code), the origin stored the same bytes" \
	eval '[ "$code" = 201 ] && cmp -s "$W/upload/cl.bin" "$TMP_DIR/up.bin"'
code=$(ocurl "$TMP_DIR/putc" "http://$E/b/upload/chunked.bin" -T "$TMP_DIR/up.bin" \
	-H 'Transfer-Encoding: chunked')
check "10 MiB upload (chunked): 201 ($code), the origin stored the same bytes" \
	eval '[ "$code" = 201 ] && cmp -s "$W/upload/chunked.bin" "$TMP_DIR/up.bin"'
code=$(ocurl "$TMP_DIR/puts" "https://$E/b/upload/tls.bin" -T "$TMP_DIR/up.bin")
check "10 MiB upload, HTTPS viewer: 201 ($code), the origin stored the same bytes" \
	eval '[ "$code" = 201 ] && cmp -s "$W/upload/tls.bin" "$TMP_DIR/up.bin"'

log "checks: keep-alive and pipelining through an HTTPS origin"
ostats_next
s0=$OSTATS_CUR
viewer timeout "$OCT" curl -sS --http1.1 --max-time "$OCT" --resolve "$E:80:$DP_ADDR" \
	-o "$TMP_DIR/ka1" -o "$TMP_DIR/ka2" -w '%{http_code} %{num_connects}\n' \
	"http://$E/b/small.txt?ka=1" "http://$E/b/big.bin?ka=2" >"$TMP_DIR/ka" 2>"$TMP_DIR/ka.err"
ostats_next
check "two requests on one viewer connection: 200 200, one connect ($(tr '\n' ' ' <"$TMP_DIR/ka"))" \
	[ "$(tr '\n' ' ' <"$TMP_DIR/ka")" = "200 1 200 0 " ]
check "  ... same bytes" eval 'cmp -s "$TMP_DIR/ka1" "$W/small.txt" && cmp -s "$TMP_DIR/ka2" "$W/big.bin"'
ongx_wait_logged $P_BODY '/b/big.bin?ka=2'
c1=$(ongx_field "$(ongx_log_line $P_BODY '/b/small.txt?ka=1')" conn)
c2=$(ongx_field "$(ongx_log_line $P_BODY '/b/big.bin?ka=2')" conn)
check "  ... one TLS origin connection carried both (nginx connections $c1, $c2)" \
	eval '[ -n "$c1" ] && [ "$c1" = "$c2" ]'
expect_delta "$s0" "$OSTATS_CUR" px_origin_reused -ge 1

viewer "$PY" - "$DP_ADDR" "$E" "$TMP_DIR/pipe" <<'PY'
import socket, sys, time
addr, host, out = sys.argv[1:]
s = socket.create_connection((addr, 80), timeout=10)
s.sendall(("GET /b/small.txt?pipe=1 HTTP/1.1\r\nHost: %s\r\n\r\n"
           "GET /b/big.bin?pipe=2 HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
           % (host, host)).encode())
buf = b""
deadline = time.time() + 20
while time.time() < deadline:
    d = s.recv(1 << 16)
    if not d:
        break
    buf += d
open(out, "wb").write(buf)
PY
check "pipelining: two responses in order, same bytes, then close" \
	"$PY" - "$TMP_DIR/pipe" "$W/small.txt" "$W/big.bin" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
want = [open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()]
for w in want:
    head, sep, b = b.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and sep, head[:200]
    n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
         if l.lower().startswith(b"content-length:")]
    assert n == [len(w)], (head, len(w))
    assert b[:n[0]] == w, "body differs"
    b = b[n[0]:]
assert b == b"", b[:100]
PY

# ---------------------------------------------------------------- accounting

log "checks: refusals never reached the origin"
origin_check_logged $P_PLAIN $P_TLS $P_TLS12 $P_TLS13 $P_DUAL $P_RES12 $P_RES13 $P_FWD

check "dataplane still running" dp_alive
test_exit
