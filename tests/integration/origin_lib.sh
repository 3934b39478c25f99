# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Helpers for the origin-TLS integration tests (test_origin_tls*.sh);
# sources tls_lib.sh (and through it lib.sh and cp_lib.sh). A test calls
# require_env and origin_require, makes the origin PKI (origin_make_pki),
# declares nginx servers (ongx_tls_server, ongx_plain_server) and starts
# them (ongx_start), starts the stack (origin_stack_start: also the trust
# stores origin-ca and origin-crl and the edge's certificate), then builds
# and applies distributions (odist_*) and drives viewers from the viewer
# namespace (ocurl), or has one request judged whole (origin_req: status,
# body, X-Cache, the origin's own log, the counters, the access log's
# reason) and checks at the end that the origin saw nothing it should not
# have (origin_check_logged).
#
# Topology: lib.sh's, plus a third namespace for the origin ($NS_ORIGIN),
# joined to the viewer namespace by a veth pair of its own on another
# subnet (198.51.100.0/24: the viewer's end $ORIGIN_ROUTER_ADDR, the
# origin's $ORIGIN_ADDR, its default route through the viewer). The viewer
# namespace forwards between its two veths (net.ipv4.ip_forward there
# only), and the dataplane, started with --gateway $VIEWER_ADDR, sends its
# active opens to the off-subnet origin through it:
#
#   dataplane 192.0.2.10 -- viewer 192.0.2.1 | 198.51.100.1 -- origin 198.51.100.2
#
# Viewers (curl, s_client) still run in the viewer namespace and reach the
# origin directly over its veth. One nginx, one port per certificate chain,
# each port logging to its own access log (ongx_log_*), in the `otls`
# format: port, method, URI, Host, SNI, $ssl_protocol, $ssl_cipher,
# $ssl_session_reused, nginx's connection serial, status. By default an
# origin port neither keeps connections alive nor resumes sessions (every
# request is a fresh full handshake), so a test that is not about pooling or
# resumption sees exactly one verification per request; ONGX_KEEPALIVE and
# ONGX_RESUME in a server's directives turn them on.
#
# Origin PKI (origin_make_pki DIR), every name a file in DIR:
#   root.pem/.key      "Origin Test Root" (ECDSA P-256), root.cnf/root-db/
#   int1.pem/.key      "Origin Test Intermediate 1", issued by the root,
#                      pathlen 1 (it issues int2)
#   int2.pem/.key      "Origin Test Intermediate 2", issued by int1
#   leaves, NAME.pem/.key, and NAME.chain (what an origin port presents):
#     good         origin.test, by int1; chain leaf, int1
#     wrongname    wrong.test, by int1; chain leaf, int1
#     hostonly     $EDGE_HOST only (the viewer's Host), by int1; leaf, int1
#     expired      origin.test, by int1, valid 2020-01-01..2020-02-01
#     selfsigned   origin.test, self-signed (CA:FALSE); chain the leaf
#     missing      origin.test, by int1; chain the leaf alone
#     misordered   origin.test, by int2; chain leaf, int1, int2 (int2
#                  issued the leaf, int1 issued int2: out of order)
#     revoked      origin.test, by the root; chain the leaf alone; revoked
#                  in root.crl.pem (the root's CRL)
#     rsa          origin.test, RSA-2048, by int1; chain leaf, int1
#     fwd          a.fwd.test and b.fwd.test, by int1; leaf, int1
#     edge         the edge's own certificate for viewers ($EDGE_HOST and
#                  a/b/c.fwd.test), by int1; leaf, int1
#   rogue.key          a key no certificate holds (a pin matching nothing)
# Pins: origin_pin PEM (a certificate) or origin_key_pin KEY.

# shellcheck source=tests/integration/tls_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/tls_lib.sh"

NS_ORIGIN=rampart-origin-$SUFFIX
VETH_ORIGIN_R=rpr$SUFFIX   # the viewer's (router's) end
VETH_ORIGIN=rpo$SUFFIX     # the origin's end
ORIGIN_ROUTER_ADDR=198.51.100.1
ORIGIN_ADDR=198.51.100.2
ORIGIN_PREFIX=24
ORIGIN_DOMAIN=origin.test
EDGE_HOST=edge.test
OPKI=
ONGX_DIR=
ONGX_PID=
ONGX_PORTS=()
ACCESS_LOG=
# Seconds one viewer request may take (bounds a hang).
OCT=${RAMPART_ORIGIN_CLIENT_TIMEOUT:-30}

