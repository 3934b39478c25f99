/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ClientHello peek against real clients' hellos and hostile bytes:
 * every field a certificate or policy decision depends on, every prefix
 * of a real hello asks for more, any record fragmentation gives the same
 * answer, every malformed length is refused, and a seeded mutation loop
 * never makes the parser read outside the buffer (each parse runs on an
 * exact-size heap copy, so ASan sees any over-read).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tls/tls_hello.h"

/*
 * Captured once with a listener that wrote out the first records it
 * received (python socket, 127.0.0.1:44330), from the Debian 12 clients:
 *   ossl_default:   openssl s_client -connect 127.0.0.1:44330
 *                     -servername A.Example.com -alpn http/1.1 -status
 *   ossl_rsa:       openssl s_client ... -servername rsa.example.com
 *                     -sigalgs RSA+SHA256:RSA-PSS+SHA256
 *   ossl_tls12:     openssl s_client ... -servername old.example.com -tls1_2
 *   ossl_nosni:     openssl s_client ... -noservername
 *   ossl_tls10:     openssl s_client ... -servername legacy.example.com -tls1
 *                     -cipher 'ECDHE-ECDSA-AES128-SHA:AES128-SHA:@SECLEVEL=0'
 *   ossl_tls10_rsa: the same with -cipher 'AES128-SHA:@SECLEVEL=0'
 *   gnutls:         gnutls-cli -p 44330 --sni-hostname=g.example.com
 *                     --alpn=h2 --alpn=http/1.1 --insecure 127.0.0.1
 *   curl:           curl -sk --resolve c.example.com:44330:127.0.0.1
 *                     https://c.example.com:44330/
 * (OpenSSL 3.0, GnuTLS 3.7.9, curl 7.88.1/OpenSSL.)
 */
static const char hex_ossl_default[] =
	"16030101520100014e0303cea2ae6c0658f35405ffeb146be82f26be31c76b73"
	"141b9d3927ecab1bde5c3f2055c01daf8fe4d90aa9c5f5a7a45b87fecebcfd3b"
	"58fab44fef5996c012ab9fc1003e130213031301c02cc030009fcca9cca8ccaa"
	"c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d"
	"009c003d003c0035002f00ff010000c700000012001000000d412e4578616d70"
	"6c652e636f6d000b000403000102000a00160014001d0017001e001900180100"
	"0101010201030104002300000005000501000000000010000b00090868747470"
	"2f312e310016000000170000000d002a0028040305030603080708080809080a"
	"080b080408050806040105010601030303010302040205020602002b00090803"
	"04030303020301002d00020101003300260024001d0020ad8a869a37f122b1f0"
	"dd41851714d634159f4e047054ec5f87663599ff599b63";

static const char hex_ossl_rsa[] =
	"160301010a010001060303076ade3e21a0e604a8957c060ed6472f6f35b5da99"
	"630e9e0ff957abf198bf7f205d81de195916d86fa44cc4df81787d50cbbf70da"
	"a06006f5d952d8ab4788405d0030130213031301c030009fcca8ccaac02f009e"
	"c028006bc0270067c0140039c0130033009d009c003d003c0035002f00ff0100"
	"008d00000014001200000f7273612e6578616d706c652e636f6d000b00040300"
	"0102000a00160014001d0017001e001900180100010101020103010400230000"
	"0016000000170000000d0006000404010804002b000908030403030302030100"
	"2d00020101003300260024001d00203f251ee99db6094574146a55b25e728de6"
	"11c1af4e2f73c3c56788b48821874d";

static const char hex_ossl_tls12[] =
	"16030100cf010000cb0303c9fb4d80060b2155f4b616a5fb8f1f1f7692d4f739"
	"80e6b8644b6bd68af46279000038c02cc030009fcca9cca8ccaac02bc02f009e"
	"c024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c"
	"0035002f00ff0100006a00000014001200000f6f6c642e6578616d706c652e63"
	"6f6d000b000403000102000a000c000a001d0017001e00190018002300000016"
	"000000170000000d002a0028040305030603080708080809080a080b08040805"
	"0806040105010601030303010302040205020602";

static const char hex_ossl_nosni[] =
	"160301012401000120030352a00125778f6374141f3ab4c693f8a3d48a2b72d0"
	"fbf3352f7dc9a4d4874ed720c9e82f0119df0f830770718adf9b85d5071ab663"
	"f94a90a0f6dbe0ece214060d003e130213031301c02cc030009fcca9cca8ccaa"
	"c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d"
	"009c003d003c0035002f00ff01000099000b000403000102000a00160014001d"
	"0017001e0019001801000101010201030104002300000016000000170000000d"
	"002a0028040305030603080708080809080a080b080408050806040105010601"
	"030303010302040205020602002b0009080304030303020301002d0002010100"
	"3300260024001d00207213b9ae679e250921b01187964212860d94e8bddd82b5"
	"710e09ae9135447272";

static const char hex_ossl_tls10[] =
	"16030100720100006e03015e6c153c5d5e6a746e466e18024c59d4c7d015cbb6"
	"2c17832f432294003981d1000006c009002f00ff0100003f0000001700150000"
	"126c65676163792e6578616d706c652e636f6d000b000403000102000a000c00"
	"0a001d0017001e00190018002300000016000000170000";

