#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockout.h"
#include "log.h"
#include "pwhash.h"
#include "store.h"

struct lockout {
	struct store_keeper keep;
	char path[4096];
	long long max, window, duration;
	bool per_address;
	unsigned key_generation;
	unsigned char key[32];
	bool have_key;
	bool warned;
};

struct lockout *
lockout_new(const struct conf *conf)
{
	struct lockout *lo;

	if (!conf->lockout_enabled)
		return NULL;
	if ((lo = calloc(1, sizeof(*lo))) == NULL)
		abort();
	conf_beside_store(conf, "state.db", lo->path, sizeof(lo->path));
	lo->keep.path = lo->path;
	lo->keep.busy_timeout = 0;
	lo->keep.schema = state_migrations;
	lo->max = conf->lockout_max_failures;
	lo->window = conf->lockout_window;
	lo->duration = conf->lockout_duration;
	lo->per_address = conf->lockout_per_address;
	return lo;
}

void
lockout_free(struct lockout *lo)
{
	if (lo == NULL)
		return;
	store_keeper_drop(&lo->keep);
	pwhash_zero(lo->key, sizeof(lo->key));
	free(lo);
}

static bool
ready(struct lockout *lo)
{
	char err[512], hex[80];
	int rc = store_keep(&lo->keep, err, sizeof(err));

	if (rc != STORE_OK) {
		if (!lo->warned)
			log_warn("lockout state %s: %s; automatic lockout is off until it is "
			    "fixed (`cuttle init`)", lo->path, err);
		lo->warned = true;
		return false;
	}
	if (lo->key_generation != lo->keep.generation) {
		size_t len = 0;
		lo->key_generation = lo->keep.generation;
		/* Runtime state: commits need not wait for the disk. */
		store_set_bulk(lo->keep.store);
		lo->have_key = store_setting_get(lo->keep.store, "tag_key", hex, sizeof(hex),
		    err, sizeof(err)) == 1 && pwhash_hex2bin(hex, lo->key, sizeof(lo->key), &len) == 0 &&
		    len == sizeof(lo->key);
		pwhash_zero(hex, sizeof(hex));
	}
	lo->warned = false;
	return true;
}

struct row {
	bool found;
	long long count, since, throttled;
	char tags[LOCKOUT_TAGS * 17 + 8];
};

static int
read_row(const char *const *c, int n, void *vctx)
{
	struct row *r = vctx;

	(void)n;
	r->found = true;
	r->count = strtoll(c[0], NULL, 10);
	r->since = strtoll(c[1], NULL, 10);
	r->throttled = strtoll(c[2], NULL, 10);
	snprintf(r->tags, sizeof(r->tags), "%s", c[3]);
	return 1;
}

static int
get(struct lockout *lo, const char *kind, const char *key, struct row *r)
{
	const char *args[2] = { kind, key };
	char err[256];

	memset(r, 0, sizeof(*r));
	if (store_read(lo->keep.store, "SELECT count, since, throttled, tags FROM failures "
	    "WHERE kind = ?1 AND key = ?2", args, 2, read_row, r, err, sizeof(err)) != STORE_OK) {
		store_keeper_drop(&lo->keep);
		return -1;
	}
	return 0;
}

int
lockout_check(struct lockout *lo, const char *user, const char *addr, long long *until_r)
{
	long long now = (long long)util_now();
	struct row r;

	if (lo == NULL || !ready(lo))
		return 0;
	if (get(lo, "user", user, &r) == 0 && r.throttled > now) {
		*until_r = r.throttled;
		return 1;
	}
	if (lo->per_address && addr != NULL && get(lo, "addr", addr, &r) == 0 && r.throttled > now) {
		*until_r = r.throttled;
		return 1;
	}
	return 0;
}

/* Count one failure for (kind, key); tag is "" for addresses. */
static void
count(struct lockout *lo, const char *kind, const char *key, const char *tag, long long now)
{
	char c_s[24], since_s[24], now_s[24], thr_s[24], tags[sizeof(((struct row *)0)->tags)], err[256];
	const char *args[7] = { kind, key, c_s, since_s, now_s, thr_s, tags };
	struct row r;

	if (get(lo, kind, key, &r) != 0)
		return;
	if (!r.found || now - r.since > lo->window) {
		/* A new window. */
		r.count = 0;
		r.since = now;
		r.tags[0] = '\0';
	}
	r.count++;
	if (r.count >= lo->max && r.throttled <= now)
		r.throttled = now + lo->duration;
	/* Keep the last LOCKOUT_TAGS tags, newest first. */
	if (tag[0] != '\0') {
		char *cut;
		snprintf(tags, sizeof(tags), "%s%s%s", tag, r.tags[0] != '\0' ? "," : "", r.tags);
		cut = tags;
		for (int i = 0; i < LOCKOUT_TAGS && cut != NULL; i++)
			cut = strchr(cut + 1, ',');
		if (cut != NULL)
			*cut = '\0';
	} else {
		tags[0] = '\0';
	}
	snprintf(c_s, sizeof(c_s), "%lld", r.count);
	snprintf(since_s, sizeof(since_s), "%lld", r.since);
	snprintf(now_s, sizeof(now_s), "%lld", now);
	snprintf(thr_s, sizeof(thr_s), "%lld", r.throttled);
	if (store_write(lo->keep.store, "INSERT INTO failures (kind, key, count, since, last, "
	    "throttled, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (kind, key) DO "
	    "UPDATE SET count = excluded.count, since = excluded.since, last = excluded.last, "
	    "throttled = excluded.throttled, tags = excluded.tags", args, 7, err,
	    sizeof(err)) != STORE_OK)
		log_debug("lockout: failure not counted: %s", err);
}

bool
lockout_failure(struct lockout *lo, const char *user, const char *addr,
    const char *password, size_t len)
{
	long long now = (long long)util_now();
	char tag[17] = "";
	struct row r;

	if (lo == NULL || !ready(lo))
		return false;
	if (lo->have_key)
		pwhash_tag(lo->key, user, password, len, tag);
	/* The same wrong password again (a stale saved one): once is enough. */
	if (tag[0] != '\0' && get(lo, "user", user, &r) == 0 && r.found &&
	    now - r.since <= lo->window && strstr(r.tags, tag) != NULL)
		return true;
	count(lo, "user", user, tag, now);
	if (lo->per_address && addr != NULL)
		count(lo, "addr", addr, "", now);
	return false;
}

void
lockout_success(struct lockout *lo, const char *user)
{
	const char *args[1] = { user };
	char err[256];

	struct row r;

	if (lo == NULL || !ready(lo))
		return;
	/* Most logins have nothing to clear: a read, no write lock. */
	if (get(lo, "user", user, &r) != 0 || !r.found)
		return;
	ignore_status(store_write(lo->keep.store, "DELETE FROM failures WHERE kind = 'user' AND key = ?1",
	    args, 1, err, sizeof(err)));
}

int
lockout_clear(const char *path, const char *kind, const char *key, char *err, size_t errlen)
{
	const char *args[2] = { kind, key };
	struct store *st;
	int rc;

	if (store_open_schema(path, state_migrations, STORE_WRITE, 2, &st, err, errlen) != STORE_OK)
		return -1;
	rc = store_write(st, "DELETE FROM failures WHERE kind = ?1 AND key = ?2", args, 2, err, errlen);
	store_close(st);
	return rc == STORE_OK || rc == STORE_ENOTFOUND ? 0 : -1;
}