# Every counter that counts a refused origin handshake (docs: origin TLS).
ORIGIN_TLS_FAILS=px_origin_tls_fail_untrusted+px_origin_tls_fail_expired+px_origin_tls_fail_name+px_origin_tls_fail_chain+px_origin_tls_fail_pin+px_origin_tls_fail_revoked+px_origin_tls_fail_handshake

origin_require() {
	tls_require
	require_cmd nginx sha256sum cmp
}

# ---------------------------------------------------------------- PKI

# _origin_leaf DIR CA NAME ec|rsa CN SANS [openssl ca ARGS...]: a server leaf
# without AIA (tls_issue), NAME.chain = leaf + CA.
_origin_leaf() { TLS_NO_AIA=1 tls_issue "$@"; }

# origin_make_pki DIR: the PKI described at the top of this file. Sets OPKI
# and PKI (tls_cert_import gives $PKI/root.pem as the extra anchor).
origin_make_pki() {
	local d=$1
	mkdir -p "$d"
	OPKI=$d
	# shellcheck disable=SC2034 # read by tls_cert_import (tls_lib.sh)
	PKI=$d
	{
		_tls_ca_init "$d" root "/CN=Origin Test Root" &&
			_tls_ca_init "$d" int1 "/CN=Origin Test Intermediate 1" root 1 &&
			_tls_ca_init "$d" int2 "/CN=Origin Test Intermediate 2" int1 0 &&
			_tls_newkey "$d/rogue.key" ec
	} >>"$d/pki.log" 2>&1 || return 1
	local od=DNS:$ORIGIN_DOMAIN
	_origin_leaf "$d" int1 good ec "$ORIGIN_DOMAIN" "$od" &&
		_origin_leaf "$d" int1 wrongname ec wrong.test DNS:wrong.test &&
		_origin_leaf "$d" int1 hostonly ec "$EDGE_HOST" "DNS:$EDGE_HOST" &&
		_origin_leaf "$d" int1 expired ec "$ORIGIN_DOMAIN" "$od" \
			-startdate 20200101000000Z -enddate 20200201000000Z &&
		_origin_leaf "$d" int1 missing ec "$ORIGIN_DOMAIN" "$od" &&
		_origin_leaf "$d" int2 misordered ec "$ORIGIN_DOMAIN" "$od" &&
		_origin_leaf "$d" root revoked ec "$ORIGIN_DOMAIN" "$od" &&
		_origin_leaf "$d" int1 rsa rsa "$ORIGIN_DOMAIN" "$od" &&
		_origin_leaf "$d" int1 fwd ec a.fwd.test "DNS:a.fwd.test,DNS:b.fwd.test" &&
		_origin_leaf "$d" int1 edge ec "$EDGE_HOST" \
			"DNS:$EDGE_HOST,DNS:a.fwd.test,DNS:b.fwd.test,DNS:c.fwd.test" || return 1
	(
		cd "$d" || exit 1
		cp missing.pem missing.chain
		cp revoked.pem revoked.chain
		cat misordered.pem int1.pem int2.pem >misordered.chain
		_tls_newkey selfsigned.key ec &&
			openssl req -x509 -new -key selfsigned.key -days 10 -subj "/CN=$ORIGIN_DOMAIN" \
				-addext "subjectAltName=DNS:$ORIGIN_DOMAIN" \
				-addext basicConstraints=critical,CA:FALSE \
				-addext keyUsage=critical,digitalSignature \
				-addext extendedKeyUsage=serverAuth -out selfsigned.pem || exit 1
		cp selfsigned.pem selfsigned.chain
		export TLS_SAN=DNS:unused
		openssl ca -config root.cnf -revoke revoked.pem &&
			openssl ca -config root.cnf -gencrl -out root.crl.pem
	) >>"$d/pki.log" 2>&1
}

