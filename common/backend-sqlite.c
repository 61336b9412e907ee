#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "log.h"
#include "store.h"

struct sqlite_ctx {
	const struct conf *conf;
	struct store_keeper keep;
	unsigned dummy_generation;	/* the store open the dummy came from */
	char dummy[PWHASH_STR_MAX];	/* hash unknown users are verified against */
	bool have_dummy;
};

static int
sqlite_open(const struct conf *conf, void **ctx_r, char *err, size_t errlen)
{
	struct sqlite_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ctx->conf = conf;
	ctx->keep.path = conf->store_path;
	ctx->keep.busy_timeout = conf->busy_timeout;
	*ctx_r = ctx;
	return 0;
}

/*
 * Make sure the store is usable; a store that was missing, replaced or
 * broken is reopened here, so the helper recovers without a restart.
 */
static enum backend_result
ensure_store(struct sqlite_ctx *ctx, char *err, size_t errlen)
{
	int rc = store_keep(&ctx->keep, err, errlen);

	if (rc != STORE_OK)
		return rc == STORE_ESCHEMA || rc == STORE_EBROKEN ? BACKEND_ERROR : BACKEND_DOWN;
	if (ctx->dummy_generation != ctx->keep.generation) {
		/* A new store (or new [hash] limits after `cuttle init`): new dummy. */
		char e[256];
		ctx->dummy_generation = ctx->keep.generation;
		ctx->have_dummy = store_setting_get(ctx->keep.store, "dummy_hash", ctx->dummy,
		    sizeof(ctx->dummy), e, sizeof(e)) == 1;
	}
	return BACKEND_OK;
}

static void
drop_store(struct sqlite_ctx *ctx)
{
	store_keeper_drop(&ctx->keep);
}

static const char *
dummy_hash(struct sqlite_ctx *ctx)
{
	/*
	 * `cuttle init` stores one; a store without it gets one made here,
	 * once, on the first unknown user rather than at startup.
	 */
	if (!ctx->have_dummy) {
		static const char pw[] = "cuttle-dummy-password";
		if (pwhash_make(pw, sizeof(pw) - 1, ctx->conf->opslimit,
		    ctx->conf->memlimit, ctx->dummy) != 0)
			return NULL;
		ctx->have_dummy = true;
	}
	return ctx->dummy;
}

static void
fill_account(const struct store_user *u, struct backend_account *acct)
{
	acct->found = true;
	acct->disabled = u->disabled;
	acct->locked = u->locked;
	acct->locked_until = u->locked_until;
	acct->expires = u->expires;
}

static enum backend_result
sqlite_verify(void *vctx, const char *user, const char *password, size_t len,
    struct backend_account *acct, struct verdict *v, char *err, size_t errlen)
{
	struct sqlite_ctx *ctx = vctx;
	struct store_user u;
	enum backend_result br;
	const char *dummy;
	int rc;

	if ((br = ensure_store(ctx, err, errlen)) != BACKEND_OK)
		return br;
	rc = store_user_get(ctx->keep.store, user, &u, err, errlen);
	if (rc < 0) {
		/* Reopen next time: the file may have been broken or replaced. */
		drop_store(ctx);
		return rc == STORE_EBROKEN ? BACKEND_ERROR : BACKEND_DOWN;
	}
	if (rc == 0 || strcmp(u.hash, BACKEND_NO_PASSWORD) == 0) {
		/*
		 * Same work as a wrong password, so timing tells nothing. A
		 * user without a local password is unknown here: the next
		 * backend checks the password, and the engine still applies
		 * this row's state.
		 */
		dummy = dummy_hash(ctx);
		if (dummy != NULL && pwhash_verify(dummy, password, len))
			log_debug("password matches the dummy hash");
		pwhash_zero(&u, sizeof(u));
		return BACKEND_UNKNOWN_USER;
	}
	if (!pwhash_verify(u.hash, password, len)) {
		pwhash_zero(&u, sizeof(u));
		return BACKEND_BAD_PASSWORD;
	}
	fill_account(&u, acct);
	if (!store_readonly(ctx->keep.store) &&
	    pwhash_needs_rehash(u.hash, ctx->conf->opslimit, ctx->conf->memlimit))
		memcpy(v->rehash_from, u.hash, sizeof(v->rehash_from));
	pwhash_zero(&u, sizeof(u));
	return BACKEND_OK;
}

static int
sqlite_account(void *vctx, const char *user, struct backend_account *acct,
    char *err, size_t errlen)
{
	struct sqlite_ctx *ctx = vctx;
	struct store_user u;
	int rc;

	if (ensure_store(ctx, err, errlen) != BACKEND_OK)
		return -1;
	rc = store_user_get(ctx->keep.store, user, &u, err, errlen);
	if (rc < 0) {
		drop_store(ctx);
		return -1;
	}
	if (rc == 1)
		fill_account(&u, acct);
	pwhash_zero(&u, sizeof(u));
	return rc;
}

