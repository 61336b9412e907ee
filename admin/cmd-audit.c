/* cuttle audit …: query, summarise and prune the audit log; explain a 407. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "audit.h"
#include "netlist.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 100000

static struct store *
open_audit(struct admin *a, int *exit_r)
{
	char path[4096], err[512];
	struct store *st;

	conf_audit_path(a->conf, path, sizeof(path));
	if (store_open_schema(path, audit_migrations, STORE_WRITE, a->conf->busy_timeout,
	    &st, err, sizeof(err)) != STORE_OK) {
		admin_err("%s", err);
		*exit_r = EXIT_STORE;
		return NULL;
	}
	return st;
}

/*
 * --since: a duration back from now ("1h", "7d"), a date (from its
 * midnight, UTC) or an RFC 3339 time. Into ms since the epoch.
 */
static int
parse_since(const char *cmd, const char *s, long long *ms_r)
{
	long long secs;
	time_t t;
	const char *why;

	if (util_parse_duration(s, &secs, &why) == 0) {
		*ms_r = (long long)audit_now_ms() - secs * 1000;
		return 0;
	}
	if (util_parse_expiry(s, &t, &why) != 0)
		return admin_usage(cmd, "--since %s: use a duration (1h, 7d), a date "
		    "(2026-11-30) or an RFC 3339 time", s);
	/* A bare date is valid through that day as an expiry: start at its midnight. */
	if (strlen(s) == 10)
		t -= 86400;
	*ms_r = (long long)t * 1000;
	return 0;
}

static void
format_ms(long long ms, char buf[static 32])
{
	util_format_time((time_t)(ms / 1000), buf);
}

/* One decision row: id first last count helper user client result reason backend flags latency detail. */
enum { C_ID, C_FIRST, C_LAST, C_COUNT, C_HELPER, C_USER, C_CLIENT, C_RESULT, C_REASON,
	C_BACKEND, C_FLAGS, C_LATENCY, C_DETAIL, C_N };

struct rows {
	char **cells;		/* C_N strings per row */
	size_t n, cap;
	bool have_prefix;
	struct netprefix prefix;
	long long limit;
	bool failed;
};

static int
keep_row(const char *const *c, int ncols, void *vctx)
{
	struct rows *r = vctx;
	struct netaddr a;

	(void)ncols;
	if (r->have_prefix && (netaddr_parse(c[C_CLIENT], &a) != 0 ||
	    !netprefix_contains(&r->prefix, &a)))
		return 0;
	if (r->n == r->cap) {
		size_t cap = r->cap == 0 ? 64 : r->cap * 2;
		char **cells = realloc(r->cells, cap * C_N * sizeof(*cells));
		if (cells == NULL) {
			r->failed = true;
			return 1;
		}
		r->cells = cells;
		r->cap = cap;
	}
	for (int i = 0; i < C_N; i++)
		if ((r->cells[r->n * C_N + i] = strdup(c[i])) == NULL) {
			r->failed = true;
			return 1;
		}
	r->n++;
	return (long long)r->n >= r->limit;
}

static void
free_rows(struct rows *r)
{
	for (size_t i = 0; i < r->n * C_N; i++)
		free(r->cells[i]);
	free(r->cells);
	r->cells = NULL;
	r->n = r->cap = 0;
}

