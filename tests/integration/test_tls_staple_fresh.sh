#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# OCSP staples are taken fresh from the dataplane's staple cache on every
# handshake (crypto/wolfssl/patches/0003-*): staples pushed straight to the
# dataplane with staple_set / staple_del (what the control plane does after
# a fetch), openssl s_client -status from the viewer namespace:
#   - an ECDSA and an RSA certificate of one distribution, each with its own
#     staple, in TLS 1.2 and TLS 1.3: the response served is the one pushed
#     for the certificate served (same signature, same serial);
#   - the responses embed their signer certificate (openssl ocsp's
#     default), which the server sends as given;
#   - staple_set replacing a staple: the very next handshake serves the new
#     response, several times in a row and in both protocol versions;
#   - staple_del: the next handshake gets no staple;
#   - a distribution with mTLS required staples too, and the server's own
#     issuer is not a trust anchor for its viewers;
#   - with strace installed: once warm, handshakes make no openat, read or
#     getrandom syscall on the worker (DRBG seeds from the per-thread
#     generator, docs/TLS.md);
#   - the dataplane stops cleanly (with RAMPART_BUILD=build-asan: no leak).

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cp_lib.sh"

PY=${PYTHON:-/usr/bin/python3}
TLS_PORT=443
CT=10           # seconds one client command may take (bounds a hang)
HOST=test.example.com
MTLS_HOST=vip.test.example.com

require_env
require_cmd openssl base64 sha256sum "$PY"
[ -x "$CP_BIN" ] || die "$CP_BIN not found: build first"
[ -x "$CTL_BIN" ] || die "$CTL_BIN not found: build first"

# ---------------------------------------------------------------- PKI

# Two test PKIs (cp_lib.sh): an ECDSA and an RSA leaf for test.example.com
# and *.test.example.com, each issued by its own intermediate through
# `openssl ca`, so `openssl ocsp -index` can answer for it. Plus a viewers'
# CA with a client certificate, and a client certificate issued by the
# server's own ECDSA intermediate.
PKI_EC=$TMP_DIR/pki-ec
PKI_RSA=$TMP_DIR/pki-rsa
VW=$TMP_DIR/viewers
make_test_pki "$PKI_EC" ec || die "cannot make the ECDSA PKI (see $PKI_EC/pki.log)"
make_test_pki "$PKI_RSA" rsa || die "cannot make the RSA PKI (see $PKI_RSA/pki.log)"
cat "$PKI_EC/root.pem" "$PKI_RSA/root.pem" >"$TMP_DIR/roots.pem"
mkdir -p "$VW"
(
	cd "$VW" || exit 1
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >client.ext
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout ca.key -out ca.pem -days 30 -subj "/CN=Rampart Viewers CA" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign || exit 1
	client() { # NAME CA_PEM CA_KEY
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$1.key" -out "$1.csr" -subj "/CN=$1" &&
			openssl x509 -req -in "$1.csr" -CA "$2" -CAkey "$3" \
				-CAcreateserial -days 10 -extfile client.ext -out "$1.pem"
	}
	client viewer ca.pem ca.key && client intruder "$PKI_EC/int.pem" "$PKI_EC/int.key"
) >"$VW/pki.log" 2>&1 || die "cannot make the viewers' PKI (see $VW/pki.log)"

# ocsp_der PKI OUT [OPENSSL OCSP ARGS...]: a DER response for PKI's leaf,
# signed by its intermediate and, unless told otherwise, embedding it.
ocsp_der() {
	local pki=$1 out=$2
	shift 2
	openssl ocsp -issuer "$pki/int.pem" -cert "$pki/leaf.pem" -no_nonce \
		-reqout "$out.req" >>"$TMP_DIR/ocsp.log" 2>&1 &&
		openssl ocsp -index "$pki/int-db/index.txt" -rsigner "$pki/int.pem" \
			-rkey "$pki/int.key" -CA "$pki/int.pem" -reqin "$out.req" \
			-respout "$out" "$@" >>"$TMP_DIR/ocsp.log" 2>&1
}

