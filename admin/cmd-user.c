/* cuttle user …: add, passwd, del, lock, unlock, disable, enable, list, show. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "backend.h"
#include "lockout.h"
#include "pwhash.h"


/* Options the user commands share; each command says which it takes. */
struct user_opts {
	const char *name;
	enum pw_source pw;
	bool pw_given;
	const char *expires;
	const char *comment;
	const char *lock_for;
	bool json;
	const char *groups[64];
	int ngroups;
};

enum { O_PW = 1, O_EXPIRES = 2, O_COMMENT = 4, O_FOR = 8, O_JSON = 16, O_NAME = 32,
	O_GROUP = 64 };

static int
parse_opts(const char *cmd, int argc, char **argv, unsigned allowed,
    struct user_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pw = PW_PROMPT;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		bool has_next = i + 1 < argc;

		if ((allowed & O_PW) && (strcmp(arg, "--password-stdin") == 0 ||
		    strcmp(arg, "--generate") == 0 || strcmp(arg, "--no-password") == 0)) {
			if (o->pw_given)
				return admin_usage(cmd, "give only one of --password-stdin, "
				    "--generate and --no-password");
			o->pw = arg[2] == 'p' ? PW_STDIN : arg[2] == 'g' ? PW_GENERATE : PW_NONE;
			o->pw_given = true;
		} else if ((allowed & O_EXPIRES) && strcmp(arg, "--expires") == 0 && has_next) {
			o->expires = argv[++i];
		} else if ((allowed & O_COMMENT) && strcmp(arg, "--comment") == 0 && has_next) {
			o->comment = argv[++i];
		} else if ((allowed & O_FOR) && strcmp(arg, "--for") == 0 && has_next) {
			o->lock_for = argv[++i];
		} else if ((allowed & O_GROUP) && strcmp(arg, "--group") == 0 && has_next) {
			if (o->ngroups == (int)(sizeof(o->groups) / sizeof(o->groups[0])))
				return admin_usage(cmd, "too many --group");
			if (admin_check_name(cmd, "--group", argv[i + 1]) != 0)
				return EXIT_USAGE;
			o->groups[o->ngroups++] = argv[++i];
		} else if ((allowed & O_JSON) && strcmp(arg, "--json") == 0) {
			o->json = true;
		} else if (strcmp(arg, "--password") == 0 || strncmp(arg, "--password=", 11) == 0) {
			return admin_usage(cmd, "a password is never taken as an argument; "
			    "use --password-stdin or --generate, or answer the prompt");
		} else if (arg[0] == '-' && arg[1] != '\0') {
			return admin_usage(cmd, "unknown or incomplete option '%s'", arg);
		} else if ((allowed & O_NAME) && o->name == NULL) {
			o->name = arg;
		} else {
			return admin_usage(cmd, "unexpected argument '%s'", arg);
		}
	}
	if ((allowed & O_NAME) && o->name == NULL)
		return admin_usage(cmd, "missing NAME");
	return 0;
}

/* What state a user is in now, by the helpers' rules. */
static const char *
user_state(const struct store_user *u, long long now)
{
	if (u->disabled)
		return "disabled";
	if (u->locked && (u->locked_until == 0 || u->locked_until > now))
		return "locked";
	if (u->expires != 0 && u->expires <= now)
		return "expired";
	return "active";
}

/*
 * Read one user, named by arg, outside any transaction. Returns 0 and
 * fills u and name, or prints why and returns an exit status.
 */
static int
load_user(struct admin *a, const char *cmd, const char *arg,
    char name[static UTIL_NAME_MAX + 1], struct store_user *u)
{
	char err[512];
	struct store *st;
	int ex, rc;

	if ((ex = admin_user_name(a, cmd, arg, name)) != 0)
		return ex;
	if ((st = admin_open_store(a, &ex)) == NULL)
		return ex;
	rc = store_user_get(st, name, u, err, sizeof(err));
	store_close(st);
	if (rc > 0)
		return 0;
	if (rc == 0)
		admin_err("no user '%s'", name);
	else
		admin_err("%s", err);
	return rc == 0 ? EXIT_NO : EXIT_STORE;
}

struct change_job {
	const char *name;
	int (*change)(struct store_user *u, void *ctx);
	void *ctx;
};

