#!/bin/sh
# Test PKI for the crypto unit tests, made with the openssl CLI so the code
# under test meets real-world DER rather than fixtures it wrote itself.
#
#   mkcerts.sh setup DIR            build everything below DIR
#   mkcerts.sh chain DIR            after setup: chains for crypto/chain.h
#                                   below DIR/chain (see chains())
#   mkcerts.sh respond DIR REQ OUT SIGNER
#       answer the DER OCSP request REQ from the EC intermediate's index;
#       SIGNER is issuer | delegated | noeku | rogue, with "-nocerts"
#       to leave the signer's certificate out of the response
set -eu

cnf() {
	cat <<'CNF'
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $ENV::CADIR
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
policy = policy_any
unique_subject = no
preserve = yes
default_days = 365
default_crl_days = 30
email_in_dn = no
[ policy_any ]
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_mid ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_inter ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_leaf ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN
authorityInfoAccess = OCSP;URI:http://127.0.0.1:8888/ocsp,caIssuers;URI:http://127.0.0.1:8888/ca.crt
[ v3_ocsp ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
[ v3_noeku ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
CNF
}

genkey() { # FILE KIND
	case $2 in
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1" ;;
	p521) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$1" ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$1" ;;
	rsa*) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:${2#rsa} -out "$1" ;;
	esac 2>/dev/null
}

# root DIR KIND CN: self-signed root DIR/root.{key,pem}
root() {
	genkey "$1/root.key" "$2"
	openssl req -config "$D/openssl.cnf" -new -x509 -key "$1/root.key" \
		-subj "/O=Rampart Test/CN=$3" -days 3650 -extensions v3_root \
		-out "$1/root.pem"
}

# inter DIR KIND CN: DIR/inter.{key,pem} signed by DIR/root, plus a CA
# database in DIR/ca for the leaves it signs
inter() {
	genkey "$1/inter.key" "$2"
	openssl req -config "$D/openssl.cnf" -new -key "$1/inter.key" \
		-subj "/O=Rampart Test/CN=$3" -out "$1/inter.csr"
	openssl x509 -req -in "$1/inter.csr" -CA "$1/root.pem" \
		-CAkey "$1/root.key" -CAcreateserial -days 3650 \
		-extfile "$D/openssl.cnf" -extensions v3_inter \
		-out "$1/inter.pem" 2>/dev/null
	mkdir -p "$1/ca/newcerts"
	: >"$1/ca/index.txt"
	echo 1000 >"$1/ca/serial"
	echo 1000 >"$1/ca/crlnumber"
}

# leaf DIR NAME KIND CN EXT [ca args...]: DIR/NAME.{key,pem} signed by
# DIR/inter, DIR/NAME-chain.pem = leaf + inter + root
leaf() {
	dir=$1 name=$2 kind=$3 cn=$4 ext=$5
	shift 5
	genkey "$dir/$name.key" "$kind"
	openssl req -config "$D/openssl.cnf" -new -key "$dir/$name.key" \
		-subj "/O=Rampart Test/CN=$cn" -out "$dir/$name.csr"
	CADIR=$dir/ca openssl ca -batch -config "$D/openssl.cnf" \
		-cert "$dir/inter.pem" -keyfile "$dir/inter.key" \
		-in "$dir/$name.csr" -out "$dir/$name.pem" -notext \
		-extensions "$ext" "$@" 2>/dev/null
	cat "$dir/$name.pem" "$dir/inter.pem" "$dir/root.pem" >"$dir/$name-chain.pem"
}

# ocspreq DIR NAME: DER request for DIR/NAME.pem
ocspreq() {
	openssl ocsp -issuer "$1/inter.pem" -cert "$1/$2.pem" -no_nonce \
		-reqout "$1/$2.req" >/dev/null
}

respond() { # DIR REQ OUT SIGNER
	dir=$1
	extra=
	case $4 in
	*-nocerts) extra=-resp_no_certs ;;
	esac
	case ${4%-nocerts} in
	issuer) signer="-rsigner $dir/inter.pem -rkey $dir/inter.key" ;;
	delegated) signer="-rsigner $dir/responder.pem -rkey $dir/responder.key" ;;
	noeku) signer="-rsigner $dir/noeku.pem -rkey $dir/noeku.key" ;;
	rogue) signer="-rsigner $dir/rogue/root.pem -rkey $dir/rogue/root.key" ;;
	*) echo "unknown signer $4" >&2; exit 2 ;;
	esac
	# shellcheck disable=SC2086
	openssl ocsp -index "$dir/ca/index.txt" -CA "$dir/inter.pem" $signer $extra \
		-reqin "$2" -respout "$3" -ndays 1 >/dev/null 2>&1
}

