/* pwhash: Argon2id password hashes (libsodium crypto_pwhash_str). */
#ifndef CUTTLE_PWHASH_H
#define CUTTLE_PWHASH_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Room for any hash string crypto_pwhash_str makes, with its NUL. */
#define PWHASH_STR_MAX 128

/* Initialise libsodium. Returns 0, or -1 if it cannot start. */
int pwhash_init(void) WUR;

unsigned long long pwhash_default_opslimit(void);
size_t pwhash_default_memlimit(void);

/*
 * Parse "interactive", "moderate", "sensitive" or a number in libsodium's
 * range (memlimit also takes a K, M or G suffix). Returns 0 or -1 with
 * *error_r.
 */
int pwhash_parse_opslimit(const char *s, unsigned long long *ops_r,
    const char **error_r) WUR;
int pwhash_parse_memlimit(const char *s, size_t *mem_r,
    const char **error_r) WUR;

/* Hash pw into out. Returns 0, or -1 when memory runs out. */
int pwhash_make(const char *pw, size_t len, unsigned long long ops,
    size_t mem, char out[static PWHASH_STR_MAX]) WUR;

/*
 * Check pw against a stored hash string. Returns true only on a match; an
 * unknown or malformed hash never matches.
 */
bool pwhash_verify(const char *hash, const char *pw, size_t len) WUR;

/* True if hash was made with other limits than ops/mem (or is not Argon2id). */
bool pwhash_needs_rehash(const char *hash, unsigned long long ops, size_t mem);

/* Random bytes, for generated passwords. */
void pwhash_random(void *buf, size_t len);
unsigned pwhash_uniform(unsigned upper);

/*
 * A keyed tag of (name, password) for recognising a repeated wrong password
 * without keeping it: BLAKE2b with key (32 bytes), 8 bytes as 16 hex digits.
 */
void pwhash_tag(const unsigned char key[32], const char *name, const char *pw,
    size_t len, char out[static 17]);

/* Hex to bytes (at most size). Returns 0 and *len_r, or -1. */
int pwhash_hex2bin(const char *hex, unsigned char *bin, size_t size, size_t *len_r);
/* Bytes to hex; out must hold 2 * len + 1. */
void pwhash_bin2hex(const unsigned char *bin, size_t len, char *out);

/* Zero a secret in a way the compiler keeps. */
void pwhash_zero(void *buf, size_t len);

#endif
