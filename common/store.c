#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"

/* Prepared statements kept for reuse (the same query text, again and again). */
#define STMT_CACHE 16

struct store {
	const struct store_migration *schema;
	sqlite3 *db;
	struct {
		char *sql;
		sqlite3_stmt *st;
	} stmts[STMT_CACHE];
	int nstmts;
	char *path;
	bool readonly;
	int busy_ms;
	dev_t dev;
	ino_t ino;
};

static int
schema_version(const struct store_migration *schema)
{
	int v = 0;

	for (const struct store_migration *m = schema; m->sql != NULL; m++)
		v = m->version;
	return v;
}

int
store_schema_latest(const struct store_migration *schema)
{
	return schema_version(schema);
}

int
store_schema_version(void)
{
	return schema_version(store_migrations);
}

/* Map an SQLite error to a status and a message naming the store. */
static int
db_fail(struct store *store, const char *what, char *err, size_t errlen)
{
	int code = sqlite3_errcode(store->db);

	snprintf(err, errlen, "%s: %s: %s", store->path, what,
	    sqlite3_errmsg(store->db));
	switch (code & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_EBUSY;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return STORE_EBROKEN;
	default:
		return STORE_EIO;
	}
}

static int
user_version(struct store *store, int *v_r, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_fail(store, "cannot read schema version", err, errlen);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_fail(store, "cannot read schema version", err, errlen);
	}
	*v_r = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return STORE_OK;
}

/*
 * WAL files left by a process that could only read (after someone made
 * the store read-only) stay read-only for everyone after it; a helper
 * then only reads until `cuttle init` repairs their modes.
 */
static bool
wal_writable(const char *path)
{
	static const char *const suffixes[] = { "-wal", "-shm" };
	char file[4096];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		if (access(file, F_OK) == 0 && access(file, W_OK) != 0)
			return false;
	}
	return true;
}

int
store_open(const char *path, enum store_mode mode, long long busy_timeout_s,
    struct store **store_r, char *err, size_t errlen)
{
	return store_open_schema(path, store_migrations, mode, busy_timeout_s, store_r,
	    err, errlen);
}

int
store_open_schema(const char *path, const struct store_migration *schema,
    enum store_mode mode, long long busy_timeout_s, struct store **store_r,
    char *err, size_t errlen)
{
	struct store *store;
	struct stat st;
	int flags, rc, v;

	*store_r = NULL;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT && mode != STORE_CREATE) {
			snprintf(err, errlen, "%s: no such store (create it with `cuttle init`, or name it with --db or [store] path)",
			    path);
			return STORE_EMISSING;
		}
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return STORE_EIO;
		}
	} else {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file", path);
			return STORE_EBROKEN;
		}
		if ((st.st_mode & S_IRWXO) != 0 && mode != STORE_CREATE) {
			snprintf(err, errlen, "%s: mode %04o lets other users reach the store (fix: chmod o-rwx %s, or run `cuttle init`)",
			    path, (unsigned)(st.st_mode & 07777), path);
			return STORE_EBROKEN;
		}
	}

	store = calloc(1, sizeof(*store));
	if (store == NULL || (store->path = strdup(path)) == NULL) {
		free(store);
		snprintf(err, errlen, "%s: out of memory", path);
		return STORE_EIO;
	}
	store->busy_ms = (int)(busy_timeout_s * 1000);
	store->schema = schema;
	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	if (mode == STORE_CREATE)
		flags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &store->db, flags, NULL);
	if (rc != SQLITE_OK && mode == STORE_READ) {
		/* A helper that may only read still answers; it skips rehashes. */
		sqlite3_close(store->db);
		store->db = NULL;
		rc = sqlite3_open_v2(path, &store->db,
		    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
		store->readonly = true;
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    store->db != NULL ? sqlite3_errmsg(store->db) : "out of memory");
		store_close(store);
		return STORE_EIO;
	}
	sqlite3_busy_timeout(store->db, store->busy_ms);
	sqlite3_extended_result_codes(store->db, 1);
	/* Memberships and networks go with their user or group. */
	sqlite3_exec(store->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (mode == STORE_READ && !store->readonly && !wal_writable(path))
		store->readonly = true;

	if ((rc = user_version(store, &v, err, errlen)) != STORE_OK) {
		store_close(store);
		return rc;
	}
	if (mode != STORE_CREATE && v != schema_version(schema)) {
		if (v == 0)
			snprintf(err, errlen, "%s: not a cuttle store yet (run `cuttle init`)", path);
		else if (v < schema_version(schema))
			snprintf(err, errlen, "%s: schema version %d is older than this cuttle's %d (run `cuttle init` to migrate)",
			    path, v, schema_version(schema));
		else
			snprintf(err, errlen, "%s: schema version %d is newer than this cuttle's %d (upgrade cuttle)",
			    path, v, schema_version(schema));
		store_close(store);
		return STORE_ESCHEMA;
	}
	if (stat(path, &st) == 0) {
		store->dev = st.st_dev;
		store->ino = st.st_ino;
	}
	*store_r = store;
	return STORE_OK;
}

