#include "config.h"

#include <sodium.h>

#include "pwhash.h"
#include "tap.h"

int
main(void)
{
	char h[PWHASH_STR_MAX], h2[PWHASH_STR_MAX];
	unsigned long long ops;
	size_t mem;
	const char *e;

	ok(pwhash_init() == 0, "sodium starts");
	ok(pwhash_make("secret", 6, 1, 8192, h) == 0, "hash made");
	ok(strncmp(h, "$argon2id$v=19$m=8,t=1,", 23) == 0, "hash is self-describing argon2id: %s", h);
	ok(pwhash_verify(h, "secret", 6), "right password verifies");
	ok(!pwhash_verify(h, "secreT", 6), "wrong password fails");
	ok(!pwhash_verify(h, "secret", 5), "prefix fails");
	ok(!pwhash_verify("$apr1$xyz$abc", "secret", 6), "foreign scheme never matches");
	ok(!pwhash_verify("", "secret", 6), "empty hash never matches");
	ok(!pwhash_needs_rehash(h, 1, 8192), "same limits: no rehash");
	ok(pwhash_needs_rehash(h, 2, 8192), "other opslimit: rehash");
	ok(pwhash_needs_rehash(h, 1, 16384), "other memlimit: rehash");
	ok(pwhash_needs_rehash("$2y$10$abc", 1, 8192), "bcrypt: rehash");
	ok(pwhash_make("secret", 6, 1, 8192, h2) == 0 && strcmp(h, h2) != 0, "salted: two hashes differ");

	ok(pwhash_parse_opslimit("interactive", &ops, &e) == 0 &&
	    ops == crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, "opslimit interactive");
	ok(pwhash_parse_opslimit("sensitive", &ops, &e) == 0 &&
	    ops == crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE, "opslimit sensitive");
	ok(pwhash_parse_opslimit("0", &ops, &e) != 0, "opslimit 0 refused");
	ok(pwhash_parse_memlimit("moderate", &mem, &e) == 0 &&
	    mem == crypto_pwhash_argon2id_MEMLIMIT_MODERATE, "memlimit moderate");
	ok(pwhash_parse_memlimit("64M", &mem, &e) == 0 && mem == 64u << 20, "memlimit 64M");
	ok(pwhash_parse_memlimit("8192", &mem, &e) == 0 && mem == 8192, "memlimit bytes");
	ok(pwhash_parse_memlimit("5G", &mem, &e) != 0, "memlimit over 4G refused");
	ok(pwhash_parse_memlimit("12X", &mem, &e) != 0, "memlimit bad suffix refused");
	return tap_done();
}
