# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Helpers for the TLS integration tests (test_tls_*.sh); sources lib.sh and
# cp_lib.sh. A test calls require_env and tls_require, makes the test PKI
# (tls_make_pki), starts the stack (tls_start), imports certificates and
# applies distributions through rampartctl (tls_cert_import, tls_dist_apply),
# then drives real clients from the viewer namespace (tls_get, tls_sclient).
#
# Test PKI (tls_make_pki DIR), every name a file in DIR:
#   root.pem/.key          "Rampart TLS Test Root" (ECDSA P-256)
#   int.pem/.key           intermediate, signs every server leaf through
#                          `openssl ca` (int-db/), so leaves can be revoked
#                          and answered by `openssl ocsp` (tls_ocsp_start)
#   shop-ec, shop-rsa      leaves for shop.example.com and *.shop.example.com,
#                          ECDSA P-256 and RSA-2048
#   other-ec               a leaf for other.example.com (ECDSA P-256), no AIA
#     NAME.pem (leaf), NAME.key, NAME.chain (leaf + intermediate)
#   client-ca.pem/.key     the viewers' CA (cli-db/), client.crl.pem its CRL
#   client-good            a client certificate it signed (clientAuth)
#   client-expired         signed by it, expired a year ago
#   client-revoked         signed by it, revoked in client.crl.pem
#   client-untrusted       signed by rogue-ca.pem, which no trust store holds
# With OCSP_URL set before tls_make_pki, server leaves name it in their AIA.
#
# Backends: RAMPART_TLS_BACKEND=rampart (the default) talks TLS to the
# dataplane on $DP_ADDR:$TLS_PORT. RAMPART_TLS_BACKEND=nginx is a stand-in
# used to validate the tests' own logic while the engine is not there: the
# dataplane and control plane still run (rampartctl validates every object),
# and nginx in the dataplane's namespace serves the same certificates,
# distributions, ticket keys and trust stores on a kernel address
# ($NGX_ADDR) of the dataplane's veth, answering the same kind of body.
# Checks of rampart-only behaviour (counters, handshake failures where nginx
# answers 400) consult tls_is_rampart.
#
# Requests go through the dataplane's HTTP proxy to an echo origin
# (echo_origin.py, started by tls_start in the viewer namespace on
# $TLS_ORIGIN_ADDR:80, the origin address tls_dist_json configures, over
# http-only). It answers `HTTP/1.1 200 OK` with a small text body of
# "key: value" lines built from what the edge forwarded (distribution,
# protocol, cipher, resumed yes/no, mtls ok/none/failed/off,
# client_subject); tls_body_field reads it. What no header carries is read
# from the client's side: the certificate served (tls_served_fp) and ALPN
# (tls_alpn).

# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integration/cp_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cp_lib.sh"

PY=${PYTHON:-/usr/bin/python3}
TLS_BACKEND=${RAMPART_TLS_BACKEND:-rampart}
TLS_PORT=${RAMPART_TLS_PORT:-443}
NGX_ADDR=192.0.2.20
TLS_ORIGIN_ADDR=192.0.2.80
TLS_ADDR=
PKI=
NGX_DIR=
NGX_PID=
OCSP_PORT=8080
OCSP_PID=
# Seconds one client command may take; a handshake on an idle 2-core box
# takes milliseconds, so this only bounds a hang.
TLS_CLIENT_TIMEOUT=${RAMPART_TLS_CLIENT_TIMEOUT:-10}

tls_is_rampart() { [ "$TLS_BACKEND" = rampart ]; }

# tls_require: the clients every TLS test uses, and the backend's binaries.
tls_require() {
	require_cmd openssl curl gnutls-cli stdbuf "$PY"
	[ -x "$CP_BIN" ] || die "$CP_BIN not found: build first"
	[ -x "$CTL_BIN" ] || die "$CTL_BIN not found: build first"
	case $TLS_BACKEND in
	rampart) ;;
	nginx) require_cmd nginx ;;
	*) die "RAMPART_TLS_BACKEND=$TLS_BACKEND: want rampart or nginx" ;;
	esac
}