# origin_key_pin KEY_OR_PUBKEY_PEM: "sha256/<base64 of the SPKI's SHA-256>".
origin_key_pin() {
	printf 'sha256/%s\n' "$(openssl pkey -in "$1" -pubout -outform DER 2>/dev/null |
		openssl dgst -sha256 -binary | base64 -w0)"
}

# origin_pin CERT_PEM: the pin of the certificate's public key.
origin_pin() {
	printf 'sha256/%s\n' "$(openssl x509 -in "$1" -noout -pubkey |
		openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64 -w0)"
}

# ---------------------------------------------------------------- nginx origin

# Directives a server block can take to turn pooling and resumption on.
# shellcheck disable=SC2034 # used by the tests
ONGX_KEEPALIVE='keepalive_timeout 75s; keepalive_requests 1000;'
# shellcheck disable=SC2034 # used by the tests
ONGX_RESUME='ssl_session_cache shared:otls:1m; ssl_session_tickets on;'

ongx_init() {
	ONGX_DIR=$TMP_DIR/ongx
	mkdir -p "$ONGX_DIR/www" "$ONGX_DIR/tmp"
	: >"$ONGX_DIR/servers.conf"
	ONGX_PORTS=()
}

# _ongx_server PORT LABEL LISTEN_SUFFIX [DIRECTIVE...]: one server block. A
# server whose directives hold no `location` answers every request with
# 200 "origin=LABEL port=P scheme=S\n".
_ongx_server() {
	local port=$1 label=$2 suffix=$3 loc=1 dv
	shift 3
	for dv in "$@"; do
		case $dv in location*) loc=0 ;; esac
	done
	{
		echo "  server {"
		echo "    listen $ORIGIN_ADDR:$port$suffix;"
		echo "    access_log $(ongx_log_file "$port") otls;"
		for dv in "$@"; do echo "    $dv"; done
		[ "$loc" = 1 ] &&
			echo "    location / { default_type text/plain; return 200 \"origin=$label port=\$server_port scheme=\$scheme\\n\"; }"
		echo "  }"
	} >>"$ONGX_DIR/servers.conf"
	ONGX_PORTS+=("$port")
}

# ongx_tls_server PORT LABEL CHAIN_PEM KEY_PEM [DIRECTIVE...]: an HTTPS
# server presenting exactly CHAIN_PEM (nginx sends the file's certificates
# in file order and adds none), TLS 1.2 and 1.3 unless a directive says
# otherwise.
ongx_tls_server() {
	local port=$1 label=$2 chain=$3 key=$4
	shift 4
	_ongx_server "$port" "$label" " ssl" \
		"ssl_certificate $chain;" "ssl_certificate_key $key;" "$@"
}

# ongx_plain_server PORT LABEL [DIRECTIVE...]: a plain-HTTP server.
ongx_plain_server() {
	local port=$1 label=$2
	shift 2
	_ongx_server "$port" "$label" "" "$@"
}

_ongx_conf() {
	cat <<EOF
user root;
worker_processes 1;
pid $ONGX_DIR/nginx.pid;
error_log $TMP_DIR/origin-error.log info;
events { worker_connections 1024; }
http {
  log_format otls '\$server_port \$request_method \$request_uri host="\$host" sni="\$ssl_server_name" proto=\$ssl_protocol cipher=\$ssl_cipher reused=\$ssl_session_reused conn=\$connection status=\$status';
  client_body_temp_path $ONGX_DIR/tmp/body;
  proxy_temp_path $ONGX_DIR/tmp/proxy;
  fastcgi_temp_path $ONGX_DIR/tmp/fcgi;
  uwsgi_temp_path $ONGX_DIR/tmp/uwsgi;
  scgi_temp_path $ONGX_DIR/tmp/scgi;
  gzip off;
  keepalive_timeout 0;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_prefer_server_ciphers off;
  ssl_session_cache off;
  ssl_session_tickets off;
  client_max_body_size 64m;
  include $ONGX_DIR/servers.conf;
}
EOF
}

