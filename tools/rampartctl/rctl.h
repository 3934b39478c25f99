/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampartctl internals: the command keyword table (HAProxy's CLI shape:
 * words, handler, usage, help), the request helper that maps every failure
 * onto the documented exit status, and the table/tree printers shared by
 * the commands. Single-threaded; nothing here is a library API.
 */
#ifndef RAMPART_RCTL_H
#define RAMPART_RCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Exit statuses (docs/CLI.md). Handlers return one of these. */
enum rctl_exit {
	RCTL_OK = 0,
	RCTL_REFUSED = 1,       /* the daemon answered ok:false */
	RCTL_USAGE = 2,         /* bad command line or unreadable input file */
	RCTL_UNREACHABLE = 3,   /* cannot connect, timeout, protocol error */
};

/* Global options, parsed before (or anywhere after) the command words. */
struct rctl {
	const char *socket;     /* control plane socket */
	const char *dp_socket;  /* --dataplane-socket, NULL when not given */
	bool json;
	int timeout_ms;         /* -1: wait forever */
};

enum rctl_arg { RCTL_NOARG, RCTL_ARG, RCTL_OPTARG };

#define RCTL_MAX_OPTS  8
#define RCTL_MAX_WORDS 2

struct rctl_opt {
	const char *name;       /* long name without "--"; NULL ends a list */
	char short_name;        /* 0: none */
	enum rctl_arg arg;      /* RCTL_OPTARG takes the next word only when
				 * it is a number (stats --watch [SEC]) */
	const char *metavar;
	const char *help;
	bool required;
};

struct rctl_cmd;

/* Commands may be sent straight to the dataplane with --dataplane-socket. */
#define RCTL_KW_DATAPLANE 0x1

struct rctl_kw {
	const char *words[RCTL_MAX_WORDS + 1];  /* NULL-terminated */
	int (*handler)(struct rctl *c, const struct rctl_cmd *cmd);
	const char *args;       /* positional synopsis, "" for none */
	int min_pos, max_pos;
	const struct rctl_opt *opts;            /* NULL or NULL-name-ended */
	const char *help;       /* one line for the command list */
	const char *detail;     /* paragraph(s) for `COMMAND --help` */
	unsigned int flags;
};

/* One parsed invocation of a keyword. */
struct rctl_cmd {
	const struct rctl_kw *kw;
	const char *val[RCTL_MAX_OPTS]; /* by index in kw->opts; "" for a set
					 * flag, NULL when not given */
	int npos;
	char **pos;
};

/* The value given for option name (long name), or NULL. */
const char *rctl_optval(const struct rctl_cmd *cmd, const char *name);

/* Print "rampartctl: <msg>" and "try: rampartctl <words> --help" on
 * stderr; returns RCTL_USAGE. */
int rctl_usage_error(const struct rctl_kw *kw, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Send req (reference stolen) to the control plane, or to the dataplane
 * when --dataplane-socket was given, and wait for the response. Returns
 * RCTL_OK with *resp set (a new reference to an {"ok":true} object), or the
 * exit status after printing the reason on stderr: RCTL_UNREACHABLE for
 * connect/protocol/timeout failures, RCTL_REFUSED for ok:false.
 */
int rctl_call(const struct rctl *c, json_t *req, json_t **resp);

/* After a change: warn on stderr when resp says "pushed": false. */
void rctl_note_unpushed(const json_t *resp);

/* --json output: resp without its "ok" member, indented, on stdout. */
void rctl_print_json(json_t *resp);

/*
 * Read a whole file ("-" is stdin when allow_stdin) into a NUL-terminated
 * malloc'd buffer. On failure prints "cannot read FILE: reason" and
 * returns RCTL_USAGE. as_text refuses NUL bytes and invalid UTF-8 (PEM
 * files travel as JSON strings).
 */
int rctl_read_file(const char *path, bool allow_stdin, bool as_text,
		   char **buf, size_t *len);

/* ------------------------------------------------------------ output */

/* An aligned text table; row 0 is the header. Cells are copied. */
struct rctl_table {
	unsigned int ncols;
	size_t ncells, cap;
	char **cells;
	unsigned int right;     /* bitmask of right-aligned columns */
};

void rctl_table_init(struct rctl_table *t, unsigned int ncols);
/* Append one cell; rows wrap every ncols cells. */
void rctl_table_cell(struct rctl_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
size_t rctl_table_rows(const struct rctl_table *t);
void rctl_table_print(const struct rctl_table *t, FILE *f);
void rctl_table_free(struct rctl_table *t);

/* Scalars and short lists as table cells; every helper writes "-" for a
 * missing or null value and returns buf. */
const char *rctl_fmt_time(const json_t *v, char *buf, size_t len);
const char *rctl_fmt_duration(long long secs, char *buf, size_t len);
const char *rctl_fmt_scalar(const json_t *v, char *buf, size_t len);
const char *rctl_fmt_list(const json_t *v, unsigned int max, char *buf,
			  size_t len);

/* True for members holding unix seconds ("created", "*_update", ...). */
bool rctl_is_time_key(const char *key);

/*
 * Print a JSON object as an indented "key: value" block (describe,
 * status): times as ISO 8601 UTC, "*_s" durations with a readable
 * suffix, arrays of scalars joined by commas, arrays of flat objects as a
 * table.
 */
void rctl_print_tree(FILE *f, const json_t *obj, int indent);

/* Read a member through a dotted path ("tls.security_policy"). */
const json_t *rctl_get_path(const json_t *obj, const char *path);

/* ------------------------------------------------------------ commands */

int rctl_cmd_status(struct rctl *c, const struct rctl_cmd *cmd);
int rctl_cmd_stats(struct rctl *c, const struct rctl_cmd *cmd);
int rctl_cmd_apply(struct rctl *c, const struct rctl_cmd *cmd);
int rctl_cmd_get(struct rctl *c, const struct rctl_cmd *cmd);
int rctl_cmd_describe(struct rctl *c, const struct rctl_cmd *cmd);
int rctl_cmd_delete(struct rctl *c, const struct rctl_cmd *cmd);
int rctl_cmd_cert_import(struct rctl *c, const struct rctl_cmd *cmd);
int rctl_cmd_truststore_create(struct rctl *c, const struct rctl_cmd *cmd);
int rctl_cmd_tickets_rotate(struct rctl *c, const struct rctl_cmd *cmd);
int rctl_cmd_tickets_status(struct rctl *c, const struct rctl_cmd *cmd);
int rctl_cmd_ocsp_status(struct rctl *c, const struct rctl_cmd *cmd);
int rctl_cmd_ocsp_refresh(struct rctl *c, const struct rctl_cmd *cmd);
int rctl_cmd_version(struct rctl *c, const struct rctl_cmd *cmd);

#endif /* RAMPART_RCTL_H */
