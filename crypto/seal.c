/* SPDX-License-Identifier: BSD-3-Clause */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>

#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/seal.h"

#define SEAL_PREFIX    "v1:"
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN   16

static void say(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
seal_wipe(void *p, size_t len)
{
	if (p != NULL)
		sodium_memzero(p, len);
}

int
seal_random(uint8_t *buf, size_t len)
{
	/* sodium_init is idempotent and thread-safe; it only fails when the
	 * kernel has no random source to offer */
	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(buf, len);
	return 0;
}

static int
gcm(bool enc, const uint8_t key[SEAL_KEY_LEN], const char *aad,
    const uint8_t *nonce, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t *tag)
{
	Aes aes;
	size_t aadlen = aad ? strlen(aad) : 0;
	int ret;

	if (len > UINT32_MAX || aadlen > UINT32_MAX)
		return -EINVAL;
	if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0)
		return -EIO;
	ret = wc_AesGcmSetKey(&aes, key, SEAL_KEY_LEN);
	if (ret == 0 && enc)
		ret = wc_AesGcmEncrypt(&aes, out, in, (word32)len, nonce,
				       SEAL_NONCE_LEN, tag, SEAL_TAG_LEN,
				       (const byte *)aad, (word32)aadlen);
	else if (ret == 0)
		ret = wc_AesGcmDecrypt(&aes, out, in, (word32)len, nonce,
				       SEAL_NONCE_LEN, tag, SEAL_TAG_LEN,
				       (const byte *)aad, (word32)aadlen);
	wc_AesFree(&aes);
	return ret == 0 ? 0 : -EBADMSG;
}

char *
seal_encrypt(const uint8_t key[SEAL_KEY_LEN], const char *aad,
	     const uint8_t *plain, size_t len)
{
	size_t raw_len = SEAL_NONCE_LEN + len + SEAL_TAG_LEN, b64_len;
	uint8_t *raw;
	char *out = NULL;

	if (key == NULL || (plain == NULL && len > 0) ||
	    len > UINT32_MAX - SEAL_NONCE_LEN - SEAL_TAG_LEN) {
		errno = EINVAL;
		return NULL;
	}
	raw = malloc(raw_len);
	if (raw == NULL)
		return NULL;
	/* random 96-bit nonces: safe for far more seals than a node makes */
	if (seal_random(raw, SEAL_NONCE_LEN) != 0 ||
	    gcm(true, key, aad, raw, plain, len, raw + SEAL_NONCE_LEN,
		raw + SEAL_NONCE_LEN + len) != 0) {
		errno = EIO;
		goto out;
	}
	b64_len = sodium_base64_ENCODED_LEN(raw_len,
					    sodium_base64_VARIANT_ORIGINAL);
	out = malloc(strlen(SEAL_PREFIX) + b64_len);
	if (out == NULL)
		goto out;
	strcpy(out, SEAL_PREFIX);
	sodium_bin2base64(out + strlen(SEAL_PREFIX), b64_len, raw, raw_len,
			  sodium_base64_VARIANT_ORIGINAL);
out:
	free(raw);
	return out;
}

