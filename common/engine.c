#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "engine.h"
#include "log.h"

struct engine_backend {
	const struct backend_ops *ops;
	void *ctx;
};

struct engine {
	struct conf *conf;
	char setup_error[512];
	struct engine_backend chain[CONF_BACKENDS_MAX];
	int nchain;
	/*
	 * The local store, for policy on directory users; the same context
	 * as the chain's sqlite backend when there is one.
	 */
	struct engine_backend local;
	bool local_owned;
};

static const struct backend_ops *
backend_for(enum conf_backend b)
{
	return b == CONF_BACKEND_LDAP ? &backend_ldap : &backend_sqlite;
}

struct engine *
engine_new(struct conf *conf, const char *setup_error)
{
	struct engine *e = calloc(1, sizeof(*e));
	char err[512];

	if (e == NULL)
		abort();
	e->conf = conf;
	if (setup_error != NULL) {
		snprintf(e->setup_error, sizeof(e->setup_error), "%s", setup_error);
		return e;
	}
	for (int i = 0; i < conf->nbackends; i++) {
		struct engine_backend *b = &e->chain[e->nchain];
		b->ops = backend_for(conf->backends[i]);
		if (b->ops->open(conf, &b->ctx, err, sizeof(err)) != 0) {
			snprintf(e->setup_error, sizeof(e->setup_error), "%s", err);
			b->ops->close(b->ctx);
			b->ctx = NULL;
			return e;
		}
		e->nchain++;
		if (b->ops == &backend_sqlite)
			e->local = *b;
	}
	if (e->local.ops == NULL) {
		/* LDAP only: the store, if there is one, still carries policy. */
		e->local.ops = &backend_sqlite;
		if (e->local.ops->open(conf, &e->local.ctx, err, sizeof(err)) != 0)
			e->local.ops = NULL;
		else
			e->local_owned = true;
	}
	return e;
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	for (int i = 0; i < e->nchain; i++)
		e->chain[i].ops->close(e->chain[i].ctx);
	if (e->local_owned)
		e->local.ops->close(e->local.ctx);
	conf_free(e->conf);
	free(e);
}

/*
 * The name to look up: as sent, folded unless username_case = exact. A
 * name the store cannot hold is replaced by one no account can have, so it
 * is unknown yet still costs the same Argon2 work as any other unknown name.
 */
static void
lookup_name(const struct engine *e, const struct request *req,
    char user[static UTIL_NAME_MAX + 1])
{
	const char *why;

	if (!util_name_valid(req->user, req->user_len, &why)) {
		snprintf(user, UTIL_NAME_MAX + 1, "%s", "\x01invalid");
		return;
	}
	memcpy(user, req->user, req->user_len);
	user[req->user_len] = '\0';
	if (e->conf->username_case == CONF_CASE_FOLD)
		util_fold_name(user);
}

/* Local policy: state an admin set applies once the password is proven. */
static void
apply_policy(const struct backend_account *acct, const char *backend,
    struct verdict *v)
{
	long long now = (long long)util_now();

	v->password_proven = true;
	if (!acct->found) {
		verdict_set(v, REASON_OK, backend, NULL);
		return;
	}
	if (acct->disabled)
		verdict_set(v, REASON_DISABLED, backend, "disabled by an admin");
	else if (acct->locked && (acct->locked_until == 0 || acct->locked_until > now))
		verdict_set(v, REASON_LOCKED, backend, "locked by an admin");
	else if (acct->expires != 0 && acct->expires <= now)
		verdict_set(v, REASON_EXPIRED, backend, "account expired");
	else
		verdict_set(v, REASON_OK, backend, NULL);
}

/* The reason a backend's answer stands for, when it is a refusal. */
static enum reason
refusal(enum backend_result br)
{
	switch (br) {
	case BACKEND_UNKNOWN_USER: return REASON_UNKNOWN_USER;
	case BACKEND_BAD_PASSWORD: return REASON_BAD_PASSWORD;
	case BACKEND_DISABLED: return REASON_DISABLED;
	case BACKEND_LOCKED: return REASON_LOCKED;
	case BACKEND_EXPIRED: return REASON_EXPIRED;
	case BACKEND_AMBIGUOUS: return REASON_AMBIGUOUS_USER;
	case BACKEND_DOWN: return REASON_BACKEND_DOWN;
	case BACKEND_OK: break;
	case BACKEND_ERROR: break;
	}
	return REASON_BACKEND_ERROR;
}

/*
 * Local state for a user another backend verified. A missing or broken
 * store only matters when it is in the chain (then its error came first).
 */
