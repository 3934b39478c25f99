/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Character classes of RFC 9110/9112 shared by the head parser and the
 * chunked decoder (private to dataplane/http/).
 */
#ifndef RAMPART_HTTP_H1_CHARS_H
#define RAMPART_HTTP_H1_CHARS_H

#include <stdbool.h>

/* tchar (RFC 9110 5.6.2): the characters of a token. */
static inline bool
is_tchar(unsigned char c)
{
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '.': case '^': case '_':
	case '`': case '|': case '~':
		return true;
	}
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/* OWS / BWS: space and horizontal tab only. */
static inline bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* The value of a hex digit, or -1. */
static inline int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif /* RAMPART_HTTP_H1_CHARS_H */
