/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampartctl: the operator CLI for rampart-controlplane (docs/CLI.md).
 *
 * Commands are a keyword table in HAProxy's CLI shape: each entry names
 * its words, handler, options and help, and the parser, the help at every
 * level and the usage errors are all derived from the table, so a new
 * command is one entry plus its handler.
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/proto/ctlmsg.h"
#include "rctl.h"

#define RCTL_DEFAULT_TIMEOUT_S 30

static const struct rctl_opt opts_stats[] = {
	{ "watch", 'w', RCTL_OPTARG, "SEC",
	  "redraw every SEC seconds (default 2) with per-second rates, until "
	  "interrupted" },
	{ "lcores", 0, RCTL_NOARG, NULL, "add one column per lcore" },
	{ "all", 'a', RCTL_NOARG, NULL, "show counters that are zero too" },
	{ NULL },
};

static const struct rctl_opt opts_apply[] = {
	{ "filename", 'f', RCTL_ARG, "FILE",
	  "distribution JSON: one object or an array of them; - reads stdin",
	  true },
	{ NULL },
};

static const struct rctl_opt opts_cert_import[] = {
	{ "name", 'n', RCTL_ARG, "NAME", "certificate name", true },
	{ "cert", 0, RCTL_ARG, "FILE",
	  "PEM chain: the leaf first, then each issuer", true },
	{ "key", 0, RCTL_ARG, "FILE", "PEM private key of the leaf", true },
	{ "ca", 0, RCTL_ARG, "FILE",
	  "PEM CA certificates trusted as extra anchors for this import" },
	{ "replace", 0, RCTL_NOARG, NULL,
	  "replace an existing certificate of that name (its distributions "
	  "switch to the new one)" },
	{ NULL },
};

static const struct rctl_opt opts_truststore_create[] = {
	{ "name", 'n', RCTL_ARG, "NAME", "trust store name", true },
	{ "ca", 0, RCTL_ARG, "FILE", "PEM bundle of CA certificates", true },
	{ "crl", 0, RCTL_ARG, "FILE",
	  "PEM CRL signed by one of the bundle's CAs" },
	{ "replace", 0, RCTL_NOARG, NULL,
	  "replace an existing trust store of that name" },
	{ NULL },
};

static const struct rctl_opt opts_ocsp_refresh[] = {
	{ "cert", 0, RCTL_ARG, "NAME",
	  "refresh only this certificate (default: all)" },
	{ NULL },
};

static const struct rctl_opt opts_version[] = {
	{ "client", 0, RCTL_NOARG, NULL,
	  "print only rampartctl's version; do not ask the control plane" },
	{ NULL },
};