void
store_close(struct store *store)
{
	if (store == NULL)
		return;
	for (int i = 0; i < store->nstmts; i++) {
		sqlite3_finalize(store->stmts[i].st);
		free(store->stmts[i].sql);
	}
	sqlite3_close(store->db);
	free(store->path);
	free(store);
}

void
store_set_bulk(struct store *store)
{
	/* WAL stays consistent; only the last commits may be lost to a power cut. */
	sqlite3_exec(store->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	sqlite3_exec(store->db, "PRAGMA cache_size = -8192", NULL, NULL, NULL);
}

void
store_set_busy(struct store *store, int ms)
{
	store->busy_ms = ms;
	sqlite3_busy_timeout(store->db, ms);
}

bool
store_readonly(const struct store *store)
{
	return store->readonly;
}

void
store_identity(const struct store *store, dev_t *dev_r, ino_t *ino_r)
{
	*dev_r = store->dev;
	*ino_r = store->ino;
}

static int
exec(struct store *store, const char *sql, const char *what, char *err,
    size_t errlen)
{
	if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(store, what, err, errlen);
	return STORE_OK;
}

int
store_migrate(struct store *store, char *err, size_t errlen)
{
	int from, v, rc;
	char sql[64];

	if ((rc = exec(store, "PRAGMA journal_mode=WAL", "cannot switch to WAL",
	    err, errlen)) != STORE_OK)
		return rc;
	if ((rc = user_version(store, &from, err, errlen)) != STORE_OK)
		return rc;
	if (from > schema_version(store->schema)) {
		snprintf(err, errlen, "%s: schema version %d is newer than this cuttle's %d (upgrade cuttle)",
		    store->path, from, schema_version(store->schema));
		return STORE_ESCHEMA;
	}
	for (const struct store_migration *m = store->schema; m->sql != NULL; m++) {
		if ((rc = store_begin(store, err, errlen)) != STORE_OK)
			return rc;
		/* Re-read inside the transaction: another init may have won. */
		if ((rc = user_version(store, &v, err, errlen)) != STORE_OK) {
			store_rollback(store);
			return rc;
		}
		if (m->version <= v) {
			store_rollback(store);
			continue;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", m->version);
		if (sqlite3_exec(store->db, m->sql, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			char what[128];
			snprintf(what, sizeof(what), "migration %s failed", m->name);
			rc = db_fail(store, what, err, errlen);
			store_rollback(store);
			return rc;
		}
		if ((rc = store_commit(store, err, errlen)) != STORE_OK)
			return rc;
	}
	return from;
}

int
store_begin(struct store *store, char *err, size_t errlen)
{
	return exec(store, "BEGIN IMMEDIATE", "cannot start a write transaction",
	    err, errlen);
}

int
store_commit(struct store *store, char *err, size_t errlen)
{
	int rc = exec(store, "COMMIT", "commit failed", err, errlen);

	if (rc != STORE_OK)
		store_rollback(store);
	return rc;
}

void
store_rollback(struct store *store)
{
	if (!sqlite3_get_autocommit(store->db))
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

static void
copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, size, "%s", s != NULL ? (const char *)s : "");
}

#define USER_COLUMNS "name, hash, disabled, locked, locked_until, expires, " \
	"comment, created, updated, password_changed, serial"

static void
row_to_user(sqlite3_stmt *st, struct store_user *u)
{
	memset(u, 0, sizeof(*u));
	copy_text(u->name, sizeof(u->name), st, 0);
	copy_text(u->hash, sizeof(u->hash), st, 1);
	u->disabled = sqlite3_column_int(st, 2) != 0;
	u->locked = sqlite3_column_int(st, 3) != 0;
	u->locked_until = sqlite3_column_int64(st, 4);
	u->expires = sqlite3_column_int64(st, 5);
	copy_text(u->comment, sizeof(u->comment), st, 6);
	u->created = sqlite3_column_int64(st, 7);
	u->updated = sqlite3_column_int64(st, 8);
	u->password_changed = sqlite3_column_int64(st, 9);
	u->serial = sqlite3_column_int64(st, 10);
}

int
store_user_get(struct store *store, const char *name, struct store_user *u,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db,
	    "SELECT " USER_COLUMNS " FROM users WHERE name = ?1", -1, &st,
	    NULL) != SQLITE_OK)
		return db_fail(store, "user query failed", err, errlen);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_user(st, u);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_fail(store, "user query failed", err, errlen);
	}
	sqlite3_finalize(st);
	return rc;
}

