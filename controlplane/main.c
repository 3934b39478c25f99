/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampart-controlplane: options, the state directory, and one
 * single-threaded poll() loop over the control socket, its clients, the
 * OCSP fetcher's results, the resolver's sockets (origin domains) and a
 * one-second tick (dataplane sync, ticket rotation, OCSP schedule,
 * re-resolution). docs/CONTROL.md is the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "controlplane/proto/ctlmsg.h"
#include "controlplane/server/conn.h"
#include "controlplane/server/daemon.h"

#define TICK_MS           1000
#define OCSP_FETCH_MS     5000
#define STATE_DIR_DEFAULT "/var/lib/rampart"
#define LOCK_FILE         "lock"

static volatile sig_atomic_t quit_flag;

static void
on_signal(int sig)
{
	(void)sig;
	quit_flag = 1;
}

static int
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGTERM, &sa, NULL) != 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* ------------------------------------------------------------ options */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: " CP_PROG " [OPTIONS]\n"
"\n"
"Owns the node's desired state (certificates, trust stores, distributions,\n"
"ticket keys, OCSP staples), persists it and pushes it to rampart-dataplane.\n"
"rampartctl talks to it. See docs/CONTROL.md.\n"
"\n"
"  --state-dir DIR          state directory, created 0700 (" STATE_DIR_DEFAULT ")\n"
"  --socket PATH            control socket for rampartctl\n"
"                           (" CTLMSG_CONTROLPLANE_SOCK ")\n"
"  --dataplane PATH         the dataplane's control socket\n"
"                           (" CTLMSG_DATAPLANE_SOCK ")\n"
"  --group NAME             group owning the socket; its members may use it\n"
"  --ticket-rotation SEC    session-ticket key rotation period (3600)\n"
"  --ticket-keys-kept N     previous ticket keys kept for decryption, 1-%d (2)\n"
"  --ocsp-min-refresh SEC   never refetch an OCSP response sooner (300)\n"
"  --ocsp-max-refresh SEC   refetch at least this often (3600)\n"
"  --ocsp-retry SEC         retry a failed OCSP fetch after (300; at least\n"
"                           the min refresh)\n"
"  --ca-bundle PATH         trusted roots for certificate imports\n"
"                           (/etc/ssl/certs/ca-certificates.crt)\n"
"  --dns-server LIST        name servers for origin domains, ADDR or\n"
"                           ADDR:PORT, comma-separated (/etc/resolv.conf's)\n"
"  --resolve-min-ttl SEC    re-resolve origin domains no sooner (5)\n"
"  --resolve-max-ttl SEC    re-resolve them at least this often (3600)\n"
"  --foreground             stay in the foreground (the only mode: run it\n"
"                           under a service manager); accepted for scripts\n"
"  -h, --help               this text\n"
"\n"
"Logs one logfmt line per event on stderr. SIGTERM or SIGINT stops it.\n",
		TK_MAX_KEPT);
}

enum {
	OPT_STATE_DIR = 256, OPT_SOCKET, OPT_DATAPLANE, OPT_GROUP,
	OPT_TICKET_ROTATION, OPT_TICKET_KEPT, OPT_OCSP_MIN, OPT_OCSP_MAX,
	OPT_OCSP_RETRY, OPT_CA_BUNDLE, OPT_FOREGROUND, OPT_DNS_SERVER,
	OPT_RESOLVE_MIN, OPT_RESOLVE_MAX,
};

static const struct option long_opts[] = {
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "dataplane", required_argument, NULL, OPT_DATAPLANE },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "ticket-rotation", required_argument, NULL, OPT_TICKET_ROTATION },
	{ "ticket-keys-kept", required_argument, NULL, OPT_TICKET_KEPT },
	{ "ocsp-min-refresh", required_argument, NULL, OPT_OCSP_MIN },
	{ "ocsp-max-refresh", required_argument, NULL, OPT_OCSP_MAX },
	{ "ocsp-retry", required_argument, NULL, OPT_OCSP_RETRY },
	{ "ca-bundle", required_argument, NULL, OPT_CA_BUNDLE },
	{ "foreground", no_argument, NULL, OPT_FOREGROUND },
	{ "dns-server", required_argument, NULL, OPT_DNS_SERVER },
	{ "resolve-min-ttl", required_argument, NULL, OPT_RESOLVE_MIN },
	{ "resolve-max-ttl", required_argument, NULL, OPT_RESOLVE_MAX },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* A whole number in [min, max]; err names the option. */