setup() {
	mkdir -p "$D/ec" "$D/rsa" "$D/ec/evil" "$D/ec/rogue"
	cnf >"$D/openssl.cnf"
	export SAN="DNS:Shop.Example.com,DNS:*.cdn.example.com,IP:192.0.2.1,email:ops@example.com"

	root "$D/ec" p256 "Test EC Root"
	inter "$D/ec" p256 "Test EC Intermediate"
	leaf "$D/ec" leaf p256 shop.example.com v3_leaf -days 30
	leaf "$D/ec" p384 p384 p384.example.com v3_leaf -days 30
	leaf "$D/ec" revoked p256 revoked.example.com v3_leaf -days 30
	leaf "$D/ec" expired p256 expired.example.com v3_leaf \
		-startdate 20200101000000Z -enddate 20210101000000Z
	leaf "$D/ec" future p256 future.example.com v3_leaf \
		-startdate 20400101000000Z -enddate 20410101000000Z
	leaf "$D/ec" p521 p521 p521.example.com v3_leaf -days 30
	leaf "$D/ec" ed25519 ed25519 ed.example.com v3_leaf -days 30
	leaf "$D/ec" responder p256 "Test OCSP Responder" v3_ocsp -days 30
	leaf "$D/ec" noeku p256 "Test Not A Responder" v3_noeku -days 30
	genkey "$D/ec/other.key" p256
	CADIR=$D/ec/ca openssl ca -batch -config "$D/openssl.cnf" \
		-cert "$D/ec/inter.pem" -keyfile "$D/ec/inter.key" \
		-revoke "$D/ec/revoked.pem" -crl_reason keyCompromise 2>/dev/null
	CADIR=$D/ec/ca openssl ca -batch -config "$D/openssl.cnf" \
		-cert "$D/ec/inter.pem" -keyfile "$D/ec/inter.key" \
		-gencrl -crldays 30 -out "$D/ec/crl.pem" 2>/dev/null

	# An unrelated CA with the same intermediate name: signatures, not
	# names, must decide who issued what.
	root "$D/ec/evil" p256 "Test EC Intermediate"
	root "$D/ec/rogue" p256 "Rogue Responder"

	# Issued by the intermediate behind its database's back: its
	# responder knows nothing about it ("unknown").
	genkey "$D/ec/stray.key" p256
	openssl req -config "$D/openssl.cnf" -new -key "$D/ec/stray.key" \
		-subj "/CN=stray.example.com" -out "$D/ec/stray.csr"
	openssl x509 -req -in "$D/ec/stray.csr" -CA "$D/ec/inter.pem" \
		-CAkey "$D/ec/inter.key" -set_serial 0x7777 -days 30 \
		-out "$D/ec/stray.pem" 2>/dev/null
	cat "$D/ec/stray.pem" "$D/ec/inter.pem" "$D/ec/root.pem" >"$D/ec/stray-chain.pem"

	root "$D/rsa" rsa3072 "Test RSA Root"
	inter "$D/rsa" rsa2048 "Test RSA Intermediate"
	leaf "$D/rsa" leaf rsa2048 rsa.example.com v3_leaf -days 30
	leaf "$D/rsa" rsa4096 rsa4096 rsa4096.example.com v3_leaf -days 30
	leaf "$D/rsa" rsa1024 rsa1024 weak.example.com v3_leaf -days 30
	CADIR=$D/rsa/ca openssl ca -batch -config "$D/openssl.cnf" \
		-cert "$D/rsa/inter.pem" -keyfile "$D/rsa/inter.key" \
		-gencrl -crldays 30 -out "$D/rsa/crl.pem" 2>/dev/null
	# Key formats: PKCS#1 and SEC1 besides genpkey's PKCS#8, and an
	# encrypted one that must be refused.
	openssl rsa -in "$D/rsa/leaf.key" -traditional -out "$D/rsa/leaf-pkcs1.key" 2>/dev/null
	openssl ec -in "$D/ec/leaf.key" -out "$D/ec/leaf-sec1.key" 2>/dev/null
	openssl pkey -in "$D/ec/leaf.key" -aes256 -passout pass:secret \
		-out "$D/ec/leaf-enc.key"

	for n in leaf revoked; do
		ocspreq "$D/ec" $n
	done
	respond "$D/ec" "$D/ec/leaf.req" "$D/ec/leaf-good.resp" issuer
	respond "$D/ec" "$D/ec/revoked.req" "$D/ec/revoked.resp" issuer
	respond "$D/ec" "$D/ec/leaf.req" "$D/ec/leaf-delegated.resp" delegated
	respond "$D/ec" "$D/ec/leaf.req" "$D/ec/leaf-noeku.resp" noeku
	respond "$D/ec" "$D/ec/leaf.req" "$D/ec/leaf-nocerts.resp" issuer-nocerts
	respond "$D/ec" "$D/ec/leaf.req" "$D/ec/leaf-delegated-nocerts.resp" delegated-nocerts
	respond "$D/ec" "$D/ec/leaf.req" "$D/ec/leaf-rogue.resp" rogue
	respond "$D/ec" "$D/ec/leaf.req" "$D/ec/leaf-rogue-nocerts.resp" rogue-nocerts
}

