/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon.h"

#define Q_SLOTS 8
#define Q_LEN   600

uint64_t
cp_now(void)
{
	return (uint64_t)time(NULL);
}

uint64_t
cp_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
cp_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Quote into dst for a logfmt value; control characters become spaces so
 * one event stays one line whatever a peer sent. */
static void
quote(char *dst, size_t len, const char *s)
{
	size_t o = 0;

	dst[o++] = '"';
	for (; s != NULL && *s != '\0' && o + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (c == '\n') {
			dst[o++] = '\\';
			dst[o++] = 'n';
		} else {
			dst[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
		}
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

const char *
cp_q(const char *s)
{
	static char slots[Q_SLOTS][Q_LEN];
	static unsigned int next;
	char *dst = slots[next++ % Q_SLOTS];

	quote(dst, Q_LEN, s);
	return dst;
}

void
cp_log(const char *level, const char *msg, const char *kvfmt, ...)
{
	char ts[32], qmsg[Q_LEN], kv[1024] = "";
	struct timespec now;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	quote(qmsg, sizeof(qmsg), msg);
	if (kvfmt != NULL) {
		kv[0] = ' ';
		va_start(ap, kvfmt);
		vsnprintf(kv + 1, sizeof(kv) - 1, kvfmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "ts=%s.%03ldZ level=%s msg=%s%s\n", ts,
		now.tv_nsec / 1000000L, level, qmsg, kv);
}