static int
do_change(struct store *st, void *vjob, char *err, size_t errlen)
{
	struct change_job *job = vjob;
	struct store_user u;
	int rc, ex;

	rc = store_user_get(st, job->name, &u, err, errlen);
	if (rc == 0) {
		admin_err("no user '%s'", job->name);
		ex = EXIT_NO;
	} else if (rc < 0) {
		ex = EXIT_STORE;
	} else if ((ex = job->change(&u, job->ctx)) == 0) {
		u.updated = (long long)util_now();
		if (store_user_put(st, &u, err, errlen) != STORE_OK)
			ex = EXIT_STORE;
	}
	pwhash_zero(&u, sizeof(u));
	return ex;
}

/*
 * Run a change to one user in a BEGIN IMMEDIATE transaction: read, let
 * change() edit the row, write it back. Returns an exit status.
 */
static int
change_user(struct admin *a, const char *cmd, const char *arg,
    int (*change)(struct store_user *u, void *ctx), void *ctx,
    const char *done)
{
	char name[UTIL_NAME_MAX + 1];
	struct change_job job = { name, change, ctx };
	int ex;

	if ((ex = admin_user_name(a, cmd, arg, name)) != 0)
		return ex;
	if ((ex = admin_write(a, do_change, &job)) == EXIT_DONE)
		admin_err("%s '%s'", done, name);
	return ex;
}

/*
 * Hash a new password from src into hash. A generated one is also left in
 * generated (else it is set empty), to be printed once it is stored.
 */
static int
new_hash(struct admin *a, const char *name, enum pw_source src,
    char hash[static PWHASH_STR_MAX], char generated[static ADMIN_PASSWORD_MAX + 1])
{
	char pw[ADMIN_PASSWORD_MAX + 1];
	size_t len = 0;
	int ex;

	generated[0] = '\0';
	if (src == PW_NONE) {
		/* No local password: logins go on to the next backend (LDAP). */
		snprintf(hash, PWHASH_STR_MAX, "%s", BACKEND_NO_PASSWORD);
		return 0;
	}
	ex = admin_new_password(src, name, pw, sizeof(pw), &len);
	if (ex == 0 && pwhash_make(pw, len, a->conf->opslimit, a->conf->memlimit, hash) != 0) {
		admin_err("cannot hash the password: out of memory (lower [hash] memlimit?)");
		ex = EXIT_STORE;
	}
	if (ex == 0 && src == PW_GENERATE)
		memcpy(generated, pw, len + 1);
	pwhash_zero(pw, sizeof(pw));
	return ex;
}

/* The one place a password is printed: once, to its creator, once stored. */
static void
print_generated(char generated[static ADMIN_PASSWORD_MAX + 1], bool stored)
{
	if (stored && generated[0] != '\0') {
		printf("%s\n", generated);
		fflush(stdout);
	}
	pwhash_zero(generated, ADMIN_PASSWORD_MAX + 1);
}