static const struct rctl_kw rctl_keywords[] = {
	{ { "status" }, rctl_cmd_status, "", 0, 0, NULL,
	  "control plane and dataplane state",
	  "Shows the control plane's version, uptime, state directory and\n"
	  "committed generation, and whether the dataplane is connected and\n"
	  "serving that generation. With --dataplane-socket, asks the dataplane\n"
	  "itself (instance, lcores, ports, loaded object counts).",
	  RCTL_KW_DATAPLANE },
	{ { "stats" }, rctl_cmd_stats, "", 0, 0, opts_stats,
	  "dataplane counters",
	  "Shows the dataplane's counters summed over its lcores; only counters\n"
	  "that are not zero unless --all. --watch redraws the table every SEC\n"
	  "seconds with per-second rates until Ctrl-C (with --json: one JSON\n"
	  "object per line per sample).",
	  RCTL_KW_DATAPLANE },
	{ { "apply" }, rctl_cmd_apply, "", 0, 0, opts_apply,
	  "create or update distributions from JSON",
	  "Sends each distribution in FILE to the control plane, which validates,\n"
	  "commits and pushes it. FILE holds one distribution object or an array\n"
	  "of them (docs/CONTROL.md); they are applied in order and the first\n"
	  "refusal stops the run (objects before it stay applied)." },
	{ { "get" }, rctl_cmd_get, "KIND", 1, 1, NULL,
	  "list distributions, certs or truststores",
	  "KIND is distributions, certs or truststores." },
	{ { "describe" }, rctl_cmd_describe, "KIND NAME", 2, 2, NULL,
	  "show one object in full",
	  "KIND is distribution, cert or truststore. Certificates are shown\n"
	  "with their metadata; private keys never leave the control plane." },
	{ { "delete" }, rctl_cmd_delete, "KIND NAME", 2, 2, NULL,
	  "delete a distribution, cert or truststore",
	  "KIND is distribution, cert or truststore. A certificate or trust\n"
	  "store still used by a distribution is refused: delete or change the\n"
	  "distribution first." },
	{ { "cert", "import" }, rctl_cmd_cert_import, "", 0, 0,
	  opts_cert_import,
	  "import a certificate chain and its key",
	  "Validates the chain (order, intermediates, validity, key match and\n"
	  "type) and stores it with its key sealed under the node master key." },
	{ { "truststore", "create" }, rctl_cmd_truststore_create, "", 0, 0,
	  opts_truststore_create,
	  "create a trust store for viewer mTLS",
	  "A trust store is a bundle of CA certificates and an optional CRL,\n"
	  "named by distributions in tls.mtls.trust_store." },
	{ { "tickets", "rotate" }, rctl_cmd_tickets_rotate, "", 0, 0, NULL,
	  "rotate the session-ticket key now",
	  "Adds a fresh key, waits for the dataplane to accept it and then\n"
	  "makes it the encrypting key; older keys keep decrypting." },
	{ { "tickets", "status" }, rctl_cmd_tickets_status, "", 0, 0, NULL,
	  "session-ticket keys and the next rotation",
	  "Lists the ticket keys (id, role, creation time; never the secret)\n"
	  "and when the next scheduled rotation is due." },
	{ { "ocsp", "status" }, rctl_cmd_ocsp_status, "", 0, 0, NULL,
	  "OCSP staple state per certificate",
	  "Shows, per certificate, the last OCSP answer, its validity, the next\n"
	  "refresh, whether it is stapled and the last fetch error." },
	{ { "ocsp", "refresh" }, rctl_cmd_ocsp_refresh, "", 0, 0,
	  opts_ocsp_refresh,
	  "fetch OCSP responses now",
	  "Starts OCSP fetches now (ignoring the refresh schedule) and shows\n"
	  "the resulting state; fetching may take a while (see --timeout)." },
	{ { "version" }, rctl_cmd_version, "", 0, 0, opts_version,
	  "rampartctl and control plane versions",
	  "Prints rampartctl's version, then asks the control plane for its own." },
};

#define RCTL_NKW (sizeof(rctl_keywords) / sizeof(rctl_keywords[0]))

static const struct rctl_opt rctl_global_opts[] = {
	{ "socket", 's', RCTL_ARG, "PATH",
	  "control plane socket (default $RAMPART_SOCKET, else "
	  CTLMSG_CONTROLPLANE_SOCK ")" },
	{ "dataplane-socket", 0, RCTL_ARG, "PATH",
	  "send status/stats straight to the dataplane's socket" },
	{ "json", 'j', RCTL_NOARG, NULL,
	  "print the daemon's response as JSON (for scripts)" },
	{ "timeout", 't', RCTL_ARG, "SEC",
	  "give up waiting after SEC seconds (default 30; 0: never)" },
	{ "help", 'h', RCTL_NOARG, NULL, "help; COMMAND --help for one command" },
	{ NULL },
};

/* ------------------------------------------------------------ help */

static unsigned int
kw_nwords(const struct rctl_kw *kw)
{
	unsigned int n = 0;

	while (n < RCTL_MAX_WORDS && kw->words[n] != NULL)
		n++;
	return n;
}