# resp_sig TEXT_FILE: the signature of the first OCSP response printed in
# TEXT_FILE (`openssl ocsp -resp_text` or s_client -status), as one hex
# string; ECDSA signatures differ between any two responses made.
resp_sig() {
	sed -n '/OCSP Response Data:/,$p' "$1" |
		awk '/Signature Value:/ { on = 1; next }
		     on && /^ +[0-9a-f:]+$/ { gsub(/[ :]/, ""); s = s $0; next }
		     on { exit }
		     END { print s }'
}
# resp_serial TEXT_FILE: the certificate serial the response speaks for.
resp_serial() {
	sed -n '/OCSP Response Data:/,$s/^ *Serial Number: *\([0-9A-Fa-f]*\)$/\1/p' "$1" |
		head -n 1 | tr a-f A-F
}
der_text() { openssl ocsp -respin "$1" -resp_text -noverify >"$1.txt" 2>&1; }

der_fp() { openssl x509 -in "$1" -outform DER | sha256sum | awk '{ print $1 }'; }

# staple_set CERT_NAME LEAF_PEM DER_FILE: push DER as the leaf's staple,
# valid for an hour as far as the dataplane is concerned.
staple_set() {
	dp_ctl_json staple_set "fingerprint=$(der_fp "$2")" "cert=$1" \
		"der=$(base64 -w0 "$3")" "next_update=$(($(date +%s) + 3600))" \
		>>"$TMP_DIR/ctl.log" 2>&1
}
staple_del() {
	dp_ctl_json staple_del "fingerprint=$(der_fp "$1")" >>"$TMP_DIR/ctl.log" 2>&1
}

# ---------------------------------------------------------------- clients

# sclient OUT HOST ARGS...: openssl s_client -status to the dataplane from
# the viewer, sending nothing; OUT gets stdout and stderr.
sclient() {
	local out=$1 host=$2
	shift 2
	viewer timeout "$CT" openssl s_client -connect "$DP_ADDR:$TLS_PORT" \
		-servername "$host" -CAfile "$TMP_DIR/roots.pem" -status "$@" \
		</dev/null >"$out" 2>&1
}
# handshake_ok OUT: a cipher was agreed and no TLS error or alert came.
# (s_client prints the session summary even after an alert.)
handshake_ok() {
	grep -qE '^(New|Reused), TLSv1\.[23], Cipher is [A-Z0-9_-]+' "$1" &&
		! grep -q 'Cipher is (NONE)' "$1" && ! grep -q ':error:' "$1"
}
# served_serial OUT: serial of the leaf s_client received (upper-case hex);
# not the first PEM in OUT, which may be a certificate in the staple.
served_serial() {
	sed -n '/^Server certificate/,/-----END CERTIFICATE-----/p' "$1" |
		openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//' | tr a-f A-F
}
no_staple() { grep -q 'OCSP response: no response sent' "$1"; }

RSA_SIGALGS=rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:RSA+SHA256:RSA+SHA384

# expect_staple WHAT OUT DER_FILE: OUT completed a handshake and carries
# exactly the response in DER_FILE, for the certificate served.
expect_staple() {
	local what=$1 out=$2 der=$3 got want
	if ! handshake_ok "$out"; then
		fail "$what: handshake failed: $(grep -m1 -iE 'error|alert' "$out")"
		return
	fi
	if no_staple "$out"; then
		fail "$what: no staple sent"
		return
	fi
	got=$(resp_sig "$out")
	want=$(resp_sig "$der.txt")
	if [ -n "$want" ] && [ "$got" = "$want" ]; then
		pass "$what: the response pushed last is served"
	else
		fail "$what: served response ${got:0:16}..., pushed ${want:0:16}..."
	fi
	check "$what: its serial is the served leaf's ($(served_serial "$out"))" \
		[ "$(resp_serial "$out")" = "$(served_serial "$out")" ]
}

# ---------------------------------------------------------------- setup

setup_topology
# The distributions' origin: answers what the proxy forwarded.
echo_origin_start 192.0.2.80 80
dp_start 1 --https-port "$TLS_PORT"
cp_start
rctl cert import --name shop-ec --cert "$PKI_EC/chain.pem" --key "$PKI_EC/leaf.key" \
	--ca "$PKI_EC/root.pem" >/dev/null || die "cert import shop-ec: $(tail -n 3 "$TMP_DIR/rctl.err")"
