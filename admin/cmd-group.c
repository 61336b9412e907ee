/* cuttle group …, cuttle user groups, cuttle user net …: groups and networks. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "netlist.h"

#define MEMBERSHIPS_MAX 64

struct group_job {
	const char *name;
	const char *comment;
	const char *user;
	const char **add;
	int nadd;
	const char **del;
	int ndel;
	const char *cidr;
};

static int
do_group_add(struct store *st, void *vctx, char *err, size_t errlen)
{
	struct group_job *job = vctx;
	char now[32];
	const char *args[3] = { job->name, job->comment != NULL ? job->comment : "", now };
	int rc;

	snprintf(now, sizeof(now), "%lld", (long long)util_now());
	rc = store_write(st, "INSERT INTO groups (name, comment, created) VALUES (?1, ?2, ?3)",
	    args, 3, err, errlen);
	if (rc == STORE_EEXISTS) {
		admin_err("group '%s' already exists", job->name);
		return EXIT_NO;
	}
	return rc == STORE_OK ? EXIT_DONE : EXIT_STORE;
}

int
cmd_group_add(struct admin *a, int argc, char **argv)
{
	const char *pos[1], *comment = NULL;
	const struct admin_opt opts[] = {
		{ "--comment", &comment, NULL, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	struct group_job job = { 0 };
	int ex;

	if ((ex = admin_parse("group add", argc, argv, opts, pos, 1, 1)) != 0 ||
	    (ex = admin_check_name("group add", "group", pos[0])) != 0 ||
	    (comment != NULL && (ex = admin_check_comment("group add", comment)) != 0))
		return ex;
	job.name = pos[0];
	job.comment = comment;
	if ((ex = admin_write(a, do_group_add, &job)) == EXIT_DONE)
		admin_err("added group '%s'", job.name);
	return ex;
}

/* Every member's serial changes with the group: helpers drop cached answers. */
static int
touch_members(struct store *st, const char *group, char *err, size_t errlen)
{
	const char *args[1] = { group };
	int rc = store_write(st, "UPDATE users SET serial = serial + 1 WHERE name IN "
	    "(SELECT user FROM group_members WHERE grp = ?1)", args, 1, err, errlen);

	return rc == STORE_OK || rc == STORE_ENOTFOUND ? STORE_OK : rc;
}

static int
do_group_del(struct store *st, void *vctx, char *err, size_t errlen)
{
	struct group_job *job = vctx;
	const char *args[1] = { job->name };
	int rc;

	if (touch_members(st, job->name, err, errlen) != STORE_OK)
		return EXIT_STORE;
	rc = store_write(st, "DELETE FROM groups WHERE name = ?1", args, 1, err, errlen);
	if (rc == STORE_ENOTFOUND) {
		admin_err("no group '%s'", job->name);
		return EXIT_NO;
	}
	return rc == STORE_OK ? EXIT_DONE : EXIT_STORE;
}

int
cmd_group_del(struct admin *a, int argc, char **argv)
{
	const char *pos[1];
	struct group_job job = { 0 };
	int ex;

	if ((ex = admin_parse("group del", argc, argv, NULL, pos, 1, 1)) != 0)
		return ex;
	job.name = pos[0];
	if ((ex = admin_write(a, do_group_del, &job)) == EXIT_DONE)
		admin_err("deleted group '%s'", job.name);
	return ex;
}

struct print_ctx {
	struct admin_list l;	/* first: admin_list passes it to print_row */
	const char *header;
};

/* Rows of one or two text columns, as a table or a JSON array. */
static int
print_row(const char *const *c, int n, void *vctx)
{
	struct print_ctx *ctx = vctx;

	if (ctx->l.json) {
		fputs(ctx->l.count == 0 ? "[\n" : ",\n", stdout);
		if (n == 1) {
			admin_json_string(stdout, c[0]);
		} else {
			fputs("{\"name\":", stdout);
			admin_json_string(stdout, c[0]);
			printf(",\"members\":%s,\"comment\":", c[1]);
			admin_json_string(stdout, c[2]);
			fputs("}", stdout);
		}
	} else {
		if (ctx->l.count == 0 && ctx->header != NULL)
			printf("%s\n", ctx->header);
		if (n == 1)
			printf("%s\n", c[0]);
		else
			printf("%-24s %7s  %s\n", c[0], c[1], c[2]);
	}
	ctx->l.count++;
	return 0;
}

