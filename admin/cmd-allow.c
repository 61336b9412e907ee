/* cuttle allow …: the IP allow lists ext_cuttle_acl lets in without a login. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "netlist.h"

#define DEFAULT_LIST "default"

struct entry {
	char cidr[64];
	char comment[ADMIN_COMMENT_MAX + 1];
	char expires[32];	/* "" or seconds since the epoch */
};

struct allow_job {
	const char *list;
	struct entry *entries;
	size_t n;
	bool replace;
	bool overwrite;		/* allow add: set comment and expiry again */
	const char *del;	/* for allow del */
};

/* Parse CIDR into its canonical text, or print why. */
static int
canonical(const char *cmd, const char *where, const char *in, char out[static 64])
{
	struct netprefix p;
	char err[256];

	if (netprefix_parse(in, &p, err, sizeof(err)) != 0) {
		if (where != NULL)
			admin_err("%s: %s", where, err);
		else
			admin_usage(cmd, "%s", err);
		return EXIT_USAGE;
	}
	netprefix_format(&p, out);
	return 0;
}

static int
put_entries(struct store *st, void *vctx, char *err, size_t errlen)
{
	struct allow_job *job = vctx;
	char now[32];
	int rc;

	snprintf(now, sizeof(now), "%lld", (long long)util_now());
	if (job->replace) {
		const char *args[1] = { job->list };
		rc = store_write(st, "DELETE FROM allow WHERE list = ?1", args, 1, err, errlen);
		if (rc != STORE_OK && rc != STORE_ENOTFOUND)
			return EXIT_STORE;
	}
	for (size_t i = 0; i < job->n; i++) {
		const struct entry *e = &job->entries[i];
		const char *args[5] = { job->list, e->cidr, e->comment,
		    e->expires[0] != '\0' ? e->expires : NULL, now };
		/*
		 * `allow add` of an entry that is there sets its comment and
		 * expiry again; an import leaves what is there as it is.
		 */
		rc = store_write(st, job->overwrite ?
		    "INSERT INTO allow (list, cidr, comment, expires, created) "
		    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (list, cidr) DO UPDATE SET "
		    "comment = excluded.comment, expires = excluded.expires" :
		    "INSERT INTO allow (list, cidr, comment, expires, created) "
		    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (list, cidr) DO NOTHING",
		    args, 5, err, errlen);
		if (rc != STORE_OK && rc != STORE_ENOTFOUND)
			return EXIT_STORE;
	}
	return store_bump(st, "allow", err, errlen) == STORE_OK ? EXIT_DONE : EXIT_STORE;
}

static int
list_name(const char *cmd, const char **list)
{
	if (*list == NULL)
		*list = DEFAULT_LIST;
	return admin_check_name(cmd, "--list", *list);
}

static int
expiry(const char *cmd, const char *arg, char out[static 32])
{
	time_t t;
	const char *why;

	out[0] = '\0';
	if (arg == NULL)
		return 0;
	if (util_parse_expiry(arg, &t, &why) != 0)
		return admin_usage(cmd, "--expires %s: %s", arg, why);
	snprintf(out, 32, "%lld", (long long)t);
	return 0;
}