static const char hex_ossl_tls10_rsa[] =
	"1603010058010000540301bd7053894a497e3fd1ecc953eb8df9d5b24216ee34"
	"3cff35644d38d0f865603f000004002f00ff010000270000001700150000126c"
	"65676163792e6578616d706c652e636f6d002300000016000000170000";

static const char hex_gnutls[] =
	"1603010198010001940303dbe21242025fe834fedcdfa0ce3b44f33c8a2441a8"
	"898832ad6949dc60753b28201b98683f20d9045f91bdd18e4eb891156b593517"
	"4fc9b3954553cfab6a3adf9c003a1302130313011304c02ccca9c0adc00ac02b"
	"c0acc009c030cca8c014c02fc013009dc09d0035009cc09c002f009fccaac09f"
	"0039009ec09e003301000111000500050100000000000a001600140017001800"
	"19001d001e01000101010201030104000b00020100000d002200200401080908"
	"04040308070501080a0805050308080601080b08060603020102030010000e00"
	"0c02683208687474702f312e310016000000170000002300000033006b006900"
	"17004104c0b9263987a7369a6b2fd78bd56c4be5fa2c08188f25947f59d81f18"
	"f79e35e16ff03d2f4d4d3da31740135a12634cbc66ed68f92b645112f29c4a2b"
	"448f4e73001d0020ae560ce397767fa81851413b1a72ebe918c3279ad2d20e3e"
	"6e6cc7fded0c0729002b0009080304030303020301ff01000100000000120010"
	"00000d672e6578616d706c652e636f6d002d0003020100001c00024001";

static const char hex_curl[] =
	"1603010200010001fc0303c71b84d7da3e03b30f369baeee0345d97b0c5df487"
	"5adab782240b4400369d30200d90b6801141e68d773fef768be75d2b2cf09cad"
	"fc8c6aef70076b8a9b861ec5003e130213031301c02cc030009fcca9cca8ccaa"
	"c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d"
	"009c003d003c0035002f00ff0100017500000012001000000d632e6578616d70"
	"6c652e636f6d000b000403000102000a00160014001d0017001e001900180100"
	"01010102010301040010000e000c02683208687474702f312e31001600000017"
	"000000310000000d002a0028040305030603080708080809080a080b08040805"
	"0806040105010601030303010302040205020602002b00090803040303030203"
	"01002d00020101003300260024001d0020f9ee9ecc47ca99dbdfea89d592dde2"
	"e3a0e65b535a62bcbb9dc63b8ac9aa6b58001500b00000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000";

/* ---- helpers ---------------------------------------------------------- */

#define BUF_MAX (64u << 10)

struct wbuf {
	uint8_t b[BUF_MAX];
	size_t n;
};

static void
w8(struct wbuf *w, unsigned int v)
{
	assert_true(w->n < sizeof(w->b));
	w->b[w->n++] = (uint8_t)v;
}

static void
w16(struct wbuf *w, unsigned int v)
{
	w8(w, v >> 8);
	w8(w, v & 0xff);
}

static void
w24(struct wbuf *w, size_t v)
{
	w8(w, (unsigned int)(v >> 16) & 0xff);
	w16(w, (unsigned int)v & 0xffff);
}

static void
wbytes(struct wbuf *w, const void *p, size_t n)
{
	assert_true(n <= sizeof(w->b) - w->n);
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

/* Hex with optional spaces, for readable fixtures. */
static void
whex(struct wbuf *w, const char *hex)
{
	unsigned int v;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		w8(w, v);
		hex += 2;
	}
}

/* Parse an exact-size heap copy: ASan flags any read past len. */
static int
parse_exact(const uint8_t *b, size_t n, struct tls_hello *h)
{
	uint8_t *copy = malloc(n == 0 ? 1 : n);
	int rc;

	assert_non_null(copy);
	memcpy(copy, b, n);
	rc = tls_hello_parse(n == 0 ? NULL : copy, n, h);
	free(copy);
	return rc;
}

static void
assert_same_hello(const struct tls_hello *a, const struct tls_hello *b)
{
	assert_string_equal(a->sni, b->sni);
	assert_int_equal(a->has_sni, b->has_sni);
	assert_int_equal(a->sni_invalid, b->sni_invalid);
	assert_int_equal(a->ecdsa_ok, b->ecdsa_ok);
	assert_int_equal(a->rsa_ok, b->rsa_ok);
	assert_int_equal(a->offers_tls13, b->offers_tls13);
	assert_int_equal(a->legacy_version, b->legacy_version);
	assert_int_equal(a->status_request, b->status_request);
	assert_int_equal(a->alpn_http11, b->alpn_http11);
	assert_int_equal(a->alpn_h2, b->alpn_h2);
	assert_int_equal(a->has_alpn, b->has_alpn);
	assert_int_equal(a->early_data, b->early_data);
}

/* The handshake message carried by the records of stream s. */
static void
unrecord(const struct wbuf *s, struct wbuf *msg)
{
	size_t pos = 0;

	msg->n = 0;
	while (pos + 5 <= s->n) {
		size_t rlen = ((size_t)s->b[pos + 3] << 8) | s->b[pos + 4];

		assert_true(pos + 5 + rlen <= s->n);
		wbytes(msg, s->b + pos + 5, rlen);
		pos += 5 + rlen;
	}
	assert_int_equal(pos, s->n);
}

