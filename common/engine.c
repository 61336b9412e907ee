#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "allow.h"
#include "backend.h"
#include "engine.h"
#include "lockout.h"
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
	int client_field;	/* the key_extras field holding %>a; -1: none */
	bool warned_no_client;
	struct allow *allow;	/* compiled allow lists, made on first use */
	struct lockout *lockout;	/* automatic lockout; NULL when off */
	bool conf_owned;	/* false for clones */
	char chain_names[32];
};

static void lookup_name(const struct engine *e, const struct request *req,
    char user[static UTIL_NAME_MAX + 1]);

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
	e->conf_owned = true;
	e->client_field = -1;
	for (int i = 0; i < conf->nbackends; i++)
		snprintf(e->chain_names + strlen(e->chain_names),
		    sizeof(e->chain_names) - strlen(e->chain_names), "%s%s", i > 0 ? "," : "",
		    conf->backends[i] == CONF_BACKEND_LDAP ? "ldap" : "sqlite");
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
	e->lockout = lockout_new(conf);
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
	allow_free(e->allow);
	lockout_free(e->lockout);
	if (e->conf_owned)
		conf_free(e->conf);
	free(e);
}

struct engine *
engine_clone(const struct engine *e)
{
	struct engine *c = engine_new(e->conf, e->setup_error[0] != '\0' ? e->setup_error : NULL);

	c->conf_owned = false;
	c->client_field = e->client_field;
	return c;
}

bool
engine_broken(const struct engine *e)
{
	return e->setup_error[0] != '\0';
}

const struct conf *
engine_conf(const struct engine *e)
{
	return e->conf;
}

const char *
engine_chain(const struct engine *e)
{
	return e->chain_names;
}