int
cmd_user_add(struct admin *a, int argc, char **argv)
{
	struct user_opts o;
	struct store_user u;
	struct store *st;
	char err[512], gen[ADMIN_PASSWORD_MAX + 1];
	const char *why;
	time_t expires = 0;
	int rc, ex;

	if ((ex = parse_opts("user add", argc, argv, O_NAME | O_PW | O_EXPIRES | O_COMMENT | O_GROUP,
	    &o)) != 0)
		return ex;
	memset(&u, 0, sizeof(u));
	if ((ex = admin_user_name(a, "user add", o.name, u.name)) != 0)
		return ex;
	if (o.expires != NULL && util_parse_expiry(o.expires, &expires, &why) != 0)
		return admin_usage("user add", "--expires %s: %s", o.expires, why);
	if (o.comment != NULL && (ex = admin_check_comment("user add", o.comment)) != 0)
		return ex;
	if ((st = admin_open_store(a, &ex)) == NULL)
		return ex;
	/* Refuse a taken name before asking for a password. */
	rc = store_user_get(st, u.name, &u, err, sizeof(err));
	if (rc != 0) {
		if (rc > 0)
			admin_err("user '%s' already exists", u.name);
		else
			admin_err("%s", err);
		store_close(st);
		return rc > 0 ? EXIT_NO : EXIT_STORE;
	}
	if ((ex = new_hash(a, u.name, o.pw, u.hash, gen)) != 0) {
		store_close(st);
		return ex;
	}
	u.expires = (long long)expires;
	snprintf(u.comment, sizeof(u.comment), "%s", o.comment != NULL ? o.comment : "");
	u.created = u.updated = u.password_changed = (long long)util_now();
	ex = EXIT_DONE;
	/* The user and its memberships, all or nothing. */
	err[0] = '\0';
	if (store_begin(st, err, sizeof(err)) != STORE_OK ||
	    (rc = store_user_add(st, &u, err, sizeof(err))) != STORE_OK ||
	    (ex = admin_add_memberships(st, u.name, o.groups, o.ngroups, err, sizeof(err))) != 0 ||
	    store_commit(st, err, sizeof(err)) != STORE_OK) {
		store_rollback(st);
		if (rc == STORE_EEXISTS) {
			admin_err("user '%s' already exists", u.name);
			ex = EXIT_NO;
		} else if (ex == EXIT_DONE || ex == EXIT_STORE) {
			if (err[0] != '\0')
				admin_err("%s", err);
			ex = EXIT_STORE;
		}
	}
	print_generated(gen, ex == EXIT_DONE);
	if (ex == EXIT_DONE) {
		admin_err("added user '%s'", u.name);
		if (expires != 0 && expires <= util_now())
			admin_err("warning: '%s' is already expired (--expires %s)", u.name, o.expires);
		ex = admin_refresh_dummy(a, st);
	}
	pwhash_zero(&u, sizeof(u));
	store_close(st);
	return ex;
}

static int
set_hash(struct store_user *u, void *ctx)
{
	memcpy(u->hash, ctx, PWHASH_STR_MAX);
	u->password_changed = (long long)util_now();
	return 0;
}

int
cmd_user_passwd(struct admin *a, int argc, char **argv)
{
	struct user_opts o;
	char name[UTIL_NAME_MAX + 1], hash[PWHASH_STR_MAX], gen[ADMIN_PASSWORD_MAX + 1];
	struct store_user u;
	int ex;

	if ((ex = parse_opts("user passwd", argc, argv, O_NAME | O_PW, &o)) != 0)
		return ex;
	/*
	 * Ask and hash before the write transaction, so that a prompt or an
	 * Argon2 run never holds the store's write lock.
	 */
	ex = load_user(a, "user passwd", o.name, name, &u);
	pwhash_zero(&u, sizeof(u));
	if (ex != 0)
		return ex;
	if ((ex = new_hash(a, name, o.pw, hash, gen)) != 0)
		return ex;
	ex = change_user(a, "user passwd", o.name, set_hash, hash, "changed the password of");
	print_generated(gen, ex == EXIT_DONE);
	pwhash_zero(hash, sizeof(hash));
	return ex;
}

int
cmd_user_del(struct admin *a, int argc, char **argv)
{
	struct user_opts o;
	char name[UTIL_NAME_MAX + 1], err[512];
	struct store *st;
	int ex, rc;

	if ((ex = parse_opts("user del", argc, argv, O_NAME, &o)) != 0)
		return ex;
	if ((ex = admin_user_name(a, "user del", o.name, name)) != 0)
		return ex;
	if ((st = admin_open_store(a, &ex)) == NULL)
		return ex;
	if ((rc = store_begin(st, err, sizeof(err))) == STORE_OK &&
	    (rc = store_user_del(st, name, err, sizeof(err))) == STORE_OK)
		rc = store_commit(st, err, sizeof(err));
	store_rollback(st);
	store_close(st);
	if (rc == STORE_ENOTFOUND) {
		admin_err("no user '%s'", name);
		return EXIT_NO;
	}
	if (rc != STORE_OK) {
		admin_err("%s", err);
		return EXIT_STORE;
	}
	admin_err("deleted user '%s'", name);
	return EXIT_DONE;
}

static int
do_lock(struct store_user *u, void *ctx)
{
	u->locked = true;
	u->locked_until = ctx != NULL ? (long long)util_now() + *(long long *)ctx : 0;
	return 0;
}