static int
parse_num(const char *opt, const char *s, uint64_t min, uint64_t max,
	  uint64_t *v, char *err, size_t errlen)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0) {
		snprintf(err, errlen, "--%s '%s': not a whole number", opt, s);
		return -EINVAL;
	}
	if (n < min || n > max) {
		snprintf(err, errlen, "--%s %llu: must be %" PRIu64 "-%" PRIu64,
			 opt, n, min, max);
		return -ERANGE;
	}
	*v = n;
	return 0;
}

static int
check_path(const char *opt, const char *p, size_t max, char *err,
	   size_t errlen)
{
	if (p[0] == '\0' || strlen(p) >= max) {
		snprintf(err, errlen, "--%s '%s': %s", opt, p, p[0] ?
			 "path too long" : "empty path");
		return -EINVAL;
	}
	return 0;
}

/* Returns 0, 1 for --help, or -errno with a sentence in err. */
static int
parse_options(int argc, char **argv, struct cp *cp, char *err, size_t errlen)
{
	struct cp_options *o = &cp->opt;
	struct ocsp_policy def = OCSP_POLICY_DEFAULT;
	struct rs_policy rdef = RS_POLICY_DEFAULT;
	struct group *gr;
	uint64_t v;
	int c, rc = 0;

	memset(o, 0, sizeof(*o));
	o->state_dir = STATE_DIR_DEFAULT;
	o->socket = CTLMSG_CONTROLPLANE_SOCK;
	o->dataplane = CTLMSG_DATAPLANE_SOCK;
	o->ticket_rotation_s = 3600;
	o->ticket_keys_kept = 2;
	o->ocsp = def;
	o->resolve = rdef;
	cp->gid = (gid_t)-1;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_STATE_DIR:
			o->state_dir = optarg;
			rc = check_path("state-dir", optarg, PATH_MAX - 64,
					err, errlen);
			break;
		case OPT_SOCKET:
			o->socket = optarg;
			rc = check_path("socket", optarg, 108, err, errlen);
			break;
		case OPT_DATAPLANE:
			o->dataplane = optarg;
			rc = check_path("dataplane", optarg, 108, err, errlen);
			break;
		case OPT_GROUP:
			o->group = optarg;
			gr = getgrnam(optarg);
			if (gr == NULL) {
				snprintf(err, errlen, "--group '%s': no such "
					 "group", optarg);
				rc = -ENOENT;
			} else {
				cp->gid = gr->gr_gid;
			}
			break;
		case OPT_TICKET_ROTATION:
			rc = parse_num("ticket-rotation", optarg, 1,
				       366 * 86400, &o->ticket_rotation_s,
				       err, errlen);
			break;
		case OPT_TICKET_KEPT:
			rc = parse_num("ticket-keys-kept", optarg, 1,
				       TK_MAX_KEPT, &v, err, errlen);
			o->ticket_keys_kept = (unsigned int)v;
			break;
		case OPT_OCSP_MIN:
			rc = parse_num("ocsp-min-refresh", optarg, 1, 7 * 86400,
				       &o->ocsp.min_refresh_s, err, errlen);
			break;
		case OPT_OCSP_MAX:
			rc = parse_num("ocsp-max-refresh", optarg, 1, 7 * 86400,
				       &o->ocsp.max_refresh_s, err, errlen);
			break;
		case OPT_OCSP_RETRY:
			rc = parse_num("ocsp-retry", optarg, 1, 7 * 86400,
				       &o->ocsp.retry_s, err, errlen);
			break;
		case OPT_CA_BUNDLE:
			o->ca_bundle = optarg;
			if (access(optarg, R_OK) != 0) {
				rc = -errno;
				snprintf(err, errlen, "--ca-bundle '%s': %s",
					 optarg, strerror(errno));
			}
			break;
		case OPT_FOREGROUND:
			o->foreground = true;
			break;
		case OPT_DNS_SERVER:
			o->dns_servers = optarg;
			break;
		case OPT_RESOLVE_MIN:
			rc = parse_num("resolve-min-ttl", optarg, 1, 3600, &v,
				       err, errlen);
			o->resolve.min_ttl_s = (uint32_t)v;
			break;
		case OPT_RESOLVE_MAX:
			rc = parse_num("resolve-max-ttl", optarg, 1, 86400, &v,
				       err, errlen);
			o->resolve.max_ttl_s = (uint32_t)v;
			break;
		case 'h':
			return 1;
		case ':':
			snprintf(err, errlen, "%s needs a value; see --help",
				 argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, errlen, "unknown option '%s'; see --help",
				 argv[optind - 1]);
			return -EINVAL;
		}
		if (rc != 0)
			return rc;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'; see --help",
			 argv[optind]);
		return -EINVAL;
	}
	if (o->resolve.min_ttl_s > o->resolve.max_ttl_s) {
		snprintf(err, errlen, "--resolve-min-ttl %u is above "
			 "--resolve-max-ttl %u", o->resolve.min_ttl_s,
			 o->resolve.max_ttl_s);
		return -EINVAL;
	}
	if (o->ocsp.min_refresh_s > o->ocsp.max_refresh_s) {
		snprintf(err, errlen, "--ocsp-min-refresh %" PRIu64 " is above "
			 "--ocsp-max-refresh %" PRIu64, o->ocsp.min_refresh_s,
			 o->ocsp.max_refresh_s);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------ setup */

/* mkdir -p, the last component 0700. */
static int
make_state_dir(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX], *p;
	struct stat sb;
	int rc;

	snprintf(path, sizeof(path), "%s", dir);
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		goto fail;
	if (stat(dir, &sb) != 0)
		goto fail;
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "--state-dir '%s' is not a directory", dir);
		return -ENOTDIR;
	}
	if (sb.st_mode & 077)
		cp_log("warn", "the state directory is open to other users; "
		       "chmod 0700 it", "dir=%s mode=%04o", cp_q(dir),
		       (unsigned int)(sb.st_mode & 07777));
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "cannot create the state directory %.300s: %s",
		 path, strerror(-rc));
	return rc;
}

