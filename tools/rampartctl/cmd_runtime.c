/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Commands that show or nudge the running node: status, stats (and its
 * --watch loop), tickets, ocsp, version.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rctl.h"

/* ------------------------------------------------------------ status */

int
rctl_cmd_status(struct rctl *c, const struct rctl_cmd *cmd)
{
	json_t *resp, *view, *cp, *v;
	const char *k;
	void *tmp;
	int rc;

	(void)cmd;
	rc = rctl_call(c, json_pack("{s:s}", "op", "status"), &resp);
	if (rc != RCTL_OK)
		return rc;
	if (c->json) {
		rctl_print_json(resp);
		json_decref(resp);
		return RCTL_OK;
	}
	json_object_del(resp, "ok");
	/* One block per daemon: the scalars of the answering daemon under
	 * its name, then its nested objects (the dataplane) as they are. */
	view = json_object();
	cp = json_object();
	json_object_set_new(view, c->dp_socket ? "dataplane" : "control plane",
			    cp);
	json_object_foreach_safe(resp, tmp, k, v) {
		if (json_is_object(v))
			json_object_set(view, k, v);
		else
			json_object_set(cp, k, v);
	}
	rctl_print_tree(stdout, view, 0);
	json_decref(view);
	json_decref(resp);
	return RCTL_OK;
}

/* ------------------------------------------------------------ stats */

struct stats_sample {
	json_t *resp;
	double t;       /* CLOCK_MONOTONIC seconds */
};

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long
counter(const json_t *obj, const char *name)
{
	const json_t *v = json_object_get(obj, name);

	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return 0;
}

static const json_t *
lcore_counters(const json_t *lc)
{
	const json_t *v = json_object_get(lc, "counters");

	return json_is_object(v) ? v : lc;
}

static void
fmt_rate(struct rctl_table *t, long long now, long long before, double dt)
{
	if (dt <= 0)
		rctl_table_cell(t, "-");
	else
		rctl_table_cell(t, "%.1f", (double)(now - before) / dt);
}

/*
 * One stats table. With prev (watch mode) the value columns are
 * per-second rates since prev, next to the total.
 */
static void
print_stats(const json_t *resp, const struct stats_sample *prev, double dt,
	    bool lcores, bool all)
{
	const json_t *total = json_object_get(resp, "total");
	const json_t *lcs = json_object_get(resp, "lcores");
	const json_t *ptotal = NULL, *plcs = NULL, *v, *lc;
	size_t nl = lcores ? json_array_size(lcs) : 0, i, shown = 0;
	struct rctl_table t;
	unsigned int ncols, col;
	const char *k;

	if (prev != NULL) {
		ptotal = json_object_get(prev->resp, "total");
		plcs = json_object_get(prev->resp, "lcores");
	}
	ncols = 2 + (prev != NULL) + (unsigned int)nl;
	rctl_table_init(&t, ncols);
	for (col = 1; col < ncols; col++)
		t.right |= 1u << col;
	rctl_table_cell(&t, "COUNTER");
	rctl_table_cell(&t, lcores || prev ? "TOTAL" : "VALUE");
	if (prev != NULL)
		rctl_table_cell(&t, "RATE/s");
	json_array_foreach(lcs, i, lc) {
		if (i >= nl)
			break;
		rctl_table_cell(&t, "LCORE%" JSON_INTEGER_FORMAT "%s",
				json_integer_value(json_object_get(lc, "lcore")),
				prev ? "/s" : "");
	}

	json_object_foreach((json_t *)total, k, v) {
		long long now = counter(total, k);

		if (!all && now == 0)
			continue;
		shown++;
		rctl_table_cell(&t, "%s", k);
		rctl_table_cell(&t, "%lld", now);
		if (prev != NULL)
			fmt_rate(&t, now, counter(ptotal, k), dt);
		json_array_foreach(lcs, i, lc) {
			const json_t *c = lcore_counters(lc);

			if (i >= nl)
				break;
			/* Port totals (rx_packets, ...) have no per-lcore
			 * counter: "-" rather than a misleading 0. */
			if (json_object_get(c, k) == NULL) {
				rctl_table_cell(&t, "-");
			} else if (prev == NULL) {
				rctl_table_cell(&t, "%lld", counter(c, k));
			} else {
				const json_t *pc = lcore_counters(
					json_array_get(plcs, i));

				fmt_rate(&t, counter(c, k), counter(pc, k), dt);
			}
		}
	}
	if (shown == 0)
		printf("all counters are zero (--all lists them)\n");
	else
		rctl_table_print(&t, stdout);
	rctl_table_free(&t);
}

