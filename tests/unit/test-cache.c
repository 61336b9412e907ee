/* The credential cache: keys, TTLs, LRU, stale answers, expiry caps. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "pwhash.h"
#include "tap.h"

static void
basic(struct request *r, const char *line)
{
	enum proto_channel mode = PROTO_CHANNEL_NO;

	proto_parse_basic(r, line, strlen(line), &mode, 1);
}

static void
decided(struct verdict *v, enum reason reason)
{
	verdict_init(v);
	verdict_set(v, reason, "sqlite", NULL);
}

static struct conf *
cache_conf(long long ttl, long long neg, long long size, long long stale)
{
	struct conf *c = conf_new();

	c->cache_ttl = ttl;
	c->cache_negative_ttl = neg;
	c->cache_size = size;
	c->cache_stale_max = stale;
	return c;
}

int
main(void)
{
	static struct request r;
	uint8_t k1[CACHE_KEY_BYTES], k2[CACHE_KEY_BYTES], k3[CACHE_KEY_BYTES],
	    k4[CACHE_KEY_BYTES], k5[CACHE_KEY_BYTES];
	struct conf *conf = cache_conf(60, 30, 3, 0), *c2;
	struct cache *c, *other;
	struct cache_answer a;
	struct verdict v;

	if (pwhash_init() != 0)
		return 1;

	/* Keys: every field counts, and each process has its own. */
	c = cache_new(conf, "sqlite");
	other = cache_new(conf, "sqlite");
	ok(c != NULL, "a cache with the defaults");
	basic(&r, "alice secret 10.0.0.1");
	cache_key(c, &r, k1);
	cache_key(other, &r, k5);
	ok(memcmp(k1, k5, sizeof(k1)) != 0, "another process's key for the same login differs");
	basic(&r, "alice secreT 10.0.0.1");
	cache_key(c, &r, k2);
	ok(memcmp(k1, k2, sizeof(k1)) != 0, "another password: another key");
	basic(&r, "alicE secret 10.0.0.1");
	cache_key(c, &r, k3);
	ok(memcmp(k1, k3, sizeof(k1)) != 0, "another user: another key");
	basic(&r, "alice secret 10.0.0.2");
	cache_key(c, &r, k4);
	ok(memcmp(k1, k4, sizeof(k1)) != 0, "another client address: another key");
	basic(&r, "alices ecret 10.0.0.1");
	cache_key(c, &r, k5);
	ok(memcmp(k1, k5, sizeof(k1)) != 0, "fields are framed: user/password boundary counts");
	basic(&r, "alice secret 10.0.0.1");
	cache_key(c, &r, k5);
	ok(memcmp(k1, k5, sizeof(k1)) == 0, "the same login: the same key");

	/* Hits, misses, serials, notes. */
	ok(cache_get(c, k1, &a) == 0, "empty: a miss");
	decided(&v, REASON_OK);
	v.password_proven = true;
	ok(verdict_add_note(&v, "group", "staff") == 0, "a note");
	cache_put(c, k1, &v, 7, 0);
	ok(cache_get(c, k1, &a) == 1 && a.reason == REASON_OK && a.serial == 7 &&
	    a.password_proven, "an accepted password is kept, with the user's serial");
	is_str(a.notes, " group=staff", "with its notes");
	ok(!a.check_due, "just verified: no re-check due");
	decided(&v, REASON_BAD_PASSWORD);
	cache_put(c, k2, &v, 7, 0);
	ok(cache_get(c, k2, &a) == 1 && a.reason == REASON_BAD_PASSWORD, "a refusal is kept");
	decided(&v, REASON_LOCKED);
	cache_put(c, k3, &v, 7, 0);
	ok(cache_get(c, k3, &a) == 0, "a state refusal (locked) is not kept");
	decided(&v, REASON_BACKEND_DOWN);
	cache_put(c, k2, &v, 7, 0);
	ok(cache_get(c, k2, &a) == 0, "a BH for the same key removes the kept refusal");
	cache_drop(c, k1);
	ok(cache_get(c, k1, &a) == 0, "dropped: a miss");
	ok(cache_entries(c) == 0, "nothing left");

	/* LRU: size 3. */
	decided(&v, REASON_OK);
	cache_put(c, k1, &v, 1, 0);
	cache_put(c, k2, &v, 1, 0);
	cache_put(c, k3, &v, 1, 0);
	ok(cache_get(c, k1, &a) == 1, "k1 used again");
	cache_put(c, k4, &v, 1, 0);
	ok(cache_entries(c) == 3, "never more than size entries");
	ok(cache_get(c, k2, &a) == 0, "the least recently used one went");
	ok(cache_get(c, k1, &a) == 1 && cache_get(c, k3, &a) == 1 && cache_get(c, k4, &a) == 1,
	    "the others stayed");
	usleep((CACHE_CHECK_MS + 50) * 1000);
	ok(cache_get(c, k1, &a) == 1 && a.check_due, "after %d ms a re-check is due", CACHE_CHECK_MS);
	cache_checked(c, k1);
	ok(cache_get(c, k1, &a) == 1 && !a.check_due, "re-checked: not due again at once");
	cache_free(c);
	cache_free(other);
	conf_free(conf);

	/* TTLs and stale answers. */
	conf = cache_conf(1, 1, 100, 60);
	c = cache_new(conf, "ldap");
	decided(&v, REASON_OK);
	cache_put(c, k1, &v, -1, 0);
	decided(&v, REASON_BAD_PASSWORD);
	cache_put(c, k2, &v, -1, 0);
	ok(cache_get_stale(c, k2, &a) == 0, "a refusal is never served stale");
	sleep(1);
	usleep(100000);
	ok(cache_get(c, k1, &a) == 0 && cache_get(c, k2, &a) == 0, "past the TTLs: misses");
	ok(cache_get_stale(c, k1, &a) == 1 && a.reason == REASON_OK && a.age_us >= 1000000,
	    "an accepted one may still be served stale within stale_max");
	ok(cache_get_stale(c, k2, &a) == 0, "the refusal is gone");
	/* The account's expiry caps both. */
	decided(&v, REASON_OK);
	v.valid_until = (long long)time(NULL) - 1;
	cache_put(c, k3, &v, -1, 0);
	ok(cache_get(c, k3, &a) == 0 && cache_get_stale(c, k3, &a) == 0,
	    "an account already expired is not answered from the cache, stale or not");
	cache_free(c);
	conf_free(conf);

	/* Off. */
	conf = cache_conf(60, 30, 0, 0);
	ok(cache_new(conf, "sqlite") == NULL, "size 0: no cache");
	conf_free(conf);
	c2 = cache_conf(0, 0, 100, 0);
	ok(cache_new(c2, "sqlite") == NULL, "both TTLs and stale_max 0: no cache");
	conf_free(c2);
	c2 = cache_conf(0, 30, 100, 0);
	c = cache_new(c2, "sqlite");
	decided(&v, REASON_OK);
	cache_put(c, k1, &v, 1, 0);
	ok(cache_get(c, k1, &a) == 0, "ttl 0: an accepted password is not kept");
	cache_free(c);
	conf_free(c2);
	return tap_done();
}