static void
bind_nullable(sqlite3_stmt *st, int col, long long v)
{
	if (v == 0)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_int64(st, col, v);
}

static void
bind_user(sqlite3_stmt *st, const struct store_user *u)
{
	sqlite3_bind_text(st, 1, u->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, u->disabled);
	sqlite3_bind_int(st, 4, u->locked);
	bind_nullable(st, 5, u->locked_until);
	bind_nullable(st, 6, u->expires);
	sqlite3_bind_text(st, 7, u->comment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, u->created);
	sqlite3_bind_int64(st, 9, u->updated);
	sqlite3_bind_int64(st, 10, u->password_changed);
}

static int
step_write(struct store *store, sqlite3_stmt *st, const char *what, char *err,
    size_t errlen)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return STORE_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		snprintf(err, errlen, "%s: %s: already exists", store->path, what);
		return STORE_EEXISTS;
	}
	return db_fail(store, what, err, errlen);
}

int
store_user_add(struct store *store, const struct store_user *u, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	/*
	 * The serial starts at random, so that a user deleted and added again
	 * never comes back with a serial a helper's cache still holds.
	 */
	if (sqlite3_prepare_v2(store->db,
	    "INSERT INTO users (" USER_COLUMNS ") VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, abs(random() >> 2))", -1, &st,
	    NULL) != SQLITE_OK)
		return db_fail(store, "cannot add user", err, errlen);
	bind_user(st, u);
	rc = step_write(store, st, "cannot add user", err, errlen);
	sqlite3_finalize(st);
	return rc;
}

int
store_user_put(struct store *store, const struct store_user *u, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db,
	    "UPDATE users SET hash = ?2, disabled = ?3, locked = ?4, "
	    "locked_until = ?5, expires = ?6, comment = ?7, created = ?8, "
	    "updated = ?9, password_changed = ?10, serial = serial + 1 "
	    "WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
		return db_fail(store, "cannot update user", err, errlen);
	bind_user(st, u);
	rc = step_write(store, st, "cannot update user", err, errlen);
	if (rc == STORE_OK && sqlite3_changes(store->db) == 0)
		rc = STORE_ENOTFOUND;
	sqlite3_finalize(st);
	return rc;
}