rctl cert import --name shop-rsa --cert "$PKI_RSA/chain.pem" --key "$PKI_RSA/leaf.key" \
	--ca "$PKI_RSA/root.pem" >/dev/null || die "cert import shop-rsa: $(tail -n 3 "$TMP_DIR/rctl.err")"
rctl truststore create --name viewers --ca "$VW/ca.pem" >/dev/null ||
	die "truststore create: $(tail -n 3 "$TMP_DIR/rctl.err")"

dist_json() { # NAME ALIAS CERTS_JSON TLS_JSON FILE
	cat >"$5" <<EOF
{
  "name": "$1",
  "aliases": ["$2"],
  "certificates": $3,
  "tls": $4,
  "origins": [ { "id": "web", "domain": "origin.example.com", "address": "192.0.2.80", "protocol_policy": "http-only" } ],
  "default_behavior": { "origin": "web" }
}
EOF
}
dist_json shop "$HOST" '{ "ecdsa": "shop-ec", "rsa": "shop-rsa" }' \
	'{ "security_policy": "TLSv1.2_2021" }' "$TMP_DIR/shop.json"
dist_json vip "$MTLS_HOST" '{ "ecdsa": "shop-ec" }' \
	'{ "security_policy": "TLSv1.2_2021", "mtls": { "mode": "required", "trust_store": "viewers" } }' \
	"$TMP_DIR/vip.json"
for d in shop vip; do
	rctl apply -f "$TMP_DIR/$d.json" >/dev/null || die "apply $d: $(tail -n 3 "$TMP_DIR/rctl.err")"
done
dp_dists() { [ "$(rctl_dp --json status | jget - 'j["distributions"]')" = 2 ]; }
poll_wait 10 dp_dists || die "the dataplane never held both distributions"
wait_ping

# A response per certificate, and replacements: the ECDSA ones differ in
# their signatures, the RSA ones in their validity (-nmin) and so in their
# signatures too. All embed the intermediate that signed them.
for i in 1 2 3 4; do
	ocsp_der "$PKI_EC" "$TMP_DIR/ec$i.der" -nmin $((30 + i)) &&
		ocsp_der "$PKI_RSA" "$TMP_DIR/rsa$i.der" -nmin $((30 + i)) ||
		die "openssl ocsp failed (see $TMP_DIR/ocsp.log)"
	der_text "$TMP_DIR/ec$i.der" && der_text "$TMP_DIR/rsa$i.der"
done
ocsp_der "$PKI_EC" "$TMP_DIR/ec-nocerts.der" -nmin 40 -resp_no_certs &&
	der_text "$TMP_DIR/ec-nocerts.der" || die "openssl ocsp -resp_no_certs failed"
check "the test responses embed their signer (CN=Rampart Test Intermediate)" \
	grep -q 'Subject: CN *= *Rampart Test Intermediate' "$TMP_DIR/ec1.der.txt"

# ---------------------------------------------------------------- served

log "checks: each certificate's own staple, TLS 1.2 and 1.3"
sclient "$TMP_DIR/none.out" "$HOST"
check "before any staple_set: handshake without a staple" \
	eval 'handshake_ok "$TMP_DIR/none.out" && no_staple "$TMP_DIR/none.out"'
staple_set shop-ec "$PKI_EC/leaf.pem" "$TMP_DIR/ec1.der" || die "staple_set shop-ec refused: $(tail -n 2 "$TMP_DIR/ctl.log")"
staple_set shop-rsa "$PKI_RSA/leaf.pem" "$TMP_DIR/rsa1.der" || die "staple_set shop-rsa refused"
for v in 2 3; do
	sclient "$TMP_DIR/ec-$v.out" "$HOST" "-tls1_$v"
	expect_staple "TLS 1.$v ECDSA" "$TMP_DIR/ec-$v.out" "$TMP_DIR/ec1.der"
	sclient "$TMP_DIR/rsa-$v.out" "$HOST" "-tls1_$v" -sigalgs "$RSA_SIGALGS"
	check "TLS 1.$v RSA-only client: the RSA leaf is served" \
		[ "$(served_serial "$TMP_DIR/rsa-$v.out")" = \
		  "$(openssl x509 -in "$PKI_RSA/leaf.pem" -noout -serial | sed 's/^serial=//' | tr a-f A-F)" ]
	expect_staple "TLS 1.$v RSA" "$TMP_DIR/rsa-$v.out" "$TMP_DIR/rsa1.der"
	check "TLS 1.$v: the embedded responder certificate reached the client" \
		grep -q 'Subject: CN *= *Rampart Test Intermediate' "$TMP_DIR/ec-$v.out"