/* Wrap msg in handshake records of at most frag bytes each. */
static void
rerecord(const struct wbuf *msg, size_t frag, struct wbuf *s)
{
	size_t pos = 0;

	s->n = 0;
	while (pos < msg->n) {
		size_t n = msg->n - pos < frag ? msg->n - pos : frag;

		w8(s, 22);
		w16(s, 0x0301);
		w16(s, (unsigned int)n);
		wbytes(s, msg->b + pos, n);
		pos += n;
	}
}

/* A ClientHello record: legacy_version, zero random, then body_hex
 * (session id, suites, compression, extensions), lengths filled in. */
static void
hello_raw(struct wbuf *s, unsigned int version, const char *body_hex)
{
	static struct wbuf body;
	static const uint8_t random[32];

	body.n = 0;
	w16(&body, version);
	wbytes(&body, random, sizeof(random));
	whex(&body, body_hex);
	s->n = 0;
	w8(s, 22);
	w16(s, 0x0301);
	w16(s, (unsigned int)(body.n + 4));
	w8(s, 1);
	w24(s, body.n);
	wbytes(s, body.b, body.n);
}

#define STD_PREFIX "20 " \
	"0101010101010101010101010101010101010101010101010101010101010101" \
	" 0004 1301 c02b 01 00"

/* A TLS 1.3-style hello with the given extension bytes (block length
 * computed). */
static void
hello_exts(struct wbuf *s, const uint8_t *ext, size_t ext_len)
{
	static struct wbuf body;
	static const uint8_t random[32];

	body.n = 0;
	w16(&body, 0x0303);
	wbytes(&body, random, sizeof(random));
	whex(&body, STD_PREFIX);
	w16(&body, (unsigned int)ext_len);
	wbytes(&body, ext, ext_len);
	s->n = 0;
	w8(s, 22);
	w16(s, 0x0301);
	w16(s, (unsigned int)(body.n + 4));
	w8(s, 1);
	w24(s, body.n);
	wbytes(s, body.b, body.n);
}

static int
parse_with_exts_hex(const char *ext_hex, struct tls_hello *h)
{
	static struct wbuf ext, s;

	ext.n = 0;
	whex(&ext, ext_hex);
	hello_exts(&s, ext.b, ext.n);
	return parse_exact(s.b, s.n, h);
}

static void
fixture(struct wbuf *s, const char *hex)
{
	s->n = 0;
	whex(s, hex);
}

/* ---- real clients ----------------------------------------------------- */

struct real_hello {
	const char *name;
	const char *hex;
	const char *sni;        /* NULL: none sent */
	bool ecdsa_ok, rsa_ok, tls13, status, http11, h2;
	uint16_t legacy_version;
};

static const struct real_hello real[] = {
	{ "openssl", hex_ossl_default, "a.example.com",
	  true, true, true, true, true, false, 0x0303 },
	{ "openssl RSA sigalgs", hex_ossl_rsa, "rsa.example.com",
	  false, true, true, false, false, false, 0x0303 },
	{ "openssl -tls1_2", hex_ossl_tls12, "old.example.com",
	  true, true, false, false, false, false, 0x0303 },
	{ "openssl -noservername", hex_ossl_nosni, NULL,
	  true, true, true, false, false, false, 0x0303 },
	{ "openssl -tls1 ECDSA suite", hex_ossl_tls10, "legacy.example.com",
	  true, true, false, false, false, false, 0x0301 },
	{ "openssl -tls1 RSA suite", hex_ossl_tls10_rsa, "legacy.example.com",
	  false, true, false, false, false, false, 0x0301 },
	{ "gnutls-cli", hex_gnutls, "g.example.com",
	  true, true, true, true, true, true, 0x0303 },
	{ "curl", hex_curl, "c.example.com",
	  true, true, true, false, true, true, 0x0303 },
};
#define NB_REAL (sizeof(real) / sizeof(real[0]))

static struct wbuf s1, s2, msg;

static void
test_real_hellos(void **state)
{
	struct tls_hello h;
	size_t i;

	(void)state;
	for (i = 0; i < NB_REAL; i++) {
		const struct real_hello *r = &real[i];

		fixture(&s1, r->hex);
		memset(&h, 0xa5, sizeof(h));
		if (parse_exact(s1.b, s1.n, &h) != 1)
			fail_msg("%s: not parsed", r->name);
		assert_string_equal(h.sni, r->sni != NULL ? r->sni : "");
		assert_int_equal(h.has_sni, r->sni != NULL);
		assert_false(h.sni_invalid);
		if (h.ecdsa_ok != r->ecdsa_ok || h.rsa_ok != r->rsa_ok)
			fail_msg("%s: ecdsa_ok %d rsa_ok %d", r->name,
				 h.ecdsa_ok, h.rsa_ok);
		assert_int_equal(h.offers_tls13, r->tls13);
		assert_int_equal(h.status_request, r->status);
		assert_int_equal(h.alpn_http11, r->http11);
		assert_int_equal(h.alpn_h2, r->h2);
		assert_int_equal(h.has_alpn, r->http11 || r->h2);
		assert_false(h.early_data);
		assert_int_equal(h.legacy_version, r->legacy_version);
	}
}

