#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "audit.h"
#include "conf.h"
#include "pwhash.h"
#include "store.h"
#include "tap.h"

static char dir[] = "/tmp/cuttle-audit-XXXXXX";
static char path[300];

static char *
query(const char *sql)
{
	static char out[1024];
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t o = 0;

	out[0] = '\0';
	if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return out;
	while (sqlite3_step(st) == SQLITE_ROW && o < sizeof(out) - 2) {
		for (int i = 0; i < sqlite3_column_count(st); i++)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? "|" : "",
			    (const char *)sqlite3_column_text(st, i));
		o += (size_t)snprintf(out + o, sizeof(out) - o, "\n");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

int
main(void)
{
	struct conf *c = conf_new();
	struct audit *au;
	struct store *st;
	struct verdict v;
	char err[256], store_path[300];
	const char *e;

	umask(077);
	if (pwhash_init() != 0 || mkdtemp(dir) == NULL)
		return 99;
	snprintf(store_path, sizeof(store_path), "%s/cuttle.db", dir);
	snprintf(path, sizeof(path), "%s/audit.db", dir);
	if (conf_set(c, "store", "path", store_path, &e) != 0)
		return 99;
	if (store_open_schema(path, audit_migrations, STORE_CREATE, 1, &st, err, sizeof(err)) != STORE_OK ||
	    store_migrate(st, err, sizeof(err)) < 0)
		return 99;
	store_close(st);

	au = audit_new(c, "basic_cuttle_auth");
	ok(audit_due_ms(au) == -1, "nothing pending, nothing due");
	verdict_init(&v);
	verdict_set(&v, REASON_BAD_PASSWORD, "sqlite", NULL);
	v.latency_us = 10;
	for (int i = 0; i < 1000; i++)
		audit_record(au, "alice", 5, "10.0.0.1", &v);
	v.latency_us = 99;
	audit_record(au, "alice", 5, "10.0.0.1", &v);
	verdict_set(&v, REASON_OK, "sqlite", NULL);
	audit_record(au, "alice", 5, "10.0.0.1", &v);
	audit_record(au, "j\xc3\xbcrgen\nx", 9, NULL, &v);
	{
		char big[300];
		memset(big, 'a', sizeof(big));
		audit_record(au, big, sizeof(big), NULL, &v);
	}
	ok(audit_due_ms(au) >= 0 && audit_due_ms(au) <= AUDIT_FLUSH_MS, "records pending, a flush due within the interval");
	audit_flush(au, false);
	is_str(query("SELECT count(*) FROM decisions"), "0\n", "not written before the interval (batching)");
	audit_flush(au, true);
	is_str(query("SELECT count, result, reason, latency_us FROM decisions WHERE user = 'alice' ORDER BY id"),
	    "1001|err|bad_password|99\n1|ok|ok|99\n", "1001 identical failures: one row, counted, longest latency");
	is_str(query("SELECT user FROM decisions WHERE user LIKE 'j%'"), "j\xc3\xbcrgen?x\n",
	    "names kept in UTF-8, control characters made printable");
	is_str(query("SELECT length(user) FROM decisions WHERE user LIKE 'aaa%'"), "64\n", "names cut to 64 bytes");
	is_str(query("SELECT client FROM decisions WHERE user = 'alice' LIMIT 1"), "10.0.0.1\n", "client kept");
	ok(audit_dropped(au) == 0, "nothing dropped");

	verdict_init(&v);
	verdict_set(&v, REASON_BAD_PASSWORD, "sqlite", NULL);
	v.flags = VERDICT_F_REPEAT | VERDICT_F_CHECK;
	audit_record(au, "bob", 3, NULL, &v);
	audit_flush(au, true);
	is_str(query("SELECT flags FROM decisions WHERE user = 'bob'"), "repeat,check\n", "flags as words");
	audit_free(au);

	/* More distinct decisions than the pending table holds: none dropped. */
	au = audit_new(c, "ext_cuttle_acl");
	verdict_init(&v);
	verdict_set(&v, REASON_NOT_ALLOWED, "allow", NULL);
	for (int i = 0; i < AUDIT_PENDING_MAX + 1000; i++) {
		char client[32];
		snprintf(client, sizeof(client), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		audit_record(au, NULL, 0, client, &v);
	}
	audit_free(au);
	{
		char want[32];
		snprintf(want, sizeof(want), "%d\n", AUDIT_PENDING_MAX + 1000);
		is_str(query("SELECT sum(count) FROM decisions WHERE helper = 'ext_cuttle_acl'"), want,
		    "distinct decisions beyond the pending table are written, not dropped");
	}

	/* A store that cannot be opened: records dropped and counted, no crash. */
	if (conf_set(c, "audit", "path", "/nonexistent/audit.db", &e) != 0)
		return 99;
	au = audit_new(c, "x");
	audit_record(au, "carol", 5, NULL, &v);
	audit_record(au, "carol", 5, NULL, &v);
	audit_flush(au, true);
	ok(audit_dropped(au) == 2, "missing store: both records dropped and counted");
	audit_free(au);
	conf_free(c);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 99;
	}
	return tap_done();
}