uint8_t *
seal_decrypt(const uint8_t key[SEAL_KEY_LEN], const char *aad,
	     const char *sealed, size_t *len, char *err, size_t errlen)
{
	const char *b64;
	size_t b64_len, raw_len, ct_len;
	uint8_t *raw = NULL, *plain = NULL;

	if (key == NULL || sealed == NULL || len == NULL) {
		say(err, errlen, "nothing to open");
		return NULL;
	}
	if (strncmp(sealed, SEAL_PREFIX, strlen(SEAL_PREFIX)) != 0) {
		say(err, errlen,
		    "the sealed secret is not in a known format (expected \"v1:\" and base64)");
		return NULL;
	}
	b64 = sealed + strlen(SEAL_PREFIX);
	b64_len = strlen(b64);
	raw = malloc(b64_len / 4 * 3 + 3);
	if (raw == NULL) {
		say(err, errlen, "out of memory");
		return NULL;
	}
	if (sodium_base642bin(raw, b64_len / 4 * 3 + 3, b64, b64_len, NULL,
			      &raw_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    raw_len < SEAL_NONCE_LEN + SEAL_TAG_LEN) {
		say(err, errlen, "the sealed secret is truncated or not valid base64");
		goto out;
	}
	ct_len = raw_len - SEAL_NONCE_LEN - SEAL_TAG_LEN;
	plain = malloc(ct_len + 1);
	if (plain == NULL) {
		say(err, errlen, "out of memory");
		goto out;
	}
	if (gcm(false, key, aad, raw, raw + SEAL_NONCE_LEN, ct_len, plain,
		raw + SEAL_NONCE_LEN + ct_len) != 0) {
		seal_wipe(plain, ct_len);
		free(plain);
		plain = NULL;
		say(err, errlen,
		    "the sealed secret failed authentication: wrong master key, sealed for another object, or altered");
		goto out;
	}
	plain[ct_len] = '\0';
	*len = ct_len;
out:
	free(raw);
	return plain;
}

static int
fsync_dir_of(const char *path)
{
	char buf[PATH_MAX];
	int fd, ret = 0;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Create path with a fresh key without ever exposing a partial file, and
 * without replacing a key another process created meanwhile (that one may
 * already have sealed secrets). */
static int
create_key(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	uint8_t key[SEAL_KEY_LEN];
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
		say(err, errlen, "master key path %s is too long", path);
		return -ENAMETOOLONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		say(err, errlen, "cannot create master key %s: %s", path,
		    strerror(-ret));
		return ret;
	}
	ret = seal_random(key, sizeof(key));
	if (ret == 0 && fchmod(fd, 0600) != 0)
		ret = -errno;
	if (ret == 0)
		ret = write_all(fd, key, sizeof(key));
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	seal_wipe(key, sizeof(key));
	if (close(fd) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && link(tmp, path) != 0)
		ret = errno == EEXIST ? 0 : -errno;
	unlink(tmp);
	if (ret == 0)
		ret = fsync_dir_of(path);
	if (ret != 0)
		say(err, errlen, "cannot create master key %s: %s", path,
		    strerror(-ret));
	return ret;
}

int
seal_master_key_load(const char *path, uint8_t key[SEAL_KEY_LEN],
		     char *err, size_t errlen)
{
	struct stat st;
	int fd, ret = 0;
	size_t got = 0;

	if (path == NULL || key == NULL) {
		say(err, errlen, "no master key path given");
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		ret = create_key(path, err, errlen);
		if (ret != 0)
			return ret;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		ret = -errno;
		say(err, errlen, "cannot open master key %s: %s", path,
		    strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) != 0) {
		ret = -errno;
		say(err, errlen, "cannot stat master key %s: %s", path,
		    strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		say(err, errlen, "master key %s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		ret = -EPERM;
		say(err, errlen,
		    "master key %s is accessible by group or others (mode %04o); run: chmod 600 %s",
		    path, (unsigned int)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_size != SEAL_KEY_LEN) {
		ret = -EINVAL;
		say(err, errlen,
		    "master key %s is %lld bytes, not %d; restore the original file (a new key cannot open secrets sealed with the old one)",
		    path, (long long)st.st_size, SEAL_KEY_LEN);
		goto out;
	}
	while (got < SEAL_KEY_LEN) {
		ssize_t n = read(fd, key + got, SEAL_KEY_LEN - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			say(err, errlen, "cannot read master key %s: %s", path,
			    n < 0 ? strerror(errno) : "short read");
			seal_wipe(key, SEAL_KEY_LEN);
			goto out;
		}
		got += (size_t)n;
	}
out:
	close(fd);
	return ret;
}