/* Bytes arrive one at a time: every prefix asks for more, never fails. */
static void
test_real_every_prefix_needs_more(void **state)
{
	struct tls_hello h;
	size_t i, n;

	(void)state;
	for (i = 0; i < NB_REAL; i++) {
		fixture(&s1, real[i].hex);
		for (n = 0; n < s1.n; n++)
			if (parse_exact(s1.b, n, &h) != 0)
				fail_msg("%s: prefix %zu of %zu not 0",
					 real[i].name, n, s1.n);
		assert_int_equal(parse_exact(s1.b, s1.n, &h), 1);
	}
}

/* However the client cuts the hello into records, the answer is the same,
 * and each prefix of the fragmented stream asks for more. */
static void
test_real_refragmented(void **state)
{
	static const size_t frags[] = { 1, 2, 3, 4, 5, 7, 64, 255, 16384 };
	struct tls_hello whole, h;
	size_t i, f, n;

	(void)state;
	for (i = 0; i < NB_REAL; i++) {
		fixture(&s1, real[i].hex);
		assert_int_equal(parse_exact(s1.b, s1.n, &whole), 1);
		unrecord(&s1, &msg);
		for (f = 0; f < sizeof(frags) / sizeof(frags[0]); f++) {
			rerecord(&msg, frags[f], &s2);
			if (parse_exact(s2.b, s2.n, &h) != 1)
				fail_msg("%s in %zu-byte records: not parsed",
					 real[i].name, frags[f]);
			assert_same_hello(&whole, &h);
		}
		rerecord(&msg, 3, &s2);
		for (n = 0; n < s2.n; n++)
			if (parse_exact(s2.b, n, &h) != 0)
				fail_msg("%s in 3-byte records: prefix %zu",
					 real[i].name, n);
	}
}

/* Records after the hello (middlebox-compat CCS, early data) belong to
 * the TLS engine, not to the peek. */
static void
test_bytes_after_hello_are_not_ours(void **state)
{
	struct tls_hello whole, h;

	(void)state;
	fixture(&s1, hex_ossl_default);
	assert_int_equal(parse_exact(s1.b, s1.n, &whole), 1);
	whex(&s1, "140303000101 1703030005 0102030405");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), 1);
	assert_same_hello(&whole, &h);
	whex(&s1, "ffffffff");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), 1);
}

/* ---- framing ---------------------------------------------------------- */

static void
test_trailing_bytes_in_hello_record(void **state)
{
	struct tls_hello h;
	size_t rlen;

	(void)state;
	/* One more byte inside the record that ends the hello. */
	fixture(&s1, hex_curl);
	rlen = ((size_t)s1.b[3] << 8 | s1.b[4]) + 1;
	s1.b[3] = (uint8_t)(rlen >> 8);
	s1.b[4] = (uint8_t)rlen;
	w8(&s1, 0);
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EBADMSG);
	/* A second handshake message in the same record. */
	fixture(&s1, hex_ossl_tls12);
	unrecord(&s1, &msg);
	whex(&msg, "0e000000");         /* a stray ServerHelloDone */
	rerecord(&msg, 16384, &s2);
	assert_int_equal(parse_exact(s2.b, s2.n, &h), -EBADMSG);
	/* In a record of its own it is past the hello: the TLS engine's to
	 * judge, not the peek's. */
	rerecord(&msg, msg.n - 4, &s2);
	assert_int_equal(parse_exact(s2.b, s2.n, &h), 1);
}

static void
test_not_a_handshake_record(void **state)
{
	static const char *const garbage[] = {
		"474554202f20485454502f312e310d0a",     /* GET / HTTP/1.1 */
		"1703030010",                           /* application data */
		"15030300020228",                       /* alert */
		"140303000101",                         /* change_cipher_spec */
		"1602010030",                           /* record major 2 */
		"1604030030",                           /* record major 4 */
		"0000000000",
	};
	struct tls_hello h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		fixture(&s1, garbage[i]);
		if (parse_exact(s1.b, s1.n, &h) != -EBADMSG)
			fail_msg("garbage %zu accepted", i);
	}
	/* The first byte is enough to refuse. */
	assert_int_equal(parse_exact((const uint8_t *)"G", 1, &h), -EBADMSG);
	/* A non-handshake record in the middle of a fragmented hello. */
	fixture(&s1, hex_ossl_default);
	unrecord(&s1, &msg);
	rerecord(&msg, 100, &s2);
	s2.b[105] = 23;
	assert_int_equal(parse_exact(s2.b, s2.n, &h), -EBADMSG);
	assert_int_equal(parse_exact(s2.b, 106, &h), -EBADMSG);
}

/* SSLv2-compatible ClientHello (RFC 5246 E.2), as old clients sent it:
 * two-byte header with the high bit set, msg_type 1, version 3.1. */
static void
test_sslv2_hello(void **state)
{
	struct tls_hello h;

	(void)state;
	fixture(&s1, "802e 01 0301 0015 0000 0010"
		     "000039 000038 000035 000033 000032"
		     "00002f 000005 000004 "
		     "0102030405060708090a0b0c0d0e0f10");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EBADMSG);
	assert_int_equal(parse_exact(s1.b, 1, &h), -EBADMSG);
}