# dp_has_option OPT: the dataplane's --help names OPT.
dp_has_option() {
	"$DP_BIN" --no-huge --no-pci -- --help 2>&1 | grep -q -- "$1"
}

# ---------------------------------------------------------------- PKI

# _tls_ca_cnf DIR DB CA_CERT CA_KEY: an `openssl ca` configuration with the
# server-leaf and client-leaf extension sections; SANs come from $TLS_SAN.
_tls_ca_cnf() {
	cat <<CNF
[ca]
default_ca = ca_default
[ca_default]
dir = $2
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
certificate = $3
private_key = $4
default_md = sha256
default_days = 10
default_crl_days = 7
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = \$ENV::TLS_SAN
${OCSP_URL:+authorityInfoAccess = OCSP;URI:$OCSP_URL}
[server_noaia]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = \$ENV::TLS_SAN
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF
}

# _tls_newkey FILE ec|rsa
_tls_newkey() {
	if [ "$2" = rsa ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"
	else
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
	fi
}

# _tls_ca_init DIR NAME SUBJECT [SIGNER [PATHLEN]]: a CA (self-signed, or
# signed by SIGNER.pem/.key in DIR with that path length, 0 by default)
# with an `openssl ca` database in DIR/NAME-db.
_tls_ca_init() {
	local d=$1 n=$2 subj=$3 signer=${4:-} pathlen=${5:-0}
	mkdir -p "$d/$n-db"
	: >"$d/$n-db/index.txt"
	echo 1000 >"$d/$n-db/serial"
	echo 01 >"$d/$n-db/crlnumber"
	_tls_newkey "$d/$n.key" ec || return 1
	if [ -z "$signer" ]; then
		openssl req -x509 -new -key "$d/$n.key" -days 30 -subj "$subj" \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign -out "$d/$n.pem" || return 1
	else
		openssl req -new -key "$d/$n.key" -subj "$subj" -out "$d/$n.csr" || return 1
		printf 'basicConstraints=critical,CA:TRUE,pathlen:%s\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n' \
			"$pathlen" >"$d/$n.ext"
		openssl x509 -req -in "$d/$n.csr" -CA "$d/$signer.pem" -CAkey "$d/$signer.key" \
			-CAcreateserial -days 30 -extfile "$d/$n.ext" -out "$d/$n.pem" || return 1
	fi
	_tls_ca_cnf "$d" "$d/$n-db" "$d/$n.pem" "$d/$n.key" >"$d/$n.cnf"
}

# tls_issue DIR CA NAME ec|rsa CN SANS [EXTRA openssl ca ARGS...]: a server
# leaf (SANS non-empty, "DNS:a,DNS:b") or a client leaf (SANS "") signed by
# CA. Writes NAME.pem, NAME.key, NAME.chain. TLS_NO_AIA=1: a server leaf
# without the OCSP responder of $OCSP_URL.
tls_issue() {
	local d=$1 ca=$2 n=$3 kt=$4 cn=$5 sans=$6 ext=server
	shift 6
	[ "${TLS_NO_AIA:-0}" = 1 ] && ext=server_noaia
	[ -n "$sans" ] || ext=client
	(
		cd "$d" || exit 1
		_tls_newkey "$n.key" "$kt" || exit 1
		openssl req -new -key "$n.key" -subj "/CN=$cn" -out "$n.csr" || exit 1
		TLS_SAN=${sans:-DNS:unused} openssl ca -batch -config "$ca.cnf" \
			-extensions "$ext" -in "$n.csr" -out "$n.pem" -notext "$@" || exit 1
		cat "$n.pem" "$ca.pem" >"$n.chain"
	) >>"$d/pki.log" 2>&1
}

# tls_make_pki DIR: the PKI described at the top of this file.
tls_make_pki() {
	local d=$1
	mkdir -p "$d"
	PKI=$d
	{
		_tls_ca_init "$d" root "/CN=Rampart TLS Test Root" &&
			_tls_ca_init "$d" int "/CN=Rampart TLS Test Intermediate" root &&
			_tls_ca_init "$d" client-ca "/CN=Rampart Viewer CA" &&
			_tls_ca_init "$d" rogue-ca "/CN=Rogue Viewer CA"
	} >>"$d/pki.log" 2>&1 || return 1
	tls_issue "$d" int shop-ec ec shop.example.com "DNS:shop.example.com,DNS:*.shop.example.com" &&
		tls_issue "$d" int shop-rsa rsa shop.example.com "DNS:shop.example.com,DNS:*.shop.example.com" &&
		TLS_NO_AIA=1 tls_issue "$d" int other-ec ec other.example.com "DNS:other.example.com" &&
		tls_issue "$d" client-ca client-good ec "viewer-good" "" &&
		tls_issue "$d" client-ca client-revoked ec "viewer-revoked" "" &&
		tls_issue "$d" client-ca client-expired ec "viewer-expired" "" \
			-startdate 20200101000000Z -enddate 20200201000000Z &&
		tls_issue "$d" rogue-ca client-untrusted ec "viewer-untrusted" "" || return 1
	(
		cd "$d" || exit 1
		export TLS_SAN=DNS:unused
		openssl ca -config client-ca.cnf -revoke client-revoked.pem &&
			openssl ca -config client-ca.cnf -gencrl -out client.crl.pem
	) >>"$d/pki.log" 2>&1
}

# tls_fingerprint PEM: the SHA-256 fingerprint of the first certificate,
# colon-separated upper-case hex (openssl x509 -fingerprint).
tls_fingerprint() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'
}