# _ongx_port_open PORT: something accepts on $ORIGIN_ADDR:PORT (from the
# viewer namespace, across its veth to the origin's).
_ongx_port_open() {
	ip netns exec "$NS_VIEWER" timeout 2 bash -c "exec 3<>/dev/tcp/$ORIGIN_ADDR/$1" 2>/dev/null
}

# origin_topology: $NS_ORIGIN (removed on exit with the others), the veth
# pair to the viewer namespace, the addresses, the origin's default route
# through the viewer, forwarding on in the viewer namespace (never in the
# root namespace). After setup_topology.
origin_topology() {
	netns_make "$NS_ORIGIN"
	ip link add "$VETH_ORIGIN_R" netns "$NS_VIEWER" type veth \
		peer name "$VETH_ORIGIN" netns "$NS_ORIGIN" ||
		die "cannot create veth $VETH_ORIGIN_R/$VETH_ORIGIN"
	veth_prepare "$NS_VIEWER" "$VETH_ORIGIN_R" || die "cannot configure $VETH_ORIGIN_R"
	veth_prepare "$NS_ORIGIN" "$VETH_ORIGIN" || die "cannot configure $VETH_ORIGIN"
	ip -n "$NS_VIEWER" addr add "$ORIGIN_ROUTER_ADDR/$ORIGIN_PREFIX" dev "$VETH_ORIGIN_R" ||
		die "cannot address $VETH_ORIGIN_R"
	ip -n "$NS_ORIGIN" addr add "$ORIGIN_ADDR/$ORIGIN_PREFIX" dev "$VETH_ORIGIN" ||
		die "cannot address $VETH_ORIGIN"
	ip -n "$NS_VIEWER" link set "$VETH_ORIGIN_R" up || die "cannot bring up $VETH_ORIGIN_R"
	ip -n "$NS_ORIGIN" link set "$VETH_ORIGIN" up || die "cannot bring up $VETH_ORIGIN"
	ip -n "$NS_ORIGIN" route add default via "$ORIGIN_ROUTER_ADDR" ||
		die "cannot route $NS_ORIGIN through $ORIGIN_ROUTER_ADDR"
	ip netns exec "$NS_VIEWER" sysctl -qw net.ipv4.ip_forward=1 ||
		die "cannot turn forwarding on in $NS_VIEWER"
	log "origin: $NS_ORIGIN/$VETH_ORIGIN ($ORIGIN_ADDR) <-> $NS_VIEWER/$VETH_ORIGIN_R ($ORIGIN_ROUTER_ADDR, forwarding)"
}

# _ns_has_addr NS ADDR: ADDR is configured on an interface of NS.
_ns_has_addr() {
	ip -n "$1" -o -4 addr show | awk -v a="$2" '{ split($4, p, "/"); if (p[1] == a) f = 1 } END { exit !f }'
}

# ongx_start: the origin namespace (origin_topology), nginx in it with the
# servers declared so far; returns when every port accepts from the viewer
# namespace. After setup_topology.
ongx_start() {
	local p
	origin_topology
	_ongx_conf >"$ONGX_DIR/nginx.conf"
	ip netns exec "$NS_ORIGIN" nginx -t -q -c "$ONGX_DIR/nginx.conf" >"$TMP_DIR/ongx.log" 2>&1 ||
		die "nginx refuses its configuration: $(tail -n 3 "$TMP_DIR/ongx.log")"
	# ip netns exec execs nginx in place: $! is nginx, which the cleanup stops.
	ip netns exec "$NS_ORIGIN" nginx -c "$ONGX_DIR/nginx.conf" -g 'daemon off;' \
		</dev/null >>"$TMP_DIR/ongx.log" 2>&1 &
	ONGX_PID=$!
	BG_PIDS+=("$ONGX_PID")
	for p in "${ONGX_PORTS[@]}"; do
		poll_wait 10 _ongx_port_open "$p" ||
			die "nginx does not accept on $ORIGIN_ADDR:$p: $(tail -n 3 "$TMP_DIR/ongx.log" "$ONGX_DIR/error.log")"
	done
}

