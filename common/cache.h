/*
 * cache: a helper process's credential cache. Verdicts of password checks
 * are kept for [cache] ttl (accepted) and negative_ttl (refused), keyed by
 * a keyed BLAKE2b of the backend chain, the user, the password and the
 * key_extras, with a key drawn at random for each process: the password
 * is never kept, and a key seen in memory says nothing without the
 * process's key. Bounded (LRU eviction); safe to use from any thread.
 *
 * Each entry remembers the user's change counter in the store when it was
 * verified; callers re-check it at most every CACHE_CHECK_MS per entry
 * (cache_get says when) and drop the entry when it moved.
 */
#ifndef CUTTLE_CACHE_H
#define CUTTLE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "proto.h"
#include "verdict.h"

#define CACHE_KEY_BYTES 16
/* How often an entry's user is checked for admin changes, at most. */
#define CACHE_CHECK_MS 250

struct cache;

/* What a hit gives back. */
struct cache_answer {
	enum reason reason;
	const char *backend;
	bool password_proven;
	long long serial;	/* the user's change counter when verified; -1: absent */
	bool check_due;		/* re-check serial (and lockout) before trusting it */
	uint64_t age_us;	/* since the password was verified */
	char notes[512];
};

/*
 * A cache for a helper deciding with the backend chain named (e.g.
 * "sqlite,ldap"), sized and timed by conf's [cache]. NULL when the cache
 * is off (size 0, or both TTLs and stale_max 0).
 */
struct cache *cache_new(const struct conf *conf, const char *chain);
void cache_free(struct cache *cache);

/* The key of a Basic request: BLAKE2b(process key; chain, user, password, extras). */
void cache_key(const struct cache *cache, const struct request *req,
    uint8_t key[CACHE_KEY_BYTES]);

/* A fresh entry: 1 and *a, or 0. */
int cache_get(struct cache *cache, const uint8_t key[CACHE_KEY_BYTES],
    struct cache_answer *a);

/*
 * An accepted verdict past its TTL but verified less than stale_max ago,
 * for an outage: 1 and *a, or 0. Refusals are never served stale.
 */
int cache_get_stale(struct cache *cache, const uint8_t key[CACHE_KEY_BYTES],
    struct cache_answer *a);

/* The entry's user was re-checked and has not changed. */
void cache_checked(struct cache *cache, const uint8_t key[CACHE_KEY_BYTES]);

/* Forget the entry (its user changed). */
void cache_drop(struct cache *cache, const uint8_t key[CACHE_KEY_BYTES]);

/*
 * Remember v (only ok, bad_password and unknown_user are kept; anything
 * else removes the entry), with serial, the user's change counter read
 * (at monotonic time serial_us; 0: now) before the check began.
 */
void cache_put(struct cache *cache, const uint8_t key[CACHE_KEY_BYTES],
    const struct verdict *v, long long serial, uint64_t serial_us);

/* Entries held now. */
uint64_t cache_entries(struct cache *cache);

#endif