# ---------------------------------------------------------------- stack

# tls_start [CP ARGS...]: topology, dataplane (with $TLS_DP_ARGS), control
# plane (with CP ARGS), and the nginx stand-in when that is the backend.
TLS_DP_ARGS=()
tls_start() {
	setup_topology
	if tls_is_rampart; then
		echo_origin_start "$TLS_ORIGIN_ADDR" 80
		dp_start 1 ${TLS_DP_ARGS[@]+"${TLS_DP_ARGS[@]}"}
		TLS_ADDR=$DP_ADDR
	else
		dp_start 1
		ip -n "$NS_DP" addr add "$NGX_ADDR/$DP_PREFIX" dev "$VETH_DP" ||
			die "cannot address $NGX_ADDR on $VETH_DP"
		TLS_ADDR=$NGX_ADDR
		ngx_init
	fi
	cp_start "$@"
	wait_ping "$TLS_ADDR"
}

# tls_cert_import NAME CHAIN KEY [--replace]: through the control plane.
tls_cert_import() {
	local n=$1 chain=$2 key=$3
	shift 3
	rctl cert import --name "$n" --cert "$chain" --key "$key" --ca "$PKI/root.pem" "$@" \
		>/dev/null || {
		log "cert import $n: $(tail -n 1 "$TMP_DIR/rctl.err")"
		return 1
	}
	if ! tls_is_rampart; then
		mkdir -p "$NGX_DIR/certs"
		cp "$chain" "$NGX_DIR/certs/$n.chain" && cp "$key" "$NGX_DIR/certs/$n.key"
		ngx_reload
	fi
}

