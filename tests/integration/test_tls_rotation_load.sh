#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Handshakes under churn: for $LOAD_S seconds (default 20), $CLIENTS
# viewer loops (default 3) each alternate a full handshake (TLS 1.2 and
# 1.3 in turn, ECDSA and RSA in turn, with a status request) and a
# resumption of the ticket it just got, while the control plane rotates the
# ticket keys every second (rampartctl tickets rotate) and the staples of
# both certificates are replaced every second (staple_set on the
# dataplane's socket, as the control plane does after a fetch):
#   - zero failed handshakes: every connection gets its 200;
#   - every resumption either resumes or falls back to a full handshake,
#     and one with a ticket younger than two rotation periods (its key is
#     still in the ring: kept 2) always resumes;
#   - every status request gets a good staple (one is always held);
#   - the dataplane counts no handshake failure and survives.

source "$(dirname "$0")/tls_lib.sh"

LOAD_S=${RAMPART_TLS_LOAD_SECONDS:-20}
CLIENTS=${RAMPART_TLS_LOAD_CLIENTS:-3}

require_env
tls_require
tls_make_pki "$TMP_DIR/pki" || die "cannot make the test PKI (see $TMP_DIR/pki/pki.log)"
tls_start --ticket-keys-kept 2
tls_cert_import shop-ec "$PKI/shop-ec.chain" "$PKI/shop-ec.key" || die "cert import"
tls_cert_import shop-rsa "$PKI/shop-rsa.chain" "$PKI/shop-rsa.key" || die "cert import"
tls_dist_apply shop shop.example.com shop-ec shop-rsa default=true || die "apply shop"

# Two OCSP responses per leaf (different thisUpdate), swapped every second.
for n in shop-ec shop-rsa; do
	tls_ocsp_der "$n" "$TMP_DIR/$n.a.der" 10 || die "cannot make an OCSP response"
	sleep 1 # a later thisUpdate: a second, different response
	tls_ocsp_der "$n" "$TMP_DIR/$n.b.der" 10 || die "cannot make an OCSP response"
	cmp -s "$TMP_DIR/$n.a.der" "$TMP_DIR/$n.b.der" && die "the two responses are equal"
done
if tls_is_rampart; then
	nu=$(($(date +%s) + 600))
	tls_staple_set shop-ec "$TMP_DIR/shop-ec.a.der" "$nu" || die "staple_set refused"
	tls_staple_set shop-rsa "$TMP_DIR/shop-rsa.a.der" "$nu" || die "staple_set refused"
	tls_stats "$TMP_DIR/stats.before" || die "no stats"
else
	# One file per server block in the stand-in: the ECDSA leaf's only.
	tls_staple_set shop "$TMP_DIR/shop-ec.a.der" 0
fi

STOP=$TMP_DIR/stop
RSA_SIGALGS=rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:RSA+SHA256:RSA+SHA384

# load_client I: the loop of one viewer; one line per connection in
# load-I.log: "full V KT ok|FAIL staple" or "resume V AGE_MS reused|new|FAIL".
load_client() {
	local i=$1 k=0 v kt args o t0 age r st
	o=$TMP_DIR/load-$i.out
	while [ ! -e "$STOP" ]; do
		v=$((2 + k % 2))
		kt=ec
		args=(-status)
		if [ $((k / 2 % 2)) = 1 ] && tls_is_rampart; then
			kt=rsa
			args+=(-sigalgs "$RSA_SIGALGS")
		fi
		k=$((k + 1))
		rm -f "$TMP_DIR/sess-$i"
		if tls_get "$o" shop.example.com "-tls1_$v" -sess_out "$TMP_DIR/sess-$i" "${args[@]}"; then
			r=ok
			st=none
			grep -q 'OCSP Response Status: successful' "$o" && st=good
		else
			r=FAIL
			st=-
			cp "$o" "$TMP_DIR/failed-$i-$k.out"
		fi
		t0=${EPOCHREALTIME/./}
		echo "full $v $kt $r $st" >>"$TMP_DIR/load-$i.log"
		[ "$r" = ok ] && [ -s "$TMP_DIR/sess-$i" ] || continue
		if tls_get "$o" shop.example.com "-tls1_$v" -sess_in "$TMP_DIR/sess-$i"; then
			if tls_reused "$o"; then r=reused; else r=new; fi
		else
			r=FAIL
			cp "$o" "$TMP_DIR/failed-$i-$k-resume.out"
		fi
		age=$(((${EPOCHREALTIME/./} - t0) / 1000))
		echo "resume $v $age $r" >>"$TMP_DIR/load-$i.log"
	done
}