static void
test_record_lengths(void **state)
{
	struct tls_hello h;

	(void)state;
	/* RFC 8446 5.1: no zero-length handshake records. */
	fixture(&s1, "1603010000");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EBADMSG);
	/* A zero-length record after a first fragment. */
	fixture(&s1, "160301000101 1603010000");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EBADMSG);
	/* Over 2^14 bytes of plaintext. */
	fixture(&s1, "1603014001");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EBADMSG);
	/* A full 2^14 record cannot end a hello that fits in
	 * TLS_HELLO_MAX with its header: too big, not garbage. */
	fixture(&s1, "16030140000100");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EMSGSIZE);
	fixture(&s1, "16030130000100");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), 0);
}

static void
test_not_a_client_hello(void **state)
{
	struct tls_hello h;

	(void)state;
	fixture(&s1, "160303000402000000");     /* ServerHello type */
	assert_int_equal(parse_exact(s1.b, 6, &h), -EBADMSG);
	fixture(&s1, "16030300040000000000");   /* HelloRequest */
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EBADMSG);
	/* Decided from the first handshake byte even in a 1-byte record. */
	fixture(&s1, "16030100010b");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EBADMSG);
	/* A body too short to hold the fixed fields. */
	fixture(&s1, "160301002c 01000028");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EBADMSG);
}

/* The largest hello whose records fit in TLS_HELLO_MAX, padded with RFC
 * 7685 padding. */
static void
padded_hello(struct wbuf *s, size_t stream_len, size_t frag)
{
	static struct wbuf ext;
	size_t overhead;

	/* record header + handshake header + fixed body + ext block len +
	 * padding ext header */
	ext.n = 0;
	hello_exts(s, ext.b, 0);
	overhead = s->n + 4;
	assert_true(stream_len > overhead);
	w16(&ext, 0x0015);
	w16(&ext, (unsigned int)(stream_len - overhead));
	while (ext.n < stream_len - overhead + 4)
		w8(&ext, 0);
	hello_exts(s, ext.b, ext.n);
	assert_int_equal(s->n, stream_len);
	if (frag < 16384) {
		unrecord(s, &msg);
		rerecord(&msg, frag, s);
	}
}

static void
test_oversized(void **state)
{
	struct tls_hello h;

	(void)state;
	padded_hello(&s1, TLS_HELLO_MAX, 16384);
	assert_int_equal(parse_exact(s1.b, s1.n, &h), 1);
	padded_hello(&s1, TLS_HELLO_MAX + 1, 16384);
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EMSGSIZE);
	/* Refused from the declared length, long before the bytes. */
	assert_int_equal(parse_exact(s1.b, 9, &h), -EMSGSIZE);
	fixture(&s1, "1603010009 01ffffff");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EMSGSIZE);
	/* A small hello in 1-byte records costs six stream bytes per hello
	 * byte: past TLS_HELLO_MAX the stream is refused too. */
	padded_hello(&s1, 3000, 1);
	assert_true(s1.n > TLS_HELLO_MAX);
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EMSGSIZE);
	assert_int_equal(parse_exact(s1.b, TLS_HELLO_MAX, &h), 0);
	padded_hello(&s1, 3000, 2);
	assert_true(s1.n < TLS_HELLO_MAX);
	assert_int_equal(parse_exact(s1.b, s1.n, &h), 1);
}

/* ---- body and extension lengths ---------------------------------------- */

static void
test_body_lengths(void **state)
{
	static const char *const bad[] = {
		/* session id longer than 32 */
		"21 000000000000000000000000000000000000000000000000000000000000000000"
		" 0002 1301 01 00",
		/* session id overrunning the message */
		"20 0000000000000000000000",
		/* odd, empty and overrunning cipher_suites */
		"00 0003 130113 01 00",
		"00 0000 01 00 000000000000",
		"00 0010 1301 01 00",
		/* empty and overrunning compression_methods */
		"00 0002 1301 00 0000",
		"00 0002 1301 05 00",
		/* extension block length one short, one long, one byte */
		"00 0002 1301 01 00 0003 ff01000100",
		"00 0002 1301 01 00 0006 ff01000100",
		"00 0002 1301 01 00 00",
		/* bytes after the extension block */
		"00 0002 1301 01 00 0005 ff01000100 00",
	};
	struct tls_hello h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hello_raw(&s1, 0x0303, bad[i]);
		if (parse_exact(s1.b, s1.n, &h) != -EBADMSG)
			fail_msg("malformed body %zu accepted", i);
	}
	/* Not version 3.x. */
	hello_raw(&s1, 0x0203, "00 0002 1301 01 00");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), -EBADMSG);
	hello_raw(&s1, 0x0300, "00 0002 002f 01 00");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), 1);
	assert_int_equal(h.legacy_version, 0x0300);
}