done

# ---------------------------------------------------------------- replaced

log "checks: a replaced staple reaches the very next handshake"
for i in 2 3 4; do
	v=$((i % 2 + 2))
	staple_set shop-ec "$PKI_EC/leaf.pem" "$TMP_DIR/ec$i.der" || fail "staple_set ec$i refused"
	staple_set shop-rsa "$PKI_RSA/leaf.pem" "$TMP_DIR/rsa$i.der" || fail "staple_set rsa$i refused"
	sclient "$TMP_DIR/ec-r$i.out" "$HOST" "-tls1_$v"
	expect_staple "replacement $i, TLS 1.$v ECDSA" "$TMP_DIR/ec-r$i.out" "$TMP_DIR/ec$i.der"
	sclient "$TMP_DIR/rsa-r$i.out" "$HOST" "-tls1_$v" -sigalgs "$RSA_SIGALGS"
	expect_staple "replacement $i, TLS 1.$v RSA" "$TMP_DIR/rsa-r$i.out" "$TMP_DIR/rsa$i.der"
done
staple_set shop-ec "$PKI_EC/leaf.pem" "$TMP_DIR/ec-nocerts.der" || fail "staple_set ec-nocerts refused"
sclient "$TMP_DIR/ec-nocerts.out" "$HOST" -tls1_3
expect_staple "a response without certificates replaces one with" \
	"$TMP_DIR/ec-nocerts.out" "$TMP_DIR/ec-nocerts.der"

# ---------------------------------------------------------------- mTLS

log "checks: a distribution with mTLS required staples too"
for v in 2 3; do
	sclient "$TMP_DIR/vip-$v.out" "$MTLS_HOST" "-tls1_$v" -cert "$VW/viewer.pem" -key "$VW/viewer.key"
	expect_staple "mTLS required, TLS 1.$v, viewer certificate" "$TMP_DIR/vip-$v.out" "$TMP_DIR/ec-nocerts.der"
done
sclient "$TMP_DIR/vip-intruder.out" "$MTLS_HOST" -tls1_2 -cert "$VW/intruder.pem" -key "$VW/intruder.key"
check "mTLS required: a client certificate from the server's own issuer is refused (unknown_ca)" \
	grep -q 'alert unknown ca' "$TMP_DIR/vip-intruder.out"
sclient "$TMP_DIR/vip-nocert.out" "$MTLS_HOST" -tls1_2
check "mTLS required: no client certificate is refused" \
	eval '! handshake_ok "$TMP_DIR/vip-nocert.out"'

# ---------------------------------------------------------------- under load

log "checks: staples replaced while handshakes keep coming"
# One client loop in the background, handshakes back to back; the test
# replaces the ECDSA staple each time two more handshakes have finished.
rm -f "$TMP_DIR/load.stop"
(
	i=0
	while [ ! -e "$TMP_DIR/load.stop" ] && [ "$i" -lt 200 ]; do
		i=$((i + 1))
		sclient "$TMP_DIR/load-$i.out.tmp" "$HOST" "-tls1_$((i % 2 + 2))"
		mv "$TMP_DIR/load-$i.out.tmp" "$TMP_DIR/load-$i.out"
	done
) &
LOAD_PID=$!
BG_PIDS+=("$LOAD_PID")
loads() { find "$TMP_DIR" -maxdepth 1 -name 'load-*.out' | wc -l; }
for r in 1 2 3 4 5 6 7 8; do
	want=$(($(loads) + 2))
	poll_wait 20 eval '[ "$(loads)" -ge '"$want"' ]' || { fail "the client loop stalled"; break; }
	staple_set shop-ec "$PKI_EC/leaf.pem" "$TMP_DIR/ec$((r % 4 + 1)).der" || fail "staple_set round $r refused"