# tls_truststore NAME CA_PEM [CRL_PEM] [--replace]
tls_truststore() {
	local n=$1 ca=$2 crl=${3:-}
	local args=(--name "$n" --ca "$ca")
	[ -n "$crl" ] && args+=(--crl "$crl")
	shift $(($# < 3 ? $# : 3))
	rctl truststore create "${args[@]}" "$@" >/dev/null || {
		log "truststore create $n: $(tail -n 1 "$TMP_DIR/rctl.err")"
		return 1
	}
	if ! tls_is_rampart; then
		mkdir -p "$NGX_DIR/ts"
		cp "$ca" "$NGX_DIR/ts/$n.ca"
		if [ -n "$crl" ]; then cp "$crl" "$NGX_DIR/ts/$n.crl"; else rm -f "$NGX_DIR/ts/$n.crl"; fi
		ngx_reload
	fi
}

# tls_dist_json NAME ALIASES EC_CERT RSA_CERT [PATH=JSON...]: a distribution
# on stdout. ALIASES is comma-separated; an empty cert name leaves that key
# type out; PATH=JSON sets a (dotted) field, e.g. default=true or
# tls.mtls='{"mode":"required","trust_store":"viewers"}'.
tls_dist_json() {
	"$PY" - "$@" <<'PY'
import json, sys
name, aliases, ec, rsa, *sets = sys.argv[1:]
d = {
    "name": name,
    "aliases": aliases.split(","),
    "certificates": {},
    "origins": [{"id": "web", "domain": "origin.example.com", "address": "192.0.2.80",
                 "protocol_policy": "http-only"}],
    "default_behavior": {"origin": "web"},
}
if ec:
    d["certificates"]["ecdsa"] = ec
if rsa:
    d["certificates"]["rsa"] = rsa
for s in sets:
    path, _, val = s.partition("=")
    try:
        v = json.loads(val)
    except ValueError:
        v = val
    o = d
    keys = path.split(".")
    for k in keys[:-1]:
        o = o.setdefault(k, {})
    o[keys[-1]] = v
print(json.dumps(d, indent=1))
PY
}

# tls_dist_apply NAME ALIASES EC_CERT RSA_CERT [PATH=JSON...]: apply through
# the control plane, then wait until the dataplane runs that generation.
tls_dist_apply() {
	local f=$TMP_DIR/dist-$1.json
	tls_dist_json "$@" >"$f" || return 1
	cp_apply "$f" || return 1
	if ! tls_is_rampart; then
		mkdir -p "$NGX_DIR/dists"
		cp "$f" "$NGX_DIR/dists/$1.json"
		ngx_reload
	fi
}


# tls_tickets_rotate: one ticket-key rotation, finished when it returns.
tls_tickets_rotate() {
	rctl tickets rotate >/dev/null || return 1
	tls_is_rampart || ngx_tickets_rotate
}

# ---------------------------------------------------------------- clients

# tls_sclient OUT [s_client ARGS...]: one connection from the viewer that
# sends a GET for Host $TLS_HOST and reads until the server closes; stdout
# in OUT, then stderr appended (alerts and errors). s_client prints its
# session dumps through stdio but the server's data with write(2): stdbuf
# keeps the two from interleaving mid-line. -ign_eof keeps s_client
# reading after its stdin ends, so a TLS 1.3 session ticket (sent after the
# handshake) is seen before -sess_out writes. Returns s_client's status.
TLS_HOST=x
tls_sclient() {
	local out=$1 rc
	shift
	printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$TLS_HOST" |
		viewer timeout "$TLS_CLIENT_TIMEOUT" stdbuf -o0 openssl s_client \
			-connect "$TLS_ADDR:$TLS_PORT" -ign_eof -CAfile "$PKI/root.pem" "$@" \
			>"$out" 2>"$out.err"
	rc=$?
	cat "$out.err" >>"$out"
	return $rc
}

# tls_get OUT SNI [s_client ARGS...]: tls_sclient with SNI (empty: none) and
# chain verification; succeeds when the handshake verified and the origin's
# 200 came back through the proxy.
tls_get() {
	local out=$1 sni=$2
	shift 2
	local args=(-verify_return_error)
	if [ -n "$sni" ]; then args+=(-servername "$sni"); else args+=(-noservername); fi
	TLS_HOST=${sni:-x} tls_sclient "$out" "${args[@]}" "$@" && grep -q '^HTTP/1.1 200' "$out"
}

# tls_reused OUT: s_client resumed the session ("Reused, ...").
tls_reused() { grep -q '^Reused, ' "$1"; }
# tls_new OUT: a full handshake ("New, ...") that completed.
tls_new() { grep -q '^New, TLSv1\.[23]' "$1"; }

# tls_alpn OUT: the protocol s_client says ALPN selected (run it with
# -alpn); empty when none.
tls_alpn() { sed -n 's/^ALPN protocol: //p' "$1" | head -n 1; }

# tls_body_field OUT KEY: a field of the echo origin's body, accepting
# "key: value" and "key=value" forms on separate lines or space-separated
# (KEY is matched case-insensitively); empty when absent.
tls_body_field() {
	awk -v k="$2" '
		BEGIN { k = tolower(k) }
		body { for (i = 1; i <= NF; i++) {
			f = $i; sub(/\r$/, "", f)
			p = index(f, "=")
			if (p && tolower(substr(f, 1, p - 1)) == k) { print substr(f, p + 1); exit }
			if (tolower(f) == k ":" && i < NF) { v = $(i + 1); sub(/\r$/, "", v); print v; exit }
		} }
		/^\r?$/ && hdr { body = 1 }
		/^HTTP\/1\.1 / { hdr = 1 }' "$1"
}

# tls_served_cert OUT PEM: the leaf certificate s_client printed, as PEM.
# (s_client prints it after "Server certificate"; a stapled OCSP response
# printed before may carry its responder's certificate.)
tls_served_cert() {
	awk '/^Server certificate/ { on = 1; next }
		on && /-----BEGIN CERTIFICATE-----/ { pr = 1 }
		pr { print }
		pr && /-----END CERTIFICATE-----/ { exit }' "$1" >"$2"
	[ -s "$2" ]
}

# tls_served_fp OUT: the SHA-256 fingerprint of the leaf served.
tls_served_fp() {
	local pem=$TMP_DIR/served.$$.pem
	tls_served_cert "$1" "$pem" && tls_fingerprint "$pem"
}

# tls_dp_stat NAME: one summed dataplane counter (rampartctl --json stats
# straight to the dataplane's socket); empty when absent.
tls_dp_stat() {
	rctl_dp --json stats | jget - "j['total'].get('$1', '')"
}

# tls_stats FILE: every summed counter as NAME VALUE lines (stat_get,
# expect_delta of lib.sh read them).
tls_stats() { dp_stats "$1"; }

# ---------------------------------------------------------------- OCSP

# tls_ocsp_start: `openssl ocsp` answering for the intermediate's leaves on
# the viewer namespace's loopback (the control plane runs there, see
# test_ocsp.sh), each response valid for one minute.
tls_ocsp_start() {
	ip netns exec "$NS_VIEWER" openssl ocsp -index "$PKI/int-db/index.txt" \
		-port "$OCSP_PORT" -rsigner "$PKI/int.pem" -rkey "$PKI/int.key" \
		-CA "$PKI/int.pem" -nmin 1 >>"$TMP_DIR/responder.log" 2>&1 &
	OCSP_PID=$!
	BG_PIDS+=("$OCSP_PID")
	poll_wait 10 grep -q 'waiting for OCSP client' "$TMP_DIR/responder.log" ||
		die "openssl ocsp responder did not start"
}
tls_ocsp_stop() { [ -n "$OCSP_PID" ] && kill_wait "$OCSP_PID"; }

# tls_ocsp_der NAME OUT [NMIN]: a DER OCSP response for leaf NAME signed by
# the intermediate, made offline (`openssl ocsp -respout` against the index).
tls_ocsp_der() {
	local n=$1 out=$2 nmin=${3:-10}
	(
		cd "$PKI" || exit 1
		openssl ocsp -issuer int.pem -cert "$n.pem" -reqout "$n.req" -no_nonce &&
			openssl ocsp -index int-db/index.txt -rsigner int.pem -rkey int.key \
				-CA int.pem -reqin "$n.req" -respout "$out" -nmin "$nmin"
	) >>"$PKI/pki.log" 2>&1
}

# ---------------------------------------------------------------- nginx stand-in

ngx_conf() {
	"$PY" - "$NGX_DIR" "$TLS_ADDR" "$TLS_PORT" <<'PY'
import glob, json, os, sys
d, addr, port = sys.argv[1:]
tickets = sorted(glob.glob(os.path.join(d, "tickets", "k*")),
                 key=lambda p: int(os.path.basename(p)[1:]), reverse=True)
out = ["worker_processes 1;", "pid %s/nginx.pid;" % d, "error_log %s/../nginx.log info;" % d,
       "events { worker_connections 4096; }", "http {", "  access_log off;",
       "  ssl_protocols TLSv1.2 TLSv1.3;",
       "  ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
       "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
       "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;",
       "  ssl_ecdh_curve X25519:prime256v1:secp384r1;",
       "  ssl_session_cache off;", "  ssl_session_tickets on;",
       "  map $ssl_session_reused $rp_resumed { r yes; default no; }",
       "  map $ssl_client_verify $rp_mtls { SUCCESS ok; NONE none; default failed; }"]
for t in tickets:
    out.append("  ssl_session_ticket_key %s;" % t)
dists = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(d, "dists", "*.json")))]
if not any(x.get("default") for x in dists) and dists:
    dists[0]["default"] = True