static void
print_row(char **c, bool json, bool first)
{
	char t[32], f[32];

	format_ms(strtoll(c[C_LAST], NULL, 10), t);
	format_ms(strtoll(c[C_FIRST], NULL, 10), f);
	if (!json) {
		printf("%-20s %5s %-17s %-16s %-15s %-3s %-15s %-7s %-6s %s\n", t, c[C_COUNT],
		    c[C_HELPER], c[C_USER][0] != '\0' ? c[C_USER] : "-",
		    c[C_CLIENT][0] != '\0' ? c[C_CLIENT] : "-", c[C_RESULT], c[C_REASON],
		    c[C_BACKEND][0] != '\0' ? c[C_BACKEND] : "-",
		    c[C_FLAGS][0] != '\0' ? c[C_FLAGS] : "-", c[C_DETAIL]);
		return;
	}
	printf("%s{\"id\":%s,\"time\":\"%s\",\"first\":\"%s\",\"count\":%s,\"helper\":",
	    first ? "" : ",\n", c[C_ID], t, f, c[C_COUNT]);
	admin_json_string(stdout, c[C_HELPER]);
	fputs(",\"user\":", stdout);
	admin_json_string(stdout, c[C_USER]);
	fputs(",\"client\":", stdout);
	admin_json_string(stdout, c[C_CLIENT]);
	printf(",\"result\":\"%s\",\"reason\":\"%s\",\"backend\":", c[C_RESULT], c[C_REASON]);
	admin_json_string(stdout, c[C_BACKEND]);
	fputs(",\"flags\":[", stdout);
	for (const char *p = c[C_FLAGS]; *p != '\0';) {
		size_t len = strcspn(p, ",");
		printf("%s\"%.*s\"", p == c[C_FLAGS] ? "" : ",", (int)len, p);
		p += len + (p[len] == ',');
	}
	printf("],\"latency_us\":%s,\"detail\":", c[C_LATENCY]);
	admin_json_string(stdout, c[C_DETAIL]);
	fputs("}", stdout);
}

static const char DECISION_COLUMNS[] = "id, first, last, count, helper, user, client, "
    "result, reason, backend, flags, latency_us, detail";

struct audit_query {
	const char *user, *ip, *result, *reason, *since, *limit;
	bool json, follow, admin, squid;
};

/* Access records from log_cuttle_daemon: what Squid answered. */
static int
show_squid(struct store *st, const struct audit_query *q, struct rows *r, long long since)
{
	char sincebuf[24], err[512];
	const char *args[2] = { q->user, sincebuf };
	int rc;

	snprintf(sincebuf, sizeof(sincebuf), "%lld", since);
	/* Columns placed where the decision printer's plumbing expects them. */
	rc = store_read(st, "SELECT id, at, at, status, method, user, client, host, reason, "
	    "'', '', 0, '' FROM squid_access WHERE (?1 IS NULL OR user = ?1 OR lower(user) = lower(?1)) "
	    "AND at >= ?2 ORDER BY id DESC", args, 2, keep_row, r, err, sizeof(err));
	if (rc != STORE_OK || r->failed) {
		admin_err("%s", rc != STORE_OK ? err : "out of memory");
		free_rows(r);
		return EXIT_STORE;
	}
	if (q->json)
		fputs("[\n", stdout);
	else
		printf("%-20s %-15s %-16s %6s %-7s %s\n", "TIME", "CLIENT", "USER", "STATUS",
		    "METHOD", "HOST (REASON)");
	for (size_t i = r->n; i-- > 0;) {
		char **c = r->cells + i * C_N, t[32];
		format_ms(strtoll(c[1], NULL, 10), t);
		if (q->json) {
			printf("%s{\"time\":\"%s\",\"client\":", i + 1 == r->n ? "" : ",\n", t);
			admin_json_string(stdout, c[6]);
			fputs(",\"user\":", stdout);
			admin_json_string(stdout, c[5]);
			printf(",\"status\":%s,\"method\":", c[3]);
			admin_json_string(stdout, c[4]);
			fputs(",\"host\":", stdout);
			admin_json_string(stdout, c[7]);
			fputs(",\"reason\":", stdout);
			admin_json_string(stdout, c[8]);
			fputs("}", stdout);
		} else {
			printf("%-20s %-15s %-16s %6s %-7s %s%s%s%s\n", t, c[6][0] ? c[6] : "-",
			    c[5][0] ? c[5] : "-", c[3], c[4], c[7], c[8][0] ? " (" : "", c[8],
			    c[8][0] ? ")" : "");
		}
	}
	if (q->json)
		fputs(r->n > 0 ? "\n]\n" : "]\n", stdout);
	free_rows(r);
	return EXIT_DONE;
}