/* One daemon per state directory: two would overwrite each other's
 * commits. The lock dies with the process, kill -9 included. */
static int
lock_state_dir(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, LOCK_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fd = -errno;
		snprintf(err, errlen, "cannot open %.300s: %s", path,
			 strerror(-fd));
		return fd;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "another " CP_PROG " is using the state "
			 "directory %.300s", dir);
		close(fd);
		return -EBUSY;
	}
	return fd;
}

static int
load_tickets(struct cp *cp, char *err, size_t errlen)
{
	uint64_t now = cp_now();
	int rc;

	rc = store_tickets_load(cp->opt.state_dir, cp->mk, &cp->ring, err,
				errlen);
	if (rc == -ENOENT) {
		tk_ring_init(&cp->ring, cp->opt.ticket_rotation_s,
			     cp->opt.ticket_keys_kept);
	} else if (rc != 0) {
		return rc;
	} else {
		/* The command line wins over what the last run used. */
		cp->ring.period_s = cp->opt.ticket_rotation_s;
		cp->ring.kept = cp->opt.ticket_keys_kept;
		if (cp->ring.next_rotation > now + cp->ring.period_s)
			cp->ring.next_rotation = now + cp->ring.period_s;
	}
	rc = tk_tick(&cp->ring, now, seal_random);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create a ticket key: %s",
			 strerror(-rc));
		return rc;
	}
	if (rc != TK_NOTHING)
		return cp_tickets_persist(cp, err, errlen);
	return 0;
}

static int
setup(struct cp *cp, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	rc = make_state_dir(cp->opt.state_dir, err, errlen);
	if (rc != 0)
		return rc;
	rc = lock_state_dir(cp->opt.state_dir, err, errlen);
	if (rc < 0)
		return rc;
	/* The lock fd stays open (CLOEXEC) for the process's lifetime. */
	snprintf(path, sizeof(path), "%s/master.key", cp->opt.state_dir);
	rc = seal_master_key_load(path, cp->mk, err, errlen);
	if (rc != 0)
		return rc;
	rc = store_load(cp->opt.state_dir, cp->mk, &cp->st, err, errlen);
	if (rc != 0)
		return rc;
	rc = load_tickets(cp, err, errlen);
	if (rc != 0)
		return rc;
	cp->fetcher = ocsp_fetcher_start(OCSP_FETCH_MS);
	if (cp->fetcher == NULL)
		cp_log("error", "the OCSP fetcher did not start; no staples "
		       "will be fetched", NULL);
	cp_ocsp_reconcile(cp);
	dps_init(&cp->dp, cp->opt.dataplane);
	return cp_resolve_start(cp, err, errlen);
}

/* ------------------------------------------------------------ the loop */