int
cmd_user_lock(struct admin *a, int argc, char **argv)
{
	struct user_opts o;
	long long secs = 0;
	const char *why;
	int ex;

	if ((ex = parse_opts("user lock", argc, argv, O_NAME | O_FOR, &o)) != 0)
		return ex;
	if (o.lock_for != NULL) {
		if (util_parse_duration(o.lock_for, &secs, &why) != 0)
			return admin_usage("user lock", "--for %s: %s", o.lock_for, why);
		if (secs == 0)
			return admin_usage("user lock", "--for %s: must be longer than 0s", o.lock_for);
	}
	return change_user(a, "user lock", o.name, do_lock,
	    o.lock_for != NULL ? &secs : NULL, "locked user");
}

static int
do_unlock(struct store_user *u, void *ctx)
{
	(void)ctx;
	u->locked = false;
	u->locked_until = 0;
	return 0;
}

int
cmd_user_unlock(struct admin *a, int argc, char **argv)
{
	struct user_opts o;
	int ex;

	char name[UTIL_NAME_MAX + 1], state[4096], err[512];

	if ((ex = parse_opts("user unlock", argc, argv, O_NAME, &o)) != 0)
		return ex;
	/*
	 * The automatic lockout applies to any name, known or not: clear it
	 * whether or not the name is a local user.
	 */
	if ((ex = admin_user_name(a, "user unlock", o.name, name)) != 0)
		return ex;
	conf_beside_store(a->conf, "state.db", state, sizeof(state));
	if (lockout_clear(state, "user", name, err, sizeof(err)) != 0)
		admin_err("warning: automatic lockout not cleared: %s", err);
	ex = change_user(a, "user unlock", o.name, do_unlock, NULL, "unlocked user");
	if (ex == EXIT_NO)
		admin_err("(any automatic lockout of '%s' was cleared)", name);
	return ex;
}

static int
do_disable(struct store_user *u, void *ctx)
{
	u->disabled = ctx != NULL;
	return 0;
}

int
cmd_user_disable(struct admin *a, int argc, char **argv)
{
	struct user_opts o;
	int ex;

	if ((ex = parse_opts("user disable", argc, argv, O_NAME, &o)) != 0)
		return ex;
	return change_user(a, "user disable", o.name, do_disable, &o, "disabled user");
}

int
cmd_user_enable(struct admin *a, int argc, char **argv)
{
	struct user_opts o;
	int ex;

	if ((ex = parse_opts("user enable", argc, argv, O_NAME, &o)) != 0)
		return ex;
	return change_user(a, "user enable", o.name, do_disable, NULL, "enabled user");
}

struct set_ctx {
	bool set_expires;
	time_t expires;		/* 0: never */
	const char *comment;
};

static int
do_set(struct store_user *u, void *vctx)
{
	struct set_ctx *ctx = vctx;

	if (ctx->set_expires)
		u->expires = (long long)ctx->expires;
	if (ctx->comment != NULL)
		snprintf(u->comment, sizeof(u->comment), "%s", ctx->comment);
	return 0;
}

int
cmd_user_set(struct admin *a, int argc, char **argv)
{
	struct user_opts o;
	struct set_ctx ctx = { false, 0, NULL };
	const char *why;
	int ex;

	if ((ex = parse_opts("user set", argc, argv, O_NAME | O_EXPIRES | O_COMMENT, &o)) != 0)
		return ex;
	if (o.expires == NULL && o.comment == NULL)
		return admin_usage("user set", "nothing to set: give --expires or --comment");
	if (o.expires != NULL) {
		ctx.set_expires = true;
		if (strcmp(o.expires, "never") != 0 &&
		    util_parse_expiry(o.expires, &ctx.expires, &why) != 0)
			return admin_usage("user set", "--expires %s: %s (or never)", o.expires, why);
	}
	if (o.comment != NULL && (ex = admin_check_comment("user set", o.comment)) != 0)
		return ex;
	ctx.comment = o.comment;
	return change_user(a, "user set", o.name, do_set, &ctx, "updated user");
}