for x in dists:
    listen = "  listen %s:%s ssl%s;" % (addr, port, " default_server" if x.get("default") else "")
    out += ["  server {", listen, "    server_name %s;" % " ".join(x["aliases"])]
    for k in ("ecdsa", "rsa"):
        c = x.get("certificates", {}).get(k)
        if c:
            out.append("    ssl_certificate %s/certs/%s.chain;" % (d, c))
            out.append("    ssl_certificate_key %s/certs/%s.key;" % (d, c))
    pol = x.get("tls", {}).get("security_policy", "TLSv1.2_2021")
    if pol == "TLSv1.3_2025":
        out.append("    ssl_protocols TLSv1.3;")
    m = x.get("tls", {}).get("mtls", {})
    mode = m.get("mode", "off")
    if mode != "off":
        ts = m["trust_store"]
        # optional_no_ca: like the engine, an optional client with a bad
        # certificate is served and the failure reported in the body.
        out.append("    ssl_verify_client %s;" % ("on" if mode == "required" else "optional_no_ca"))
        out.append("    ssl_client_certificate %s/ts/%s.ca;" % (d, ts))
        if os.path.exists(os.path.join(d, "ts", ts + ".crl")):
            out.append("    ssl_crl %s/ts/%s.crl;" % (d, ts))
    stp = os.path.join(d, "staple-%s.der" % x["name"])
    if os.path.exists(stp):
        out += ["    ssl_stapling on;", "    ssl_stapling_file %s;" % stp]
    out.append("    location / { default_type text/plain; return 200 "
               "\"distribution: %s\\nprotocol: $ssl_protocol\\ncipher: $ssl_cipher\\n"
               "resumed: $rp_resumed\\nmtls: $rp_mtls\\n"
               "client_subject: $ssl_client_s_dn\\n\"; }" % x["name"])
    out.append("  }")
