/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Secrets at rest: AES-256-GCM under the node master key. A sealed blob is
 * base64 text "v1:" || base64(nonce[12] || ciphertext || tag[16]); the
 * additional data binds it to its purpose (e.g. "cert-key:shop") so a blob
 * cannot be moved to another object. Reentrant.
 */
#ifndef RAMPART_CRYPTO_SEAL_H
#define RAMPART_CRYPTO_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_LEN 32

/*
 * Load the master key from path, creating it (32 bytes from the CSPRNG,
 * mode 0600, written with temp file + fsync + rename) when it does not
 * exist. Refuses a file of the wrong size or readable by group/others.
 * Returns 0 or -errno with a sentence in err.
 */
int seal_master_key_load(const char *path, uint8_t key[SEAL_KEY_LEN],
			 char *err, size_t errlen);

/* Seal len bytes of plain; returns a malloc'd NUL-terminated string or
 * NULL (ENOMEM). */
char *seal_encrypt(const uint8_t key[SEAL_KEY_LEN], const char *aad,
		   const uint8_t *plain, size_t len);

/* Open a sealed string; returns malloc'd plaintext (NUL-terminated, length
 * in *len) or NULL with a sentence in err when the blob is malformed or
 * fails authentication (wrong key, wrong aad, tampered). The caller should
 * wipe it (seal_wipe) before free. */
uint8_t *seal_decrypt(const uint8_t key[SEAL_KEY_LEN], const char *aad,
		      const char *sealed, size_t *len, char *err, size_t errlen);

/* Fill buf with len bytes from the CSPRNG. Returns 0 or -EIO. */
int seal_random(uint8_t *buf, size_t len);

/* Zero memory the compiler may not elide. */
void seal_wipe(void *p, size_t len);

#endif /* RAMPART_CRYPTO_SEAL_H */