static void
run(struct cp *cp, struct cp_server *srv)
{
	struct pollfd pfds[2 + RS_DNS_FDS_MAX + CONN_MAX];
	uint64_t next_tick = 0, now;
	unsigned int i, n, base, nd;
	int timeout, fetch_fd;

	fetch_fd = cp->fetcher != NULL ? ocsp_fetcher_fd(cp->fetcher) : -1;
	while (!quit_flag) {
		now = cp_mono_ms();
		if (now >= next_tick) {
			cp_sync_tick(cp);
			cp_ocsp_tick(cp);
			cp_resolve_tick(cp, true);
			next_tick = now + TICK_MS;
		}
		pfds[0] = (struct pollfd){ .fd = srv->lfd, .events = POLLIN };
		pfds[1] = (struct pollfd){ .fd = fetch_fd, .events = POLLIN };
		nd = cp_resolve_pollfds(cp, &pfds[2]);
		base = 2 + nd;
		n = srv->n;
		for (i = 0; i < n; i++)
			srv_pollfd(srv, i, &pfds[base + i]);
		now = cp_mono_ms();
		timeout = next_tick > now ? (int)(next_tick - now) : 0;
		timeout = cp_resolve_timeout_ms(cp, timeout);
		if (poll(pfds, base + n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			cp_log("error", "poll failed", "error=%s",
			       cp_q(strerror(errno)));
			break;
		}
		if (pfds[1].revents & POLLIN)
			cp_ocsp_on_results(cp);
		cp_resolve_on_events(cp, &pfds[2], nd);
		for (i = 0; i < n; i++)
			if (pfds[base + i].revents != 0)
				srv_serve(cp, srv, i, pfds[base + i].revents);
		srv_sweep(srv);
		if (pfds[0].revents & POLLIN)
			srv_accept(cp, srv);
	}
}

static void
teardown(struct cp *cp, struct cp_server *srv)
{
	srv_fini(srv);
	if (cp->fetcher != NULL)
		ocsp_fetcher_stop(cp->fetcher);
	cp_resolve_stop(cp);
	dps_close(&cp->dp);
	while (cp->n_ocsp > 0)
		free(cp->ocsp[--cp->n_ocsp].staple.der);
	free(cp->ocsp);
	store_free(cp->st);
	tk_ring_wipe(&cp->ring);
	seal_wipe(cp->mk, sizeof(cp->mk));
}

int
main(int argc, char **argv)
{
	static struct cp cp;
	struct cp_server srv = { .lfd = -1 };
	char err[CP_ERR_MAX];
	int rc, lfd;

	rc = parse_options(argc, argv, &cp, err, sizeof(err));
	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, CP_PROG ": %s\n", err);
		return 2;
	}
	if (install_signals() != 0) {
		fprintf(stderr, CP_PROG ": cannot install signal handlers\n");
		return 1;
	}
	cp.started = time(NULL);
	if (crypto_init() != 0) {
		fprintf(stderr, CP_PROG ": the crypto library did not "
			"initialise\n");
		return 1;
	}
	/* Before any thread: curl_global_init is not thread-safe. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, CP_PROG ": libcurl did not initialise\n");
		crypto_fini();
		return 1;
	}
	if (rs_dns_library_init() != 0) {
		fprintf(stderr, CP_PROG ": c-ares did not initialise\n");
		curl_global_cleanup();
		crypto_fini();
		return 1;
	}
	rc = setup(&cp, err, sizeof(err));
	if (rc == 0) {
		lfd = ctlmsg_listen(cp.opt.socket, 0660, cp.opt.group, err,
				    sizeof(err));
		rc = lfd < 0 ? lfd : 0;
		if (rc == 0)
			srv_init(&srv, lfd);
	}
	if (rc != 0) {
		cp_log("error", "cannot start", "error=%s", cp_q(err));
		fprintf(stderr, CP_PROG ": %s\n", err);
		teardown(&cp, &srv);
		rs_dns_library_fini();
		curl_global_cleanup();
		crypto_fini();
		return 1;
	}
	cp_log("info", "ready", "socket=%s dataplane=%s state_dir=%s "
	       "generation=%llu certificates=%u truststores=%u "
	       "distributions=%u ticket_keys=%u", cp_q(cp.opt.socket),
	       cp_q(cp.opt.dataplane), cp_q(cp.opt.state_dir),
	       (unsigned long long)cp.st->generation, cp.st->n_certs,
	       cp.st->n_tss, cp.st->n_dists, cp.ring.n);

	run(&cp, &srv);

	cp_log("info", "stopping", "generation=%llu",
	       (unsigned long long)cp.st->generation);
	unlink(cp.opt.socket);
	teardown(&cp, &srv);
	rs_dns_library_fini();
	curl_global_cleanup();
	crypto_fini();
	return 0;
}