static void
kw_words(const struct rctl_kw *kw, char *buf, size_t len)
{
	unsigned int i, n = kw_nwords(kw);
	size_t off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i ? " " : "", kw->words[i]);
}

static void
kw_synopsis(const struct rctl_kw *kw, char *buf, size_t len)
{
	const struct rctl_opt *o;
	size_t off;

	kw_words(kw, buf, len);
	off = strlen(buf);
	if (kw->args[0] != '\0' && off < len)
		off += (size_t)snprintf(buf + off, len - off, " %s", kw->args);
	for (o = kw->opts; o != NULL && o->name != NULL && off < len; o++) {
		const char *fmt;

		if (o->arg == RCTL_NOARG)
			fmt = o->required ? " --%s" : " [--%s]";
		else if (o->arg == RCTL_OPTARG)
			fmt = " [--%s [%s]]";
		else
			fmt = o->required ? " --%s %s" : " [--%s %s]";
		off += (size_t)snprintf(buf + off, len - off, fmt, o->name,
					o->metavar ? o->metavar : "");
	}
}

static void
print_opts(FILE *f, const struct rctl_opt *opts)
{
	const struct rctl_opt *o;
	char left[64];

	for (o = opts; o != NULL && o->name != NULL; o++) {
		int n = 0;

		if (o->short_name)
			n = snprintf(left, sizeof(left), "-%c, ",
				     o->short_name);
		else
			n = snprintf(left, sizeof(left), "    ");
		snprintf(left + n, sizeof(left) - (size_t)n,
			 o->arg == RCTL_NOARG ? "--%s" :
			 o->arg == RCTL_OPTARG ? "--%s [%s]" : "--%s %s",
			 o->name, o->metavar ? o->metavar : "");
		if (strlen(left) > 24)
			fprintf(f, "  %s\n  %-24s  %s\n", left, "", o->help);
		else
			fprintf(f, "  %-24s  %s\n", left, o->help);
	}
}

static void
print_commands(FILE *f, const char *group)
{
	char syn[256];
	size_t i;

	for (i = 0; i < RCTL_NKW; i++) {
		const struct rctl_kw *kw = &rctl_keywords[i];

		if (group != NULL && strcmp(kw->words[0], group) != 0)
			continue;
		kw_words(kw, syn, sizeof(syn));
		if (kw->args[0] != '\0') {
			strncat(syn, " ", sizeof(syn) - strlen(syn) - 1);
			strncat(syn, kw->args, sizeof(syn) - strlen(syn) - 1);
		}
		fprintf(f, "  %-22s  %s\n", syn, kw->help);
	}
}

static void
help_global(FILE *f)
{
	fputs("usage: rampartctl [OPTIONS] COMMAND [ARGS...]\n"
	      "\n"
	      "Operate a Rampart node through rampart-controlplane.\n"
	      "\n"
	      "commands:\n", f);
	print_commands(f, NULL);
	fprintf(f, "  %-22s  %s\n", "help [COMMAND]", "this help, or one command's");
	fputs("\noptions (before or after the command):\n", f);
	print_opts(f, rctl_global_opts);
	fprintf(f, "  %-24s  %s\n", "-V, --version", "rampartctl's version");
	fputs("\nexit status: 0 ok, 1 refused by the daemon, 2 usage error or "
	      "unreadable file,\n"
	      "3 cannot connect, timeout or protocol error.\n"
	      "Run 'rampartctl COMMAND --help' for a command's options; "
	      "docs/CLI.md is the manual.\n", f);
}

static void
help_group(FILE *f, const char *group)
{
	fprintf(f, "usage: rampartctl [OPTIONS] %s SUBCOMMAND [ARGS...]\n\n"
		"subcommands:\n", group);
	print_commands(f, group);
	fprintf(f, "\nRun 'rampartctl %s SUBCOMMAND --help' for one of them.\n",
		group);
}

