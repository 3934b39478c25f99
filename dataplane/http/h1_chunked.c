/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Chunked transfer coding decoder (RFC 9112 7.1), a byte-driven state
 * machine so a body can arrive split anywhere, down to one byte per call.
 * Chunk data is never copied: each call hands back one span of the
 * caller's buffer.
 *
 * Strict where parsers are known to disagree (chunk-size smuggling):
 * the size is 1-16 hex digits below 2^63 with nothing before it; after it
 * come CRLF, ';' or whitespace that must lead to ';' (the BWS of
 * chunk-ext), never whitespace before the CRLF; bare CR or LF anywhere is
 * refused; the CRLF after the data must be exactly that. Extensions are
 * parsed to the RFC grammar (token, optional token or quoted-string value)
 * and dropped; trailer fields follow the head's field rules and are
 * dropped too: nothing in them can change the framing.
 */
#include <string.h>

#include "h1.h"
#include "h1_chars.h"

enum {
	S_SIZE,                 /* before the first digit */
	S_SIZE_DIGITS,
	S_SIZE_BWS,             /* whitespace after the size: ';' must follow */
	S_EXT_PRE_NAME,         /* after ';' */
	S_EXT_NAME,
	S_EXT_POST_NAME,        /* whitespace after a name: '=' or ';' */
	S_EXT_PRE_VAL,          /* after '=' */
	S_EXT_TOKEN,
	S_EXT_QUOTED,
	S_EXT_QUOTED_ESC,
	S_EXT_AFTER_VAL,        /* after a closing quote */
	S_EXT_POST_VAL,         /* whitespace after a value: ';' must follow */
	S_SIZE_LF,
	S_DATA,
	S_DATA_CR,
	S_DATA_LF,
	S_TR_START,             /* start of a trailer line */
	S_TR_NAME,
	S_TR_VALUE,
	S_TR_LF,
	S_TR_END_LF,
	S_DONE,
	S_ERROR,
};

#define SIZE_MAX_DIGITS 16

void
h1_chunked_init(struct h1_chunked *d, const struct h1_limits *lim)
{
	const struct h1_limits *def = &h1_limits_default;

	if (lim == NULL)
		lim = def;
	memset(d, 0, sizeof(*d));
	d->max_body = lim->max_body;
	d->max_ext = lim->max_chunk_ext ? lim->max_chunk_ext : def->max_chunk_ext;
	d->max_trailer = lim->max_trailer ? lim->max_trailer : def->max_trailer;
	d->max_fields = lim->max_fields ? lim->max_fields : def->max_fields;
	d->state = S_SIZE;
}

static ssize_t
bad(struct h1_chunked *d, uint16_t status, const char *reason)
{
	d->state = S_ERROR;
	d->err.status = status;
	d->err.reason = reason;
	return -1;
}

/* qdtext (RFC 9110 5.6.4) */
static inline bool
is_qdtext(unsigned char c)
{
	return c == '\t' || c == ' ' || c == 0x21 ||
	       (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) ||
	       c >= 0x80;
}

ssize_t
h1_chunked_decode(struct h1_chunked *d, const char *buf, size_t len,
		  struct h1_str *data)
{
	const unsigned char *b = (const unsigned char *)buf;
	size_t i = 0;

	data->p = buf;
	data->len = 0;
	if (d->state == S_ERROR)
		return -1;

