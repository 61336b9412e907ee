#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cache.h"
#include "util.h"

/* Entries are linked by index + 1, so that 0 (calloc's) means none. */
struct entry {
	uint8_t key[CACHE_KEY_BYTES];
	uint32_t hnext;			/* next in the bucket */
	uint32_t lprev, lnext;		/* LRU list, most recent first */
	bool used;
	bool proven;
	enum reason reason;
	const char *backend;
	char *notes;			/* NULL when none */
	long long serial;
	uint64_t verified_us;
	uint64_t fresh_until_us;	/* answered from the cache until then */
	uint64_t dead_until_us;		/* kept (for stale answers) until then */
	uint64_t checked_us;		/* serial last confirmed */
};

struct cache {
	pthread_mutex_t lock;
	uint8_t secret[crypto_generichash_KEYBYTES];
	char chain[32];
	uint64_t ttl_us, negative_ttl_us, stale_max_us;
	struct entry *entries;
	uint32_t size;			/* capacity */
	uint32_t used;			/* entries handed out so far (never shrinks) */
	uint32_t count;			/* live entries */
	uint32_t free_head;
	uint32_t *buckets;
	uint32_t mask;
	uint32_t lru_head, lru_tail;
};

struct cache *
cache_new(const struct conf *conf, const char *chain)
{
	struct cache *c;
	uint32_t nb = 1;

	if (conf->cache_size <= 0 ||
	    (conf->cache_ttl == 0 && conf->cache_negative_ttl == 0 && conf_stale_max(conf) == 0))
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	randombytes_buf(c->secret, sizeof(c->secret));
	snprintf(c->chain, sizeof(c->chain), "%s", chain);
	c->ttl_us = (uint64_t)conf->cache_ttl * 1000000u;
	c->negative_ttl_us = (uint64_t)conf->cache_negative_ttl * 1000000u;
	c->stale_max_us = (uint64_t)conf_stale_max(conf) * 1000000u;
	c->size = (uint32_t)conf->cache_size;
	while (nb < c->size)
		nb <<= 1;
	c->mask = nb - 1;
	/* calloc: pages are only touched as entries are used. */
	c->entries = calloc(c->size, sizeof(*c->entries));
	c->buckets = calloc(nb, sizeof(*c->buckets));
	if (c->entries == NULL || c->buckets == NULL) {
		cache_free(c);
		return NULL;
	}
	return c;
}

void
cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	if (c->entries != NULL)
		for (uint32_t i = 0; i < c->used; i++)
			free(c->entries[i].notes);
	free(c->entries);
	free(c->buckets);
	sodium_memzero(c->secret, sizeof(c->secret));
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Append a length-prefixed field to the key material. */
static size_t
put_field(uint8_t *m, size_t o, size_t size, const void *p, size_t len)
{
	if (o + 4 + len > size)
		len = o + 4 <= size ? size - o - 4 : 0;
	if (o + 4 > size)
		return o;
	m[o] = (uint8_t)(len >> 24);
	m[o + 1] = (uint8_t)(len >> 16);
	m[o + 2] = (uint8_t)(len >> 8);
	m[o + 3] = (uint8_t)len;
	memcpy(m + o + 4, p, len);
	return o + 4 + len;
}

void
cache_key(const struct cache *c, const struct request *req, uint8_t key[CACHE_KEY_BYTES])
{
	/* Room for every field of the longest line, each with its length. */
	uint8_t m[sizeof(c->chain) + PROTO_WIRE_MAX + 4 * (PROTO_EXTRAS_MAX + 3)];
	size_t o = 0;

	o = put_field(m, o, sizeof(m), c->chain, strlen(c->chain));
	o = put_field(m, o, sizeof(m), req->user, req->user_len);
	o = put_field(m, o, sizeof(m), req->password, req->password_len);
	for (int i = 0; i < req->nextras; i++)
		o = put_field(m, o, sizeof(m), req->extras[i], strlen(req->extras[i]));
	crypto_generichash(key, CACHE_KEY_BYTES, m, o, c->secret, sizeof(c->secret));
	sodium_memzero(m, o);
}

static uint32_t
bucket_of(const struct cache *c, const uint8_t key[CACHE_KEY_BYTES])
{
	uint32_t h;

	/* The key is a keyed hash already: any four bytes are uniform. */
	memcpy(&h, key, sizeof(h));
	return h & c->mask;
}

static struct entry *
at(struct cache *c, uint32_t ref)
{
	return ref == 0 ? NULL : &c->entries[ref - 1];
}

static uint32_t
ref_of(struct cache *c, struct entry *e)
{
	return (uint32_t)(e - c->entries) + 1;
}

static struct entry *
find(struct cache *c, const uint8_t key[CACHE_KEY_BYTES])
{
	for (struct entry *e = at(c, c->buckets[bucket_of(c, key)]); e != NULL; e = at(c, e->hnext))
		if (memcmp(e->key, key, CACHE_KEY_BYTES) == 0)
			return e;
	return NULL;
}

static void
lru_unlink(struct cache *c, struct entry *e)
{
	if (e->lprev != 0)
		at(c, e->lprev)->lnext = e->lnext;
	else
		c->lru_head = e->lnext;
	if (e->lnext != 0)
		at(c, e->lnext)->lprev = e->lprev;
	else
		c->lru_tail = e->lprev;
	e->lprev = e->lnext = 0;
}

static void
lru_front(struct cache *c, struct entry *e)
{
	uint32_t ref = ref_of(c, e);

	e->lnext = c->lru_head;
	e->lprev = 0;
	if (c->lru_head != 0)
		at(c, c->lru_head)->lprev = ref;
	c->lru_head = ref;
	if (c->lru_tail == 0)
		c->lru_tail = ref;
}