out.append("}")
print("\n".join(out))
PY
}

ngx_init() {
	NGX_DIR=$TMP_DIR/nginx
	NGX_ERR=$TMP_DIR/nginx.log
	mkdir -p "$NGX_DIR/certs" "$NGX_DIR/ts" "$NGX_DIR/dists" "$NGX_DIR/tickets"
	head -c 80 /dev/urandom >"$NGX_DIR/tickets/k0"
}

ngx_workers() { pgrep -P "$NGX_PID" 2>/dev/null | sort; }
ngx_has_workers() { [ -n "$(ngx_workers)" ]; }
# ngx_new_worker OLD_LIST: a worker not in OLD_LIST runs.
ngx_new_worker() { [ -n "$(comm -13 <(echo "$1") <(ngx_workers))" ]; }
# ngx_old_gone OLD_LIST: no worker of OLD_LIST runs any more.
ngx_old_gone() { [ -z "$(comm -12 <(echo "$1") <(ngx_workers))" ]; }

# ngx_reload: write the configuration; start nginx, or reload it and wait
# until the new worker serves.
ngx_reload() {
	local old
	ngx_conf >"$NGX_DIR/nginx.conf" || die "cannot render the nginx configuration"
	[ -n "$(ls "$NGX_DIR/dists")" ] || return 0
	ip netns exec "$NS_DP" nginx -t -q -c "$NGX_DIR/nginx.conf" -e "$NGX_ERR" 2>>"$NGX_ERR" ||
		die "nginx refuses its configuration: $(tail -n 3 "$NGX_ERR")"
	if [ -z "$NGX_PID" ]; then
		ip netns exec "$NS_DP" nginx -c "$NGX_DIR/nginx.conf" -e "$NGX_ERR" \
			-g 'daemon off;' </dev/null >>"$NGX_ERR" 2>&1 &
		NGX_PID=$!
		BG_PIDS+=("$NGX_PID")
		poll_wait 10 ngx_has_workers || die "nginx did not start"
		return 0
	fi
	old=$(ngx_workers)
	kill -HUP "$NGX_PID"
	# The old worker exits once its connections are done; the new one is a
	# fresh child.
	poll_wait 10 ngx_new_worker "$old" ||
		die "nginx did not reload"
	# An old worker accepts until it has seen the reload; one holding
	# connections (test_tls_hotswap) stays longer, so this wait is bounded
	# and not an error.
	poll_wait 5 ngx_old_gone "$old" || true
}