static int
show_admin_changes(struct store *st, const struct audit_query *q, long long since,
    long long limit)
{
	/* Reuse the row printer's plumbing by hand: few columns here. */
	char sincebuf[24], limbuf[24], err[512];
	const char *args[2] = { sincebuf, limbuf };
	struct rows r = { 0 };
	int rc;

	snprintf(sincebuf, sizeof(sincebuf), "%lld", since);
	snprintf(limbuf, sizeof(limbuf), "%lld", limit);
	r.limit = limit;
	rc = store_read(st, "SELECT id, at, at, status, uid, sudo_user, command, '', '', '', '', 0, '' "
	    "FROM admin_changes WHERE at >= ?1 ORDER BY id DESC LIMIT ?2", args, 2, keep_row, &r,
	    err, sizeof(err));
	if (rc != STORE_OK || r.failed) {
		admin_err("%s", rc != STORE_OK ? err : "out of memory");
		free_rows(&r);
		return EXIT_STORE;
	}
	if (q->json)
		fputs("[\n", stdout);
	else
		printf("%-20s %6s %-12s %6s %s\n", "TIME", "UID", "SUDO_USER", "STATUS", "COMMAND");
	for (size_t i = r.n; i-- > 0;) {
		char **c = r.cells + i * C_N, t[32];
		format_ms(strtoll(c[1], NULL, 10), t);
		if (q->json) {
			printf("%s{\"time\":\"%s\",\"uid\":%s,\"sudo_user\":", i + 1 == r.n ? "" : ",\n",
			    t, c[4]);
			admin_json_string(stdout, c[5]);
			fputs(",\"command\":", stdout);
			admin_json_string(stdout, c[6]);
			printf(",\"status\":%s}", c[3]);
		} else {
			printf("%-20s %6s %-12s %6s %s\n", t, c[4], c[5][0] != '\0' ? c[5] : "-", c[3], c[6]);
		}
	}
	if (q->json)
		fputs(r.n > 0 ? "\n]\n" : "]\n", stdout);
	free_rows(&r);
	return EXIT_DONE;
}

static volatile sig_atomic_t stop_follow;

static void
on_signal(int sig)
{
	(void)sig;
	stop_follow = 1;
}

