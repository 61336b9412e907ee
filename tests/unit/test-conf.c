#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "pwhash.h"
#include "tap.h"

static char path[] = "/tmp/cuttle-conf-XXXXXX";

static int
load_text(struct conf *c, const char *text, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return conf_load(c, path, true, err, errlen);
}

int
main(void)
{
	struct conf *c;
	char err[512], want[600];
	int fd;
	const char *e;

	if (pwhash_init() != 0)
		return 99;
	fd = mkstemp(path);
	close(fd);

	c = conf_new();
	is_str(c->store_path, CONF_DEFAULT_STORE, "default store path");
	is_str(c->squid_group, "proxy", "default group");
	ok(c->username_case == CONF_CASE_FOLD, "default folds names");
	ok(c->opslimit == pwhash_default_opslimit() && c->memlimit == pwhash_default_memlimit(),
	    "default hash limits are libsodium's interactive");

	ok(load_text(c, "# comment\n[store]\npath = /srv/x.db\nusername_case=exact\n"
	    "  busy_timeout = 5s  \n[hash]\nopslimit = 3\nmemlimit = 16M\n[auth]\nbackend = sqlite\n",
	    err, sizeof(err)) == 0, "valid file loads");
	is_str(c->store_path, "/srv/x.db", "path read");
	ok(c->username_case == CONF_CASE_EXACT, "username_case read");
	ok(c->busy_timeout == 5, "busy_timeout read");
	ok(c->opslimit == 3 && c->memlimit == 16u << 20, "hash limits read");

	ok(load_text(c, "[store]\nldap_ur = x\n", err, sizeof(err)) != 0, "unknown key refused");
	snprintf(want, sizeof(want), "%s:2: unknown key 'ldap_ur' in [store] (see cuttle.conf(5))", path);
	is_str(err, want, "unknown key names file:line");
	ok(load_text(c, "[store]\n\n[ldapp]\n", err, sizeof(err)) != 0, "unknown section refused");
	ok(strstr(err, ":3: unknown section [ldapp]") != NULL, "unknown section names the line: %s", err);
	ok(load_text(c, "path = /x\n", err, sizeof(err)) != 0 && strstr(err, ":1: key 'path' outside") != NULL,
	    "key outside a section refused");
	ok(load_text(c, "[store]\npath /x\n", err, sizeof(err)) != 0 && strstr(err, ":2: expected") != NULL,
	    "line without = refused");
	ok(load_text(c, "[store]\npath = relative.db\n", err, sizeof(err)) != 0 &&
	    strstr(err, "must be absolute") != NULL, "relative path refused");
	ok(load_text(c, "[hash]\nmemlimit = 1K\n", err, sizeof(err)) != 0, "memlimit below 8K refused");
	ok(load_text(c, "[hash]\nopslimit = fast\n", err, sizeof(err)) != 0, "bad opslimit refused");
	ok(load_text(c, "[auth]\nbackend = mysql\n", err, sizeof(err)) != 0, "unknown backend refused");

	/* [auth] workers, deadline, queue and [cache]: defaults, values, refusals. */
	{
		struct conf *d = conf_new();
		ok(d->workers == 0 && conf_workers(d) >= 1 && d->deadline_ms == 10000 &&
		    d->queue == 256, "[auth] defaults: workers auto (%d here), deadline 10s, queue 256",
		    conf_workers(d));
		ok(d->cache_ttl == 60 && d->cache_negative_ttl == 30 && d->cache_size == 65536 &&
		    conf_stale_max(d) == 0, "[cache] defaults: 60s, 30s, 65536, stale off for sqlite");
		ok(conf_set(d, "auth", "backend", "ldap", &e) == 0 && conf_stale_max(d) == 3600,
		    "stale_max auto is 1h with ldap");
		conf_free(d);
	}
	ok(load_text(c, "[auth]\nworkers = 3\ndeadline = 2s\nqueue = 9\n[cache]\nttl = 5m\n"
	    "negative_ttl = 0\nsize = 10\nstale_max = 2h\n", err, sizeof(err)) == 0 &&
	    c->workers == 3 && conf_workers(c) == 3 && c->deadline_ms == 2000 && c->queue == 9 &&
	    c->cache_ttl == 300 && c->cache_negative_ttl == 0 && c->cache_size == 10 &&
	    conf_stale_max(c) == 7200, "[auth] and [cache] values read");
	ok(load_text(c, "[auth]\nworkers = 0\n", err, sizeof(err)) != 0 &&
	    strstr(err, ":2: workers: workers must be auto or 1 to 256") != NULL,
	    "workers 0 refused, naming the line and the range (%s)", err);
	ok(load_text(c, "[auth]\ndeadline = 0s\n", err, sizeof(err)) != 0 &&
	    strstr(err, "deadline must be from 1s to 300s") != NULL, "deadline 0 refused (%s)", err);
	ok(load_text(c, "[auth]\nqueue = many\n", err, sizeof(err)) != 0 &&
	    strstr(err, "queue must be 1 to 100000") != NULL, "queue 'many' refused (%s)", err);
	ok(load_text(c, "[cache]\nttl = 8d\n", err, sizeof(err)) != 0 &&
	    strstr(err, "must be from 0 (off) to 7d") != NULL, "ttl past 7d refused (%s)", err);
	ok(load_text(c, "[cache]\nstale_max = soon\n", err, sizeof(err)) != 0,
	    "stale_max 'soon' refused (%s)", err);
	ok(load_text(c, "[cache]\nsize = -1\n", err, sizeof(err)) != 0 &&
	    strstr(err, "size must be 0 (off)") != NULL, "negative size refused (%s)", err);
	ok(load_text(c, "[cache]\nhits = 1\n", err, sizeof(err)) != 0 &&
	    strstr(err, "unknown key 'hits' in [cache]") != NULL, "unknown [cache] key refused");
	ok(load_text(c, "[store\n", err, sizeof(err)) != 0 && strstr(err, "malformed section") != NULL,
	    "malformed header refused");
	ok(conf_load(c, "/nonexistent/cuttle.conf", false, err, sizeof(err)) == 0,
	    "missing default config is fine");
	ok(conf_load(c, "/nonexistent/cuttle.conf", true, err, sizeof(err)) != 0 &&
	    strstr(err, "/nonexistent/cuttle.conf") != NULL, "missing explicit config names the file");
	ok(conf_set(c, "store", "username_case", "upper", &e) != 0, "conf_set validates");
	conf_free(c);
	conf_free(NULL);
	unlink(path);
	return tap_done();
}