done
touch "$TMP_DIR/load.stop"
poll_wait 30 proc_exited "$LOAD_PID" || fail "the client loop did not stop"
# The staple held when the loop started (ec-nocerts) or a replacement.
sigs=" $(for i in -nocerts 1 2 3 4; do resp_sig "$TMP_DIR/ec$i.der.txt"; done | tr '\n' ' ')"
n=0 bad=0
: >"$TMP_DIR/load.sigs"
for o in "$TMP_DIR"/load-*.out; do
	n=$((n + 1))
	resp_sig "$o" >>"$TMP_DIR/load.sigs"
	if ! handshake_ok "$o" || no_staple "$o"; then
		bad=$((bad + 1))
		log "  $(basename "$o"): $(grep -m1 -iE 'error|alert|no response' "$o")"
	elif [[ $sigs != *" $(resp_sig "$o") "* ]]; then
		bad=$((bad + 1))
		log "  $(basename "$o"): a response that was never pushed"
	fi
done
check "$n handshakes during 8 replacements: each completed with one of the pushed staples" \
	eval '[ "$n" -ge 16 ] && [ "$bad" = 0 ]'
check "  ... and between them all 5 responses pushed were served" \
	[ "$(grep . "$TMP_DIR/load.sigs" | sort -u | wc -l)" = 5 ]
sclient "$TMP_DIR/load-last.out" "$HOST" -tls1_3
expect_staple "after the load, the last staple pushed" "$TMP_DIR/load-last.out" "$TMP_DIR/ec$((8 % 4 + 1)).der"

# ---------------------------------------------------------------- withdrawn

log "checks: a withdrawn staple is not served"
staple_del "$PKI_EC/leaf.pem" || fail "staple_del shop-ec refused: $(tail -n 2 "$TMP_DIR/ctl.log")"
for v in 2 3; do
	sclient "$TMP_DIR/ec-del-$v.out" "$HOST" "-tls1_$v"
	check "after staple_del, TLS 1.$v ECDSA: handshake without a staple" \
		eval 'handshake_ok "$TMP_DIR/ec-del-$v.out" && no_staple "$TMP_DIR/ec-del-$v.out"'
done
sclient "$TMP_DIR/rsa-kept.out" "$HOST" -tls1_3 -sigalgs "$RSA_SIGALGS"
expect_staple "after staple_del of the ECDSA one, RSA keeps its own" \
	"$TMP_DIR/rsa-kept.out" "$TMP_DIR/rsa4.der"

# ---------------------------------------------------------------- syscalls

# One worker runs on the main lcore, so the worker thread's id is the
# dataplane's pid; strace -p attaches to that thread alone.
if command -v strace >/dev/null 2>&1; then
	log "checks: no seed syscalls on the worker during handshakes"
	strace -qq -e trace=openat,read,getrandom -p "$DP_PID" \
		-o "$TMP_DIR/strace.out" 2>"$TMP_DIR/strace.err" &
	ST_PID=$!
	BG_PIDS+=("$ST_PID")
	poll_wait 10 grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$DP_PID/task/$DP_PID/status" ||
		fail "strace did not attach: $(cat "$TMP_DIR/strace.err")"
	n=0
	for i in 1 2 3 4 5 6; do
		sclient "$TMP_DIR/st-$i.out" "$HOST" "-tls1_$((i % 2 + 2))" && handshake_ok "$TMP_DIR/st-$i.out" &&
			n=$((n + 1))
	done
	kill -INT "$ST_PID" 2>/dev/null
	poll_wait 10 proc_exited "$ST_PID"
	check "6 handshakes completed while traced" [ "$n" = 6 ]
	if [ ! -s "$TMP_DIR/strace.out" ]; then
		pass "no openat/read/getrandom on the worker thread"
	else
		fail "worker syscalls during handshakes: $(head -n 3 "$TMP_DIR/strace.out" | tr '\n' ' ')"
	fi
else
	log "  (strace not installed: the worker-syscall check is skipped)"
fi

check "the dataplane is still running" dp_alive
# In the sanitizer build (RAMPART_BUILD=build-asan) this is where
# LeakSanitizer would report staples or DRBG state left behind.
dp_stop TERM
check "the dataplane stops cleanly (exit 0; 23 would be LeakSanitizer)" [ "$DP_RC" = 0 ]
check "no sanitizer report" \
	eval '! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$DP_ERR"'
test_exit
