/* digest: streamed SHA-256 / SHA-1 over OpenSSL EVP, and HMAC-SHA256 over EVP_MAC; hex output. */
#include "digest.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

struct digest {
	EVP_MD_CTX *ctx; /* a plain digest, or */
	EVP_MAC_CTX *mac; /* a keyed one */
};

static const EVP_MD *md_for(enum digest_alg alg)
{
	return alg == DIGEST_SHA1 ? EVP_sha1() : EVP_sha256();
}

struct digest *digest_new(enum digest_alg alg)
{
	struct digest *d = xcalloc(1, sizeof *d);
	d->ctx = EVP_MD_CTX_new();
	if (!d->ctx || EVP_DigestInit_ex(d->ctx, md_for(alg), NULL) != 1)
		die(EX_SOFTWARE, "OpenSSL cannot start a %s digest", digest_name(alg));
	return d;
}

struct digest *digest_new_keyed(const unsigned char *key, size_t len)
{
	struct digest *d = xcalloc(1, sizeof *d);
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	char sha256[] = "SHA256";
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256, 0), OSSL_PARAM_construct_end() };
	d->mac = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	EVP_MAC_free(hmac);
	if (!d->mac || EVP_MAC_init(d->mac, key, len, params) != 1)
		die(EX_SOFTWARE, "OpenSSL cannot start an HMAC-SHA256");
	return d;
}

void digest_update(struct digest *d, const void *data, size_t len)
{
	if (d->mac ? EVP_MAC_update(d->mac, data, len) != 1 : EVP_DigestUpdate(d->ctx, data, len) != 1)
		die(EX_SOFTWARE, "OpenSSL digest update failed");
}

void digest_final_hex(struct digest *d, char hex[DIGEST_HEX_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t mac_len = 0;
	if (d->mac ? EVP_MAC_final(d->mac, md, &mac_len, sizeof md) != 1 : EVP_DigestFinal_ex(d->ctx, md, &n) != 1)
		die(EX_SOFTWARE, "OpenSSL digest final failed");
	if (d->mac)
		n = (unsigned int)mac_len;
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < n && 2 * i + 2 < DIGEST_HEX_MAX; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = '\0';
}

void digest_free(struct digest *d)
{
	if (!d)
		return;
	EVP_MD_CTX_free(d->ctx);
	EVP_MAC_CTX_free(d->mac);
	free(d);
}

const char *digest_name(enum digest_alg alg)
{
	return alg == DIGEST_SHA1 ? "sha1" : "sha256";
}

size_t digest_hex_len(enum digest_alg alg)
{
	return alg == DIGEST_SHA1 ? 40 : 64;
}

void digest_hex(enum digest_alg alg, const void *data, size_t len, char hex[DIGEST_HEX_MAX])
{
	struct digest *d = digest_new(alg);
	digest_update(d, data, len);
	digest_final_hex(d, hex);
	digest_free(d);
}

int digest_file_hex(enum digest_alg alg, const char *path, char hex[DIGEST_HEX_MAX])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_sys(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open '%s'", path);
	struct digest *d = digest_new(alg);
	static char chunk[1 << 20];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail_sys(EX_IOERR, "cannot read '%s'", path);
			digest_free(d);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		digest_update(d, chunk, (size_t)n);
	}
	close(fd);
	digest_final_hex(d, hex);
	digest_free(d);
	return 0;
}
