/* store: cuttle.db, the SQLite store of users and settings. */
#ifndef CUTTLE_STORE_H
#define CUTTLE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pwhash.h"
#include "util.h"

struct store;

/* One numbered migration, generated from schema/NNN-name.sql. */
struct store_migration {
	int version;
	const char *name;
	const char *sql;
};
extern const struct store_migration store_migrations[];	/* cuttle.db */
extern const struct store_migration audit_migrations[];	/* audit.db */
extern const struct store_migration state_migrations[];	/* state.db */

/* The version the migrations in schema bring a database to. */
int store_schema_latest(const struct store_migration *schema);
/* The schema version of cuttle.db this build writes and reads. */
int store_schema_version(void);

enum store_status {
	STORE_OK = 0,
	STORE_EMISSING = -1,	/* no store at the path: run cuttle init */
	STORE_ESCHEMA = -2,	/* not initialised, older or newer schema */
	STORE_EBROKEN = -3,	/* not a database, corrupt, unsafe mode */
	STORE_EIO = -4,		/* cannot open or query: permissions, I/O, busy */
	STORE_EEXISTS = -5,	/* the row to add is already there */
	STORE_ENOTFOUND = -6,	/* the row to change is not there */
	STORE_EBUSY = -7,	/* locked by another writer */
};

enum store_mode {
	STORE_READ,	/* helpers: read-write when allowed, else read-only */
	STORE_WRITE,	/* the CLI: read-write, schema must be current */
	STORE_CREATE,	/* cuttle init: create if missing, no schema check */
};

/*
 * Open the store at path. busy_timeout_s bounds waits for other writers.
 * Returns STORE_OK and *store_r, or a negative status with a message that
 * names the path and the fix in err.
 */
int store_open(const char *path, enum store_mode mode, long long busy_timeout_s,
    struct store **store_r, char *err, size_t errlen) WUR;
/* The same for another database of the store (audit.db) and its schema. */
int store_open_schema(const char *path, const struct store_migration *schema,
    enum store_mode mode, long long busy_timeout_s, struct store **store_r,
    char *err, size_t errlen) WUR;
void store_close(struct store *store);

/*
 * For a log written in batches (audit.db): commits without waiting for
 * the disk, a larger page cache.
 */
void store_set_bulk(struct store *store);

/*
 * A store a helper keeps open: opened on first use (so a helper starts at
 * once), checked at most once a second for having been removed or
 * replaced, and reopened after that or after store_keeper_drop() (call it
 * when a query failed). generation counts the opens.
 */
struct store_keeper {
	const char *path;
	const struct store_migration *schema;	/* NULL: cuttle.db's */
	long long busy_timeout;
	struct store *store;
	uint64_t checked_us;
	unsigned generation;
};

/* Make k->store usable. Returns STORE_OK, or a status with err. */
int store_keep(struct store_keeper *k, char *err, size_t errlen) WUR;
void store_keeper_drop(struct store_keeper *k);

/* Change how long this connection waits for another writer (ms). */
void store_set_busy(struct store *store, int ms);

/* True if the store was opened read-only (no rehash then). */
bool store_readonly(const struct store *store);

/* Device and inode of the file opened, to notice it being replaced. */
void store_identity(const struct store *store, dev_t *dev_r, ino_t *ino_r);

/*
 * Bring the schema to the current version, each step in its own
 * transaction, and switch to WAL. Returns the version it started from, or
 * a negative status with err.
 */
int store_migrate(struct store *store, char *err, size_t errlen) WUR;

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Return STORE_OK or a status. */
int store_begin(struct store *store, char *err, size_t errlen) WUR;
int store_commit(struct store *store, char *err, size_t errlen) WUR;
void store_rollback(struct store *store);

struct store_user {
	char name[UTIL_NAME_MAX + 1];
	char hash[PWHASH_STR_MAX];
	bool disabled;
	bool locked;
	long long locked_until;		/* 0: until unlocked */
	long long expires;		/* 0: never */
	char comment[1024];
	long long created;
	long long updated;
	long long password_changed;
	long long serial;
};

/* Look name up. Returns 1 and fills *u, 0 if absent, or a negative status. */
int store_user_get(struct store *store, const char *name,
    struct store_user *u, char *err, size_t errlen) WUR;
/* Add u. Returns STORE_OK, STORE_EEXISTS or a status. */
int store_user_add(struct store *store, const struct store_user *u,
    char *err, size_t errlen) WUR;
/* Write every field of u (by name) and bump its serial. */
int store_user_put(struct store *store, const struct store_user *u,
    char *err, size_t errlen) WUR;
/* Delete name. Returns STORE_OK, STORE_ENOTFOUND or a status. */
int store_user_del(struct store *store, const char *name,
    char *err, size_t errlen) WUR;
/* Call fn for every user in name order; stops if fn returns non-zero. */
int store_user_foreach(struct store *store,
    int (*fn)(const struct store_user *u, void *ctx), void *ctx,
    char *err, size_t errlen) WUR;

/*
 * Replace name's hash with newhash if it still is oldhash, without waiting
 * for a busy store: a rehash on login is skipped rather than delayed.
 * Returns STORE_OK, STORE_EBUSY, STORE_ENOTFOUND or a status.
 */
int store_user_rehash(struct store *store, const char *name,
    const char *oldhash, const char *newhash) WUR;

/*
 * Generic access for the smaller tables. Parameters are text (NULL binds
 * SQL NULL; integer columns convert numeric text). store_write() returns
 * STORE_OK, STORE_EEXISTS (a duplicate), STORE_ENOTFOUND (no row changed,
 * or a reference to a missing user or group) or a status. store_read()
 * calls fn for each row with its columns as text ("" for NULL); fn stops
 * the loop by returning non-zero.
 */
int store_write(struct store *store, const char *sql, const char *const *args,
    int nargs, char *err, size_t errlen) WUR;
int store_read(struct store *store, const char *sql, const char *const *args,
    int nargs, int (*fn)(const char *const *cols, int ncols, void *ctx),
    void *ctx, char *err, size_t errlen) WUR;

/*
 * Change counters, read by helpers a few times a second to notice admin
 * changes without reloading everything: "allow" for the allow lists.
 * store_bump() adds one (inside the caller's transaction).
 */
int store_bump(struct store *store, const char *counter, char *err,
    size_t errlen) WUR;
long long store_counter(struct store *store, const char *counter);

/* Bump one user's serial: its groups or networks changed. */
int store_touch_user(struct store *store, const char *name, char *err,
    size_t errlen) WUR;

/* For a status that truly does not matter (best-effort reads and writes). */
static inline void
ignore_status(int status)
{
	(void)status;
}

/* Settings: returns 1 and the value, 0 if absent, or a negative status. */
int store_setting_get(struct store *store, const char *key, char *buf,
    size_t size, char *err, size_t errlen) WUR;
int store_setting_set(struct store *store, const char *key,
    const char *value, char *err, size_t errlen) WUR;

#endif