static volatile sig_atomic_t stop_watch;

static void
on_interrupt(int sig)
{
	(void)sig;
	stop_watch = 1;
}

static int
stats_watch(struct rctl *c, double period, bool lcores, bool all)
{
	struct stats_sample prev = { NULL, 0 }, cur;
	struct sigaction sa = { .sa_handler = on_interrupt };
	bool tty = isatty(STDOUT_FILENO);
	struct timespec ts;
	char when[32], per[32];
	json_t *stamp;
	int rc = RCTL_OK;

	/* No SA_RESTART: Ctrl-C must cut the sleep short. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	while (!stop_watch) {
		rc = rctl_call(c, json_pack("{s:s}", "op", "stats"), &cur.resp);
		if (rc != RCTL_OK)
			break;
		cur.t = now_mono();
		if (c->json) {
			char *s;

			json_object_del(cur.resp, "ok");
			s = json_dumps(cur.resp, JSON_COMPACT |
				       JSON_PRESERVE_ORDER);
			if (s != NULL)
				puts(s);
			free(s);
		} else {
			stamp = json_integer(time(NULL));
			rctl_fmt_time(stamp, when, sizeof(when));
			json_decref(stamp);
			snprintf(per, sizeof(per), "%g", period);
			if (tty)
				fputs("\033[H\033[2J", stdout);
			else if (prev.resp != NULL)
				putchar('\n');
			printf("every %ss: rampartctl stats   %s\n\n", per,
			       when);
			/* The first sample has no rate yet: "-" (dt 0). */
			print_stats(cur.resp, prev.resp ? &prev : &cur,
				    prev.resp ? cur.t - prev.t : 0, lcores,
				    all);
		}
		fflush(stdout);
		json_decref(prev.resp);
		prev = cur;

		ts.tv_sec = (time_t)period;
		ts.tv_nsec = (long)((period - (double)ts.tv_sec) * 1e9);
		while (!stop_watch && nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	json_decref(prev.resp);
	/* Interrupted by the operator is the normal way out of --watch. */
	return stop_watch ? RCTL_OK : rc;
}

int
rctl_cmd_stats(struct rctl *c, const struct rctl_cmd *cmd)
{
	const char *watch = rctl_optval(cmd, "watch");
	bool lcores = rctl_optval(cmd, "lcores") != NULL;
	bool all = rctl_optval(cmd, "all") != NULL;
	double period = 2;
	json_t *resp;
	char *end;
	int rc;

	if (watch != NULL) {
		if (watch[0] != '\0') {
			period = strtod(watch, &end);
			if (end == watch || *end != '\0' || period < 0.1 ||
			    period > 3600)
				return rctl_usage_error(cmd->kw, "--watch '%s': "
							"expected seconds from "
							"0.1 to 3600", watch);
		}
		return stats_watch(c, period, lcores, all);
	}
	rc = rctl_call(c, json_pack("{s:s}", "op", "stats"), &resp);
	if (rc != RCTL_OK)
		return rc;
	if (c->json)
		rctl_print_json(resp);
	else
		print_stats(resp, NULL, 0, lcores, all);
	json_decref(resp);
	return RCTL_OK;
}