int
cmd_audit(struct admin *a, int argc, char **argv)
{
	struct audit_query q = { 0 };
	const struct admin_opt opts[] = {
		{ "--user", &q.user, NULL, NULL, NULL, 0 },
		{ "--ip", &q.ip, NULL, NULL, NULL, 0 },
		{ "--result", &q.result, NULL, NULL, NULL, 0 },
		{ "--reason", &q.reason, NULL, NULL, NULL, 0 },
		{ "--since", &q.since, NULL, NULL, NULL, 0 },
		{ "--limit", &q.limit, NULL, NULL, NULL, 0 },
		{ "--json", NULL, &q.json, NULL, NULL, 0 },
		{ "--follow", NULL, &q.follow, NULL, NULL, 0 },
		{ "--admin", NULL, &q.admin, NULL, NULL, 0 },
		{ "--squid", NULL, &q.squid, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	char sql[1024], sincebuf[24], minid[24] = "0", err[512];
	const char *args[6], *why;
	long long since = 0, limit = LIMIT_DEFAULT;
	struct rows r = { 0 };
	enum reason reason;
	struct store *st;
	int ex, rc;
	bool printed = false;

	if ((ex = admin_parse("audit", argc, argv, opts, NULL, 0, 0)) != 0)
		return ex;
	if (q.since != NULL && (ex = parse_since("audit", q.since, &since)) != 0)
		return ex;
	if (q.limit != NULL && util_strtonum(q.limit, 1, LIMIT_MAX, &limit, &why) != 0)
		return admin_usage("audit", "--limit %s: %s (1 to %d)", q.limit, why, LIMIT_MAX);
	if (q.result != NULL && strcmp(q.result, "ok") != 0 && strcmp(q.result, "err") != 0 &&
	    strcmp(q.result, "bh") != 0)
		return admin_usage("audit", "--result %s: use ok, err or bh", q.result);
	if (q.reason != NULL && reason_parse(q.reason, &reason) != 0)
		return admin_usage("audit", "--reason %s: not a reason code (see basic_cuttle_auth(8))",
		    q.reason);
	if (q.ip != NULL) {
		if (netprefix_parse(q.ip, &r.prefix, err, sizeof(err)) != 0)
			return admin_usage("audit", "--ip: %s", err);
		r.have_prefix = true;
	}
	if ((st = open_audit(a, &ex)) == NULL)
		return ex;
	if (q.admin) {
		ex = show_admin_changes(st, &q, since, limit);
		store_close(st);
		return ex;
	}
	if (q.squid) {
		r.limit = limit;
		ex = show_squid(st, &q, &r, since);
		store_close(st);
		return ex;
	}
	snprintf(sincebuf, sizeof(sincebuf), "%lld", since);
	args[0] = q.user;
	args[1] = q.result;
	args[2] = q.reason;
	args[3] = sincebuf;
	args[4] = minid;
	/* The newest first, then printed oldest first. */
	snprintf(sql, sizeof(sql), "SELECT %s FROM decisions WHERE (?1 IS NULL OR user = ?1) "
	    "AND (?2 IS NULL OR result = ?2) AND (?3 IS NULL OR reason = ?3) AND last >= ?4 "
	    "AND id > ?5 ORDER BY id DESC", DECISION_COLUMNS);
	if (!q.json && !q.follow)
		printf("%-20s %5s %-17s %-16s %-15s %-3s %-15s %-7s %-6s %s\n", "TIME", "COUNT",
		    "HELPER", "USER", "CLIENT", "RES", "REASON", "BACKEND", "FLAGS", "DETAIL");
	if (q.json)
		fputs("[\n", stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (;;) {
		r.limit = q.follow && printed ? LIMIT_MAX : limit;
		rc = store_read(st, sql, args, 5, keep_row, &r, err, sizeof(err));
		if (rc != STORE_OK || r.failed) {
			admin_err("%s", rc != STORE_OK ? err : "out of memory");
			free_rows(&r);
			store_close(st);
			return EXIT_STORE;
		}
		for (size_t i = r.n; i-- > 0;) {
			print_row(r.cells + i * C_N, q.json, !printed && i + 1 == r.n);
			if (strtoll(r.cells[i * C_N + C_ID], NULL, 10) > strtoll(minid, NULL, 10))
				snprintf(minid, sizeof(minid), "%s", r.cells[i * C_N + C_ID]);
		}
		if (r.n > 0)
			printed = true;
		free_rows(&r);
		fflush(stdout);
		if (!q.follow || stop_follow)
			break;
		sleep(1);
		if (stop_follow)
			break;
	}
	if (q.json)
		fputs(printed ? "\n]\n" : "]\n", stdout);
	store_close(st);
	return EXIT_DONE;
}

struct stat_ctx {
	bool json;
	int n;
	const char *section;
};

static int
print_stat(const char *const *c, int ncols, void *vctx)
{
	struct stat_ctx *s = vctx;

	if (s->json) {
		fputs(s->n == 0 ? "" : ",", stdout);
		if (ncols == 3)
			printf("{\"result\":\"%s\",\"reason\":\"%s\",\"count\":%s}", c[0], c[1], c[2]);
		else {
			fputs("{\"name\":", stdout);
			admin_json_string(stdout, c[0]);
			printf(",\"failures\":%s}", c[1]);
		}
	} else if (ncols == 3) {
		printf("  %-4s %-16s %10s\n", c[0], c[1], c[2]);
	} else {
		printf("  %-40s %10s\n", c[0], c[1]);
	}
	s->n++;
	return 0;
}

int
cmd_audit_stats(struct admin *a, int argc, char **argv)
{
	const char *since_arg = NULL;
	bool json = false;
	const struct admin_opt opts[] = {
		{ "--since", &since_arg, NULL, NULL, NULL, 0 },
		{ "--json", NULL, &json, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	static const struct {
		const char *title, *key, *sql;
	} parts[] = {
		{ "decisions by result and reason", "by_reason",
		  "SELECT result, reason, sum(count) FROM decisions WHERE last >= ?1 "
		  "GROUP BY result, reason ORDER BY sum(count) DESC" },
		{ "top failing users", "top_users",
		  "SELECT user, sum(count) FROM decisions WHERE last >= ?1 AND result = 'err' "
		  "AND user != '' GROUP BY user ORDER BY sum(count) DESC LIMIT 10" },
		{ "top failing addresses", "top_addresses",
		  "SELECT client, sum(count) FROM decisions WHERE last >= ?1 AND result = 'err' "
		  "AND client != '' GROUP BY client ORDER BY sum(count) DESC LIMIT 10" },
	};
	long long since = 0;
	char sincebuf[24], err[512];
	const char *args[1] = { sincebuf };
	struct store *st;
	int ex;

	if ((ex = admin_parse("audit stats", argc, argv, opts, NULL, 0, 0)) != 0)
		return ex;
	if (since_arg != NULL && (ex = parse_since("audit stats", since_arg, &since)) != 0)
		return ex;
	if ((st = open_audit(a, &ex)) == NULL)
		return ex;
	snprintf(sincebuf, sizeof(sincebuf), "%lld", since);
	if (json)
		fputs("{", stdout);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		struct stat_ctx s = { json, 0, parts[i].key };
		if (json)
			printf("%s\"%s\":[", i > 0 ? "," : "", parts[i].key);
		else
			printf("%s%s:\n", i > 0 ? "\n" : "", parts[i].title);
		if (store_read(st, parts[i].sql, args, 1, print_stat, &s, err, sizeof(err)) != STORE_OK) {
			admin_err("%s", err);
			store_close(st);
			return EXIT_STORE;
		}
		if (json)
			fputs("]", stdout);
		else if (s.n == 0)
			printf("  (none)\n");
	}
	if (json)
		fputs("}\n", stdout);
	store_close(st);
	return EXIT_DONE;
}

int
cmd_audit_prune(struct admin *a, int argc, char **argv)
{
	const char *older = NULL, *why;
	const struct admin_opt opts[] = {
		{ "--older-than", &older, NULL, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	char before[24], err[512];
	const char *args[1] = { before };
	long long secs;
	struct store *st;
	int ex, rc, n = 0;

	if ((ex = admin_parse("audit prune", argc, argv, opts, NULL, 0, 0)) != 0)
		return ex;
	if (older == NULL)
		return admin_usage("audit prune", "--older-than DURATION is required (e.g. 90d)");
	if (util_parse_duration(older, &secs, &why) != 0)
		return admin_usage("audit prune", "--older-than %s: %s", older, why);
	if ((st = open_audit(a, &ex)) == NULL)
		return ex;
	snprintf(before, sizeof(before), "%lld", (long long)audit_now_ms() - secs * 1000);
	if ((rc = store_begin(st, err, sizeof(err))) == STORE_OK) {
		rc = store_write(st, "DELETE FROM decisions WHERE last < ?1", args, 1, err, sizeof(err));
		n = rc == STORE_OK ? 1 : 0;
		if (rc == STORE_OK || rc == STORE_ENOTFOUND)
			rc = store_write(st, "DELETE FROM squid_access WHERE at < ?1", args, 1, err,
			    sizeof(err));
		if (rc == STORE_OK || rc == STORE_ENOTFOUND)
			rc = store_write(st, "DELETE FROM admin_changes WHERE at < ?1", args, 1, err,
			    sizeof(err));
		if (rc == STORE_OK || rc == STORE_ENOTFOUND)
			rc = store_commit(st, err, sizeof(err));
	}
	store_rollback(st);
	store_close(st);
	if (rc != STORE_OK) {
		admin_err("%s", err);
		return EXIT_STORE;
	}
	admin_err("pruned audit records older than %s%s", older, n ? "" : " (there were none)");
	return EXIT_DONE;
}

/* Record a change made with the CLI in audit.db: who, what, and how it ended. */
void
admin_log_change(struct admin *a, int argc, char **argv, int status)
{
	char cmd[1024], at[24], uid[24], st_s[16], err[512];
	const char *sudo = getenv("SUDO_USER");
	const char *args[5] = { at, uid, sudo != NULL ? sudo : "", cmd, st_s };
	struct store *st;
	size_t o = 0;
	int ex;

	cmd[0] = '\0';
	/* Passwords never are arguments, so the command line can be kept. */
	for (int i = 0; i < argc && o < sizeof(cmd); i++)
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, "%s%s", i > 0 ? " " : "", argv[i]);
	util_printable(cmd, sizeof(cmd), cmd, strlen(cmd), sizeof(cmd) - 1);
	snprintf(at, sizeof(at), "%lld", (long long)audit_now_ms());
	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	snprintf(st_s, sizeof(st_s), "%d", status);
	if ((st = open_audit(a, &ex)) == NULL)
		return;
	if (store_write(st, "INSERT INTO admin_changes (at, uid, sudo_user, command, status) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)", args, 5, err, sizeof(err)) != STORE_OK)
		admin_err("warning: the change was made but not recorded in the audit log: %s", err);
	store_close(st);
}