# origin_isolated: the origin runs apart from the viewer: nginx (the
# master, $ONGX_PID) is in $NS_ORIGIN, and $ORIGIN_ADDR is an address of
# $NS_ORIGIN and of no interface in the viewer namespace.
_ongx_netns() { ip netns identify "$ONGX_PID" 2>/dev/null; }
_viewer_lacks_origin_addr() { ! _ns_has_addr "$NS_VIEWER" "$ORIGIN_ADDR"; }
origin_isolated() {
	check "nginx (pid $ONGX_PID) runs in the origin namespace ($(_ongx_netns))" \
		[ "$(_ongx_netns)" = "$NS_ORIGIN" ]
	check "$ORIGIN_ADDR is an address of the origin namespace" _ns_has_addr "$NS_ORIGIN" "$ORIGIN_ADDR"
	check "the viewer namespace has no address $ORIGIN_ADDR" _viewer_lacks_origin_addr
}

# ongx_log_file PORT: the port's access log (in $TMP_DIR, so that lib.sh's
# dump_logs shows it when the test fails).
ongx_log_file() { echo "$TMP_DIR/origin-access.$1.log"; }

# ongx_log_count PORT: requests the origin port has logged.
ongx_log_count() {
	local f
	f=$(ongx_log_file "$1")
	if [ -f "$f" ]; then wc -l <"$f"; else echo 0; fi
}

# ongx_log_line PORT URI: the last line logged for URI (exact) on PORT.
ongx_log_line() {
	awk -v u="$2" '$3 == u { l = $0 } END { if (l != "") print l }' "$(ongx_log_file "$1")" 2>/dev/null
}

