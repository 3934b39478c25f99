/* SPDX-License-Identifier: BSD-3-Clause */
/* Hex digits of the control protocol (fingerprints, ticket keys). */
#ifndef RAMPART_CFG_HEX_H
#define RAMPART_CFG_HEX_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline int
cfg_hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode exactly 2*len hex digits of hex into out. 0 or -EINVAL. */
static inline int
cfg_hex_decode(const char *hex, uint8_t *out, size_t len)
{
	size_t i;
	int hi, lo;

	if (strlen(hex) != len * 2)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		hi = cfg_hex_nibble(hex[2 * i]);
		lo = cfg_hex_nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Lower-case hex of in[0..len) into out[2*len+1]. */
static inline void
cfg_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

#endif /* RAMPART_CFG_HEX_H */