static void
local_account(struct engine *e, const char *user, struct backend_account *acct)
{
	char err[256];

	if (acct->found || e->local.ops == NULL || e->local.ops->account == NULL)
		return;
	if (e->local.ops->account(e->local.ctx, user, acct, err, sizeof(err)) < 0)
		log_debug("no local state for directory users: %s", err);
}

void
engine_decide(struct engine *e, const struct request *req, struct verdict *v)
{
	char user[UTIL_NAME_MAX + 1], err[256];
	struct backend_account acct;
	enum backend_result br = BACKEND_ERROR;
	const char *name = "";

	verdict_init(v);
	if (req->bad) {
		verdict_set(v, REASON_BAD_REQUEST, "", "bad request: %s", req->error);
		return;
	}
	if (e->setup_error[0] != '\0') {
		/* A fixed first word: the text must never look like a key=value note. */
		verdict_set(v, REASON_BACKEND_ERROR, "", "config error: %s", e->setup_error);
		return;
	}
	if (req->password_len == 0) {
		/* Squid never sends one; an empty password is never right. */
		verdict_set(v, REASON_BAD_PASSWORD, "", "empty password");
		return;
	}
	lookup_name(e, req, user);

	/* Each backend in turn; the next one only for names this one lacks. */
	memset(&acct, 0, sizeof(acct));
	for (int i = 0; i < e->nchain; i++) {
		err[0] = '\0';
		name = e->chain[i].ops->name;
		br = e->chain[i].ops->verify(e->chain[i].ctx, user, req->password,
		    req->password_len, &acct, v, err, sizeof(err));
		if (br != BACKEND_UNKNOWN_USER)
			break;
	}
	switch (br) {
	case BACKEND_OK:
		local_account(e, user, &acct);
		apply_policy(&acct, name, v);
		break;
	case BACKEND_DOWN:
		verdict_set(v, REASON_BACKEND_DOWN, name, "%s unavailable: %s",
		    strcmp(name, "ldap") == 0 ? "directory" : "store", err);
		break;
	case BACKEND_ERROR:
		verdict_set(v, REASON_BACKEND_ERROR, name, "%s unusable: %s",
		    strcmp(name, "ldap") == 0 ? "directory" : "store", err);
		break;
	default:
		/* password_proven, if set, was set by the backend. */
		verdict_set(v, refusal(br), name, err[0] != '\0' ? "%s" : NULL, err);
		break;
	}
	if (v->result != RESULT_OK && v->rehash_from[0] != '\0')
		pwhash_zero(v->rehash_from, sizeof(v->rehash_from));
}

void
engine_after_reply(struct engine *e, const struct request *req,
    struct verdict *v)
{
	char user[UTIL_NAME_MAX + 1];

	/* Only the local store re-hashes. */
	if (v->result == RESULT_OK && v->rehash_from[0] != '\0' &&
	    e->local.ops != NULL && e->local.ops->after_reply != NULL) {
		lookup_name(e, req, user);
		e->local.ops->after_reply(e->local.ctx, user, req->password,
		    req->password_len, v);
	}
	pwhash_zero(v->rehash_from, sizeof(v->rehash_from));
}

int
engine_groups(struct engine *e, const char *name,
    int (*fn)(const char *group, void *arg), void *arg, char *err, size_t errlen)
{
	char user[UTIL_NAME_MAX + 1];
	enum backend_result br = BACKEND_UNKNOWN_USER;
	size_t len = strlen(name);
	const char *why;

	if (e->setup_error[0] != '\0') {
		snprintf(err, errlen, "config error: %s", e->setup_error);
		return -1;
	}
	if (!util_name_valid(name, len, &why)) {
		snprintf(err, errlen, "%s", why);
		return 0;
	}
	memcpy(user, name, len + 1);
	if (e->conf->username_case == CONF_CASE_FOLD)
		util_fold_name(user);
	err[0] = '\0';
	for (int i = 0; i < e->nchain; i++) {
		if (e->chain[i].ops->groups == NULL)
			continue;
		br = e->chain[i].ops->groups(e->chain[i].ctx, user, fn, arg, err, errlen);
		if (br != BACKEND_UNKNOWN_USER)
			break;
	}
	if (br == BACKEND_OK)
		return 1;
	if (br == BACKEND_UNKNOWN_USER || br == BACKEND_AMBIGUOUS) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s", br == BACKEND_AMBIGUOUS ?
			    "more than one entry matches" : "no such user");
		return 0;
	}
	return -1;
}
