/* SPDX-License-Identifier: BSD-3-Clause */
/* rampart-dataplane application options: good input parsed, every bad
 * input refused with a sentence that names it. */
#include <string.h>

#include "testlib.h"
#include "cfg/options.h"

static char err[512];

static int
parse(struct dp_options *o, ...)
{
	char *argv[16] = { "rampart-dataplane" };
	int argc = 1;
	va_list ap;
	char *a;

	va_start(ap, o);
	while ((a = va_arg(ap, char *)) != NULL)
		argv[argc++] = a;
	va_end(ap);
	err[0] = '\0';
	return dp_options_parse(argc, argv, o, err, sizeof(err));
}

static void
test_good(void **state)
{
	struct dp_options o;

	(void)state;
	assert_int_equal(parse(&o, "--ip", "192.0.2.10/24", "--ip",
			       "198.51.100.7/32", "--gateway", "192.0.2.1",
			       "--control", "/tmp/x.sock", NULL), 0);
	assert_int_equal(o.nb_ip, 2);
	assert_int_equal(o.ip[0].addr, rte_cpu_to_be_32(T_OUR_IP));
	assert_int_equal(o.ip[0].mask, rte_cpu_to_be_32(0xffffff00));
	assert_int_equal(o.ip[0].prefix, 24);
	assert_int_equal(o.ip[1].mask, 0xffffffff);
	assert_int_equal(o.gateway, rte_cpu_to_be_32(T_IPV4(192, 0, 2, 1)));
	assert_string_equal(o.control, "/tmp/x.sock");
	assert_int_equal(dp_options_gateway_port(&o, err, sizeof(err)), 0);

	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", NULL), 0);
	assert_string_equal(o.control, DP_CONTROL_DEFAULT);
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", "--control", "none",
			       NULL), 0);
	assert_null(o.control);
}

static void
expect_error(int rc, const char *needle)
{
	assert_int_equal(rc, -EINVAL);
	if (strstr(err, needle) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void
test_bad(void **state)
{
	struct dp_options o;

	(void)state;
	expect_error(parse(&o, NULL), "no --ip");
	expect_error(parse(&o, "--ip", "192.0.2.10/33", NULL), "'33'");
	expect_error(parse(&o, "--ip", "192.0.2.10/0", NULL), "'0'");
	expect_error(parse(&o, "--ip", "192.0.2.10/", NULL), "prefix");
	expect_error(parse(&o, "--ip", "192.0.2.10/2x", NULL), "'2x'");
	expect_error(parse(&o, "--ip", "192.0.2.10", NULL), "ADDR/PREFIX");
	expect_error(parse(&o, "--ip", "banana/24", NULL), "'banana'");
	expect_error(parse(&o, "--ip", "192.0.2.300/24", NULL),
		     "'192.0.2.300'");
	expect_error(parse(&o, "--ip", "127.0.0.1/8", NULL), "loopback");
	expect_error(parse(&o, "--ip", "224.0.0.1/4", NULL), "multicast");
	expect_error(parse(&o, "--ip", "192.0.2.0/24", NULL), "network");
	expect_error(parse(&o, "--ip", "192.0.2.255/24", NULL), "broadcast");
	expect_error(parse(&o, "--ip", "192.0.2.10/24", "--gateway", "x",
			   NULL), "--gateway 'x'");
	expect_error(parse(&o, "--ip", "192.0.2.10/24", "--frobnicate", NULL),
		     "--frobnicate");
	expect_error(parse(&o, "--ip", "192.0.2.10/24", "stray", NULL),
		     "'stray'");
	expect_error(parse(&o, "--ip", NULL), "needs a value");
	expect_error(parse(&o, "--ip", "192.0.2.10/24", "--ip",
			   "192.0.2.10/16", NULL), "already on port 0");
	expect_error(parse(&o, "--ip", "192.0.2.10/24", "--control", "",
			   NULL), "empty");

	assert_int_equal(parse(&o, "--ip", "192.0.2.10/24", "--gateway",
			       "198.51.100.1", NULL), 0);
	assert_int_equal(dp_options_gateway_port(&o, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "198.51.100.1"));
}

static void
test_too_many_ports(void **state)
{
	char *argv[2 + 2 * (PORT_MAX + 1)];
	char addrs[PORT_MAX + 1][32];
	struct dp_options o;
	int argc = 1, i;

	(void)state;
	argv[0] = "rampart-dataplane";
	for (i = 0; i <= PORT_MAX; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "10.0.%d.1/24", i);
		argv[argc++] = "--ip";
		argv[argc++] = addrs[i];
	}
	assert_int_equal(dp_options_parse(argc, argv, &o, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "at most"));
}

/* The socket's group is resolved at parse time: a typo stops the start
 * with a sentence instead of leaving a socket nobody may use. */
static void
test_control_group(void **state)
{
	struct dp_options o;

	(void)state;
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", NULL), 0);
	assert_null(o.control_group);
	assert_int_equal(o.control_gid, (gid_t)-1);
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", "--control-group",
			       "root", NULL), 0);
	assert_string_equal(o.control_group, "root");
	assert_int_equal(o.control_gid, 0);
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--control-group",
			   "no-such-group-rampart", NULL),
		     "--control-group 'no-such-group-rampart': no such group");
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--control-group", "",
			   NULL), "no such group");
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--control-group", NULL),
		     "needs a value");
}