static void
json_time(FILE *f, const char *key, long long t, bool last)
{
	char buf[32];

	fprintf(f, "\"%s\":", key);
	if (t == 0) {
		fputs("null", f);
	} else {
		util_format_time((time_t)t, buf);
		fprintf(f, "\"%s\"", buf);
	}
	fputs(last ? "" : ",", f);
}

static void
print_json(const struct store_user *u, long long now)
{
	const char *state = user_state(u, now);

	fputs("{\"name\":", stdout);
	admin_json_string(stdout, u->name);
	printf(",\"state\":\"%s\",\"disabled\":%s,\"locked\":%s,", state,
	    u->disabled ? "true" : "false",
	    u->locked && (u->locked_until == 0 || u->locked_until > now) ? "true" : "false");
	/* Only a lock in force has an end worth showing. */
	json_time(stdout, "locked_until", u->locked && u->locked_until > now ?
	    u->locked_until : 0, false);
	json_time(stdout, "expires", u->expires, false);
	fputs("\"comment\":", stdout);
	admin_json_string(stdout, u->comment);
	fputs(",", stdout);
	json_time(stdout, "created", u->created, false);
	json_time(stdout, "updated", u->updated, false);
	json_time(stdout, "password_changed", u->password_changed, false);
	printf("\"hash_scheme\":\"%s\"}", strncmp(u->hash, "$argon2id$", 10) == 0 ?
	    "argon2id" : strcmp(u->hash, BACKEND_NO_PASSWORD) == 0 ? "none" : "other");
}

struct list_ctx {
	struct admin_list l;
	long long now;
};

static int
list_one(const struct store_user *u, void *vctx)
{
	struct list_ctx *ctx = vctx;
	char exp[32] = "-";

	if (ctx->l.json) {
		fputs(ctx->l.count == 0 ? "[\n" : ",\n", stdout);
		print_json(u, ctx->now);
	} else {
		if (ctx->l.count == 0)
			printf("%-24s %-9s %-20s %s\n", "NAME", "STATE", "EXPIRES", "COMMENT");
		if (u->expires != 0)
			util_format_time((time_t)u->expires, exp);
		printf("%-24s %-9s %-20s %s\n", u->name, user_state(u, ctx->now), exp, u->comment);
	}
	ctx->l.count++;
	return 0;
}

int
cmd_user_list(struct admin *a, int argc, char **argv)
{
	struct user_opts o;
	struct list_ctx ctx = { { false, 0 }, (long long)util_now() };
	struct store *st;
	char err[512];
	int ex;

	if ((ex = parse_opts("user list", argc, argv, O_JSON, &o)) != 0)
		return ex;
	ctx.l.json = o.json;
	if ((st = admin_open_store(a, &ex)) == NULL)
		return ex;
	if (store_user_foreach(st, list_one, &ctx, err, sizeof(err)) != STORE_OK) {
		admin_err("%s", err);
		store_close(st);
		return EXIT_STORE;
	}
	store_close(st);
	admin_list_end(&ctx.l);
	return EXIT_DONE;
}

int
cmd_user_show(struct admin *a, int argc, char **argv)
{
	struct user_opts o;
	char name[UTIL_NAME_MAX + 1], t[32];
	struct store_user u;
	long long now = (long long)util_now();
	int ex;

	if ((ex = parse_opts("user show", argc, argv, O_NAME | O_JSON, &o)) != 0)
		return ex;
	if ((ex = load_user(a, "user show", o.name, name, &u)) != 0)
		return ex;
	if (o.json) {
		print_json(&u, now);
		putchar('\n');
	} else {
		printf("name:             %s\n", u.name);
		printf("state:            %s\n", user_state(&u, now));
		if (strcmp(user_state(&u, now), "locked") == 0) {
			util_format_time((time_t)u.locked_until, t);
			printf("locked until:     %s\n", u.locked_until != 0 ? t : "unlocked by an admin");
		}
		util_format_time((time_t)u.expires, t);
		printf("expires:          %s\n", u.expires != 0 ? t : "never");
		printf("comment:          %s\n", u.comment);
		util_format_time((time_t)u.created, t);
		printf("created:          %s\n", t);
		util_format_time((time_t)u.password_changed, t);
		printf("password changed: %s\n", t);
	}
	pwhash_zero(&u, sizeof(u));
	return EXIT_DONE;
}
