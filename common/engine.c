#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "engine.h"
#include "log.h"

struct engine {
	struct conf *conf;
	char setup_error[512];
	const struct backend_ops *backend;
	void *backend_ctx;
};

struct engine *
engine_new(struct conf *conf, const char *setup_error)
{
	struct engine *e = calloc(1, sizeof(*e));
	char err[512];

	if (e == NULL)
		abort();
	e->conf = conf;
	e->backend = &backend_sqlite;
	if (setup_error != NULL) {
		snprintf(e->setup_error, sizeof(e->setup_error), "%s", setup_error);
	} else if (e->backend->open(conf, &e->backend_ctx, err, sizeof(err)) != 0) {
		snprintf(e->setup_error, sizeof(e->setup_error), "%s", err);
		e->backend_ctx = NULL;
	}
	return e;
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	if (e->backend_ctx != NULL)
		e->backend->close(e->backend_ctx);
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

void
engine_decide(struct engine *e, const struct request *req, struct verdict *v)
{
	char user[UTIL_NAME_MAX + 1], err[256];
	struct backend_account acct;
	enum backend_result br;

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

	memset(&acct, 0, sizeof(acct));
	err[0] = '\0';
	br = e->backend->verify(e->backend_ctx, user, req->password,
	    req->password_len, &acct, v, err, sizeof(err));
	switch (br) {
	case BACKEND_OK:
		apply_policy(&acct, e->backend->name, v);
		break;
	case BACKEND_UNKNOWN_USER:
		verdict_set(v, REASON_UNKNOWN_USER, e->backend->name, NULL);
		break;
	case BACKEND_BAD_PASSWORD:
		verdict_set(v, REASON_BAD_PASSWORD, e->backend->name, NULL);
		break;
	case BACKEND_DOWN:
		verdict_set(v, REASON_BACKEND_DOWN, e->backend->name,
		    "store unavailable: %s", err);
		break;
	case BACKEND_ERROR:
		verdict_set(v, REASON_BACKEND_ERROR, e->backend->name,
		    "store unusable: %s", err);
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

	if (v->result == RESULT_OK && v->rehash_from[0] != '\0' &&
	    e->backend->after_reply != NULL) {
		lookup_name(e, req, user);
		e->backend->after_reply(e->backend_ctx, user, req->password,
		    req->password_len, v);
	}
	pwhash_zero(v->rehash_from, sizeof(v->rehash_from));
}