/* TLS: on by default on 443; a port, a timeout and a cap can be set;
 * bad values and a clash with a diagnostic port are refused. */
static void
test_tls(void **state)
{
	struct dp_options o;

	(void)state;
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", NULL), 0);
	assert_int_equal(o.https_port, 443);
	assert_int_equal(o.tls_handshake_timeout_ms, 10000);
	assert_int_equal(o.tls_max_handshakes, 1024);
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", "--https-port", "8443",
			       "--tls-handshake-timeout", "2500",
			       "--tls-max-handshakes", "64", NULL), 0);
	assert_int_equal(o.https_port, 8443);
	assert_int_equal(o.tls_handshake_timeout_ms, 2500);
	assert_int_equal(o.tls_max_handshakes, 64);
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", "--https-port", "0",
			       NULL), 0);
	assert_int_equal(o.https_port, 0);

	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--https-port", "65536",
			   NULL), "--https-port '65536'");
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--https-port", "-1",
			   NULL), "--https-port '-1'");
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--tls-handshake-timeout",
			   "5", NULL), "--tls-handshake-timeout '5'");
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--tls-max-handshakes",
			   "0", NULL), "--tls-max-handshakes '0'");
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--echo-port", "443",
			   NULL), "--https-port 443 is also the echo port");
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", "--echo-port", "443",
			       "--https-port", "0", NULL), 0);
}

/* Plain HTTP: on by default on 80 with 10 s / 60 s timeouts and the
 * access log on stderr; each can be set, bad values and port clashes are
 * refused with the option named. */
static void
test_http(void **state)
{
	struct dp_options o;

	(void)state;
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", NULL), 0);
	assert_int_equal(o.http_port, 80);
	assert_int_equal(o.http_header_timeout_ms, 10000);
	assert_int_equal(o.http_keepalive_timeout_ms, 60000);
	assert_null(o.access_log);
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", "--http-port", "8080",
			       "--http-header-timeout", "1500",
			       "--http-keepalive-timeout", "5000",
			       "--access-log", "/tmp/a.log", NULL), 0);
	assert_int_equal(o.http_port, 8080);
	assert_int_equal(o.http_header_timeout_ms, 1500);
	assert_int_equal(o.http_keepalive_timeout_ms, 5000);
	assert_string_equal(o.access_log, "/tmp/a.log");
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", "--http-port", "0",
			       NULL), 0);
	assert_int_equal(o.http_port, 0);

	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--http-port", "70000",
			   NULL), "--http-port '70000'");
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--http-header-timeout",
			   "99", NULL), "--http-header-timeout '99'");
	expect_error(parse(&o, "--ip", "10.0.0.1/8",
			   "--http-keepalive-timeout", "x", NULL),
		     "--http-keepalive-timeout 'x'");
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--access-log", "",
			   NULL), "--access-log");
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--https-port", "80",
			   NULL), "--http-port 80 is also the https port");
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--chargen-port", "80",
			   NULL), "--http-port 80 is also the chargen port");
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", "--echo-port", "80",
			       "--http-port", "0", NULL), 0);
}

/* The origin side's options: the CA bundle of strict origins and the
 * idle pool size, with their defaults. */
static void
test_origin(void **state)
{
	struct dp_options o;

	(void)state;
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", NULL), 0);
	assert_string_equal(o.origin_ca_bundle,
			    "/etc/ssl/certs/ca-certificates.crt");
	assert_int_equal(o.origin_idle_max, 32);
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", "--origin-ca-bundle",
			       "/etc/rampart/cas.pem", "--origin-idle-max",
			       "0", NULL), 0);
	assert_string_equal(o.origin_ca_bundle, "/etc/rampart/cas.pem");
	assert_int_equal(o.origin_idle_max, 0);
	assert_int_equal(parse(&o, "--ip", "10.0.0.1/8", "--origin-idle-max",
			       "64", NULL), 0);
	assert_int_equal(o.origin_idle_max, 64);
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--origin-idle-max",
			   "65", NULL), "--origin-idle-max '65'");
	expect_error(parse(&o, "--ip", "10.0.0.1/8", "--origin-ca-bundle",
			   "", NULL), "--origin-ca-bundle");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_too_many_ports),
		cmocka_unit_test(test_control_group),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_origin),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