/* Extensions are optional before TLS 1.3; an empty block is allowed. */
static void
test_no_extensions(void **state)
{
	struct tls_hello h;

	(void)state;
	hello_raw(&s1, 0x0303, "00 0004 002f 0035 01 00");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), 1);
	assert_false(h.has_sni);
	assert_string_equal(h.sni, "");
	assert_false(h.offers_tls13);
	assert_false(h.has_alpn);
	assert_false(h.status_request);
	/* RFC 5246 7.4.1.4.1: no signature_algorithms means RSA, and ECDSA
	 * only with an ECDHE_ECDSA suite. */
	assert_true(h.rsa_ok);
	assert_false(h.ecdsa_ok);
	hello_raw(&s1, 0x0303, "00 0004 002f c02c 01 00 0000");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), 1);
	assert_true(h.rsa_ok);
	assert_true(h.ecdsa_ok);
	hello_raw(&s1, 0x0303, "00 0002 cca9 01 00");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), 1);
	assert_true(h.ecdsa_ok);
	/* ECDHE_RSA is not ECDSA. */
	hello_raw(&s1, 0x0303, "00 0004 c02f cca8 01 00");
	assert_int_equal(parse_exact(s1.b, s1.n, &h), 1);
	assert_false(h.ecdsa_ok);
}

#define SNI_A "0000 0012 0010 00 000d 612e6578616d706c652e636f6d"

static void
test_extension_lengths(void **state)
{
	static const char *const bad[] = {
		/* server_name */
		"0000 0000",
		"0000 0002 0000",
		"0000 0012 0011 00 000d 612e6578616d706c652e636f6d",
		"0000 0012 000f 00 000d 612e6578616d706c652e636f6d",
		"0000 0012 0010 00 000e 612e6578616d706c652e636f6d",
		"0000 0012 0010 00 000c 612e6578616d706c652e636f6d",
		"0000 0012 0010 01 000d 612e6578616d706c652e636f6d",
		"0000 0005 0003 00 0000",
		"0000 000a 0008 00 0001 61 00 0001 62",
		"0000 0003 0001 00",
		/* signature_algorithms */
		"000d 0000",
		"000d 0002 0000",
		"000d 0003 0001 04",
		"000d 0004 0004 0403",
		"000d 0005 0003 040305",
		/* supported_versions */
		"002b 0000",
		"002b 0001 00",
		"002b 0002 01 03",
		"002b 0004 03 030403",
		"002b 0003 04 0304",
		/* ALPN */
		"0010 0000",
		"0010 0002 0000",
		"0010 0003 0001 00",
		"0010 0005 0004 02 6832",
		"0010 0005 0003 03 6832",
		/* status_request */
		"0005 0000",
		"0005 0003 01 0000",
		"0005 0005 01 0001 0000",
		"0005 0006 01 0000 0000 00",
		/* early_data carries nothing in a ClientHello */
		"002a 0001 00",
		/* extension header or body cut by the block */
		"00",
		"000a",
		"000a 00",
		"000a 0005 0002 001d",
	};
	struct tls_hello h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_with_exts_hex(bad[i], &h) != -EBADMSG)
			fail_msg("malformed extension %zu (%s) accepted", i,
				 bad[i]);
	assert_int_equal(parse_with_exts_hex(SNI_A, &h), 1);
	assert_string_equal(h.sni, "a.example.com");
	assert_int_equal(parse_with_exts_hex("000a 0004 0002 001d", &h), 1);
}

static void
test_duplicate_extensions(void **state)
{
	struct tls_hello h;

	(void)state;
	assert_int_equal(parse_with_exts_hex(SNI_A " " SNI_A, &h), -EBADMSG);
	assert_int_equal(parse_with_exts_hex("1234 0000 ff01 0001 00 1234 0000",
					     &h), -EBADMSG);
	assert_int_equal(parse_with_exts_hex("ffff 0000 0017 0000 ffff 0000",
					     &h), -EBADMSG);
	assert_int_equal(parse_with_exts_hex("002a 0000 002a 0000", &h),
			 -EBADMSG);
	assert_int_equal(parse_with_exts_hex("ffff 0000 fffe 0000 0017 0000 "
					     "0001 0000", &h), 1);
}

static void
test_optional_extensions(void **state)
{
	struct tls_hello h;

	(void)state;
	assert_int_equal(parse_with_exts_hex("0005 0005 01 0000 0000", &h), 1);
	assert_true(h.status_request);
	assert_int_equal(parse_with_exts_hex(
		"0005 000b 01 0004 0002 abcd 0002 1234", &h), 1);
	assert_true(h.status_request);
	/* An unknown status type is not a request for an OCSP staple. */
	assert_int_equal(parse_with_exts_hex("0005 0003 02 abcd", &h), 1);
	assert_false(h.status_request);
	assert_int_equal(parse_with_exts_hex("002a 0000", &h), 1);
	assert_true(h.early_data);
	assert_int_equal(parse_with_exts_hex("002b 0003 02 0303", &h), 1);
	assert_false(h.offers_tls13);
	assert_int_equal(parse_with_exts_hex("002b 0005 04 7a7a 0304", &h), 1);
	assert_true(h.offers_tls13);
	/* ALPN: only exact names count. */
	assert_int_equal(parse_with_exts_hex(
		"0010 0015 0013 08 687474702f312e30 02 6833 06 737064792f33",
		&h), 1);
	assert_true(h.has_alpn);
	assert_false(h.alpn_http11);
	assert_false(h.alpn_h2);
	assert_int_equal(parse_with_exts_hex(
		"0010 000e 000c 08 687474702f312e31 02 6832", &h), 1);
	assert_true(h.alpn_http11);
	assert_true(h.alpn_h2);
	assert_int_equal(parse_with_exts_hex(
		"0010 000b 0009 08 485454502f312e31", &h), 1);
	assert_false(h.alpn_http11);
}