int
cmd_allow_add(struct admin *a, int argc, char **argv)
{
	const char *pos[1], *list = NULL, *comment = NULL, *expires = NULL;
	const struct admin_opt opts[] = {
		{ "--list", &list, NULL, NULL, NULL, 0 },
		{ "--comment", &comment, NULL, NULL, NULL, 0 },
		{ "--expires", &expires, NULL, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	struct entry e;
	struct allow_job job = { NULL, &e, 1, false, true, NULL };
	int ex;

	memset(&e, 0, sizeof(e));
	if ((ex = admin_parse("allow add", argc, argv, opts, pos, 1, 1)) != 0 ||
	    (ex = list_name("allow add", &list)) != 0 ||
	    (ex = canonical("allow add", NULL, pos[0], e.cidr)) != 0 ||
	    (ex = expiry("allow add", expires, e.expires)) != 0)
		return ex;
	if (comment != NULL && (ex = admin_check_comment("allow add", comment)) != 0)
		return ex;
	snprintf(e.comment, sizeof(e.comment), "%s", comment != NULL ? comment : "");
	job.list = list;
	if ((ex = admin_write(a, put_entries, &job)) == EXIT_DONE)
		admin_err("allowed %s on list '%s'", e.cidr, list);
	return ex;
}

static int
del_entry(struct store *st, void *vctx, char *err, size_t errlen)
{
	struct allow_job *job = vctx;
	const char *args[2] = { job->list, job->del };
	int rc = store_write(st, "DELETE FROM allow WHERE list = ?1 AND cidr = ?2", args, 2,
	    err, errlen);

	if (rc == STORE_ENOTFOUND) {
		admin_err("%s is not on list '%s'", job->del, job->list);
		return EXIT_NO;
	}
	if (rc != STORE_OK)
		return EXIT_STORE;
	return store_bump(st, "allow", err, errlen) == STORE_OK ? EXIT_DONE : EXIT_STORE;
}

int
cmd_allow_del(struct admin *a, int argc, char **argv)
{
	const char *pos[1], *list = NULL;
	const struct admin_opt opts[] = {
		{ "--list", &list, NULL, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	char cidr[64];
	struct allow_job job = { NULL, NULL, 0, false, false, cidr };
	int ex;

	if ((ex = admin_parse("allow del", argc, argv, opts, pos, 1, 1)) != 0 ||
	    (ex = list_name("allow del", &list)) != 0 ||
	    (ex = canonical("allow del", NULL, pos[0], cidr)) != 0)
		return ex;
	job.list = list;
	if ((ex = admin_write(a, del_entry, &job)) == EXIT_DONE)
		admin_err("removed %s from list '%s'", cidr, list);
	return ex;
}


static int
print_entry(const char *const *c, int n, void *vctx)
{
	struct admin_list *ctx = vctx;
	char exp[32] = "-", created[32];

	(void)n;
	if (c[3][0] != '\0')
		util_format_time((time_t)strtoll(c[3], NULL, 10), exp);
	util_format_time((time_t)strtoll(c[4], NULL, 10), created);
	if (ctx->json) {
		fputs(ctx->count == 0 ? "[\n{\"list\":" : ",\n{\"list\":", stdout);
		admin_json_string(stdout, c[0]);
		fputs(",\"cidr\":", stdout);
		admin_json_string(stdout, c[1]);
		fputs(",\"comment\":", stdout);
		admin_json_string(stdout, c[2]);
		if (c[3][0] != '\0')
			printf(",\"expires\":\"%s\"", exp);
		else
			fputs(",\"expires\":null", stdout);
		printf(",\"created\":\"%s\"}", created);
	} else {
		if (ctx->count == 0)
			printf("%-16s %-40s %-20s %s\n", "LIST", "CIDR", "EXPIRES", "COMMENT");
		printf("%-16s %-40s %-20s %s\n", c[0], c[1], exp, c[2]);
	}
	ctx->count++;
	return 0;
}

int
cmd_allow_list(struct admin *a, int argc, char **argv)
{
	const char *list = NULL;
	bool json = false;
	const struct admin_opt opts[] = {
		{ "--list", &list, NULL, NULL, NULL, 0 },
		{ "--json", NULL, &json, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	struct admin_list ctx = { false, 0 };
	const char *args[1];
	int ex;

	if ((ex = admin_parse("allow list", argc, argv, opts, NULL, 0, 0)) != 0)
		return ex;
	if (list != NULL && (ex = admin_check_name("allow list", "--list", list)) != 0)
		return ex;
	ctx.json = json;
	args[0] = list;
	return admin_list(a, "SELECT list, cidr, comment, expires, created FROM allow "
	    "WHERE ?1 IS NULL OR list = ?1 ORDER BY list, cidr", args, 1, print_entry, &ctx);
}

/* Read every entry of file (or stdin for "-"); all or nothing. */
static int
read_entries(const char *file, struct allow_job *job)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	char line[1024], where[600];
	unsigned lineno = 0;
	size_t cap = 0;
	int ex = 0;

	if (f == NULL) {
		admin_err("%s: %s", file, strerror(errno));
		return EXIT_USAGE;
	}
	while (ex == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *hash, *end;
		struct entry *e;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", strcmp(file, "-") == 0 ? "stdin" : file, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			admin_err("%s: line too long", where);
			ex = EXIT_USAGE;
			break;
		}
		if ((hash = strchr(p, '#')) != NULL)
			*hash = '\0';
		p += strspn(p, " \t\r\n");
		end = p + strcspn(p, " \t\r\n");
		if (*(end + strspn(end, " \t\r\n")) != '\0') {
			admin_err("%s: one address or prefix per line (comments start with #)", where);
			ex = EXIT_USAGE;
			break;
		}
		*end = '\0';
		if (*p == '\0')
			continue;
		if (job->n == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			e = realloc(job->entries, cap * sizeof(*e));
			if (e == NULL) {
				admin_err("out of memory");
				ex = EXIT_STORE;
				break;
			}
			job->entries = e;
		}
		e = &job->entries[job->n];
		memset(e, 0, sizeof(*e));
		if ((ex = canonical("allow import", where, p, e->cidr)) != 0)
			break;
		job->n++;
	}
	if (ex == 0 && ferror(f)) {
		admin_err("%s: read error", file);
		ex = EXIT_STORE;
	}
	if (f != stdin)
		fclose(f);
	return ex;
}

int
cmd_allow_import(struct admin *a, int argc, char **argv)
{
	const char *pos[1], *list = NULL;
	bool replace = false;
	const struct admin_opt opts[] = {
		{ "--list", &list, NULL, NULL, NULL, 0 },
		{ "--replace", NULL, &replace, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	struct allow_job job = { NULL, NULL, 0, false, false, NULL };
	int ex;

	if ((ex = admin_parse("allow import", argc, argv, opts, pos, 1, 1)) != 0 ||
	    (ex = list_name("allow import", &list)) != 0)
		return ex;
	job.list = list;
	job.replace = replace;
	if ((ex = read_entries(pos[0], &job)) == 0 &&
	    (ex = admin_write(a, put_entries, &job)) == EXIT_DONE)
		admin_err("%s %zu entries %s list '%s'", replace ? "replaced with" : "imported",
		    job.n, replace ? "on" : "into", list);
	free(job.entries);
	return ex;
}