/* ------------------------------------------------------------ tickets */

static void
print_keys(const json_t *keys)
{
	struct rctl_table t;
	const json_t *k;
	char b[64];
	size_t i;

	rctl_table_init(&t, 3);
	rctl_table_cell(&t, "ID");
	rctl_table_cell(&t, "ROLE");
	rctl_table_cell(&t, "CREATED");
	json_array_foreach(keys, i, k) {
		const json_t *role = json_object_get(k, "role");
		const json_t *enc = json_object_get(k, "encrypt");

		rctl_table_cell(&t, "%s", rctl_fmt_scalar(
			json_object_get(k, "id"), b, sizeof(b)));
		if (json_is_string(role))
			rctl_table_cell(&t, "%s", json_string_value(role));
		else if (json_is_boolean(enc))
			rctl_table_cell(&t, "%s", json_is_true(enc) ?
					"encrypt" : "decrypt");
		else
			rctl_table_cell(&t, "-");
		rctl_table_cell(&t, "%s", rctl_fmt_time(
			json_object_get(k, "created"), b, sizeof(b)));
	}
	rctl_table_print(&t, stdout);
	rctl_table_free(&t);
}

int
rctl_cmd_tickets_status(struct rctl *c, const struct rctl_cmd *cmd)
{
	const json_t *period, *next;
	char b[64], d[32], e[32];
	json_t *resp;
	int rc;

	(void)cmd;
	rc = rctl_call(c, json_pack("{s:s}", "op", "tickets_status"), &resp);
	if (rc != RCTL_OK)
		return rc;
	if (c->json) {
		rctl_print_json(resp);
		json_decref(resp);
		return RCTL_OK;
	}
	print_keys(json_object_get(resp, "keys"));
	period = json_object_get(resp, "period_s");
	next = json_object_get(resp, "next_rotation");
	putchar('\n');
	if (json_is_integer(period))
		printf("rotation period: %s\n",
		       rctl_fmt_duration(json_integer_value(period), d,
					 sizeof(d)));
	if (json_is_integer(next)) {
		long long in = (long long)json_integer_value(next) -
			       (long long)time(NULL);

		printf("next rotation:   %s (%s %s%s)\n",
		       rctl_fmt_time(next, b, sizeof(b)),
		       in >= 0 ? "in" : "overdue by",
		       rctl_fmt_duration(in >= 0 ? in : -in, e, sizeof(e)),
		       in >= 0 ? "" : "; is the control plane stuck?");
	}
	json_decref(resp);
	return RCTL_OK;
}

static bool
keys_have_role(const json_t *keys, const char *role)
{
	const json_t *k, *r;
	size_t i;

	json_array_foreach(keys, i, k) {
		r = json_object_get(k, "role");
		if (json_is_string(r) && strcmp(json_string_value(r), role) == 0)
			return true;
	}
	return false;
}

int
rctl_cmd_tickets_rotate(struct rctl *c, const struct rctl_cmd *cmd)
{
	const json_t *keys;
	json_t *resp;
	int rc;

	(void)cmd;
	rc = rctl_call(c, json_pack("{s:s}", "op", "tickets_rotate"), &resp);
	if (rc != RCTL_OK)
		return rc;
	if (c->json) {
		rctl_print_json(resp);
	} else {
		keys = json_object_get(resp, "keys");
		/* Rotation is two-phase (docs/CONTROL.md): until the dataplane
		 * acknowledges the new key it only decrypts. */
		if (keys_have_role(keys, "pending"))
			printf("ticket key added: it starts encrypting once the "
			       "dataplane has acknowledged it; older keys still "
			       "decrypt\n");
		else
			printf("ticket keys rotated: the new key encrypts, "
			       "older keys still decrypt\n");
		rctl_note_unpushed(resp);
		if (json_array_size(keys) > 0 &&
		    json_is_object(json_array_get(keys, 0))) {
			putchar('\n');
			print_keys(keys);
		}
	}
	json_decref(resp);
	return RCTL_OK;
}