static void
help_kw(FILE *f, const struct rctl_kw *kw)
{
	char syn[512];

	kw_synopsis(kw, syn, sizeof(syn));
	fprintf(f, "usage: rampartctl [OPTIONS] %s\n\n%c%s.\n\n%s\n", syn,
		kw->help[0] >= 'a' && kw->help[0] <= 'z' ?
		kw->help[0] - 'a' + 'A' : kw->help[0], kw->help + 1,
		kw->detail);
	if (kw->opts != NULL) {
		fputs("\noptions:\n", f);
		print_opts(f, kw->opts);
	}
	fputs("\nGlobal options (--socket, --json, --timeout, ...): "
	      "rampartctl --help.\n", f);
}

/* ------------------------------------------------------------ errors */

static void
vusage(const char *level, const char *fmt, va_list ap)
{
	fputs("rampartctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\ntry: rampartctl %s%s--help\n", level,
		level[0] ? " " : "");
}

static int __attribute__((format(printf, 2, 3)))
usage_at(const char *level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vusage(level, fmt, ap);
	va_end(ap);
	return RCTL_USAGE;
}

int
rctl_usage_error(const struct rctl_kw *kw, const char *fmt, ...)
{
	char words[64];
	va_list ap;

	kw_words(kw, words, sizeof(words));
	va_start(ap, fmt);
	vusage(words, fmt, ap);
	va_end(ap);
	return RCTL_USAGE;
}

const char *
rctl_optval(const struct rctl_cmd *cmd, const char *name)
{
	const struct rctl_opt *o;
	int i = 0;

	for (o = cmd->kw->opts; o != NULL && o->name != NULL; o++, i++)
		if (strcmp(o->name, name) == 0)
			return cmd->val[i];
	return NULL;
}

/* ------------------------------------------------------------ parsing */

/*
 * Match argv[*i] against opts. Returns the option's index and sets *val
 * (NULL for flags), advancing *i past a separate value; -1 when argv[*i]
 * is not one of opts; -2 after printing a usage error.
 */
static int
match_opt(const struct rctl_opt *opts, int argc, char **argv, int *i,
	  const char **val, const char *level)
{
	const char *a = argv[*i], *eq = NULL;
	const struct rctl_opt *o;
	size_t nlen;
	int idx = 0;

	*val = NULL;
	if (opts == NULL)
		return -1;
	if (a[1] == '-') {
		eq = strchr(a + 2, '=');
		nlen = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		for (o = opts; o->name != NULL; o++, idx++)
			if (strlen(o->name) == nlen &&
			    strncmp(o->name, a + 2, nlen) == 0)
				break;
	} else {
		if (a[2] != '\0')
			return -1;
		for (o = opts; o->name != NULL; o++, idx++)
			if (o->short_name != 0 && o->short_name == a[1])
				break;
	}
	if (o->name == NULL)
		return -1;

	if (o->arg == RCTL_NOARG) {
		if (eq != NULL)
			return usage_at(level, "option --%s takes no value",
					o->name), -2;
		return idx;
	}
	if (eq != NULL) {
		*val = eq + 1;
		return idx;
	}
	if (o->arg == RCTL_OPTARG) {
		/* Only a number can be the optional value, so
		 * "stats --watch --lcores" still reads as two flags. */
		if (*i + 1 < argc && strspn(argv[*i + 1], "0123456789.") ==
		    strlen(argv[*i + 1]) && argv[*i + 1][0] != '\0')
			*val = argv[++*i];
		return idx;
	}
	if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0)
		return usage_at(level, "option --%s needs a value %s", o->name,
				o->metavar), -2;
	*val = argv[++*i];
	return idx;
}

struct parse_state {
	bool help;
	bool dp_given;
};

/* Apply a global option found at argv[*i]; 1: consumed, 0: not global,
 * -1: usage error printed. */