# issue DIR NAME KIND SUBJ CA EXT: DIR/NAME.{key,pem} signed by CA.{pem,key}
issue() {
	genkey "$1/$2.key" "$3"
	openssl req -config "$D/openssl.cnf" -new -key "$1/$2.key" \
		-subj "$4" -out "$1/$2.csr"
	openssl x509 -req -in "$1/$2.csr" -CA "$5.pem" -CAkey "$5.key" \
		-CAcreateserial -days 365 -extfile "$D/openssl.cnf" \
		-extensions "$6" -out "$1/$2.pem" 2>/dev/null
}

# Chains for crypto/chain.h, below DIR/chain, each certificate also as
# NAME.der and NAME.spki (hex SHA-256 of its SubjectPublicKeyInfo DER,
# as `openssl pkey -pubin -outform der` writes it):
#   root -> i1 -> i2 -> leaf    a two-level chain (origin.test)
#   deep0 -> .. -> deep9 -> deepleaf   longer than CHAIN_MAX (10)
#   forged                      issuer name "Test EC Intermediate" (the EC
#                               intermediate's), signed by ec/evil's key
#   ec-*, rsa-*                 the setup PKI's certificates
chains() {
	C=$D/chain
	mkdir -p "$C"
	export SAN="DNS:origin.test"
	root "$C" p256 "Chain Root"
	issue "$C" i1 p256 "/O=Rampart Test/CN=Chain Intermediate 1" "$C/root" v3_mid
	issue "$C" i2 p256 "/O=Rampart Test/CN=Chain Intermediate 2" "$C/i1" v3_inter
	issue "$C" leaf p256 "/O=Rampart Test/CN=origin.test" "$C/i2" v3_leaf
	issue "$C" forged p256 "/O=Rampart Test/CN=forged.example.com" \
		"$D/ec/evil/root" v3_leaf
	mkdir -p "$C/deep"
	root "$C/deep" p256 "Deep CA 0"
	cp "$C/deep/root.pem" "$C/deep0.pem"
	up=$C/deep/root
	for k in 1 2 3 4 5 6 7 8 9; do
		issue "$C" "deep$k" p256 "/O=Rampart Test/CN=Deep CA $k" "$up" v3_mid
		up=$C/deep$k
	done
	issue "$C" deepleaf p256 "/O=Rampart Test/CN=deep.origin.test" "$up" v3_leaf
	for f in ec/root ec/inter ec/leaf ec/ed25519 ec/evil/root rsa/root \
		rsa/inter rsa/leaf; do
		cp "$D/$f.pem" "$C/$(echo "$f" | tr / -).pem"
	done
	for f in "$C"/*.pem; do
		n=${f%.pem}
		openssl x509 -in "$f" -outform der -out "$n.der"
		openssl x509 -in "$f" -pubkey -noout |
			openssl pkey -pubin -outform der |
			openssl dgst -sha256 -r | cut -c1-64 >"$n.spki"
	done
}

cmd=$1
D=$2
# openssl.cnf names these; every command reads the whole file.
export CADIR="$D/ec/ca"
export SAN="DNS:unused.example"
case $cmd in
setup) setup ;;
chain) chains ;;
respond) respond "$D" "$3" "$4" "$5" ;;
*) echo "usage: $0 setup DIR | chain DIR | respond DIR REQ OUT SIGNER" >&2; exit 2 ;;
esac