	while (i < len && d->state != S_DONE) {
		unsigned char c = b[i];
		int h;

		if (d->state == S_DATA) {
			size_t n = len - i;

			if ((uint64_t)n > d->remaining)
				n = (size_t)d->remaining;
			data->p = buf + i;
			data->len = n;
			d->remaining -= n;
			if (d->remaining == 0)
				d->state = S_DATA_CR;
			return (ssize_t)(i + n);
		}

		/* Every extension state counts toward the per-chunk bound. */
		if (d->state >= S_SIZE_BWS && d->state <= S_EXT_POST_VAL &&
		    ++d->count > d->max_ext)
			return bad(d, 400, "chunk extension too long");
		if (d->state >= S_TR_START && d->state <= S_TR_END_LF &&
		    ++d->count > d->max_trailer)
			return bad(d, 431, "trailer section too large");

		switch (d->state) {
		case S_SIZE:
		case S_SIZE_DIGITS:
			h = hexval(c);
			if (h >= 0) {
				if (d->state == S_SIZE) {
					d->state = S_SIZE_DIGITS;
					d->count = 0;
					d->remaining = 0;
				}
				if (++d->count > SIZE_MAX_DIGITS ||
				    d->remaining > (UINT64_C(0x7fffffffffffffff) >> 4))
					return bad(d, 400, "chunk size too large");
				d->remaining = (d->remaining << 4) | (uint64_t)h;
				break;
			}
			if (d->state == S_SIZE)
				return bad(d, 400, "invalid chunk size");
			d->count = 0;
			if (c == '\r')
				d->state = S_SIZE_LF;
			else if (c == ';')
				d->state = S_EXT_PRE_NAME;
			else if (is_ws(c))
				d->state = S_SIZE_BWS;
			else
				return bad(d, 400, "invalid chunk size");
			/* The byte that left the digits opens the extension
			 * count (CR closes it again below). */
			d->count = c == '\r' ? 0 : 1;
			break;
		case S_SIZE_BWS:
			if (c == ';')
				d->state = S_EXT_PRE_NAME;
			else if (!is_ws(c))
				return bad(d, 400, "whitespace after chunk size");
			break;
		case S_EXT_PRE_NAME:
			if (is_tchar(c))
				d->state = S_EXT_NAME;
			else if (!is_ws(c))
				return bad(d, 400, "invalid chunk extension");
			break;
		case S_EXT_NAME:
		case S_EXT_TOKEN:
		case S_EXT_AFTER_VAL:
			if (d->state != S_EXT_AFTER_VAL && is_tchar(c))
				break;
			if (c == '=' && d->state == S_EXT_NAME)
				d->state = S_EXT_PRE_VAL;
			else if (c == ';')
				d->state = S_EXT_PRE_NAME;
			else if (c == '\r')
				d->state = S_SIZE_LF;
			else if (is_ws(c))
				d->state = d->state == S_EXT_NAME ?
					   S_EXT_POST_NAME : S_EXT_POST_VAL;
			else
				return bad(d, 400, "invalid chunk extension");
			break;
		case S_EXT_POST_NAME:
			if (c == '=')
				d->state = S_EXT_PRE_VAL;
			else if (c == ';')
				d->state = S_EXT_PRE_NAME;
			else if (!is_ws(c))
				return bad(d, 400, "invalid chunk extension");
			break;
		case S_EXT_PRE_VAL:
			if (c == '"')
				d->state = S_EXT_QUOTED;
			else if (is_tchar(c))
				d->state = S_EXT_TOKEN;
			else if (!is_ws(c))
				return bad(d, 400, "invalid chunk extension");
			break;
		case S_EXT_QUOTED:
			if (c == '"')
				d->state = S_EXT_AFTER_VAL;
			else if (c == '\\')
				d->state = S_EXT_QUOTED_ESC;
			else if (!is_qdtext(c))
				return bad(d, 400, "invalid chunk extension");
			break;
		case S_EXT_QUOTED_ESC:
			if (c != '\t' && (c < 0x20 || c == 0x7f))
				return bad(d, 400, "invalid chunk extension");
			d->state = S_EXT_QUOTED;
			break;
		case S_EXT_POST_VAL:
			if (c == ';')
				d->state = S_EXT_PRE_NAME;
			else if (!is_ws(c))
				return bad(d, 400, "invalid chunk extension");
			break;
		case S_SIZE_LF:
			if (c != '\n')
				return bad(d, 400, "bare CR in chunk line");
			d->count = 0;
			if (d->remaining == 0) {
				d->state = S_TR_START;
				break;
			}
			if (d->max_body &&
			    d->remaining > d->max_body - d->total)
				return bad(d, 413, "content too large");
			d->total += d->remaining;
			d->state = S_DATA;
			break;
		case S_DATA_CR:
			if (c != '\r')
				return bad(d, 400, "no CRLF after chunk data");
			d->state = S_DATA_LF;
			break;
		case S_DATA_LF:
			if (c != '\n')
				return bad(d, 400, "no CRLF after chunk data");
			d->state = S_SIZE;
			break;
		case S_TR_START:
			if (c == '\r') {
				d->state = S_TR_END_LF;
			} else if (is_tchar(c)) {
				if (++d->nfields > d->max_fields)
					return bad(d, 431,
						   "too many trailer fields");
				d->state = S_TR_NAME;
			} else if (is_ws(c)) {
				return bad(d, 400, "obs-fold in trailer");
			} else {
				return bad(d, 400, "invalid trailer field");
			}
			break;
		case S_TR_NAME:
			if (c == ':')
				d->state = S_TR_VALUE;
			else if (is_ws(c))
				return bad(d, 400, "whitespace before colon");
			else if (!is_tchar(c))
				return bad(d, 400, "invalid trailer field");
			break;
		case S_TR_VALUE:
			if (c == '\r')
				d->state = S_TR_LF;
			else if (c == '\n')
				return bad(d, 400, "bare LF in trailer");
			else if (c != '\t' && (c < 0x20 || c == 0x7f))
				return bad(d, 400,
					   "control character in trailer");
			break;
		case S_TR_LF:
			if (c != '\n')
				return bad(d, 400, "bare CR in trailer");
			d->state = S_TR_START;
			break;
		case S_TR_END_LF:
			if (c != '\n')
				return bad(d, 400, "bare CR in trailer");
			d->state = S_DONE;
			d->done = true;
			break;
		}
		i++;
	}
	return (ssize_t)i;
}
