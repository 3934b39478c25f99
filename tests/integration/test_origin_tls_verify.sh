#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Verification of the origin's certificate (the origin TLS leg), against a
# real nginx origin presenting one certificate chain per port (origin_lib.sh
# makes the PKI: a root, two intermediates, leaves). One distribution routes
# /VARIANT/* to one origin per chain; it is applied once per verify mode
# (full, strict with the trust store "origin-ca" holding only the test root,
# pinned to each origin's leaf, pinned to the intermediate), and every chain
# is requested from an HTTP viewer:
#
#   chain (port)                           strict  full  pin-leaf  pin-int
#   good: leaf, int1, names origin.test     200    200    200      200
#   wrongname: names wrong.test             502    200    200      200
#   hostonly: names the viewer's Host only  502    200    200      200
#     ... the same with forward_host        200    200    200      200
#   expired leaf                            502    200    200      200
#   selfsigned leaf                         502    200    200      502
#   missing: leaf only (issued by int1)     502    200    200      502
#   misordered: leaf, int1, int2            502    200    200       -
#     (int2 issued the leaf, int1 issued int2)
#   revoked: by the root, in the CRL of the 502    200    200      502
#     trust store "origin-crl"
#   nopin: good chain, a pin matching        -      -     502      502
#     no key
#   plain: http-only to nginx's HTTP port   200    200    200      200
#     (control: the proxy and the scaffolding work)
#
# Every refusal: 502 with X-Cache: Error from rampart, nothing logged by the
# origin (the handshake ends before any HTTP byte), exactly one of the
# px_origin_tls_fail_* counters moved by one (the one the cause names), and
# the access log's reason names the cause. Every 200: the origin's body,
# logged once by that port, no failure counted. In strict mode the SNI the
# origin saw is the verified name (origin.test, or the viewer's Host with
# forward_host). At the end each origin port has logged exactly the
# requests that were meant to reach it.
#
# Rows run in table order, and "good" is requested twice in each mode (on
# two origin connections: the origin ports neither keep connections alive
# nor resume sessions), so in strict mode "missing" comes after "good" has
# presented int1 twice: the verdict on a chain must not depend on what the
# edge saw before (an intermediate seen in one origin's chain must not
# complete another origin's chain later).
#
# Tightening the verify mode from full to strict must also hold for what
# was set up under full: a connection pooled under full (stale-pool, a
# keep-alive port with the wrongname chain) and a session cached under full
# (stale-resume, a port resuming sessions, wrongname chain) must not let a
# strict request through.

source "$(dirname "$0")/origin_lib.sh"

require_env
origin_require
origin_make_pki "$TMP_DIR/opki" || die "cannot make the origin PKI (see $TMP_DIR/opki/pki.log)"

# ---------------------------------------------------------------- origin

declare -A PORT LABEL CHAIN
# variant port chain-label
while read -r v p c; do
	PORT[$v]=$p
	LABEL[$v]=$c
	CHAIN[$v]=$c
done <<'EOF'
good         8443 good
wrongname    8444 wrongname
hostonly     8445 hostonly
hostonly-fh  8445 hostonly
expired      8446 expired
selfsigned   8447 selfsigned
missing      8448 missing
misordered   8449 misordered
revoked      8450 revoked
nopin        8451 good
stale-pool   8452 wrongname
stale-resume 8453 wrongname
plain        8080 plain
EOF
LABEL[nopin]=nopin
LABEL[stale-pool]=stale-pool
LABEL[stale-resume]=stale-resume

ongx_init
for v in good wrongname hostonly expired selfsigned missing misordered revoked nopin; do
	ongx_tls_server "${PORT[$v]}" "${LABEL[$v]}" "$OPKI/${CHAIN[$v]}.chain" "$OPKI/${CHAIN[$v]}.key"
done
ongx_tls_server "${PORT[stale-pool]}" stale-pool "$OPKI/wrongname.chain" "$OPKI/wrongname.key" \
	"$ONGX_KEEPALIVE"
