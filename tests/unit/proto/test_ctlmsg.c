/* SPDX-License-Identifier: BSD-3-Clause */
/* The control protocol codec: round trips, truncated and oversized frames,
 * unknown versions, and the socket helpers over real Unix sockets. */
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "controlplane/proto/ctlmsg.h"

static void
hdr(uint8_t *h, uint8_t version, uint32_t len)
{
	memcpy(h, CTLMSG_MAGIC, 4);
	h[4] = version;
	h[5] = h[6] = h[7] = 0;
	h[8] = (uint8_t)(len >> 24);
	h[9] = (uint8_t)(len >> 16);
	h[10] = (uint8_t)(len >> 8);
	h[11] = (uint8_t)len;
}

static void
test_round_trip(void **state)
{
	json_t *in, *out = NULL;
	uint8_t *frame;
	size_t len;
	char err[256];
	ssize_t n;

	(void)state;
	in = json_pack("{s:s,s:i,s:[s,s],s:s}", "op", "apply", "generation",
		       42, "aliases", "a.example.com", "*.b.example.com",
		       "utf8", "caf\xc3\xa9");
	assert_int_equal(ctlmsg_encode(in, &frame, &len), 0);
	assert_memory_equal(frame, "RMPC\x01\0\0\0", 8);
	assert_true(len > CTLMSG_HDR_LEN);

	n = ctlmsg_decode(frame, len, &out, err, sizeof(err));
	assert_int_equal(n, (ssize_t)len);
	assert_true(json_equal(in, out));

	/* Two frames back to back: the first is consumed alone. */
	uint8_t *two = malloc(2 * len);
	memcpy(two, frame, len);
	memcpy(two + len, frame, len);
	json_decref(out);
	out = NULL;
	assert_int_equal(ctlmsg_decode(two, 2 * len, &out, err, sizeof(err)),
			 (ssize_t)len);
	assert_true(json_equal(in, out));

	free(two);
	free(frame);
	json_decref(out);
	json_decref(in);
}

static void
test_truncated_is_partial(void **state)
{
	json_t *in = json_pack("{s:s}", "op", "status"), *out = NULL;
	uint8_t *frame;
	size_t len;
	char err[256];

	(void)state;
	assert_int_equal(ctlmsg_encode(in, &frame, &len), 0);
	/* Every strict prefix is "need more", never an error or a body. */
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(ctlmsg_decode(frame, i, &out, err,
					       sizeof(err)), 0);
		assert_null(out);
	}
	free(frame);
	json_decref(in);
}

static void
test_oversized_refused(void **state)
{
	uint8_t h[CTLMSG_HDR_LEN];
	uint32_t n;
	char err[256];
	json_t *out = NULL;

	(void)state;
	hdr(h, CTLMSG_VERSION, CTLMSG_MAX_PAYLOAD + 1);
	assert_int_equal(ctlmsg_parse_hdr(h, &n, err, sizeof(err)), -EMSGSIZE);
	assert_non_null(strstr(err, "limit"));
	/* The header alone is enough to refuse: no waiting for 16 MiB. */
	assert_int_equal(ctlmsg_decode(h, sizeof(h), &out, err, sizeof(err)),
			 -EMSGSIZE);

	hdr(h, CTLMSG_VERSION, CTLMSG_MAX_PAYLOAD);
	assert_int_equal(ctlmsg_parse_hdr(h, &n, err, sizeof(err)), 0);
	assert_int_equal(n, CTLMSG_MAX_PAYLOAD);

	/* Encoding refuses a body over the limit as well. */
	char *big = malloc(CTLMSG_MAX_PAYLOAD + 1);
	memset(big, 'a', CTLMSG_MAX_PAYLOAD);
	big[CTLMSG_MAX_PAYLOAD] = '\0';
	json_t *body = json_pack("{s:s}", "blob", big);
	uint8_t *frame;
	size_t len;
	assert_int_equal(ctlmsg_encode(body, &frame, &len), -EMSGSIZE);
	json_decref(body);
	free(big);
}

static void
test_unknown_version_and_magic(void **state)
{
	uint8_t h[CTLMSG_HDR_LEN];
	uint32_t n;
	char err[256];
	json_t *out = NULL;

	(void)state;
	hdr(h, 2, 2);
	assert_int_equal(ctlmsg_parse_hdr(h, &n, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "version 2"));

	hdr(h, CTLMSG_VERSION, 2);
	h[5] = 1;
	assert_int_equal(ctlmsg_parse_hdr(h, &n, err, sizeof(err)), -EPROTO);

	/* Garbage is refused from its first byte. */
	assert_int_equal(ctlmsg_decode((const uint8_t *)"GET / HTTP/1.1", 1,
				       &out, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "magic"));
	assert_int_equal(ctlmsg_decode((const uint8_t *)"RM", 2, &out, err,
				       sizeof(err)), 0);
}