static void
sigalgs_case(const uint16_t *algs, size_t n, bool ecdsa, bool rsa)
{
	static struct wbuf ext;
	struct tls_hello h;
	size_t i;

	ext.n = 0;
	w16(&ext, 13);
	w16(&ext, (unsigned int)(2 + 2 * n));
	w16(&ext, (unsigned int)(2 * n));
	for (i = 0; i < n; i++)
		w16(&ext, algs[i]);
	hello_exts(&s1, ext.b, ext.n);
	assert_int_equal(parse_exact(s1.b, s1.n, &h), 1);
	if (h.ecdsa_ok != ecdsa || h.rsa_ok != rsa)
		fail_msg("sigalg %04x...: ecdsa_ok %d rsa_ok %d", algs[0],
			 h.ecdsa_ok, h.rsa_ok);
}

static void
test_sigalgs(void **state)
{
	static const uint16_t ecdsa[] = { 0x0403, 0x0503, 0x0603, 0x0203 };
	static const uint16_t rsa[] = { 0x0401, 0x0501, 0x0601, 0x0201,
					0x0804, 0x0805, 0x0806 };
	/* ed25519, ed448, rsa_pss_pss_*, DSA, GREASE */
	static const uint16_t neither[] = { 0x0807, 0x0808, 0x0809, 0x080a,
					    0x080b, 0x0402, 0x0202, 0x0a0a };
	static const uint16_t both[] = { 0x0809, 0x0804, 0x0503 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ecdsa) / sizeof(ecdsa[0]); i++)
		sigalgs_case(&ecdsa[i], 1, true, false);
	for (i = 0; i < sizeof(rsa) / sizeof(rsa[0]); i++)
		sigalgs_case(&rsa[i], 1, false, true);
	for (i = 0; i < sizeof(neither) / sizeof(neither[0]); i++)
		sigalgs_case(&neither[i], 1, false, false);
	sigalgs_case(neither, sizeof(neither) / sizeof(neither[0]), false,
		     false);
	sigalgs_case(both, 3, true, true);
}

/* ---- server names ------------------------------------------------------ */

static int
parse_sni(const char *name, size_t len, struct tls_hello *h)
{
	static struct wbuf ext;

	ext.n = 0;
	w16(&ext, 0);
	w16(&ext, (unsigned int)(len + 5));
	w16(&ext, (unsigned int)(len + 3));
	w8(&ext, 0);
	w16(&ext, (unsigned int)len);
	wbytes(&ext, name, len);
	hello_exts(&s1, ext.b, ext.n);
	return parse_exact(s1.b, s1.n, h);
}

static void
expect_sni(const char *name, const char *want)
{
	struct tls_hello h;

	if (parse_sni(name, strlen(name), &h) != 1)
		fail_msg("'%s': hello refused", name);
	assert_true(h.has_sni);
	if (want == NULL) {
		if (!h.sni_invalid)
			fail_msg("'%s' accepted as '%s'", name, h.sni);
		assert_string_equal(h.sni, "");
	} else {
		if (h.sni_invalid)
			fail_msg("'%s' refused", name);
		assert_string_equal(h.sni, want);
	}
}

static void
test_sni_names(void **state)
{
	char name[300];
	struct tls_hello h;

	(void)state;
	expect_sni("WWW.Example.COM", "www.example.com");
	expect_sni("localhost", "localhost");
	expect_sni("xn--bcher-kva.example", "xn--bcher-kva.example");
	expect_sni("123.example.com", "123.example.com");
	expect_sni("a-b.c", "a-b.c");
	/* RFC 6066 3: no IP literals, no trailing dot. */
	expect_sni("192.0.2.1", NULL);
	expect_sni("10.1.2", NULL);
	expect_sni("example.123", NULL);
	expect_sni("::1", NULL);
	expect_sni("[2001:db8::1]", NULL);
	expect_sni("example.com.", NULL);
	expect_sni(".example.com", NULL);
	expect_sni("a..example.com", NULL);
	expect_sni("-a.example.com", NULL);
	expect_sni("a-.example.com", NULL);
	expect_sni("a_b.example.com", NULL);
	expect_sni("*.example.com", NULL);
	expect_sni("a b.example.com", NULL);
	expect_sni("caf\xc3\xa9.example", NULL);
	assert_int_equal(parse_sni("a\0b.example.com", 15, &h), 1);
	assert_true(h.sni_invalid);

	/* 63-byte labels and 253-byte names are the limits. */
	memset(name, 'a', 63);
	strcpy(name + 63, ".example.com");
	expect_sni(name, name);
	memset(name, 'a', 64);
	strcpy(name + 64, ".example.com");
	expect_sni(name, NULL);
	memset(name, 'a', 253);
	for (size_t i = 50; i < 253; i += 50)
		name[i] = '.';
	name[253] = '\0';
	expect_sni(name, name);
	name[253] = 'a';
	name[254] = '\0';
	expect_sni(name, NULL);
	memset(name, 'b', 299);
	for (size_t i = 50; i < 299; i += 50)
		name[i] = '.';
	assert_int_equal(parse_sni(name, 299, &h), 1);
	assert_true(h.sni_invalid);
	assert_string_equal(h.sni, "");
}