# ngx_tickets_rotate: a fresh encrypting key; keep as many old ones as the
# control plane would (TLS_TICKET_KEPT, default 2).
ngx_tickets_rotate() {
	local kept=${TLS_TICKET_KEPT:-2} last i
	last=$(find "$NGX_DIR/tickets" -name 'k*' | sed 's/.*k//' | sort -n | tail -n 1)
	head -c 80 /dev/urandom >"$NGX_DIR/tickets/k$((last + 1))"
	for ((i = 0; i <= last - kept; i++)); do rm -f "$NGX_DIR/tickets/k$i"; done
	ngx_reload
}

# tls_body_yes OUT KEY / tls_body_no OUT KEY: a yes/no field of the body.
tls_body_yes() { tls_body_field "$1" "$2" | grep -qiE '^(yes|true|1|r)$'; }
tls_body_no() { tls_body_field "$1" "$2" | grep -qiE '^(no|false|0|\.)$'; }

# tls_der_fp PEM: the lowercase hex SHA-256 of the certificate's DER, the
# staple cache's key.
tls_der_fp() { openssl x509 -in "$1" -outform DER | sha256sum | awk '{ print $1 }'; }

# tls_staple_set CERT_NAME DER_FILE NEXT_UPDATE: push a staple for leaf
# $PKI/CERT_NAME.pem straight to the dataplane (what the control plane does
# after a fetch); the nginx stand-in serves the DER of its distribution
# DIST from a file instead (TLS_NGX_DIST, default the certificate's name).
tls_staple_set() {
	local n=$1 der=$2 nu=$3
	if tls_is_rampart; then
		dp_ctl_json staple_set "fingerprint=$(tls_der_fp "$PKI/$n.pem")" "cert=$n" \
			"der=$(base64 -w0 "$der")" "next_update=$nu" >/dev/null
	else
		cp "$der" "$NGX_DIR/staple-${TLS_NGX_DIST:-$n}.der" && ngx_reload
	fi
}

# tls_status_serial OUT: the serial number of the certificate the stapled
# OCSP response s_client -status printed speaks for (hex, upper case).
tls_status_serial() {
	sed -n '/OCSP Response Data:/,/^=*$/s/^ *Serial Number: *//p' "$1" | head -n 1 | tr a-f A-F
}

# tls_served_serial OUT: the serial number of the leaf served (hex, upper).
tls_served_serial() {
	local pem=$TMP_DIR/served.$$.pem
	tls_served_cert "$1" "$pem" && openssl x509 -in "$pem" -noout -serial | sed 's/^serial=//' | tr a-f A-F
}
