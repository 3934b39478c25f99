/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rctl.h"

#define RCTL_COL_GAP 3  /* spaces between columns, as kubectl */

void
rctl_table_init(struct rctl_table *t, unsigned int ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

void
rctl_table_cell(struct rctl_table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (t->ncells == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **n = realloc(t->cells, cap * sizeof(*n));

		if (n == NULL)
			return;
		t->cells = n;
		t->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	t->cells[t->ncells++] = s;
}

size_t
rctl_table_rows(const struct rctl_table *t)
{
	return t->ncols ? t->ncells / t->ncols : 0;
}

/* Columns are measured in characters, not bytes: names are ASCII but
 * error sentences from a responder may not be. */
static size_t
text_width(const char *s)
{
	size_t w = 0;

	for (; s != NULL && *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void
rctl_table_print(const struct rctl_table *t, FILE *f)
{
	size_t *width, r, rows = rctl_table_rows(t);
	unsigned int col;

	if (rows == 0)
		return;
	width = calloc(t->ncols, sizeof(*width));
	if (width == NULL)
		return;
	for (r = 0; r < rows; r++)
		for (col = 0; col < t->ncols; col++) {
			size_t w = text_width(t->cells[r * t->ncols + col]);

			if (w > width[col])
				width[col] = w;
		}
	for (r = 0; r < rows; r++) {
		for (col = 0; col < t->ncols; col++) {
			const char *s = t->cells[r * t->ncols + col];
			size_t pad = width[col] - text_width(s);
			bool last = col + 1 == t->ncols;

			if (s == NULL)
				s = "";
			if (t->right & (1u << col)) {
				fprintf(f, "%*s%s", (int)pad, "", s);
			} else {
				fputs(s, f);
				/* No trailing blanks after the last column. */
				if (!last)
					fprintf(f, "%*s", (int)pad, "");
			}
			if (!last)
				fprintf(f, "%*s", RCTL_COL_GAP, "");
		}
		fputc('\n', f);
	}
	free(width);
}

void
rctl_table_free(struct rctl_table *t)
{
	size_t i;

	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------ values */

const char *
rctl_fmt_time(const json_t *v, char *buf, size_t len)
{
	struct tm tm;
	time_t t;

	if (json_is_string(v)) {
		snprintf(buf, len, "%s", json_string_value(v));
		return buf;
	}
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	t = (time_t)json_integer_value(v);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

const char *
rctl_fmt_duration(long long secs, char *buf, size_t len)
{
	const char *sign = secs < 0 ? "-" : "";

	if (secs < 0)
		secs = -secs;
	if (secs < 60)
		snprintf(buf, len, "%s%llds", sign, secs);
	else if (secs < 3600)
		snprintf(buf, len, "%s%lldm%02llds", sign, secs / 60, secs % 60);
	else if (secs < 86400)
		snprintf(buf, len, "%s%lldh%02lldm", sign, secs / 3600,
			 secs % 3600 / 60);
	else
		snprintf(buf, len, "%s%lldd%02lldh", sign, secs / 86400,
			 secs % 86400 / 3600);
	return buf;
}

const char *
rctl_fmt_scalar(const json_t *v, char *buf, size_t len)
{
	if (v == NULL) {
		snprintf(buf, len, "-");
		return buf;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, len, "%s", json_string_value(v)[0] ?
			 json_string_value(v) : "-");
		break;
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, len, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, len, "yes");
		break;
	case JSON_FALSE:
		snprintf(buf, len, "no");
		break;
	case JSON_ARRAY:
		return rctl_fmt_list(v, 0, buf, len);
	case JSON_OBJECT: {
		char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);

		snprintf(buf, len, "%s", s ? s : "-");
		free(s);
		break;
	}
	default:
		snprintf(buf, len, "-");
	}
	return buf;
}

const char *
rctl_fmt_list(const json_t *v, unsigned int max, char *buf, size_t len)
{
	char item[256];
	size_t i, n, off = 0;

	if (!json_is_array(v)) {
		if (v == NULL || json_is_null(v))
			snprintf(buf, len, "-");
		else
			rctl_fmt_scalar(v, buf, len);
		return buf;
	}
	n = json_array_size(v);
	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++) {
		if (max != 0 && i == max) {
			snprintf(buf + off, len - off, ",+%zu", n - i);
			break;
		}
		rctl_fmt_scalar(json_array_get(v, i), item, sizeof(item));
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i ? "," : "", item);
	}
	if (n == 0)
		snprintf(buf, len, "-");
	return buf;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

bool
rctl_is_time_key(const char *key)
{
	static const char *const exact[] = {
		"created", "not_before", "not_after", "expires", "modified",
		"updated", "started", "imported",
	};
	size_t i;

	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcmp(key, exact[i]) == 0)
			return true;
	return ends_with(key, "_update") || ends_with(key, "_refresh") ||
	       ends_with(key, "_rotation") || ends_with(key, "_at") ||
	       ends_with(key, "_time");
}

const json_t *
rctl_get_path(const json_t *obj, const char *path)
{
	char key[64];
	const char *dot;
	size_t n;

	while (obj != NULL && (dot = strchr(path, '.')) != NULL) {
		n = (size_t)(dot - path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		obj = json_object_get(obj, key);
		path = dot + 1;
	}
	return obj != NULL ? json_object_get(obj, path) : NULL;
}

/* ------------------------------------------------------------ trees */

static void
fmt_member(const char *key, const json_t *v, char *buf, size_t len)
{
	char d[32];

	if (json_is_integer(v) && rctl_is_time_key(key)) {
		rctl_fmt_time(v, buf, len);
	} else if (json_is_integer(v) && ends_with(key, "_s") &&
		   json_integer_value(v) >= 60) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT " (%s)",
			 json_integer_value(v),
			 rctl_fmt_duration(json_integer_value(v), d, sizeof(d)));
	} else if (json_is_string(v) && json_string_length(v) == 0) {
		snprintf(buf, len, "\"\"");
	} else {
		rctl_fmt_scalar(v, buf, len);
	}
}

