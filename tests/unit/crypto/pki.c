/* SPDX-License-Identifier: BSD-3-Clause */
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "pki.h"

int
pki_run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

const char *
pki_make(char *dir, size_t dirlen, const char *prefix)
{
	const char *mkcerts = getenv("CRYPTO_MKCERTS");

	if (mkcerts == NULL || pki_run("openssl version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "needs the openssl CLI and CRYPTO_MKCERTS\n");
		return NULL;
	}
	snprintf(dir, dirlen, "/tmp/%s-XXXXXX", prefix);
	if (mkdtemp(dir) == NULL) {
		dir[0] = '\0';
		return NULL;
	}
	if (pki_run("sh %s setup %s", mkcerts, dir) != 0) {
		fprintf(stderr, "mkcerts.sh setup failed\n");
		return NULL;
	}
	return mkcerts;
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void
pki_remove(const char *dir)
{
	if (dir[0] != '\0')
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