# churn: rotate the ticket keys and replace both staples every second.
churn() {
	local n=0 which nu
	while [ ! -e "$STOP" ]; do
		n=$((n + 1))
		if tls_tickets_rotate; then echo rotated; else echo rotate-FAIL; fi
		if tls_is_rampart; then
			which=a
			[ $((n % 2)) = 0 ] && which=b
			nu=$(($(date +%s) + 600))
			for c in shop-ec shop-rsa; do
				if tls_staple_set "$c" "$TMP_DIR/$c.$which.der" "$nu"; then
					echo stapled
				else
					echo staple-FAIL
				fi
			done
		fi
		sleep 1
	done >>"$TMP_DIR/churn.log" 2>&1
}

log "load: $CLIENTS clients for $LOAD_S s, ticket keys rotated and staples replaced every second"
churn &
churn_pid=$!
BG_PIDS+=("$churn_pid")
pids=()
for ((i = 0; i < CLIENTS; i++)); do
	load_client "$i" &
	pids+=("$!")
	BG_PIDS+=("$!")
done
deadline=$((SECONDS + LOAD_S))
while [ "$SECONDS" -lt "$deadline" ] && dp_alive; do
	sleep 0.5
done
touch "$STOP"
for pid in "${pids[@]}" "$churn_pid"; do
	poll_wait 30 proc_exited "$pid" || kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done

cat "$TMP_DIR"/load-*.log >"$TMP_DIR/all.log" 2>/dev/null
count() { grep -cE "$1" "$TMP_DIR/all.log"; }
full=$(count '^full ')
full_fail=$(count '^full .* FAIL')
res=$(count '^resume ')
res_fail=$(count '^resume .* FAIL$')
reused=$(count '^resume .* reused$')
fallback=$(count '^resume .* new$')
young_new=$(awk '$1 == "resume" && $3 < 2000 && $4 == "new"' "$TMP_DIR/all.log" | wc -l)
staple_good=$(count '^full .* ok good$')
staple_none=$(count '^full .* ok none$')
rot=$(grep -c '^rotated' "$TMP_DIR/churn.log")
rot_fail=$(grep -c 'rotate-FAIL' "$TMP_DIR/churn.log")
stapled=$(grep -c '^stapled' "$TMP_DIR/churn.log")
staple_fail=$(grep -c 'staple-FAIL' "$TMP_DIR/churn.log")
log "  $full full handshakes ($full_fail failed), $res resumptions ($reused reused, $fallback fell back, $res_fail failed)"
log "  $rot rotations ($rot_fail refused), $stapled staple pushes ($staple_fail refused); staples seen: $staple_good good, $staple_none none"

check "enough load: at least $((LOAD_S * 2)) full handshakes ($full)" [ "$full" -ge $((LOAD_S * 2)) ]
check "the keys rotated at least $((LOAD_S / 2)) times ($rot), none refused" \
	[ "$rot" -ge $((LOAD_S / 2)) ] && [ "$rot_fail" = 0 ]
check "zero failed full handshakes" [ "$full_fail" = 0 ]
check "zero failed resumptions" [ "$res_fail" = 0 ]
check "resumptions happened ($reused)" [ "$reused" -gt 0 ]
check "every ticket younger than 2 s resumed ($young_new fell back)" [ "$young_new" = 0 ]
if tls_is_rampart; then
	check "staples replaced at least $LOAD_S times ($stapled), none refused" \
		[ "$stapled" -ge "$LOAD_S" ] && [ "$staple_fail" = 0 ]
	check "every status request got a good staple ($staple_none without)" [ "$staple_none" = 0 ]
	tls_stats "$TMP_DIR/stats.after" || die "no stats"
	expect_delta "$TMP_DIR/stats.before" "$TMP_DIR/stats.after" tls_handshake_failures -eq 0
	expect_delta "$TMP_DIR/stats.before" "$TMP_DIR/stats.after" tls_resumed -ge "$reused"
else
	check "ECDSA status requests got a good staple ($staple_none without)" [ "$staple_none" = 0 ]
fi
check "dataplane still running" dp_alive
test_exit