static void
remove_entry(struct cache *c, struct entry *e)
{
	uint32_t *p = &c->buckets[bucket_of(c, e->key)], ref = ref_of(c, e);

	while (*p != ref)
		p = &at(c, *p)->hnext;
	*p = e->hnext;
	lru_unlink(c, e);
	free(e->notes);
	memset(e, 0, sizeof(*e));
	e->hnext = c->free_head;
	c->free_head = ref;
	c->count--;
}

static struct entry *
new_entry(struct cache *c, const uint8_t key[CACHE_KEY_BYTES])
{
	struct entry *e;
	uint32_t b;

	if (c->free_head != 0) {
		e = at(c, c->free_head);
		c->free_head = e->hnext;
	} else if (c->used < c->size) {
		e = &c->entries[c->used++];
	} else {
		/* Full: the least recently used one goes. */
		remove_entry(c, at(c, c->lru_tail));
		e = at(c, c->free_head);
		c->free_head = e->hnext;
	}
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, CACHE_KEY_BYTES);
	e->used = true;
	b = bucket_of(c, key);
	e->hnext = c->buckets[b];
	c->buckets[b] = ref_of(c, e);
	lru_front(c, e);
	c->count++;
	return e;
}

static void
fill(const struct entry *e, uint64_t now, struct cache_answer *a)
{
	a->reason = e->reason;
	a->backend = e->backend;
	a->password_proven = e->proven;
	a->serial = e->serial;
	a->check_due = now - e->checked_us >= CACHE_CHECK_MS * 1000u;
	a->age_us = now - e->verified_us;
	snprintf(a->notes, sizeof(a->notes), "%s", e->notes != NULL ? e->notes : "");
}

/* The entry for key if it is still kept; expired ones are removed. */
static struct entry *
live(struct cache *c, const uint8_t key[CACHE_KEY_BYTES], uint64_t now)
{
	struct entry *e = find(c, key);

	if (e != NULL && now >= e->dead_until_us) {
		remove_entry(c, e);
		e = NULL;
	}
	return e;
}

/* A fresh entry, or with stale an accepted one still within stale_max. */
static int
get(struct cache *c, const uint8_t key[CACHE_KEY_BYTES], struct cache_answer *a, bool stale)
{
	uint64_t now = util_monotonic_us();
	struct entry *e;
	int hit = 0;

	pthread_mutex_lock(&c->lock);
	e = live(c, key, now);
	if (e != NULL && !stale && now < e->fresh_until_us) {
		lru_unlink(c, e);
		lru_front(c, e);
		hit = 1;
	} else if (e != NULL && stale && e->reason == REASON_OK &&
	    now - e->verified_us < c->stale_max_us) {
		hit = 1;
	}
	if (hit)
		fill(e, now, a);
	pthread_mutex_unlock(&c->lock);
	return hit;
}

int
cache_get(struct cache *c, const uint8_t key[CACHE_KEY_BYTES], struct cache_answer *a)
{
	return get(c, key, a, false);
}

int
cache_get_stale(struct cache *c, const uint8_t key[CACHE_KEY_BYTES], struct cache_answer *a)
{
	return get(c, key, a, true);
}

void
cache_checked(struct cache *c, const uint8_t key[CACHE_KEY_BYTES])
{
	struct entry *e;

	pthread_mutex_lock(&c->lock);
	if ((e = find(c, key)) != NULL)
		e->checked_us = util_monotonic_us();
	pthread_mutex_unlock(&c->lock);
}

void
cache_drop(struct cache *c, const uint8_t key[CACHE_KEY_BYTES])
{
	struct entry *e;

	pthread_mutex_lock(&c->lock);
	if ((e = find(c, key)) != NULL)
		remove_entry(c, e);
	pthread_mutex_unlock(&c->lock);
}

void
cache_put(struct cache *c, const uint8_t key[CACHE_KEY_BYTES], const struct verdict *v,
    long long serial, uint64_t serial_us)
{
	uint64_t now = util_monotonic_us(), ttl;
	bool positive = v->reason == REASON_OK;
	struct entry *e;

	if (positive)
		ttl = c->ttl_us;
	else if (v->reason == REASON_BAD_PASSWORD || v->reason == REASON_UNKNOWN_USER)
		ttl = c->negative_ttl_us;
	else
		ttl = 0;
	pthread_mutex_lock(&c->lock);
	e = find(c, key);
	if (ttl == 0 && !(positive && c->stale_max_us > 0)) {
		if (e != NULL)
			remove_entry(c, e);
		goto out;
	}
	if (e == NULL)
		e = new_entry(c, key);
	free(e->notes);
	e->notes = v->notes[0] != '\0' ? strdup(v->notes) : NULL;
	e->reason = v->reason;
	e->backend = v->backend;
	e->proven = v->password_proven;
	e->serial = serial;
	e->verified_us = now;
	/* Trusted as of when the serial was read, not when the check ended. */
	e->checked_us = serial_us != 0 && serial_us <= now ? serial_us : now;
	e->fresh_until_us = now + ttl;
	e->dead_until_us = now + (positive && c->stale_max_us > ttl ? c->stale_max_us : ttl);
	if (positive && v->valid_until > 0) {
		/* Never past the account's expiry, fresh or stale. */
		long long left = v->valid_until - (long long)time(NULL);
		uint64_t cap = left > 0 ? now + (uint64_t)left * 1000000u : now;
		if (cap < e->fresh_until_us)
			e->fresh_until_us = cap;
		if (cap < e->dead_until_us)
			e->dead_until_us = cap;
	}
	if (e->dead_until_us <= now)
		remove_entry(c, e);
out:
	pthread_mutex_unlock(&c->lock);
}

uint64_t
cache_entries(struct cache *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}