/* ------------------------------------------------------------ ocsp */

static int
ocsp_show(struct rctl *c, json_t *req)
{
	static const char *const heads[] = {
		"CERT", "STATUS", "THIS-UPDATE", "NEXT-UPDATE", "NEXT-REFRESH",
		"STAPLED", "ERROR",
	};
	const json_t *items, *it;
	struct rctl_table t;
	char b[1024];
	json_t *resp;
	size_t i;
	int rc;

	rc = rctl_call(c, req, &resp);
	if (rc != RCTL_OK)
		return rc;
	if (c->json) {
		rctl_print_json(resp);
		json_decref(resp);
		return RCTL_OK;
	}
	items = json_object_get(resp, "items");
	if (json_array_size(items) == 0) {
		fprintf(stderr, "no certificates\n");
		json_decref(resp);
		return RCTL_OK;
	}
	rctl_table_init(&t, 7);
	for (i = 0; i < 7; i++)
		rctl_table_cell(&t, "%s", heads[i]);
	json_array_foreach(items, i, it) {
		rctl_table_cell(&t, "%s", rctl_fmt_scalar(
			json_object_get(it, "cert"), b, sizeof(b)));
		rctl_table_cell(&t, "%s", rctl_fmt_scalar(
			json_object_get(it, "status"), b, sizeof(b)));
		rctl_table_cell(&t, "%s", rctl_fmt_time(
			json_object_get(it, "this_update"), b, sizeof(b)));
		rctl_table_cell(&t, "%s", rctl_fmt_time(
			json_object_get(it, "next_update"), b, sizeof(b)));
		rctl_table_cell(&t, "%s", rctl_fmt_time(
			json_object_get(it, "next_refresh"), b, sizeof(b)));
		rctl_table_cell(&t, "%s", rctl_fmt_scalar(
			json_object_get(it, "stapled"), b, sizeof(b)));
		rctl_table_cell(&t, "%s", rctl_fmt_scalar(
			json_object_get(it, "last_error"), b, sizeof(b)));
	}
	rctl_table_print(&t, stdout);
	rctl_table_free(&t);
	json_decref(resp);
	return RCTL_OK;
}

int
rctl_cmd_ocsp_status(struct rctl *c, const struct rctl_cmd *cmd)
{
	(void)cmd;
	return ocsp_show(c, json_pack("{s:s}", "op", "ocsp_status"));
}

int
rctl_cmd_ocsp_refresh(struct rctl *c, const struct rctl_cmd *cmd)
{
	const char *cert = rctl_optval(cmd, "cert");
	json_t *req = json_pack("{s:s}", "op", "ocsp_refresh");

	if (cert != NULL)
		json_object_set_new(req, "cert", json_string(cert));
	return ocsp_show(c, req);
}

/* ------------------------------------------------------------ version */

int
rctl_cmd_version(struct rctl *c, const struct rctl_cmd *cmd)
{
	bool client_only = rctl_optval(cmd, "client") != NULL;
	const json_t *v = NULL;
	json_t *resp = NULL, *out;
	int rc = RCTL_OK;

	if (!client_only) {
		rc = rctl_call(c, json_pack("{s:s}", "op", "status"), &resp);
		v = json_object_get(resp, "version");
	}
	if (c->json) {
		out = json_pack("{s:s}", "rampartctl", RAMPART_VERSION);
		if (json_is_string(v))
			json_object_set(out, "controlplane", (json_t *)v);
		rctl_print_json(out);
		json_decref(out);
	} else {
		printf("rampartctl %s\n", RAMPART_VERSION);
		if (json_is_string(v))
			printf("rampart-controlplane %s\n",
			       json_string_value(v));
	}
	json_decref(resp);
	return rc;
}
