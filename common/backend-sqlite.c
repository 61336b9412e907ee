#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "log.h"
#include "store.h"

/* How often an open store is checked for having been replaced or removed. */
#define RECHECK_US 1000000u

struct sqlite_ctx {
	const struct conf *conf;
	struct store *store;
	uint64_t checked_us;
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
	/* The store is opened on first use so that a helper starts at once. */
	ctx->conf = conf;
	*ctx_r = ctx;
	return 0;
}

static void
drop_store(struct sqlite_ctx *ctx)
{
	store_close(ctx->store);
	ctx->store = NULL;
	/* A new store (or new [hash] limits after `cuttle init`): new dummy. */
	ctx->have_dummy = false;
}

/*
 * Make sure the store is open and is still the file at the configured
 * path; a store that was missing, replaced or broken is reopened here, so
 * the helper recovers without a restart.
 */
static enum backend_result
ensure_store(struct sqlite_ctx *ctx, char *err, size_t errlen)
{
	uint64_t now = util_monotonic_us();
	int rc;

	if (ctx->store != NULL && now - ctx->checked_us >= RECHECK_US) {
		struct stat st;
		dev_t dev;
		ino_t ino;

		ctx->checked_us = now;
		store_identity(ctx->store, &dev, &ino);
		if (stat(ctx->conf->store_path, &st) != 0 ||
		    st.st_dev != dev || st.st_ino != ino) {
			log_info("%s: store was removed or replaced; reopening",
			    ctx->conf->store_path);
			drop_store(ctx);
		}
	}
	if (ctx->store != NULL)
		return BACKEND_OK;
	rc = store_open(ctx->conf->store_path, STORE_READ, ctx->conf->busy_timeout,
	    &ctx->store, err, errlen);
	if (rc != STORE_OK)
		return rc == STORE_ESCHEMA || rc == STORE_EBROKEN ?
		    BACKEND_ERROR : BACKEND_DOWN;
	ctx->checked_us = now;
	if (!ctx->have_dummy) {
		char e[256];
		if (store_setting_get(ctx->store, "dummy_hash", ctx->dummy,
		    sizeof(ctx->dummy), e, sizeof(e)) == 1)
			ctx->have_dummy = true;
	}
	return BACKEND_OK;
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
	rc = store_user_get(ctx->store, user, &u, err, errlen);
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
	if (!store_readonly(ctx->store) &&
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
	rc = store_user_get(ctx->store, user, &u, err, errlen);
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

	if (v->rehash_from[0] == '\0' || ctx->store == NULL)
		return;
	if (pwhash_make(password, len, ctx->conf->opslimit, ctx->conf->memlimit,
	    newhash) != 0)
		return;
	rc = store_user_rehash(ctx->store, user, v->rehash_from, newhash);
	if (rc == STORE_OK)
		log_debug("re-hashed the password with the configured limits");
	else if (rc == STORE_EBUSY)
		log_debug("store busy: rehash skipped");
	pwhash_zero(newhash, sizeof(newhash));
}

static void
sqlite_close(void *vctx)
{
	struct sqlite_ctx *ctx = vctx;

	if (ctx == NULL)
		return;
	store_close(ctx->store);
	free(ctx);
}

const struct backend_ops backend_sqlite = {
	.name = "sqlite",
	.open = sqlite_open,
	.verify = sqlite_verify,
	.after_reply = sqlite_after_reply,
	.account = sqlite_account,
	.close = sqlite_close,
};