/* ---- seeded mutations --------------------------------------------------- */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* xorshift64*: reproducible from the seed printed on failure. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void
mutate(struct wbuf *s)
{
	unsigned int ops = 1 + rng() % 4, k;

	for (k = 0; k < ops && s->n > 0; k++) {
		size_t at = rng() % s->n, n;

		switch (rng() % 7) {
		case 0:
			s->b[at] = (uint8_t)rng();
			break;
		case 1:
			s->b[at] ^= (uint8_t)(1u << (rng() % 8));
			break;
		case 2:         /* a length-looking field set to an edge */
			if (at + 1 < s->n) {
				static const uint16_t edge[] = { 0, 1, 2, 0xff,
					0x100, 0x3fff, 0x4000, 0x4001, 0xffff };
				uint16_t v = edge[rng() % 9];

				s->b[at] = (uint8_t)(v >> 8);
				s->b[at + 1] = (uint8_t)v;
			}
			break;
		case 3:
			s->n = at;
			break;
		case 4:         /* delete a slice */
			n = rng() % 16;
			if (n > s->n - at)
				n = s->n - at;
			memmove(s->b + at, s->b + at + n, s->n - at - n);
			s->n -= n;
			break;
		case 5:         /* insert random bytes */
			n = rng() % 16;
			if (s->n + n > sizeof(s->b))
				break;
			memmove(s->b + at + n, s->b + at, s->n - at);
			for (size_t i = 0; i < n; i++)
				s->b[at + i] = (uint8_t)rng();
			s->n += n;
			break;
		default:        /* duplicate a slice (extensions, records) */
			n = rng() % 64;
			if (n > s->n - at || s->n + n > sizeof(s->b))
				break;
			memmove(s->b + at + n, s->b + at, s->n - at);
			s->n += n;
			break;
		}
	}
}

static void
check_parsed(const struct tls_hello *h)
{
	size_t n = strnlen(h->sni, sizeof(h->sni));

	assert_true(n < sizeof(h->sni));
	if (n > 0) {
		assert_true(h->has_sni);
		assert_false(h->sni_invalid);
	}
	for (size_t i = 0; i < n; i++)
		assert_true((h->sni[i] >= 'a' && h->sni[i] <= 'z') ||
			    (h->sni[i] >= '0' && h->sni[i] <= '9') ||
			    h->sni[i] == '-' || h->sni[i] == '.');
}

static void
test_mutations(void **state)
{
	static const uint64_t seed = 0x5eed7a11c0ffee01ull;
	unsigned int it, parsed = 0, refused = 0;
	struct tls_hello h, h2;

	(void)state;
	rng_state = seed;
	for (it = 0; it < 20000; it++) {
		size_t frag;
		int rc;

		fixture(&s1, real[it % NB_REAL].hex);
		if (it % 3 == 0) {
			unrecord(&s1, &msg);
			frag = 1 + rng() % 300;
			rerecord(&msg, frag, &s1);
		}
		mutate(&s1);
		rc = parse_exact(s1.b, s1.n, &h);
		if (rc != 1 && rc != 0 && rc != -EBADMSG && rc != -EMSGSIZE)
			fail_msg("seed %llx iteration %u: rc %d",
				 (unsigned long long)seed, it, rc);
		if (rc != 1) {
			refused += rc < 0;
			continue;
		}
		parsed++;
		check_parsed(&h);
		/* A complete hello: a prefix asks for more unless it holds
		 * the whole hello (mutations append records), and then it
		 * says the same; anything appended changes nothing. */
		rc = parse_exact(s1.b, rng() % s1.n, &h2);
		if (rc == 1)
			assert_same_hello(&h, &h2);
		else
			assert_int_equal(rc, 0);
		s1.b[s1.n++] = (uint8_t)rng();
		assert_int_equal(parse_exact(s1.b, s1.n, &h2), 1);
		assert_same_hello(&h, &h2);
	}
	/* The loop must exercise both outcomes to mean anything. */
	assert_true(parsed > 100);
	assert_true(refused > 1000);
	print_message("mutations: %u parsed, %u refused\n", parsed, refused);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_hellos),
		cmocka_unit_test(test_real_every_prefix_needs_more),
		cmocka_unit_test(test_real_refragmented),
		cmocka_unit_test(test_bytes_after_hello_are_not_ours),
		cmocka_unit_test(test_trailing_bytes_in_hello_record),
		cmocka_unit_test(test_not_a_handshake_record),
		cmocka_unit_test(test_sslv2_hello),
		cmocka_unit_test(test_record_lengths),
		cmocka_unit_test(test_not_a_client_hello),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_body_lengths),
		cmocka_unit_test(test_no_extensions),
		cmocka_unit_test(test_extension_lengths),
		cmocka_unit_test(test_duplicate_extensions),
		cmocka_unit_test(test_optional_extensions),
		cmocka_unit_test(test_sigalgs),
		cmocka_unit_test(test_sni_names),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests_name("tls_hello", tests, NULL, NULL);
}