int
store_user_del(struct store *store, const char *name, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db, "DELETE FROM users WHERE name = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		return db_fail(store, "cannot delete user", err, errlen);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = step_write(store, st, "cannot delete user", err, errlen);
	if (rc == STORE_OK && sqlite3_changes(store->db) == 0)
		rc = STORE_ENOTFOUND;
	sqlite3_finalize(st);
	return rc;
}

int
store_user_foreach(struct store *store,
    int (*fn)(const struct store_user *u, void *ctx), void *ctx, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	struct store_user u;
	int rc;

	if (sqlite3_prepare_v2(store->db,
	    "SELECT " USER_COLUMNS " FROM users ORDER BY name", -1, &st,
	    NULL) != SQLITE_OK)
		return db_fail(store, "user query failed", err, errlen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_user(st, &u);
		if (fn(&u, ctx) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		rc = db_fail(store, "user query failed", err, errlen);
	else
		rc = STORE_OK;
	sqlite3_finalize(st);
	return rc;
}

int
store_user_rehash(struct store *store, const char *name, const char *oldhash,
    const char *newhash)
{
	sqlite3_stmt *st;
	int rc;

	if (store->readonly)
		return STORE_EIO;
	if (sqlite3_prepare_v2(store->db,
	    "UPDATE users SET hash = ?3 WHERE name = ?1 AND hash = ?2", -1, &st,
	    NULL) != SQLITE_OK)
		return STORE_EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, oldhash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, newhash, -1, SQLITE_STATIC);
	sqlite3_busy_timeout(store->db, 0);
	rc = sqlite3_step(st);
	sqlite3_busy_timeout(store->db, store->busy_ms);
	if (rc == SQLITE_DONE)
		rc = sqlite3_changes(store->db) > 0 ? STORE_OK : STORE_ENOTFOUND;
	else if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		rc = STORE_EBUSY;
	else
		rc = STORE_EIO;
	sqlite3_finalize(st);
	return rc;
}

int
store_setting_get(struct store *store, const char *key, char *buf, size_t size,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db,
	    "SELECT value FROM settings WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		return db_fail(store, "settings query failed", err, errlen);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(buf, size, st, 0);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_fail(store, "settings query failed", err, errlen);
	}
	sqlite3_finalize(st);
	return rc;
}

int
store_setting_set(struct store *store, const char *key, const char *value,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db,
	    "INSERT INTO settings (key, value) VALUES (?1, ?2) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", -1, &st,
	    NULL) != SQLITE_OK)
		return db_fail(store, "cannot write setting", err, errlen);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = step_write(store, st, "cannot write setting", err, errlen);
	sqlite3_finalize(st);
	return rc;
}

/* A statement for sql: a kept one, reset, or a new one (kept if there is room). */
/* Done with a statement from prepare_bind: reset a kept one, else finalize. */
static void
release(struct store *store, sqlite3_stmt *st)
{
	for (int i = 0; i < store->nstmts; i++)
		if (store->stmts[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);	/* they point at the caller's strings */
			return;
		}
	sqlite3_finalize(st);
}

static int
prepare_bind(struct store *store, const char *sql, const char *const *args,
    int nargs, sqlite3_stmt **st_r, char *err, size_t errlen)
{
	*st_r = NULL;
	for (int i = 0; i < store->nstmts; i++)
		if (strcmp(store->stmts[i].sql, sql) == 0) {
			*st_r = store->stmts[i].st;
			sqlite3_reset(*st_r);
			sqlite3_clear_bindings(*st_r);
			break;
		}
	if (*st_r == NULL) {
		if (sqlite3_prepare_v3(store->db, sql, -1, store->nstmts < STMT_CACHE ?
		    SQLITE_PREPARE_PERSISTENT : 0, st_r, NULL) != SQLITE_OK)
			return db_fail(store, "query failed", err, errlen);
		if (store->nstmts < STMT_CACHE &&
		    (store->stmts[store->nstmts].sql = strdup(sql)) != NULL)
			store->stmts[store->nstmts++].st = *st_r;
	}
	for (int i = 0; i < nargs; i++) {
		if (args[i] == NULL)
			sqlite3_bind_null(*st_r, i + 1);
		else
			sqlite3_bind_text(*st_r, i + 1, args[i], -1, SQLITE_STATIC);
	}
	return STORE_OK;
}