static int
print_query(struct admin *a, const char *sql, const char *arg, bool json,
    const char *header)
{
	struct print_ctx ctx = { { json, 0 }, header };
	const char *args[1] = { arg };

	return admin_list(a, sql, args, arg != NULL ? 1 : 0, print_row, &ctx.l);
}

int
cmd_group_list(struct admin *a, int argc, char **argv)
{
	bool json = false;
	const struct admin_opt opts[] = {
		{ "--json", NULL, &json, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	char header[80];
	int ex;

	if ((ex = admin_parse("group list", argc, argv, opts, NULL, 0, 0)) != 0)
		return ex;
	snprintf(header, sizeof(header), "%-24s %7s  %s", "GROUP", "MEMBERS", "COMMENT");
	return print_query(a, "SELECT g.name, (SELECT count(*) FROM group_members m "
	    "WHERE m.grp = g.name), g.comment FROM groups g ORDER BY g.name", NULL, json, header);
}

static int
count_one(const char *const *c, int n, void *ctx)
{
	(void)c;
	(void)n;
	(*(int *)ctx)++;
	return 0;
}

/* How many rows sql returns for arg; -1 on error (printed). */
static int
count_rows(struct store *st, const char *sql, const char *arg)
{
	const char *args[1] = { arg };
	char err[512];
	int count = 0;

	if (store_read(st, sql, args, 1, count_one, &count, err, sizeof(err)) != STORE_OK) {
		admin_err("%s", err);
		return -1;
	}
	return count;
}

/* EXIT_DONE if the row named exists, else EXIT_NO (said) or EXIT_STORE. */
static int
must_exist(struct admin *a, const char *sql, const char *name, const char *what)
{
	struct store *st;
	int ex, n;

	if ((st = admin_open_store(a, &ex)) == NULL)
		return ex;
	n = count_rows(st, sql, name);
	store_close(st);
	if (n < 0)
		return EXIT_STORE;
	if (n == 0) {
		admin_err("no %s '%s'", what, name);
		return EXIT_NO;
	}
	return EXIT_DONE;
}

int
cmd_group_members(struct admin *a, int argc, char **argv)
{
	const char *pos[1];
	bool json = false;
	const struct admin_opt opts[] = {
		{ "--json", NULL, &json, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	int ex;

	if ((ex = admin_parse("group members", argc, argv, opts, pos, 1, 1)) != 0 ||
	    (ex = must_exist(a, "SELECT 1 FROM groups WHERE name = ?1", pos[0], "group")) != 0)
		return ex;
	return print_query(a, "SELECT user FROM group_members WHERE grp = ?1 ORDER BY user",
	    pos[0], json, NULL);
}

/* Add and remove memberships of one user, all or nothing. */
static int
do_memberships(struct store *st, void *vctx, char *err, size_t errlen)
{
	struct group_job *job = vctx;
	int rc;

	for (int i = 0; i < job->nadd; i++) {
		const char *args[2] = { job->add[i], job->user };
		if (count_rows(st, "SELECT 1 FROM groups WHERE name = ?1", job->add[i]) == 0) {
			admin_err("no group '%s' (create it with `cuttle group add %s`)",
			    job->add[i], job->add[i]);
			return EXIT_NO;
		}
		rc = store_write(st, "INSERT INTO group_members (grp, user) VALUES (?1, ?2) "
		    "ON CONFLICT DO NOTHING", args, 2, err, errlen);
		if (rc == STORE_ENOTFOUND && count_rows(st, "SELECT 1 FROM users WHERE name = ?1",
		    job->user) == 0) {
			admin_err("no user '%s'", job->user);
			return EXIT_NO;
		}
		if (rc != STORE_OK && rc != STORE_ENOTFOUND)
			return EXIT_STORE;
	}
	for (int i = 0; i < job->ndel; i++) {
		const char *args[2] = { job->del[i], job->user };
		rc = store_write(st, "DELETE FROM group_members WHERE grp = ?1 AND user = ?2",
		    args, 2, err, errlen);
		if (rc == STORE_ENOTFOUND) {
			admin_err("'%s' is not in group '%s'", job->user, job->del[i]);
			return EXIT_NO;
		}
		if (rc != STORE_OK)
			return EXIT_STORE;
	}
	if (job->nadd + job->ndel > 0 && store_touch_user(st, job->user, err, errlen) != STORE_OK) {
		admin_err("no user '%s'", job->user);
		return EXIT_NO;
	}
	return EXIT_DONE;
}

int
admin_add_memberships(struct store *st, const char *user, const char **groups,
    int n, char *err, size_t errlen)
{
	struct group_job job = { 0 };

	job.user = user;
	job.add = groups;
	job.nadd = n;
	return do_memberships(st, &job, err, errlen);
}

int
cmd_user_groups(struct admin *a, int argc, char **argv)
{
	const char *pos[1], *add[MEMBERSHIPS_MAX], *del[MEMBERSHIPS_MAX];
	int nadd = 0, ndel = 0, ex;
	bool json = false;
	const struct admin_opt opts[] = {
		{ "--add", NULL, NULL, add, &nadd, MEMBERSHIPS_MAX },
		{ "--del", NULL, NULL, del, &ndel, MEMBERSHIPS_MAX },
		{ "--json", NULL, &json, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	char name[UTIL_NAME_MAX + 1];
	struct group_job job = { 0 };

	if ((ex = admin_parse("user groups", argc, argv, opts, pos, 1, 1)) != 0 ||
	    (ex = admin_user_name(a, "user groups", pos[0], name)) != 0)
		return ex;
	if (nadd + ndel > 0) {
		job.user = name;
		job.add = add;
		job.nadd = nadd;
		job.del = del;
		job.ndel = ndel;
		if ((ex = admin_write(a, do_memberships, &job)) != EXIT_DONE)
			return ex;
		admin_err("updated the groups of '%s'", name);
		return EXIT_DONE;
	}
	if ((ex = must_exist(a, "SELECT 1 FROM users WHERE name = ?1", name, "user")) != 0)
		return ex;
	return print_query(a, "SELECT grp FROM group_members WHERE user = ?1 ORDER BY grp",
	    name, json, NULL);
}

static int
do_net(struct store *st, void *vctx, char *err, size_t errlen)
{
	struct group_job *job = vctx;
	const char *args[2] = { job->user, job->cidr };
	int rc;

	if (job->nadd > 0)
		rc = store_write(st, "INSERT INTO user_nets (user, cidr) VALUES (?1, ?2) "
		    "ON CONFLICT DO NOTHING", args, 2, err, errlen);
	else
		rc = store_write(st, "DELETE FROM user_nets WHERE user = ?1 AND cidr = ?2",
		    args, 2, err, errlen);
	if (rc == STORE_ENOTFOUND && job->nadd == 0) {
		admin_err("%s is not a network of '%s'", job->cidr, job->user);
		return EXIT_NO;
	}
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return EXIT_STORE;
	if (store_touch_user(st, job->user, err, errlen) != STORE_OK) {
		admin_err("no user '%s'", job->user);
		return EXIT_NO;
	}
	return EXIT_DONE;
}

static int
net_change(struct admin *a, const char *cmd, int argc, char **argv, bool add)
{
	const char *pos[2];
	char name[UTIL_NAME_MAX + 1], cidr[64], err[256];
	struct group_job job = { 0 };
	struct netprefix p;
	int ex;

	if ((ex = admin_parse(cmd, argc, argv, NULL, pos, 2, 2)) != 0 ||
	    (ex = admin_user_name(a, cmd, pos[0], name)) != 0)
		return ex;
	if (netprefix_parse(pos[1], &p, err, sizeof(err)) != 0)
		return admin_usage(cmd, "%s", err);
	netprefix_format(&p, cidr);
	job.user = name;
	job.cidr = cidr;
	job.nadd = add ? 1 : 0;
	if ((ex = admin_write(a, do_net, &job)) == EXIT_DONE)
		admin_err("%s %s %s '%s'", add ? "bound" : "unbound", cidr, add ? "to" : "from", name);
	return ex;
}

int
cmd_user_net_add(struct admin *a, int argc, char **argv)
{
	return net_change(a, "user net add", argc, argv, true);
}

int
cmd_user_net_del(struct admin *a, int argc, char **argv)
{
	return net_change(a, "user net del", argc, argv, false);
}

int
cmd_user_net_list(struct admin *a, int argc, char **argv)
{
	const char *pos[1];
	bool json = false;
	const struct admin_opt opts[] = {
		{ "--json", NULL, &json, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	char name[UTIL_NAME_MAX + 1];
	int ex;

	if ((ex = admin_parse("user net list", argc, argv, opts, pos, 1, 1)) != 0 ||
	    (ex = admin_user_name(a, "user net list", pos[0], name)) != 0 ||
	    (ex = must_exist(a, "SELECT 1 FROM users WHERE name = ?1", name, "user")) != 0)
		return ex;
	return print_query(a, "SELECT cidr FROM user_nets WHERE user = ?1 ORDER BY cidr",
	    name, json, NULL);
}