static void
test_body_must_be_object(void **state)
{
	static const char *bodies[] = { "[1,2]", "\"op\"", "{\"op\":", "\xff\xfe",
					"{\"a\":1,\"a\":2}" };
	uint8_t buf[64];
	json_t *out = NULL;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		size_t n = strlen(bodies[i]);

		hdr(buf, CTLMSG_VERSION, (uint32_t)n);
		memcpy(buf + CTLMSG_HDR_LEN, bodies[i], n);
		assert_int_equal(ctlmsg_decode(buf, CTLMSG_HDR_LEN + n, &out,
					       err, sizeof(err)), -EBADMSG);
		assert_null(out);
	}
	json_t *arr = json_array();
	uint8_t *frame;
	size_t len;
	assert_int_equal(ctlmsg_encode(arr, &frame, &len), -EINVAL);
	json_decref(arr);
}

static void
test_socket_call(void **state)
{
	int sv[2];
	json_t *req, *got = NULL, *resp = NULL;
	char err[256];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	req = json_pack("{s:s}", "op", "status");
	assert_int_equal(ctlmsg_send(sv[0], req, 1000), 0);
	assert_int_equal(ctlmsg_recv(sv[1], &got, 1000, err, sizeof(err)), 0);
	assert_true(json_equal(req, got));

	json_t *e = ctlmsg_error("certificate \"%s\" is in use", "x");
	assert_int_equal(ctlmsg_send(sv[1], e, 1000), 0);
	assert_int_equal(ctlmsg_recv(sv[0], &resp, 1000, err, sizeof(err)), 0);
	assert_false(ctlmsg_resp_ok(resp, err, sizeof(err)));
	assert_string_equal(err, "certificate \"x\" is in use");

	json_t *ok = ctlmsg_ok();
	assert_true(ctlmsg_resp_ok(ok, err, sizeof(err)));

	/* Silence is a timeout, not a hang. */
	json_t *none = NULL;
	assert_int_equal(ctlmsg_recv(sv[0], &none, 50, err, sizeof(err)),
			 -ETIMEDOUT);

	/* Half a frame then close: an error that says so. */
	uint8_t h[CTLMSG_HDR_LEN];
	hdr(h, CTLMSG_VERSION, 100);
	assert_int_equal(write(sv[1], h, sizeof(h)), (ssize_t)sizeof(h));
	close(sv[1]);
	assert_int_equal(ctlmsg_recv(sv[0], &none, 1000, err, sizeof(err)),
			 -ECONNRESET);
	assert_non_null(strstr(err, "middle"));
	close(sv[0]);

	json_decref(ok);
	json_decref(e);
	json_decref(resp);
	json_decref(got);
	json_decref(req);
}

/* A server that refuses a peer answers at once and closes; the client's
 * call must report that sentence, not the broken pipe of its own send. */
static void
test_refusal_before_request(void **state)
{
	int sv[2];
	json_t *e, *req, *resp = NULL;
	char err[256];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	e = ctlmsg_error("permission denied: uid %u", 65534u);
	assert_int_equal(ctlmsg_send(sv[1], e, 1000), 0);
	close(sv[1]);
	req = json_pack("{s:s}", "op", "status");
	assert_int_equal(ctlmsg_call(sv[0], req, &resp, 1000, err, sizeof(err)), 0);
	assert_false(ctlmsg_resp_ok(resp, err, sizeof(err)));
	assert_string_equal(err, "permission denied: uid 65534");
	close(sv[0]);
	json_decref(resp);
	json_decref(req);
	json_decref(e);
}

static void
test_listen_connect(void **state)
{
	char dir[] = "/tmp/ctlmsg-XXXXXX", path[128], err[256];
	struct stat st;
	int lfd, lfd2, cfd, afd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/run/test.sock", dir);

	assert_true(ctlmsg_connect(path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "is the daemon running"));

	lfd = ctlmsg_listen(path, 0660, NULL, err, sizeof(err));
	assert_true(lfd >= 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);

	/* A live socket is not stolen by a second daemon. */
	lfd2 = ctlmsg_listen(path, 0660, NULL, err, sizeof(err));
	assert_int_equal(lfd2, -EADDRINUSE);
	assert_non_null(strstr(err, "in use"));

	cfd = ctlmsg_connect(path, err, sizeof(err));
	assert_true(cfd >= 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	/* Same uid as this process: allowed. */
	assert_int_equal(ctlmsg_peer_check(afd, (gid_t)-1, err, sizeof(err)), 0);
	close(afd);
	close(cfd);

	/* A crashed daemon's socket file is replaced. */
	close(lfd);
	lfd2 = ctlmsg_listen(path, 0600, getgrgid(getgid())->gr_name, err,
			     sizeof(err));
	assert_true(lfd2 >= 0);
	close(lfd2);

	assert_int_equal(ctlmsg_listen(path, 0660, "no-such-group-rampart",
				       err, sizeof(err)), -ENOENT);
	unlink(path);
	snprintf(path, sizeof(path), "%s/run", dir);
	rmdir(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_is_partial),
		cmocka_unit_test(test_oversized_refused),
		cmocka_unit_test(test_unknown_version_and_magic),
		cmocka_unit_test(test_body_must_be_object),
		cmocka_unit_test(test_socket_call),
		cmocka_unit_test(test_refusal_before_request),
		cmocka_unit_test(test_listen_connect),
	};

	return cmocka_run_group_tests_name("ctlmsg", tests, NULL, NULL);
}
