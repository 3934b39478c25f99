/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controlplane/proto/ctlmsg.h"
#include "rctl.h"

int
rctl_call(const struct rctl *c, json_t *req, json_t **resp)
{
	const char *path = c->dp_socket != NULL ? c->dp_socket : c->socket;
	char err[512] = "";
	const json_t *ok;
	json_t *r = NULL;
	int fd, rc;

	*resp = NULL;
	if (req == NULL) {
		fputs("rampartctl: out of memory\n", stderr);
		return RCTL_UNREACHABLE;
	}
	fd = ctlmsg_connect(path, err, sizeof(err));
	if (fd < 0) {
		if (err[0] == '\0')
			snprintf(err, sizeof(err), "cannot connect to %s: %s",
				 path, strerror(-fd));
		fprintf(stderr, "rampartctl: %s\n", err);
		json_decref(req);
		return RCTL_UNREACHABLE;
	}
	rc = ctlmsg_call(fd, req, &r, c->timeout_ms, err, sizeof(err));
	close(fd);
	json_decref(req);
	if (rc == -ETIMEDOUT) {
		/* The daemon may still finish the operation: say so, so
		 * the operator checks before repeating it. */
		fprintf(stderr, "rampartctl: %s: no response within %g s "
			"(the operation may still complete; raise --timeout "
			"to wait longer)\n", path, c->timeout_ms / 1000.0);
		return RCTL_UNREACHABLE;
	}
	if (rc < 0) {
		if (err[0] == '\0')
			snprintf(err, sizeof(err), "%s", strerror(-rc));
		fprintf(stderr, "rampartctl: %s: %s\n", path, err);
		return RCTL_UNREACHABLE;
	}
	ok = json_object_get(r, "ok");
	if (!json_is_boolean(ok)) {
		fprintf(stderr, "rampartctl: %s: malformed response (no "
			"boolean \"ok\" member)\n", path);
		json_decref(r);
		return RCTL_UNREACHABLE;
	}
	if (!ctlmsg_resp_ok(r, err, sizeof(err))) {
		fprintf(stderr, "rampartctl: %s\n", err);
		json_decref(r);
		return RCTL_REFUSED;
	}
	*resp = r;
	return RCTL_OK;
}

void
rctl_print_json(json_t *resp)
{
	json_t *copy = json_copy(resp);
	char *s;

	if (copy == NULL)
		return;
	json_object_del(copy, "ok");
	s = json_dumps(copy, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s != NULL) {
		puts(s);
		free(s);
	}
	json_decref(copy);
}

static bool
utf8_valid(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);

	/* jansson validates UTF-8 when building a string; reusing it keeps
	 * the CLI's definition identical to what the request encoder needs. */
	if (j == NULL)
		return false;
	json_decref(j);
	return true;
}

int
rctl_read_file(const char *path, bool allow_stdin, bool as_text, char **buf,
	       size_t *len)
{
	bool is_stdin = allow_stdin && strcmp(path, "-") == 0;
	size_t cap = 65536, n = 0, r;
	const char *why = NULL;
	FILE *f;
	char *p, *np;

	*buf = NULL;
	*len = 0;
	f = is_stdin ? stdin : fopen(path, "r");
	if (f == NULL) {
		why = strerror(errno);
		goto fail;
	}
	p = malloc(cap);
	if (p == NULL) {
		why = strerror(ENOMEM);
		goto fail_close;
	}
	for (;;) {
		if (n + 1 >= cap) {
			/* A PEM bundle or a JSON file, never gigabytes: stop
			 * at the protocol's frame limit. */
			if (cap >= CTLMSG_MAX_PAYLOAD) {
				why = "file larger than the 16 MiB request limit";
				goto fail_free;
			}
			np = realloc(p, cap * 2);
			if (np == NULL) {
				why = strerror(ENOMEM);
				goto fail_free;
			}
			p = np;
			cap *= 2;
		}
		r = fread(p + n, 1, cap - 1 - n, f);
		n += r;
		if (r == 0) {
			if (ferror(f)) {
				why = strerror(errno ? errno : EIO);
				goto fail_free;
			}
			break;
		}
	}
	p[n] = '\0';
	if (as_text && memchr(p, '\0', n) != NULL) {
		why = "binary data, expected PEM text (convert DER with "
		      "'openssl x509 -inform der')";
		goto fail_free;
	}
	if (as_text && !utf8_valid(p, n)) {
		why = "not UTF-8 text";
		goto fail_free;
	}
	if (!is_stdin)
		fclose(f);
	*buf = p;
	*len = n;
	return RCTL_OK;
fail_free:
	free(p);
fail_close:
	if (!is_stdin)
		fclose(f);
fail:
	fprintf(stderr, "rampartctl: cannot read %s: %s\n",
		is_stdin ? "standard input" : path, why);
	return RCTL_USAGE;
}

void
rctl_note_unpushed(const json_t *resp)
{
	/* Committed but not on the dataplane yet: the operator must not
	 * believe the edge serves it already. */
	if (json_is_false(json_object_get(resp, "pushed")))
		fprintf(stderr, "rampartctl: note: committed, but the dataplane "
			"is not connected; the change is pushed when it comes "
			"back (see rampartctl status)\n");
}