int
store_write(struct store *store, const char *sql, const char *const *args,
    int nargs, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare_bind(store, sql, args, nargs, &st, err, errlen)) != STORE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		rc = sqlite3_changes(store->db) > 0 ? STORE_OK : STORE_ENOTFOUND;
	else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		rc = STORE_ENOTFOUND;
	else if ((rc & 0xff) == SQLITE_CONSTRAINT)
		rc = STORE_EEXISTS;
	else
		rc = db_fail(store, "write failed", err, errlen);
	release(store, st);
	return rc;
}

int
store_read(struct store *store, const char *sql, const char *const *args,
    int nargs, int (*fn)(const char *const *cols, int ncols, void *ctx),
    void *ctx, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	const char *cols[16];
	int rc, n;

	if ((rc = prepare_bind(store, sql, args, nargs, &st, err, errlen)) != STORE_OK)
		return rc;
	n = sqlite3_column_count(st);
	if (n > 16)
		n = 16;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < n; i++) {
			const unsigned char *t = sqlite3_column_text(st, i);
			cols[i] = t != NULL ? (const char *)t : "";
		}
		if (fn(cols, n, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? STORE_OK : db_fail(store, "query failed", err, errlen);
	release(store, st);
	return rc;
}

int
store_bump(struct store *store, const char *counter, char *err, size_t errlen)
{
	char key[64];
	const char *args[1] = { key };

	snprintf(key, sizeof(key), "serial:%s", counter);
	return store_write(store,
	    "INSERT INTO settings (key, value) VALUES (?1, '1') ON CONFLICT (key) "
	    "DO UPDATE SET value = CAST(value AS INTEGER) + 1", args, 1, err, errlen);
}

long long
store_counter(struct store *store, const char *counter)
{
	char key[64], value[32], err[256];

	snprintf(key, sizeof(key), "serial:%s", counter);
	if (store_setting_get(store, key, value, sizeof(value), err, sizeof(err)) != 1)
		return 0;
	return strtoll(value, NULL, 10);
}

int
store_touch_user(struct store *store, const char *name, char *err, size_t errlen)
{
	const char *args[1] = { name };

	return store_write(store, "UPDATE users SET serial = serial + 1 WHERE name = ?1",
	    args, 1, err, errlen);
}

/* How often a kept store is checked for having been replaced or removed. */
#define KEEP_RECHECK_US 1000000u

void
store_keeper_drop(struct store_keeper *k)
{
	store_close(k->store);
	k->store = NULL;
}

int
store_keep(struct store_keeper *k, char *err, size_t errlen)
{
	uint64_t now = util_monotonic_us();
	int rc;

	if (k->store != NULL && now - k->checked_us >= KEEP_RECHECK_US) {
		struct stat st;

		k->checked_us = now;
		if (stat(k->path, &st) != 0 || st.st_dev != k->store->dev ||
		    st.st_ino != k->store->ino) {
			log_info("%s: store was removed or replaced; reopening", k->path);
			store_keeper_drop(k);
		}
	}
	if (k->store != NULL)
		return STORE_OK;
	rc = store_open_schema(k->path, k->schema != NULL ? k->schema : store_migrations,
	    STORE_READ, k->busy_timeout, &k->store, err, errlen);
	if (rc == STORE_OK) {
		k->checked_us = now;
		k->generation++;
	}
	return rc;
}