static int
parse_global(struct rctl *c, struct parse_state *ps, int argc, char **argv,
	     int *i, const char *level)
{
	const char *val;
	char *end;
	double sec;
	int idx;

	idx = match_opt(rctl_global_opts, argc, argv, i, &val, level);
	if (idx == -1)
		return 0;
	if (idx == -2)
		return -1;
	switch (idx) {
	case 0:
		c->socket = val;
		break;
	case 1:
		c->dp_socket = val;
		ps->dp_given = true;
		break;
	case 2:
		c->json = true;
		break;
	case 3:
		errno = 0;
		sec = strtod(val, &end);
		if (errno != 0 || end == val || *end != '\0' || sec < 0 ||
		    sec > 86400) {
			usage_at(level, "--timeout '%s': expected seconds "
				 "from 0 (no limit) to 86400", val);
			return -1;
		}
		c->timeout_ms = sec == 0 ? -1 : (int)(sec * 1000);
		if (sec > 0 && c->timeout_ms == 0)
			c->timeout_ms = 1;
		break;
	case 4:
		ps->help = true;
		break;
	}
	return 1;
}

static bool
is_group(const char *word)
{
	size_t i;

	for (i = 0; i < RCTL_NKW; i++)
		if (kw_nwords(&rctl_keywords[i]) > 1 &&
		    strcmp(rctl_keywords[i].words[0], word) == 0)
			return true;
	return false;
}

/* The keyword whose words are the longest prefix of argv[0..argc). */
static const struct rctl_kw *
find_kw(int argc, char **argv)
{
	const struct rctl_kw *best = NULL;
	unsigned int j, n, best_n = 0;
	size_t i;

	for (i = 0; i < RCTL_NKW; i++) {
		const struct rctl_kw *kw = &rctl_keywords[i];

		n = kw_nwords(kw);
		if ((int)n > argc || n <= best_n)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(kw->words[j], argv[j]) != 0)
				break;
		if (j == n) {
			best = kw;
			best_n = n;
		}
	}
	return best;
}

static bool
is_help_word(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ||
	       strcmp(a, "help") == 0;
}

