#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "pwhash.h"
#include "store.h"
#include "tap.h"

static char dir[] = "/tmp/cuttle-store-XXXXXX";
static char path[256];

static int
count_users(const struct store_user *u, void *ctx)
{
	(void)u;
	(*(int *)ctx)++;
	return 0;
}

int
main(void)
{
	struct store *st, *st2;
	struct store_user u, g;
	long long serial0, serial1;
	char err[512], buf[64];
	int n, rc;

	umask(077);
	if (pwhash_init() != 0 || mkdtemp(dir) == NULL)
		return 99;
	snprintf(path, sizeof(path), "%s/cuttle.db", dir);

	rc = store_open(path, STORE_READ, 1, &st, err, sizeof(err));
	ok(rc == STORE_EMISSING && strstr(err, "cuttle init") != NULL, "missing store names cuttle init: %s", err);
	ok(store_open(path, STORE_CREATE, 1, &st, err, sizeof(err)) == STORE_OK, "create");
	ok(store_migrate(st, err, sizeof(err)) == 0, "migrate from version 0");
	ok(store_migrate(st, err, sizeof(err)) == store_schema_version(), "migrate again is a no-op");
	store_close(st);

	ok(store_open(path, STORE_WRITE, 1, &st, err, sizeof(err)) == STORE_OK, "open for writing");
	memset(&u, 0, sizeof(u));
	strcpy(u.name, "alice");
	ok(pwhash_make("pw", 2, 1, 8192, u.hash) == 0, "hash");
	u.created = u.updated = u.password_changed = 100;
	u.expires = 5000;
	strcpy(u.comment, "it's \"quoted\"; DROP TABLE users;--");
	ok(store_begin(st, err, sizeof(err)) == STORE_OK, "begin immediate");
	ok(store_user_add(st, &u, err, sizeof(err)) == STORE_OK, "add");
	ok(store_user_add(st, &u, err, sizeof(err)) == STORE_EEXISTS, "add twice refused");
	ok(store_commit(st, err, sizeof(err)) == STORE_OK, "commit");

	ok(store_user_get(st, "alice", &g, err, sizeof(err)) == 1, "get");
	ok(strcmp(g.hash, u.hash) == 0 && g.expires == 5000 && g.locked_until == 0 &&
	    !g.disabled && g.serial > 0, "fields round-trip");
	serial0 = g.serial;
	is_str(g.comment, u.comment, "comment stored as data, not SQL");
	ok(store_user_get(st, "Alice", &g, err, sizeof(err)) == 0, "lookup is exact (folding is the caller's)");
	ok(store_user_get(st, "a' OR '1'='1", &g, err, sizeof(err)) == 0, "injection string is just a name");

	g.disabled = true;
	g.locked = true;
	g.locked_until = 777;
	ok(store_user_put(st, &g, err, sizeof(err)) == STORE_OK, "put");
	ok(store_user_get(st, "alice", &g, err, sizeof(err)) == 1 && g.disabled && g.locked &&
	    g.locked_until == 777 && g.serial == serial0 + 1, "put wrote fields and bumped serial");
	strcpy(g.name, "nobody");
	ok(store_user_put(st, &g, err, sizeof(err)) == STORE_ENOTFOUND, "put unknown");

	ok(store_user_rehash(st, "alice", "not-the-hash", "new") == STORE_ENOTFOUND,
	    "rehash only replaces the hash it verified against");
	ok(store_user_rehash(st, "alice", u.hash, "$argon2id$new") == STORE_OK, "rehash");
	ok(store_user_get(st, "alice", &g, err, sizeof(err)) == 1 && strcmp(g.hash, "$argon2id$new") == 0 &&
	    g.serial == serial0 + 1, "rehash leaves the serial alone");
	/* A user deleted and added again never gets back a serial it had. */
	strcpy(u.name, "bob");
	ok(store_user_add(st, &u, err, sizeof(err)) == STORE_OK &&
	    store_user_get(st, "bob", &g, err, sizeof(err)) == 1, "bob added");
	serial1 = g.serial;
	ok(store_user_del(st, "bob", err, sizeof(err)) == STORE_OK &&
	    store_user_add(st, &u, err, sizeof(err)) == STORE_OK &&
	    store_user_get(st, "bob", &g, err, sizeof(err)) == 1 && g.serial != serial1,
	    "bob deleted and added again: another serial (%lld, then %lld)", serial1, g.serial);
	ok(store_user_del(st, "bob", err, sizeof(err)) == STORE_OK, "bob deleted");
	strcpy(u.name, "alice");

	/* A second connection holding the write lock: rehash skips, reads go on. */
	ok(store_open(path, STORE_WRITE, 1, &st2, err, sizeof(err)) == STORE_OK, "second connection");
	ok(store_begin(st2, err, sizeof(err)) == STORE_OK, "second takes the write lock");
	ok(store_user_rehash(st, "alice", "$argon2id$new", "$argon2id$x") == STORE_EBUSY,
	    "rehash skipped while busy");
	ok(store_user_get(st, "alice", &g, err, sizeof(err)) == 1, "reads go on during a write transaction");
	store_rollback(st2);
	store_close(st2);

	ok(store_setting_get(st, "k", buf, sizeof(buf), err, sizeof(err)) == 0, "setting absent");
	ok(store_setting_set(st, "k", "v1", err, sizeof(err)) == STORE_OK &&
	    store_setting_set(st, "k", "v2", err, sizeof(err)) == STORE_OK, "setting set twice");
	ok(store_setting_get(st, "k", buf, sizeof(buf), err, sizeof(err)) == 1 && strcmp(buf, "v2") == 0,
	    "setting overwritten");

	n = 0;
	ok(store_user_foreach(st, count_users, &n, err, sizeof(err)) == STORE_OK && n == 1, "foreach");
	ok(store_user_del(st, "alice", err, sizeof(err)) == STORE_OK, "del");
	ok(store_user_del(st, "alice", err, sizeof(err)) == STORE_ENOTFOUND, "del again");
	store_close(st);

	/* Schema version checks. */
	{
		sqlite3 *db;
		sqlite3_open(path, &db);
		sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
		sqlite3_close(db);
		rc = store_open(path, STORE_READ, 1, &st, err, sizeof(err));
		ok(rc == STORE_ESCHEMA && strstr(err, "newer") != NULL, "newer schema refused: %s", err);
		sqlite3_open(path, &db);
		sqlite3_exec(db, "PRAGMA user_version = 0", NULL, NULL, NULL);
		sqlite3_close(db);
		rc = store_open(path, STORE_READ, 1, &st, err, sizeof(err));
		ok(rc == STORE_ESCHEMA && strstr(err, "cuttle init") != NULL, "uninitialised refused: %s", err);
	}

	chmod(path, 0664);
	rc = store_open(path, STORE_READ, 1, &st, err, sizeof(err));
	ok(rc == STORE_EBROKEN && strstr(err, "chmod o-rwx") != NULL, "world-readable store refused: %s", err);
	chmod(path, 0600);

	{
		FILE *f = fopen(path, "w");
		fputs("this is not a database, just text that is long enough to be a header......", f);
		fclose(f);
		rc = store_open(path, STORE_READ, 1, &st, err, sizeof(err));
		ok(rc == STORE_EBROKEN, "garbage file is broken: %s", err);
	}
	unlink(path);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 99;
	}
	return tap_done();
}