# ongx_field LINE KEY: the value of key=value (quotes dropped) in a log line.
ongx_field() {
	awk -v k="$2" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) {
		v = substr($i, length(k) + 2); gsub(/"/, "", v); print v; exit } }' <<<"$1"
}

# ongx_wait_logged PORT URI: poll (5 s) until the origin logged URI.
_ongx_logged() { [ -n "$(ongx_log_line "$1" "$2")" ]; }
ongx_wait_logged() { poll_wait 5 _ongx_logged "$1" "$2"; }

# ongx_presents PORT CHAIN_PEM: the origin port presents exactly the
# certificates of CHAIN_PEM, in that order (s_client -showcerts from the
# viewer namespace, SNI $ORIGIN_DOMAIN, no verification); what s_client
# printed is kept in $TMP_DIR/presented.PORT.
ongx_presents() {
	local port=$1 chain=$2
	ip netns exec "$NS_VIEWER" timeout 10 openssl s_client -connect "$ORIGIN_ADDR:$port" \
		-servername "$ORIGIN_DOMAIN" -showcerts </dev/null >"$TMP_DIR/presented.$port" 2>&1
	"$PY" - "$TMP_DIR/presented.$port" "$chain" <<'PY'
import re, sys
pem = lambda s: re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", s, re.S)
norm = lambda l: ["".join(x.split()) for x in l]
got, want = norm(pem(open(sys.argv[1]).read())), norm(pem(open(sys.argv[2]).read()))
sys.exit(0 if got and got == want else 1)
PY
}

# ---------------------------------------------------------------- stack

# origin_stack_start: topology, the origin namespace and nginx in it
# (declared servers; origin_isolated checks it), dataplane with an access
# log ($ACCESS_LOG), --gateway $VIEWER_ADDR and $TLS_DP_ARGS, control
# plane; the trust stores origin-ca (the origin root alone) and origin-crl
# (the root and its CRL); the edge's certificate "edge".
origin_stack_start() {
	setup_topology
	ongx_start
	origin_isolated
	ACCESS_LOG=$TMP_DIR/access.log
	dp_start 1 --access-log "$ACCESS_LOG" --gateway "$VIEWER_ADDR" \
		${TLS_DP_ARGS[@]+"${TLS_DP_ARGS[@]}"}
	# shellcheck disable=SC2034 # tls_lib.sh's clients read it
	TLS_ADDR=$DP_ADDR
	cp_start
	wait_ping "$DP_ADDR"
	tls_truststore origin-ca "$OPKI/root.pem" || die "truststore origin-ca"
	tls_truststore origin-crl "$OPKI/root.pem" "$OPKI/root.crl.pem" || die "truststore origin-crl"
	tls_cert_import edge "$OPKI/edge.chain" "$OPKI/edge.key" || die "cert import edge"
}

# ---------------------------------------------------------------- distributions

ODIST_DIR=
# odist_reset NAME ALIASES: start a distribution (aliases comma-separated,
# certificate "edge") with no origins and no behaviors.
odist_reset() {
	ODIST_DIR=$TMP_DIR/odist
	rm -rf "$ODIST_DIR"
	mkdir -p "$ODIST_DIR"
	printf '%s\n' "$1" >"$ODIST_DIR/name"
	printf '%s\n' "$2" >"$ODIST_DIR/aliases"
	: >"$ODIST_DIR/origins"
	: >"$ODIST_DIR/behaviors"
}

# odist_origin ID HTTPS_PORT [PATH=JSON...]: add an origin: domain
# $ORIGIN_DOMAIN, address $ORIGIN_ADDR, https_port HTTPS_PORT, http_port 80,
# https-only, verify strict against trust store origin-ca; PATH=JSON sets a
# (dotted) field as in tls_dist_json (verify='{"mode":"full"}' replaces the
# whole verify object).
odist_origin() {
	"$PY" - "$ORIGIN_DOMAIN" "$ORIGIN_ADDR" "$@" >>"$ODIST_DIR/origins" <<'PY' || return 1
import json, sys
dom, addr, oid, port, *sets = sys.argv[1:]
o = {"id": oid, "domain": dom, "address": addr, "http_port": 80,
     "https_port": int(port), "protocol_policy": "https-only",
     "verify": {"mode": "strict", "trust_store": "origin-ca"}}
for s in sets:
    path, _, val = s.partition("=")
    try:
        v = json.loads(val)
    except ValueError:
        v = val
    t = o
    keys = path.split(".")
    for k in keys[:-1]:
        t = t.setdefault(k, {})
    t[keys[-1]] = v
print(json.dumps(o))
PY
}

# odist_behavior PATTERN ORIGIN [VIEWER_POLICY]: add a behavior (allow-all).
odist_behavior() {
	"$PY" -c 'import json, sys; print(json.dumps({"path_pattern": sys.argv[1], "origin": sys.argv[2], "viewer_protocol_policy": sys.argv[3]}))' \
		"$1" "$2" "${3:-allow-all}" >>"$ODIST_DIR/behaviors"
}

# odist_json: the distribution on stdout; the default behavior goes to the
# first origin.
odist_json() {
	"$PY" - "$ODIST_DIR" <<'PY'
import json, os, sys
d = sys.argv[1]
rd = lambda n: open(os.path.join(d, n)).read()
origins = [json.loads(l) for l in rd("origins").splitlines() if l]
behaviors = [json.loads(l) for l in rd("behaviors").splitlines() if l]
print(json.dumps({
    "name": rd("name").strip(),
    "aliases": rd("aliases").strip().split(","),
    "certificates": {"ecdsa": "edge"},
    "origins": origins,
    "behaviors": behaviors,
    "default_behavior": {"origin": origins[0]["id"], "viewer_protocol_policy": "allow-all"},
}, indent=1))
PY
}

# odist_apply: apply through the control plane and wait until the dataplane
# runs that generation. Fails (with the control plane's sentence logged)
# when it is refused.
odist_apply() {
	local f=$TMP_DIR/odist.json
	odist_json >"$f" || return 1
	cp_apply "$f"
}

# ---------------------------------------------------------------- viewers

# ocurl OUT URL [curl ARGS...]: one request from the viewer namespace, the
# names of the distribution resolved to the dataplane (HTTP port 80, HTTPS
# 443, the edge's certificate checked against the origin root); body in
# OUT, head in OUT.h, curl's stderr in OUT.err; prints the status.
ocurl() {
	local out=$1 url=$2 h
	shift 2
	local res=()
	for h in "$EDGE_HOST" a.fwd.test b.fwd.test c.fwd.test; do
		res+=(--resolve "$h:80:$DP_ADDR" --resolve "$h:443:$DP_ADDR")
	done
	viewer timeout "$OCT" curl -sS --http1.1 --max-time "$OCT" --cacert "$OPKI/root.pem" \
		"${res[@]}" -D "$out.h" -o "$out" -w '%{http_code}' "$@" "$url" 2>"$out.err"
}

# ohdr OUT NAME: header NAME of a response saved by ocurl (case-insensitive).
ohdr() {
	awk -v n="$(tr 'A-Z' 'a-z' <<<"$2")" -F': ' \
		'tolower($1) == n { sub(/\r$/, "", $2); print $2; exit }' "$1.h" 2>/dev/null
}

# ---------------------------------------------------------------- access log

# alog_record PATH: the dataplane's last access-log record (JSON) for the
# request path PATH (exact, with query), waiting up to 5 s for the logger
# thread to write it; empty when none came.
_alog_find() {
	"$PY" - "$ACCESS_LOG" "$1" <<'PY'
import json, sys
rec = None
try:
    for line in open(sys.argv[1]):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("path") == sys.argv[2]:
            rec = line.strip()
except OSError:
    pass
if rec is None:
    sys.exit(1)
print(rec)
PY
}
alog_record() {
	poll_wait 5 _alog_find "$1" >/dev/null 2>&1 || return 1
	_alog_find "$1"
}

# alog_field RECORD KEY: one field of a record ("" when absent).
alog_field() {
	"$PY" -c 'import json, sys; v = json.loads(sys.argv[1]).get(sys.argv[2], ""); print(v)' "$1" "$2"
}

# ---------------------------------------------------------------- one request, judged

# What a refusal of each kind is counted as, and what the access log's
# reason must say (extended regex, matched case-insensitively).
declare -A ORIGIN_KIND_COUNTER=(
	[name]=px_origin_tls_fail_name [expired]=px_origin_tls_fail_expired
	[selfsigned]=px_origin_tls_fail_untrusted [untrusted]=px_origin_tls_fail_untrusted
	[chain]=px_origin_tls_fail_chain [revoked]=px_origin_tls_fail_revoked
	[pin]=px_origin_tls_fail_pin [handshake]=px_origin_tls_fail_handshake
)
declare -A ORIGIN_KIND_REASON=(
	[name]='does not name' [expired]='expired' [selfsigned]='self-signed|not trusted'
	[untrusted]='not trusted' [chain]='out of order' [revoked]='revoked' [pin]='pin'
	[handshake]='handshake'
)

# Counters are read after every judged request; the reading after one is
# the baseline of the next (ostats_next).
declare -A ORIGIN_EXPECT_LOGGED   # origin port -> requests meant to reach it
OSTATS_N=0
OSTATS_CUR=
ostats_next() {
	OSTATS_N=$((OSTATS_N + 1))
	dp_stats "$TMP_DIR/ost.$OSTATS_N" || die "cannot read the dataplane's counters"
	OSTATS_CUR=$TMP_DIR/ost.$OSTATS_N
}

# origin_req DESC PORT WANT LABEL URL [curl ARGS...]: one request from the
# viewer (ocurl), judged, reported as one ok/FAIL line listing every
# deviation. WANT:
#   200        the body of origin LABEL ("origin=LABEL "), logged by the
#              origin PORT once, no origin TLS failure counted;
#   200/plain  the same for a plain-HTTP origin (TLS counters not read);
#   502/KIND   refused (ORIGIN_KIND_*): 502 with X-Cache: Error from
#              rampart, nothing logged by the origin PORT, the KIND counter
#              +1 and no other failure counter, the access log's status 502
#              and a reason naming the cause.
# With ORQ_SNI set, a 200 must also have reached the origin with that SNI.
# Leaves ORQ_CODE, ORQ_OUT (ocurl's OUT) and ORQ_LINE (the origin's log
# line for the request) for further checks. Call ostats_next once first.
ORQ_N=0
ORQ_SNI=
ORQ_CODE=
ORQ_OUT=
ORQ_LINE=
origin_req() {
	local what=$1 port=$2 want=$3 label=$4 url=$5
	shift 5
	local uri=/${url#*://*/} probs=() prev before after d kind counter rec status reason
	ORQ_N=$((ORQ_N + 1))
	ORQ_OUT=$TMP_DIR/orq.$ORQ_N
	ORQ_LINE=
	prev=$OSTATS_CUR
	before=$(ongx_log_count "$port")
	ORQ_CODE=$(ocurl "$ORQ_OUT" "$url" "$@")
	ostats_next
	case $want in
	200 | 200/plain)
		ORIGIN_EXPECT_LOGGED[$port]=$((${ORIGIN_EXPECT_LOGGED[$port]:-0} + 1))
		[ "$ORQ_CODE" = 200 ] ||
			probs+=("status $ORQ_CODE ($(head -c 160 "$ORQ_OUT" 2>/dev/null | tr '\n' ' '))")
		grep -q "^origin=$label " "$ORQ_OUT" 2>/dev/null || probs+=("not origin $label's body")
		# Waiting for the origin's line only makes sense after a 200.
		if [ "$ORQ_CODE" = 200 ]; then
			if ongx_wait_logged "$port" "$uri"; then
				ORQ_LINE=$(ongx_log_line "$port" "$uri")
			else
				probs+=("the origin (port $port) did not log $uri")
			fi
		fi
		if [ "$want" = 200 ]; then
			if d=$(stat_delta "$prev" "$OSTATS_CUR" "$ORIGIN_TLS_FAILS"); then
				[ "$d" = 0 ] || probs+=("origin TLS failures counted: +$d")
			else
				probs+=("counter ${d#missing-counter:} missing")
			fi
		fi
		if [ -n "$ORQ_SNI" ] && [ -n "$ORQ_LINE" ] &&
			[ "$(ongx_field "$ORQ_LINE" sni)" != "$ORQ_SNI" ]; then
			probs+=("SNI at the origin '$(ongx_field "$ORQ_LINE" sni)', want $ORQ_SNI")
		fi
		;;
	502/*)
		kind=${want#502/}
		counter=${ORIGIN_KIND_COUNTER[$kind]}
		[ "$ORQ_CODE" = 502 ] ||
			probs+=("status $ORQ_CODE ($(head -c 160 "$ORQ_OUT" 2>/dev/null | tr '\n' ' '))")
		[ "$(ohdr "$ORQ_OUT" x-cache)" = "Error from rampart" ] ||
			probs+=("no X-Cache: Error from rampart")
		after=$(ongx_log_count "$port")
		[ "$after" = "$before" ] ||
			probs+=("the origin logged $((after - before)) request(s): $(tail -n 1 "$(ongx_log_file "$port")")")
		if d=$(stat_delta "$prev" "$OSTATS_CUR" "$counter"); then
			[ "$d" = 1 ] || probs+=("$counter +$d")
		else
			probs+=("counter ${d#missing-counter:} missing")
		fi
		if d=$(stat_delta "$prev" "$OSTATS_CUR" "$ORIGIN_TLS_FAILS"); then
			[ "$d" = 1 ] || probs+=("origin TLS failures in all +$d, want +1")
		fi
		if rec=$(alog_record "$uri"); then
			status=$(alog_field "$rec" status)
			reason=$(alog_field "$rec" reason)
			[ "$status" = 502 ] || probs+=("access log status $status")
			grep -qiE "${ORIGIN_KIND_REASON[$kind]}" <<<"$reason" ||
				probs+=("access log reason '$reason' does not match /${ORIGIN_KIND_REASON[$kind]}/")
		else
			probs+=("no access log record for $uri")
		fi
		;;
	*) die "origin_req: WANT '$want'" ;;
	esac
	if [ ${#probs[@]} -eq 0 ]; then
		pass "$what: $want"
	else
		fail "$what: want $want: $(printf '%s; ' "${probs[@]}")"
	fi
}

# origin_check_logged PORT...: each origin port logged exactly the requests
# origin_req meant for it: a refused request never reaches the origin, not
# even late (read again at the end).
origin_check_logged() {
	local p got want
	for p in "$@"; do
		got=$(ongx_log_count "$p")
		want=${ORIGIN_EXPECT_LOGGED[$p]:-0}
		check "origin port $p: $got request(s) logged, $want expected" [ "$got" = "$want" ]
	done
}
