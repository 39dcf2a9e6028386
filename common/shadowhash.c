/* shadowhash: SALTED-SHA512-PBKDF2 ShadowHashData, through OpenSSL and libplist. */
#include "shadowhash.h"
#include "log.h"
#include "plistx.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#define ENTROPY_LEN 128
#define SALT_LEN 32

/* make fuzz builds (and only they) define FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION: there PBKDF2
 * runs one round, as the records around the hash are what is fuzzed, and 45000 rounds (90 ms)
 * an input would hold a fuzzer to ten inputs a second. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define ROUNDS(n) ((void)(n), 1u)
#else
#define ROUNDS(n) (n)
#endif

static int derive(const char *password, const unsigned char *salt, size_t saltlen, unsigned iterations,
		  unsigned char out[ENTROPY_LEN])
{
	iterations = ROUNDS(iterations);
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)saltlen, (int)iterations, EVP_sha512(),
			      ENTROPY_LEN, out) != 1)
		return fail(EX_SOFTWARE, "OpenSSL cannot derive the password hash");
	return 0;
}

int shadowhash_make(const char *password, unsigned iterations, char **out, size_t *len)
{
	unsigned char salt[SALT_LEN], entropy[ENTROPY_LEN];
	if (RAND_bytes(salt, sizeof salt) != 1)
		return fail(EX_SOFTWARE, "OpenSSL has no randomness for a salt");
	if (derive(password, salt, sizeof salt, iterations, entropy) < 0)
		return -1;
	plist_t inner = plist_new_dict();
	plist_dict_set_item(inner, "entropy", plist_new_data((const char *)entropy, sizeof entropy));
	plist_dict_set_item(inner, "iterations", plist_new_uint(iterations));
	plist_dict_set_item(inner, "salt", plist_new_data((const char *)salt, sizeof salt));
	plist_t root = plist_new_dict();
	plist_dict_set_item(root, SHADOWHASH_KEY, inner);
	*out = plistx_to_bin(root, len);
	plist_free(root);
	OPENSSL_cleanse(entropy, sizeof entropy);
	return *out ? 0 : fail(EX_SOFTWARE, "libplist cannot write ShadowHashData");
}

static const char *data_of(plist_t dict, const char *key, uint64_t *len)
{
	plist_t v = dict ? plist_dict_get_item(dict, key) : NULL;
	if (!v || plist_get_node_type(v) != PLIST_DATA)
		return NULL;
	return plist_get_data_ptr(v, len);
}

int shadowhash_verify(const char *data, size_t len, const char *password, bool *match)
{
	plist_t root = plistx_parse(data, len, "ShadowHashData");
	if (!root)
		return -1;
	plist_t inner = plistx_dict_dict(root, SHADOWHASH_KEY);
	uint64_t elen = 0, slen = 0, iter = 0;
	const char *entropy = data_of(inner, "entropy", &elen), *salt = data_of(inner, "salt", &slen);
	plist_t it = inner ? plist_dict_get_item(inner, "iterations") : NULL;
	if (it && plist_get_node_type(it) == PLIST_UINT)
		plist_get_uint_val(it, &iter);
	int rc = 0;
	unsigned char mine[ENTROPY_LEN];
	if (!entropy || elen != ENTROPY_LEN || !salt || !slen || !iter || iter > SHADOWHASH_MAX_ITERATIONS)
		rc = fail(EX_DATAERR, "ShadowHashData has no usable %s entry", SHADOWHASH_KEY);
	else if ((rc = derive(password, (const unsigned char *)salt, slen, (unsigned)iter, mine)) == 0)
		*match = CRYPTO_memcmp(mine, entropy, ENTROPY_LEN) == 0;
	OPENSSL_cleanse(mine, sizeof mine);
	plist_free(root);
	return rc;
}