ongx_tls_server "${PORT[stale-resume]}" stale-resume "$OPKI/wrongname.chain" "$OPKI/wrongname.key" \
	"$ONGX_RESUME"
ongx_plain_server "${PORT[plain]}" plain

origin_stack_start

# ---------------------------------------------------------------- scaffolding

# The PKI must be what each row says and the origin must present exactly
# the chain the row is about, or the results below mean nothing. openssl
# reorders what it is given, so it has no verdict on "misordered".
log "setup: openssl's verdict on each chain as the origin presents it"
# pki_says NAME NAME_TO_VERIFY WANT [openssl verify ARGS...]
pki_says() {
	local n=$1 host=$2 want=$3 out
	shift 3
	out=$(openssl verify -CAfile "$OPKI/root.pem" -untrusted "$OPKI/$n.chain" \
		-verify_hostname "$host" "$@" "$OPKI/$n.pem" 2>&1)
	grep -q -- "$want" <<<"$out" || die "PKI: $n: openssl says '$out', expected '$want'"
}
pki_says good "$ORIGIN_DOMAIN" ': OK'
pki_says wrongname "$ORIGIN_DOMAIN" 'hostname mismatch'
pki_says hostonly "$ORIGIN_DOMAIN" 'hostname mismatch'
pki_says hostonly "$EDGE_HOST" ': OK'
pki_says expired "$ORIGIN_DOMAIN" 'certificate has expired'
pki_says selfsigned "$ORIGIN_DOMAIN" 'self-signed certificate'
pki_says missing "$ORIGIN_DOMAIN" 'unable to get local issuer certificate'
pki_says revoked "$ORIGIN_DOMAIN" ': OK'
pki_says revoked "$ORIGIN_DOMAIN" 'certificate revoked' -crl_check -CRLfile "$OPKI/root.crl.pem"
pass "openssl agrees with every row's verdict on its chain"

log "setup: each origin port presents its chain, byte for byte"
for v in good wrongname hostonly expired selfsigned missing misordered revoked nopin \
	stale-pool stale-resume; do
	ongx_presents "${PORT[$v]}" "$OPKI/${CHAIN[$v]}.chain" ||
		die "origin port ${PORT[$v]} does not present $OPKI/${CHAIN[$v]}.chain (see $TMP_DIR/presented.${PORT[$v]})"
done
pass "11 origin ports present their chains in file order"

# ---------------------------------------------------------------- distribution

GOOD_INT_PIN=$(origin_pin "$OPKI/int1.pem")
ROGUE_PIN=$(origin_key_pin "$OPKI/rogue.key")