int
engine_user_serial(struct engine *e, const struct request *req, long long *serial_r)
{
	char user[UTIL_NAME_MAX + 1], err[256];
	int rc;

	*serial_r = -1;
	if (e->local.ops == NULL || e->local.ops->serial == NULL)
		return 0;
	lookup_name(e, req, user);
	rc = e->local.ops->serial(e->local.ctx, user, serial_r, err, sizeof(err));
	if (rc < 0)
		log_debug("user serial: %s", err);
	return rc;
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
	v->valid_until = acct->expires;
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

/* The client address the request carries (key_extras %>a), or NULL. */
static const char *
client_address(const struct engine *e, const struct request *req)
{
	struct netaddr a;

	if (e->client_field >= 0 && e->client_field < req->nextras &&
	    netaddr_parse(req->extras[e->client_field], &a) == 0)
		return req->extras[e->client_field];
	return NULL;
}

/* Allow-listed clients (the default list) are exempt from lockout. */
static bool
allow_listed(struct engine *e, const struct request *req)
{
	const char *addr = client_address(e, req);
	struct netaddr a;
	char err[256];

	if (addr == NULL || netaddr_parse(addr, &a) != 0)
		return false;
	if (e->allow == NULL)
		e->allow = allow_new(e->conf);
	return allow_match(e->allow, NULL, 0, &a, err, sizeof(err)) == 1;
}

bool
engine_throttled(struct engine *e, const struct request *req, struct verdict *v)
{
	char user[UTIL_NAME_MAX + 1], t[32];
	long long until;

	if (e->lockout == NULL || req->bad || allow_listed(e, req))
		return false;
	lookup_name(e, req, user);
	if (lockout_check(e->lockout, user, client_address(e, req), &until) != 1)
		return false;
	util_format_time((time_t)until, t);
	verdict_set(v, REASON_THROTTLED, "lockout", "throttled until %s", t);
	return true;
}

void
engine_set_client_field(struct engine *e, int field)
{
	e->client_field = field;
}

/*
 * A user bound to networks logs in only from them. Without the client's
 * address (no key_extras) such a user is refused: fail closed, and say
 * why once on stderr.
 */
static void
check_networks(struct engine *e, const char *user, const struct request *req,
    const char *backend, struct verdict *v)
{
	struct netaddr addr, *ap = NULL;
	bool bound = false, inside = false;
	char err[256];

	if (e->local.ops == NULL || e->local.ops->nets == NULL)
		return;
	if (e->client_field >= 0 && e->client_field < req->nextras &&
	    netaddr_parse(req->extras[e->client_field], &addr) == 0)
		ap = &addr;
	if (e->local.ops->nets(e->local.ctx, user, ap, &bound, &inside, err, sizeof(err)) != 0) {
		if (conf_uses(e->conf, CONF_BACKEND_SQLITE))
			verdict_set(v, REASON_BACKEND_DOWN, "sqlite", "store unavailable: %s", err);
		return;
	}
	if (!bound || inside)
		return;
	if (ap == NULL) {
		verdict_set(v, REASON_IP_NOT_ALLOWED, backend, "user is bound to networks but "
		    "the helper is not given the client address (key_extras \"%%>a\")");
		if (!e->warned_no_client) {
			log_warn("users bound to networks are refused: the client address is "
			    "missing (add auth_param basic key_extras \"%%>a\" to squid.conf and "
			    "--key-extras \"%%>a\" to the helper)");
			e->warned_no_client = true;
		}
		return;
	}
	verdict_set(v, REASON_IP_NOT_ALLOWED, backend, "client %.60s is outside the user's networks",
	    req->extras[e->client_field]);
}

static int
note_group(const char *group, void *arg)
{
	return verdict_add_note(arg, "group", group) != 0;
}

/* The user's groups as group= notes, for `acl NAME note group G`. */
static void
add_group_notes(struct engine *e, const char *user, struct verdict *v)
{
	char err[256];

	if (engine_groups(e, user, note_group, v, err, sizeof(err)) < 0)
		log_debug("groups for notes: %s", err);
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

	/* Throttled names and addresses cost no Argon2 work and no bind. */
	if (engine_throttled(e, req, v))
		return;

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
		if (v->result == RESULT_OK)
			check_networks(e, user, req, name, v);
		if (v->result == RESULT_OK && e->conf->group_notes)
			add_group_notes(e, user, v);
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

	/*
	 * Lockout counting after the reply, so that it never delays one.
	 * Dry runs (cuttle check) do not come here.
	 */
	if (e->lockout != NULL && !req->bad && !req->external && e->setup_error[0] == '\0' &&
	    v->result == RESULT_OK) {
		lookup_name(e, req, user);
		lockout_success(e->lockout, user);
	}
	/* Only the local store re-hashes. */
	if (v->result == RESULT_OK && v->rehash_from[0] != '\0' &&
	    e->local.ops != NULL && e->local.ops->after_reply != NULL) {
		lookup_name(e, req, user);
		e->local.ops->after_reply(e->local.ctx, user, req->password,
		    req->password_len, v);
	}
	pwhash_zero(v->rehash_from, sizeof(v->rehash_from));
}

void
engine_before_reply(struct engine *e, const struct request *req, struct verdict *v)
{
	char user[UTIL_NAME_MAX + 1];

	/* An empty password (which Squid never sends) proves nothing: not counted. */
	if (e->lockout == NULL || req->bad || req->external || e->setup_error[0] != '\0' ||
	    (v->reason != REASON_BAD_PASSWORD && v->reason != REASON_UNKNOWN_USER) ||
	    req->password_len == 0 || allow_listed(e, req))
		return;
	lookup_name(e, req, user);
	if (lockout_failure(e->lockout, user, client_address(e, req), req->password,
	    req->password_len))
		v->flags |= VERDICT_F_REPEAT;
}

int
engine_groups(struct engine *e, const char *name,
    int (*fn)(const char *group, void *arg), void *arg, char *err, size_t errlen)
{
	char user[UTIL_NAME_MAX + 1];
	enum backend_result br;
	size_t len = strlen(name);
	const char *why;
	bool found = false;

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
	/* Local groups, then the directory's: the union of both. */
	if (e->local.ops != NULL) {
		br = e->local.ops->groups(e->local.ctx, user, fn, arg, err, errlen);
		if (br == BACKEND_OK)
			found = true;
		else if (br != BACKEND_UNKNOWN_USER && conf_uses(e->conf, CONF_BACKEND_SQLITE))
			return -1;
	}
	for (int i = 0; i < e->nchain; i++) {
		if (e->chain[i].ops == &backend_sqlite || e->chain[i].ops->groups == NULL)
			continue;
		br = e->chain[i].ops->groups(e->chain[i].ctx, user, fn, arg, err, errlen);
		if (br == BACKEND_OK)
			found = true;
		else if (br == BACKEND_DOWN || br == BACKEND_ERROR)
			return -1;
	}
	if (!found && err[0] == '\0')
		snprintf(err, errlen, "no such user");
	return found ? 1 : 0;
}

/*
 * How many ACL arguments follow the first fields: none when Squid sent a
 * single "-" for an empty %DATA.
 */
static int
acl_args(const struct request *req, int first)
{
	int n = req->nfields - first;

	if (n == 1 && strcmp(req->fields[first], "-") == 0)
		return 0;
	return n;
}

/* The address in field i of an external ACL request, or BH bad_request. */
static bool
field_addr(const struct request *req, int i, struct netaddr *a, struct verdict *v)
{
	if (i < req->nfields && netaddr_parse(req->fields[i], a) == 0)
		return true;
	verdict_set(v, REASON_BAD_REQUEST, "", "bad request: '%.60s' is not an IP address",
	    i < req->nfields ? req->fields[i] : "");
	return false;
}

/* Checks every external ACL decision starts with; false if decided. */
static bool
ext_start(struct engine *e, const struct request *req, struct verdict *v)
{
	verdict_init(v);
	if (req->bad) {
		verdict_set(v, REASON_BAD_REQUEST, "", "bad request: %s", req->error);
		return false;
	}
	if (e->setup_error[0] != '\0') {
		verdict_set(v, REASON_BACKEND_ERROR, "", "config error: %s", e->setup_error);
		return false;
	}
	return true;
}

void
engine_decide_allow(struct engine *e, const struct request *req, struct verdict *v)
{
	struct netaddr a;
	char err[256];
	int rc;

	if (!ext_start(e, req, v) || !field_addr(req, 0, &a, v))
		return;
	if (e->allow == NULL) {
		e->allow = allow_new(e->conf);
		for (int i = 0; i < e->nchain; i++)
			if (e->chain[i].ops->allow_entries != NULL && e->conf->ldap_allow_base[0] != '\0')
				allow_set_source(e->allow, e->chain[i].ops->allow_entries,
				    e->chain[i].ctx, e->conf->ldap_allow_list, e->conf->ldap_allow_refresh);
	}
	/* Squid sends "-" for an empty %DATA: no list named, the default one. */
	rc = allow_match(e->allow, req->fields + 1, acl_args(req, 1), &a, err, sizeof(err));
	if (rc < 0)
		verdict_set(v, REASON_BACKEND_DOWN, "allow", "allow lists unavailable: %s", err);
	else
		verdict_set(v, rc > 0 ? REASON_OK : REASON_NOT_ALLOWED, "allow", NULL);
}

struct want_groups {
	const char *const *want;
	int nwant;
	bool member;
};

static int
match_group(const char *group, void *arg)
{
	struct want_groups *w = arg;

	for (int i = 0; i < w->nwant; i++)
		if (strcasecmp(group, w->want[i]) == 0)
			w->member = true;
	return w->member;
}

void
engine_decide_group(struct engine *e, const struct request *req, struct verdict *v)
{
	struct want_groups w = { req->fields + 1, acl_args(req, 1), false };
	char err[256];
	int rc;

	if (!ext_start(e, req, v))
		return;
	if (w.nwant == 0) {
		verdict_set(v, REASON_BAD_REQUEST, "", "bad request: no group named "
		    "(acl NAME external TYPE GROUP...)");
		return;
	}
	/*
	 * A directory group filter that names the group (%g, as
	 * ext_ldap_group_acl's) is asked group by group; otherwise the
	 * user's groups are listed and compared.
	 */
	if (strstr(e->conf->ldap_group_filter, "%g") != NULL || e->conf->ldap_group_test) {
		char user[UTIL_NAME_MAX + 1];
		struct request fake;

		memset(&fake, 0, sizeof(fake));
		fake.user = req->fields[0];
		fake.user_len = req->field_lens[0];
		lookup_name(e, &fake, user);
		for (int i = 0; i < e->nchain && !w.member; i++) {
			if (e->chain[i].ops->in_group == NULL)
				continue;
			for (int g = 1; g <= w.nwant && !w.member; g++) {
				enum backend_result br = e->chain[i].ops->in_group(e->chain[i].ctx,
				    user, req->fields[g], err, sizeof(err));
				if (br == BACKEND_OK) {
					w.member = true;
				} else if (br == BACKEND_DOWN || br == BACKEND_ERROR) {
					verdict_set(v, br == BACKEND_DOWN ? REASON_BACKEND_DOWN :
					    REASON_BACKEND_ERROR, "ldap", "groups unavailable: %s", err);
					return;
				}
			}
		}
		/* Local groups still count. */
		if (!w.member && e->local.ops != NULL)
			(void)e->local.ops->groups(e->local.ctx, user, match_group, &w, err, sizeof(err));
		verdict_set(v, w.member ? REASON_OK : REASON_NOT_IN_GROUP, "", NULL);
		return;
	}
	rc = engine_groups(e, req->fields[0], match_group, &w, err, sizeof(err));
	if (rc < 0)
		verdict_set(v, REASON_BACKEND_DOWN, "", "groups unavailable: %s", err);
	else
		verdict_set(v, w.member ? REASON_OK : REASON_NOT_IN_GROUP, "", NULL);
}

void
engine_decide_userip(struct engine *e, const struct request *req, struct verdict *v)
{
	char user[UTIL_NAME_MAX + 1], err[256];
	struct netaddr a;
	bool bound = false, inside = false;
	struct request fake;

	if (!ext_start(e, req, v) || !field_addr(req, 1, &a, v))
		return;
	memset(&fake, 0, sizeof(fake));
	fake.user = req->fields[0];
	fake.user_len = req->field_lens[0];
	lookup_name(e, &fake, user);
	if (e->local.ops == NULL || e->local.ops->nets == NULL) {
		verdict_set(v, REASON_OK, "", NULL);
		return;
	}
	if (e->local.ops->nets(e->local.ctx, user, &a, &bound, &inside, err, sizeof(err)) != 0) {
		verdict_set(v, REASON_BACKEND_DOWN, "sqlite", "store unavailable: %s", err);
		return;
	}
	verdict_set(v, !bound || inside ? REASON_OK : REASON_IP_NOT_ALLOWED, "sqlite", NULL);
}
