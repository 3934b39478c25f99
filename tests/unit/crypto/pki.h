/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The test PKI both crypto test programs share: mkcerts.sh (path in
 * $CRYPTO_MKCERTS, set by meson) run with the openssl CLI in a temporary
 * directory, and removed again.
 */
#ifndef RAMPART_TEST_CRYPTO_PKI_H
#define RAMPART_TEST_CRYPTO_PKI_H

#include <stddef.h>

/* system() of a formatted command line; its status. */
int pki_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* mkdtemp("/tmp/<prefix>-XXXXXX") into dir and `mkcerts.sh setup` there.
 * Returns the mkcerts.sh path, or NULL with the reason on stderr (no
 * openssl CLI, no $CRYPTO_MKCERTS, the script failed). */
const char *pki_make(char *dir, size_t dirlen, const char *prefix);

/* Remove dir and everything in it (nothing when dir is ""). */
void pki_remove(const char *dir);

#endif /* RAMPART_TEST_CRYPTO_PKI_H */