# verify_for MODE VARIANT: the origin's verify object in that mode.
verify_for() {
	local mode=$1 v=$2 ts=origin-ca
	[ "$v" = revoked ] && ts=origin-crl
	case $mode/$v in
	*/plain | strict/*) printf '{"mode":"strict","trust_store":"%s"}' "$ts" ;;
	full/*) printf '{"mode":"full"}' ;;
	pinned-*/nopin) printf '{"mode":"pinned","pins":["%s"]}' "$ROGUE_PIN" ;;
	pinned-leaf/*) printf '{"mode":"pinned","pins":["%s"]}' "$(origin_pin "$OPKI/${CHAIN[$v]}.pem")" ;;
	pinned-int/*) printf '{"mode":"pinned","pins":["%s"]}' "$GOOD_INT_PIN" ;;
	esac
}

VARIANTS=(plain good wrongname hostonly hostonly-fh expired selfsigned missing misordered
	revoked nopin stale-pool stale-resume)

apply_mode() {
	local mode=$1 v extra
	odist_reset site "$EDGE_HOST"
	for v in "${VARIANTS[@]}"; do
		extra=()
		[ "$v" = hostonly-fh ] && extra=(forward_host=true)
		[ "$v" = plain ] && extra=(protocol_policy=http-only "http_port=${PORT[plain]}")
		odist_origin "$v" "${PORT[$v]}" "verify=$(verify_for "$mode" "$v")" \
			${extra[@]+"${extra[@]}"} || return 1
		odist_behavior "/$v/*" "$v"
	done
	odist_apply
}

# ---------------------------------------------------------------- requests

# oreq MODE VARIANT WANT [TAG]: /VARIANT/MODE[-TAG] from an HTTP viewer,
# judged by origin_req; in strict mode a 200 must have carried the verified
# name as SNI.
oreq() {
	local mode=$1 v=$2 want=$3 tag=${4:-}
	ORQ_SNI=
	if [ "$mode" = strict ] && [ "$v" != plain ]; then
		ORQ_SNI=$ORIGIN_DOMAIN
		[ "$v" = hostonly-fh ] && ORQ_SNI=$EDGE_HOST
	fi
	[ "$v" = plain ] && [ "$want" = 200 ] && want=200/plain
	origin_req "$mode $v${tag:+ ($tag)}" "${PORT[$v]}" "$want" "${LABEL[$v]}" \
		"http://$EDGE_HOST/$v/$mode${tag:+-$tag}"
	ORQ_SNI=
}

# The matrix, one row per variant: strict full pinned-leaf pinned-int
# ("-": not requested in that mode).
declare -A MATRIX
while read -r v s f pl pi; do
	MATRIX[$v.strict]=$s
	MATRIX[$v.full]=$f
	MATRIX[$v.pinned-leaf]=$pl
	MATRIX[$v.pinned-int]=$pi
done <<'EOF'
plain        200            200 200      200
good         200            200 200      200
wrongname    502/name       200 200      200
hostonly     502/name       200 200      200
hostonly-fh  200            200 200      200
expired      502/expired    200 200      200
selfsigned   502/selfsigned 200 200      502/pin
missing      502/untrusted  200 200      502/pin
misordered   502/chain      200 200      -
revoked      502/revoked    200 200      502/pin
nopin        -              -   502/pin  502/pin
stale-pool   502/name       200 200      200
stale-resume 502/name       200 200      200
EOF

ostats_next
# full first: strict then finds what full left behind (a pooled connection,
# a cached session) and must not use it.
for mode in full strict pinned-leaf pinned-int; do
	log "checks: verify mode $mode"
	apply_mode "$mode" || die "apply ($mode) refused"
	for v in "${VARIANTS[@]}"; do
		want=${MATRIX[$v.$mode]}
		[ "$want" = - ] && continue
		oreq "$mode" "$v" "$want"
		# The same chain verified again, on a new connection: a verdict
		# must not depend on an earlier handshake's.
		[ "$v" = good ] && oreq "$mode" good "$want" again
		if [ "$mode" = full ] && [ "$v" = stale-resume ]; then
			# A second full-mode request, on a new origin connection
			# (the port does not keep connections alive), resumes: the
			# session strict must not reuse is there.
			oreq full stale-resume 200 again
			line=$(ongx_log_line "${PORT[stale-resume]}" /stale-resume/full-again)
			check "full: the second connection to a resuming origin resumed the session (reused=$(ongx_field "$line" reused))" \
				[ "$(ongx_field "$line" reused)" = r ]
		fi
		if [ "$mode" = full ] && [ "$v" = stale-pool ]; then
			check "full: a connection to the keep-alive origin is pooled (px_origin_idle $(stat_get "$OSTATS_CUR" px_origin_idle))" \
				[ "$(stat_get "$OSTATS_CUR" px_origin_idle)" -ge 1 ]
		fi
	done
done

# ---------------------------------------------------------------- accounting

log "checks: each origin port logged exactly the requests meant for it"
# shellcheck disable=SC2046 # one word per port
origin_check_logged $(printf '%s\n' "${PORT[@]}" | sort -u)

check "dataplane still running" dp_alive
test_exit
