#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "engine.h"
#include "pwhash.h"
#include "store.h"
#include "tap.h"

static char dir[] = "/tmp/cuttle-engine-XXXXXX";
static char path[256];
static struct request req;
static struct verdict v;

static struct conf *
test_conf(void)
{
	struct conf *c = conf_new();
	const char *e;

	if (conf_set(c, "store", "path", path, &e) != 0 ||
	    conf_set(c, "hash", "opslimit", "1", &e) != 0 ||
	    conf_set(c, "hash", "memlimit", "8K", &e) != 0)
		abort();
	return c;
}

static void
add_user(const char *name, const char *pw, bool disabled, bool locked,
    long long locked_until, long long expires, unsigned long long ops)
{
	struct store *st;
	struct store_user u;
	char err[256];

	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	if (pwhash_make(pw, strlen(pw), ops, 8192, u.hash) != 0 ||
	    store_open(path, STORE_WRITE, 1, &st, err, sizeof(err)) != STORE_OK)
		abort();
	u.disabled = disabled;
	u.locked = locked;
	u.locked_until = locked_until;
	u.expires = expires;
	u.created = u.updated = u.password_changed = 1;
	if (store_user_add(st, &u, err, sizeof(err)) != STORE_OK)
		abort();
	store_close(st);
}

static const char *
decide(struct engine *e, const char *line)
{
	static char out[PROTO_LINE_MAX];

	enum proto_channel mode = PROTO_CHANNEL_AUTO;

	proto_parse_basic(&req, line, strlen(line), &mode, 0);
	engine_decide(e, &req, &v);
	engine_before_reply(e, &req, &v);
	proto_format_reply(out, sizeof(out), &req, &v);
	engine_after_reply(e, &req, &v);
	out[strlen(out) - 1] = '\0';
	return out;
}

static void
make_store(void)
{
	struct store *st;
	char err[256];

	if (store_open(path, STORE_CREATE, 1, &st, err, sizeof(err)) != STORE_OK ||
	    store_migrate(st, err, sizeof(err)) < 0)
		abort();
	store_close(st);
}

int
main(void)
{
	struct engine *e;
	struct store *st;
	struct store_user u;
	char err[256];
	long long now = (long long)time(NULL);

	umask(077);
	if (pwhash_init() != 0 || mkdtemp(dir) == NULL)
		return 99;
	snprintf(path, sizeof(path), "%s/cuttle.db", dir);

	e = engine_new(test_conf(), NULL);
	decide(e, "alice pw");
	ok(v.reason == REASON_BACKEND_DOWN && strstr(v.detail, "cuttle init") != NULL,
	    "missing store: BH backend_down naming cuttle init: %s", v.detail);

	make_store();
	add_user("alice", "right pw", false, false, 0, 0, 1);
	add_user("dis", "pw", true, false, 0, 0, 1);
	add_user("lock", "pw", false, true, 0, 0, 1);
	add_user("lockpast", "pw", false, true, now - 10, 0, 1);
	add_user("lockfuture", "pw", false, true, now + 3600, 0, 1);
	add_user("exp", "pw", false, false, 0, now - 1, 1);
	add_user("expfuture", "pw", false, false, 0, now + 3600, 1);
	add_user("old", "pw", false, false, 0, 0, 2);

	is_str(decide(e, "alice right%20pw"), "OK reason_=ok", "store appeared: helper recovered");
	is_str(decide(e, "ALICE right%20pw"), "OK reason_=ok", "name folded");
	is_str(decide(e, "alice wrong"), "ERR reason_=bad_password Invalid username or password", "wrong password");
	is_str(decide(e, "nobody right%20pw"), "ERR reason_=unknown_user Invalid username or password", "unknown user");
	is_str(decide(e, "alice "), "ERR reason_=bad_password Invalid username or password", "empty password");
	is_str(decide(e, "dis pw"), "ERR reason_=disabled Account disabled", "disabled, right password");
	is_str(decide(e, "dis nope"), "ERR reason_=bad_password Invalid username or password",
	    "disabled, wrong password: generic, reason bad_password");
	is_str(decide(e, "lock pw"), "ERR reason_=locked Account locked", "locked");
	is_str(decide(e, "lockfuture pw"), "ERR reason_=locked Account locked", "timed lock in force");
	is_str(decide(e, "lockpast pw"), "OK reason_=ok", "timed lock ended");
	is_str(decide(e, "exp pw"), "ERR reason_=expired Account expired", "expired");
	is_str(decide(e, "expfuture pw"), "OK reason_=ok", "not yet expired");
	is_str(decide(e, "al%00ice pw"), "BH reason_=bad_request bad request: NUL byte in user name or password",
	    "NUL is bad_request");
	{
		char name[400];
		memset(name, 'a', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		char line[500];
		snprintf(line, sizeof(line), "%s pw", name);
		is_str(decide(e, line), "ERR reason_=unknown_user Invalid username or password",
		    "overlong name is just unknown");
	}

	/* Rehash on login: "old" was hashed with opslimit 2, config says 1. */
	is_str(decide(e, "old pw"), "OK reason_=ok", "old-parameter hash verifies");
	if (store_open(path, STORE_READ, 1, &st, err, sizeof(err)) != STORE_OK)
		abort();
	ok(store_user_get(st, "old", &u, err, sizeof(err)) == 1 && !pwhash_needs_rehash(u.hash, 1, 8192),
	    "re-hashed with the configured limits after the reply");
	ok(pwhash_verify(u.hash, "pw", 2), "new hash verifies the same password");
	store_close(st);
	ok(v.rehash_from[0] == '\0', "rehash source cleared");
	engine_free(e);

	/* username_case = exact */
	{
		struct conf *c = test_conf();
		const char *er;
		if (conf_set(c, "store", "username_case", "exact", &er) != 0)
			abort();
		e = engine_new(c, NULL);
		is_str(decide(e, "ALICE right%20pw"), "ERR reason_=unknown_user Invalid username or password",
		    "exact case: ALICE is not alice");
		is_str(decide(e, "alice right%20pw"), "OK reason_=ok", "exact case: alice");
		engine_free(e);
	}

	/* A broken setup answers BH naming the problem, every time. */
	e = engine_new(test_conf(), "unknown option '--bogus'");
	is_str(decide(e, "alice right%20pw"), "BH reason_=backend_error config error: unknown option '--bogus'",
	    "setup error answered as BH");
	is_str(decide(e, "5 alice right%20pw"), "5 BH reason_=backend_error config error: unknown option '--bogus'",
	    "setup error keeps channel IDs");
	engine_free(e);

	/* Store replaced by garbage: BH backend_error, then recovery. */
	e = engine_new(test_conf(), NULL);
	is_str(decide(e, "alice right%20pw"), "OK reason_=ok", "before corruption");
	{
		char moved[300];
		snprintf(moved, sizeof(moved), "%s.good", path);
		rename(path, moved);
		FILE *f = fopen(path, "w");
		fputs("garbage garbage garbage garbage garbage garbage garbage garbage garbage", f);
		fclose(f);
		sleep(1);
		usleep(100000);
		decide(e, "alice right%20pw");
		ok(v.result == RESULT_BH && v.reason == REASON_BACKEND_ERROR,
		    "corrupt store: BH backend_error (%s)", v.detail);
		rename(moved, path);
		is_str(decide(e, "alice right%20pw"), "OK reason_=ok", "recovered once the store is back");
	}
	engine_free(e);
	engine_free(NULL);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 99;
	}
	return tap_done();
}
