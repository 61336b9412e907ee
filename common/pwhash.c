#include "config.h"

#include <string.h>

#include <sodium.h>

#include "pwhash.h"

int
pwhash_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

unsigned long long
pwhash_default_opslimit(void)
{
	return crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
}

size_t
pwhash_default_memlimit(void)
{
	return crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
}

int
pwhash_parse_opslimit(const char *s, unsigned long long *ops_r,
    const char **error_r)
{
	long long v;

	if (strcmp(s, "interactive") == 0)
		*ops_r = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
	else if (strcmp(s, "moderate") == 0)
		*ops_r = crypto_pwhash_argon2id_OPSLIMIT_MODERATE;
	else if (strcmp(s, "sensitive") == 0)
		*ops_r = crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE;
	else if (util_strtonum(s, crypto_pwhash_argon2id_OPSLIMIT_MIN, 64, &v,
	    error_r) == 0)
		*ops_r = (unsigned long long)v;
	else {
		*error_r = "opslimit must be interactive, moderate, sensitive or 1..64";
		return -1;
	}
	return 0;
}

int
pwhash_parse_memlimit(const char *s, size_t *mem_r, const char **error_r)
{
	char num[32];
	size_t len = strlen(s);
	long long v, mult = 1;

	if (strcmp(s, "interactive") == 0) {
		*mem_r = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
		return 0;
	} else if (strcmp(s, "moderate") == 0) {
		*mem_r = crypto_pwhash_argon2id_MEMLIMIT_MODERATE;
		return 0;
	} else if (strcmp(s, "sensitive") == 0) {
		*mem_r = crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE;
		return 0;
	}
	*error_r = "memlimit must be interactive, moderate, sensitive or a size from 8K to 4G";
	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'K': case 'k': mult = 1024; num[--len] = '\0'; break;
	case 'M': case 'm': mult = 1024 * 1024; num[--len] = '\0'; break;
	case 'G': case 'g': mult = 1024 * 1024 * 1024; num[--len] = '\0'; break;
	default: break;
	}
	if (util_strtonum(num, 1, (4LL << 30) / mult, &v, error_r) != 0 ||
	    v * mult < (long long)crypto_pwhash_argon2id_MEMLIMIT_MIN) {
		*error_r = "memlimit must be interactive, moderate, sensitive or a size from 8K to 4G";
		return -1;
	}
	*mem_r = (size_t)(v * mult);
	return 0;
}

int
pwhash_make(const char *pw, size_t len, unsigned long long ops, size_t mem,
    char out[static PWHASH_STR_MAX])
{
	char buf[crypto_pwhash_argon2id_STRBYTES];

	int rc = -1;

	if (crypto_pwhash_argon2id_str(buf, pw, len, ops, mem) == 0 &&
	    strlen(buf) < PWHASH_STR_MAX) {
		memcpy(out, buf, strlen(buf) + 1);
		rc = 0;
	}
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

bool
pwhash_verify(const char *hash, const char *pw, size_t len)
{
	/*
	 * Only Argon2id strings are ours to verify; other schemes ($apr1$,
	 * $2y$, {SHA}) will be recognised here when import lands.
	 */
	if (strncmp(hash, "$argon2id$", 10) != 0 ||
	    strlen(hash) >= crypto_pwhash_argon2id_STRBYTES)
		return false;
	return crypto_pwhash_argon2id_str_verify(hash, pw, len) == 0;
}

bool
pwhash_needs_rehash(const char *hash, unsigned long long ops, size_t mem)
{
	if (strncmp(hash, "$argon2id$", 10) != 0)
		return true;
	return crypto_pwhash_argon2id_str_needs_rehash(hash, ops, mem) != 0;
}

void
pwhash_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

unsigned
pwhash_uniform(unsigned upper)
{
	return randombytes_uniform(upper);
}

void
pwhash_zero(void *buf, size_t len)
{
	sodium_memzero(buf, len);
}

void
pwhash_tag(const unsigned char key[32], const char *name, const char *pw, size_t len,
    char out[static 17])
{
	crypto_generichash_state st;
	unsigned char tag[8];

	crypto_generichash_init(&st, key, 32, sizeof(tag));
	crypto_generichash_update(&st, (const unsigned char *)name, strlen(name) + 1);
	crypto_generichash_update(&st, (const unsigned char *)pw, len);
	crypto_generichash_final(&st, tag, sizeof(tag));
	sodium_bin2hex(out, 17, tag, sizeof(tag));
	sodium_memzero(&st, sizeof(st));
}

int
pwhash_hex2bin(const char *hex, unsigned char *bin, size_t size, size_t *len_r)
{
	return sodium_hex2bin(bin, size, hex, strlen(hex), NULL, len_r, NULL);
}

void
pwhash_bin2hex(const unsigned char *bin, size_t len, char *out)
{
	sodium_bin2hex(out, 2 * len + 1, bin, len);
}