/* An array whose elements are all objects with only scalar members is
 * shown as a table (ports, keys, origins without nested objects). */
static bool
flat_objects(const json_t *arr)
{
	const json_t *o, *v;
	const char *k;
	size_t i;

	if (json_array_size(arr) == 0)
		return false;
	json_array_foreach(arr, i, o) {
		if (!json_is_object(o))
			return false;
		json_object_foreach((json_t *)o, k, v)
			if (json_is_object(v) || json_is_array(v))
				return false;
	}
	return true;
}

static void
print_flat_table(FILE *f, const json_t *arr, int indent)
{
	const json_t *first = json_array_get(arr, 0), *o, *v;
	struct rctl_table t;
	char buf[512], *line;
	const char *k;
	size_t i, ncols = json_object_size(first);
	FILE *mem;
	size_t mlen;

	rctl_table_init(&t, (unsigned int)ncols);
	json_object_foreach((json_t *)first, k, v) {
		char head[64];
		size_t j;

		snprintf(head, sizeof(head), "%s", k);
		for (j = 0; head[j]; j++)
			head[j] = head[j] == '_' ? '-' :
				  (char)(head[j] >= 'a' && head[j] <= 'z' ?
					 head[j] - 32 : head[j]);
		rctl_table_cell(&t, "%s", head);
	}
	json_array_foreach(arr, i, o) {
		json_object_foreach((json_t *)first, k, v) {
			fmt_member(k, json_object_get(o, k), buf, sizeof(buf));
			rctl_table_cell(&t, "%s", buf);
		}
	}
	/* Indent every line of the table. */
	line = NULL;
	mem = open_memstream(&line, &mlen);
	if (mem == NULL) {
		rctl_table_free(&t);
		return;
	}
	rctl_table_print(&t, mem);
	fclose(mem);
	for (char *p = line, *nl; p != NULL && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		fprintf(f, "%*s%.*s\n", indent, "", (int)(nl - p), p);
	}
	free(line);
	rctl_table_free(&t);
}

void
rctl_print_tree(FILE *f, const json_t *obj, int indent)
{
	char buf[4096];
	const json_t *v, *e;
	const char *k;
	size_t kw = 0, i;

	json_object_foreach((json_t *)obj, k, v)
		if (strlen(k) > kw)
			kw = strlen(k);

	json_object_foreach((json_t *)obj, k, v) {
		if (json_is_object(v)) {
			fprintf(f, "%*s%s:", indent, "", k);
			if (json_object_size(v) == 0) {
				fputs(" {}\n", f);
				continue;
			}
			fputc('\n', f);
			rctl_print_tree(f, v, indent + 2);
		} else if (json_is_array(v) && flat_objects(v)) {
			fprintf(f, "%*s%s:\n", indent, "", k);
			print_flat_table(f, v, indent + 2);
		} else if (json_is_array(v) && json_array_size(v) > 0 &&
			   (json_is_object(json_array_get(v, 0)) ||
			    json_is_array(json_array_get(v, 0)))) {
			fprintf(f, "%*s%s:\n", indent, "", k);
			json_array_foreach(v, i, e) {
				fprintf(f, "%*s- [%zu]\n", indent + 2, "", i);
				if (json_is_object(e))
					rctl_print_tree(f, e, indent + 4);
				else
					fprintf(f, "%*s%s\n", indent + 4, "",
						rctl_fmt_scalar(e, buf,
								sizeof(buf)));
			}
		} else if (json_is_string(v) &&
			   strchr(json_string_value(v), '\n') != NULL) {
			/* PEM and other multi-line text, as a YAML block. */
			const char *p = json_string_value(v), *nl;

			fprintf(f, "%*s%s: |\n", indent, "", k);
			for (; *p; p = nl + 1) {
				nl = strchr(p, '\n');
				if (nl == NULL) {
					fprintf(f, "%*s%s\n", indent + 2, "", p);
					break;
				}
				fprintf(f, "%*s%.*s\n", indent + 2, "",
					(int)(nl - p), p);
			}
		} else {
			if (json_is_array(v))
				rctl_fmt_list(v, 0, buf, sizeof(buf));
			else
				fmt_member(k, v, buf, sizeof(buf));
			fprintf(f, "%*s%s:%*s %s\n", indent, "", k,
				(int)(kw - strlen(k)), "", buf);
		}
	}
}