static void
sqlite_after_reply(void *vctx, const char *user, const char *password,
    size_t len, struct verdict *v)
{
	struct sqlite_ctx *ctx = vctx;
	char newhash[PWHASH_STR_MAX];
	int rc;

	if (v->rehash_from[0] == '\0' || ctx->keep.store == NULL)
		return;
	if (pwhash_make(password, len, ctx->conf->opslimit, ctx->conf->memlimit,
	    newhash) != 0)
		return;
	rc = store_user_rehash(ctx->keep.store, user, v->rehash_from, newhash);
	if (rc == STORE_OK)
		log_debug("re-hashed the password with the configured limits");
	else if (rc == STORE_EBUSY)
		log_debug("store busy: rehash skipped");
	pwhash_zero(newhash, sizeof(newhash));
}

struct group_cb {
	int (*fn)(const char *group, void *arg);
	void *arg;
	bool user_found;
};

static int
group_row(const char *const *c, int n, void *vctx)
{
	struct group_cb *cb = vctx;

	(void)n;
	if (c[0][0] == '\0') {
		/* The marker row: the user exists. */
		cb->user_found = true;
		return 0;
	}
	return cb->fn(c[0], cb->arg);
}

static enum backend_result
sqlite_groups(void *vctx, const char *user, int (*fn)(const char *group, void *arg),
    void *arg, char *err, size_t errlen)
{
	struct sqlite_ctx *ctx = vctx;
	struct group_cb cb = { fn, arg, false };
	const char *args[1] = { user };
	enum backend_result br;
	int rc;

	if ((br = ensure_store(ctx, err, errlen)) != BACKEND_OK)
		return br;
	/* One query: an empty marker row when the user exists, then its groups. */
	rc = store_read(ctx->keep.store, "SELECT '' FROM users WHERE name = ?1 UNION ALL "
	    "SELECT grp FROM group_members WHERE user = ?1", args, 1, group_row, &cb,
	    err, errlen);
	if (rc != STORE_OK) {
		drop_store(ctx);
		return rc == STORE_EBROKEN ? BACKEND_ERROR : BACKEND_DOWN;
	}
	return cb.user_found ? BACKEND_OK : BACKEND_UNKNOWN_USER;
}

struct net_cb {
	const struct netaddr *addr;
	bool bound, inside;
};

static int
net_row(const char *const *c, int n, void *vctx)
{
	struct net_cb *cb = vctx;
	struct netprefix p;
	char err[128];

	(void)n;
	cb->bound = true;
	if (cb->addr != NULL && netprefix_parse(c[0], &p, err, sizeof(err)) == 0 &&
	    netprefix_contains(&p, cb->addr))
		cb->inside = true;
	return 0;
}

static int
sqlite_nets(void *vctx, const char *user, const struct netaddr *addr, bool *bound_r,
    bool *inside_r, char *err, size_t errlen)
{
	struct sqlite_ctx *ctx = vctx;
	struct net_cb cb = { addr, false, false };
	const char *args[1] = { user };

	if (ensure_store(ctx, err, errlen) != BACKEND_OK)
		return -1;
	if (store_read(ctx->keep.store, "SELECT cidr FROM user_nets WHERE user = ?1", args, 1,
	    net_row, &cb, err, errlen) != STORE_OK) {
		drop_store(ctx);
		return -1;
	}
	*bound_r = cb.bound;
	*inside_r = cb.inside;
	return 0;
}

static int
serial_row(const char *const *cols, int ncols, void *arg)
{
	(void)ncols;
	*(long long *)arg = strtoll(cols[0], NULL, 10);
	return 1;
}

static int
sqlite_serial(void *vctx, const char *user, long long *serial_r, char *err,
    size_t errlen)
{
	struct sqlite_ctx *ctx = vctx;
	const char *args[1] = { user };
	long long serial = -1;

	if (ensure_store(ctx, err, errlen) != BACKEND_OK)
		return -1;
	if (store_read(ctx->keep.store, "SELECT serial FROM users WHERE name = ?1", args, 1,
	    serial_row, &serial, err, errlen) != STORE_OK) {
		drop_store(ctx);
		return -1;
	}
	*serial_r = serial;
	return serial >= 0 ? 1 : 0;
}

static void
sqlite_close(void *vctx)
{
	struct sqlite_ctx *ctx = vctx;

	if (ctx == NULL)
		return;
	store_close(ctx->keep.store);
	free(ctx);
}

const struct backend_ops backend_sqlite = {
	.name = "sqlite",
	.open = sqlite_open,
	.verify = sqlite_verify,
	.after_reply = sqlite_after_reply,
	.account = sqlite_account,
	.groups = sqlite_groups,
	.nets = sqlite_nets,
	.serial = sqlite_serial,
	.close = sqlite_close,
};
