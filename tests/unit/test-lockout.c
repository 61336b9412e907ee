#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "lockout.h"
#include "pwhash.h"
#include "store.h"
#include "tap.h"

static char dir[] = "/tmp/cuttle-lockout-XXXXXX";

static struct conf *
make_conf(long long max)
{
	struct conf *c = conf_new();
	char path[300], n[24];
	const char *e;

	snprintf(path, sizeof(path), "%s/cuttle.db", dir);
	snprintf(n, sizeof(n), "%lld", max);
	if (conf_set(c, "store", "path", path, &e) != 0 ||
	    conf_set(c, "lockout", "max_failures", n, &e) != 0)
		abort();
	return c;
}

int
main(void)
{
	struct conf *c;
	struct lockout *lo;
	struct store *st;
	char path[300], err[256];
	long long until = 0;
	int rc;

	umask(077);
	if (pwhash_init() != 0 || mkdtemp(dir) == NULL)
		return 99;
	snprintf(path, sizeof(path), "%s/state.db", dir);
	c = make_conf(3);

	lo = lockout_new(c);
	ok(lockout_check(lo, "alice", NULL, &until) == 0, "no state.db: nothing is throttled (lockout off)");
	ok(!lockout_failure(lo, "alice", NULL, "x", 1), "no state.db: failures are not counted");
	lockout_free(lo);

	if (store_open_schema(path, state_migrations, STORE_CREATE, 1, &st, err, sizeof(err)) != STORE_OK ||
	    store_migrate(st, err, sizeof(err)) < 0 ||
	    store_setting_set(st, "tag_key", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	    err, sizeof(err)) != STORE_OK)
		return 99;
	store_close(st);

	lo = lockout_new(c);
	ok(!lockout_failure(lo, "alice", "10.0.0.1", "same", 4), "first wrong password counts");
	ok(lockout_failure(lo, "alice", "10.0.0.1", "same", 4), "the same one again is a repeat");
	ok(lockout_failure(lo, "alice", "10.0.0.2", "same", 4), "... from another address too");
	ok(lockout_check(lo, "alice", NULL, &until) == 0, "repeats do not throttle");
	ok(!lockout_failure(lo, "alice", NULL, "other", 5), "a different wrong password counts");
	ok(lockout_check(lo, "alice", NULL, &until) == 0, "two failures: not yet");
	ok(!lockout_failure(lo, "alice", NULL, "third", 5), "third different password");
	rc = lockout_check(lo, "alice", NULL, &until);
	ok(rc == 1 && until > (long long)time(NULL) + 800, "three: throttled for the duration (15m)");
	ok(lockout_check(lo, "ALICE", NULL, &until) == 0, "names are taken as given (the engine folds)");
	ok(lockout_check(lo, "bob", "10.0.0.1", &until) == 0, "other names are not throttled");
	ok(!lockout_failure(lo, "x", "10.0.0.9", "a", 1) && !lockout_failure(lo, "y", "10.0.0.9", "b", 1) &&
	    !lockout_failure(lo, "z", "10.0.0.9", "c", 1), "failures of three names from one address");
	ok(lockout_check(lo, "fresh", "10.0.0.9", &until) == 1, "per address: that address is throttled for any name");
	ok(lockout_check(lo, "fresh", NULL, &until) == 0, "... but the name is not");
	lockout_success(lo, "bob");
	ok(lockout_check(lo, "alice", NULL, &until) == 1, "another user's success changes nothing");
	ok(lockout_clear(path, "user", "alice", err, sizeof(err)) == 0 &&
	    lockout_check(lo, "alice", NULL, &until) == 0, "lockout_clear (cuttle user unlock) ends it");
	ok(!lockout_failure(lo, "carol", NULL, "p1", 2) && !lockout_failure(lo, "carol", NULL, "p2", 2), "two failures");
	lockout_success(lo, "carol");
	ok(!lockout_failure(lo, "carol", NULL, "p3", 2), "after a success the count starts again");
	ok(lockout_check(lo, "carol", NULL, &until) == 0, "... so one more is not a lockout");
	{
		/* The tags never hold the password. */
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "grep -aq same %s", path);
		ok(system(cmd) != 0, "state.db holds no password");
	}
	lockout_free(lo);
	lockout_free(NULL);
	conf_free(c);

	c = make_conf(3);
	{
		const char *e;
		if (conf_set(c, "lockout", "enabled", "no", &e) != 0)
			abort();
	}
	ok(lockout_new(c) == NULL, "enabled = no: no lockout at all");
	conf_free(c);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 99;
	}
	return tap_done();
}