/* `rampartctl help [WORDS...]` */
static int
do_help(int argc, char **argv)
{
	const struct rctl_kw *kw;

	if (argc == 0) {
		help_global(stdout);
		return RCTL_OK;
	}
	kw = find_kw(argc, argv);
	if (kw != NULL && (int)kw_nwords(kw) == argc) {
		help_kw(stdout, kw);
		return RCTL_OK;
	}
	if (argc == 1 && is_group(argv[0])) {
		help_group(stdout, argv[0]);
		return RCTL_OK;
	}
	return usage_at("", "no help for unknown command '%s%s%s'", argv[0],
			argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
}

/* jansson keeps its own copies of the PEM strings, the private key among
 * them: wipe every block it frees so the key does not linger in the heap
 * of a process that may dump core. */
static void
rctl_json_free(void *p)
{
	if (p != NULL) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

int
main(int argc, char **argv)
{
	struct rctl c = {
		.socket = CTLMSG_CONTROLPLANE_SOCK,
		.timeout_ms = RCTL_DEFAULT_TIMEOUT_S * 1000,
	};
	struct parse_state ps = { 0 };
	struct rctl_cmd cmd = { 0 };
	const struct rctl_kw *kw;
	char level[64];
	const char *env;
	int i = 1, rc, npos = 0, nw;
	char **pos;

	json_set_alloc_funcs(malloc, rctl_json_free);
	env = getenv("RAMPART_SOCKET");
	if (env != NULL && env[0] != '\0')
		c.socket = env;

	/* Global options before the command words. */
	while (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "-V") == 0) {
			printf("rampartctl %s\n", RAMPART_VERSION);
			return RCTL_OK;
		}
		rc = parse_global(&c, &ps, argc, argv, &i, "");
		if (rc < 0)
			return RCTL_USAGE;
		if (rc == 0)
			return usage_at("", "unknown option '%s'", argv[i]);
		i++;
	}
	if (ps.help) {
		help_global(stdout);
		return RCTL_OK;
	}
	if (i >= argc) {
		help_global(stderr);
		return RCTL_USAGE;
	}
	if (strcmp(argv[i], "help") == 0)
		return do_help(argc - i - 1, argv + i + 1);

	kw = find_kw(argc - i, argv + i);
	if (kw == NULL) {
		if (!is_group(argv[i]))
			return usage_at("", "unknown command '%s'", argv[i]);
		if (i + 1 < argc && is_help_word(argv[i + 1])) {
			help_group(stdout, argv[i]);
			return RCTL_OK;
		}
		if (i + 1 >= argc || argv[i + 1][0] == '-')
			return usage_at(argv[i], "%s: missing subcommand",
					argv[i]);
		return usage_at(argv[i], "unknown command '%s %s'", argv[i],
				argv[i + 1]);
	}
	nw = (int)kw_nwords(kw);
	i += nw;
	kw_words(kw, level, sizeof(level));
	cmd.kw = kw;

	pos = calloc((size_t)argc, sizeof(*pos));
	if (pos == NULL) {
		fputs("rampartctl: out of memory\n", stderr);
		return RCTL_UNREACHABLE;
	}
	for (; i < argc; i++) {
		const char *a = argv[i], *val;
		int idx;

		if (strcmp(a, "--") == 0) {
			while (++i < argc)
				pos[npos++] = argv[i];
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			pos[npos++] = argv[i];
			continue;
		}
		idx = match_opt(kw->opts, argc, argv, &i, &val, level);
		if (idx >= 0) {
			cmd.val[idx] = val != NULL ? val : "";
			continue;
		}
		if (idx == -2)
			goto usage;
		rc = parse_global(&c, &ps, argc, argv, &i, level);
		if (rc < 0)
			goto usage;
		if (rc == 0) {
			usage_at(level, "%s: unknown option '%s'", level, a);
			goto usage;
		}
	}
	if (ps.help || (npos == 1 && strcmp(pos[0], "help") == 0 &&
			kw->max_pos == 0)) {
		help_kw(stdout, kw);
		free(pos);
		return RCTL_OK;
	}
	if (ps.dp_given && !(kw->flags & RCTL_KW_DATAPLANE)) {
		usage_at(level, "%s: --dataplane-socket works only with status "
			 "and stats; the other commands go through the control "
			 "plane", level);
		goto usage;
	}
	if (npos < kw->min_pos) {
		usage_at(level, "%s: missing %s", level, kw->args);
		goto usage;
	}
	if (npos > kw->max_pos) {
		usage_at(level, "%s: unexpected argument '%s'", level,
			 pos[kw->max_pos]);
		goto usage;
	}
	for (rc = 0; kw->opts != NULL && kw->opts[rc].name != NULL; rc++) {
		if (kw->opts[rc].required && cmd.val[rc] == NULL) {
			char shrt[8] = "";

			if (kw->opts[rc].short_name != 0)
				snprintf(shrt, sizeof(shrt), "-%c/",
					 kw->opts[rc].short_name);
			usage_at(level, "%s: missing %s--%s %s", level, shrt,
				 kw->opts[rc].name, kw->opts[rc].metavar);
			goto usage;
		}
		if (kw->opts[rc].arg == RCTL_ARG && cmd.val[rc] != NULL &&
		    cmd.val[rc][0] == '\0') {
			usage_at(level, "%s: --%s: empty value", level,
				 kw->opts[rc].name);
			goto usage;
		}
	}
	cmd.npos = npos;
	cmd.pos = pos;
	rc = kw->handler(&c, &cmd);
	free(pos);
	return rc;
usage:
	free(pos);
	return RCTL_USAGE;
}
