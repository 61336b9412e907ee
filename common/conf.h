/* conf: cuttle.conf, `key = value` lines in [section]s, with defaults. */
#ifndef CUTTLE_CONF_H
#define CUTTLE_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define CONF_DEFAULT_PATH CUTTLE_SYSCONFDIR "/cuttle.conf"
#define CONF_DEFAULT_STORE CUTTLE_STATEDIR "/cuttle.db"

enum conf_case { CONF_CASE_FOLD, CONF_CASE_EXACT };
enum conf_backend { CONF_BACKEND_SQLITE, CONF_BACKEND_LDAP };
#define CONF_BACKENDS_MAX 2

/* Search scopes and alias dereferencing, numbered as libldap numbers them. */
enum conf_scope { CONF_SCOPE_BASE = 0, CONF_SCOPE_ONE = 1, CONF_SCOPE_SUB = 2 };
enum conf_deref { CONF_DEREF_NEVER = 0, CONF_DEREF_SEARCH = 1,
	CONF_DEREF_FIND = 2, CONF_DEREF_ALWAYS = 3 };

#define CONF_LDAP_FILTER_DEFAULT "(uid=%s)"
#define CONF_GROUP_FILTER_DEFAULT \
	"(|(&(objectClass=groupOfNames)(member=%d))" \
	"(&(objectClass=groupOfUniqueNames)(uniqueMember=%d))" \
	"(&(objectClass=posixGroup)(memberUid=%u)))"

struct conf {
	/* [store] */
	char *store_path;
	char *squid_group;
	enum conf_case username_case;
	long long busy_timeout;		/* seconds */
	/* [lockout] */
	bool lockout_enabled;
	long long lockout_max_failures;
	long long lockout_window;	/* seconds */
	long long lockout_duration;	/* seconds */
	bool lockout_per_address;
	/* [audit] */
	char *audit_path;		/* "": audit.db beside the store */
	long long audit_retention;	/* seconds */
	bool audit_syslog;		/* also one line per decision to syslog */
	int audit_syslog_facility;	/* LOG_AUTH, LOG_LOCAL0, … */
	char *audit_syslog_socket;	/* /dev/log */
	/* [hash] */
	unsigned long long opslimit;
	size_t memlimit;
	/* [auth] */
	enum conf_backend backends[CONF_BACKENDS_MAX];
	int nbackends;
	bool group_notes;		/* OK replies carry group= notes */
	int workers;			/* threads deciding at once; 0: one per core */
	long long deadline_ms;		/* a request is answered BH by then */
	int queue;			/* requests waiting for a worker, at most */
	/* [cache] */
	long long cache_ttl;		/* seconds a verified password is kept; 0: off */
	long long cache_negative_ttl;	/* seconds a refusal is kept; 0: off */
	long long cache_size;		/* entries, at most */
	long long cache_stale_max;	/* seconds past verification served in an
					   outage; -1: auto (off for sqlite, 1h with ldap) */
	/* [ldap] */
	char *ldap_uri;			/* one or more, space-separated */
	char *ldap_base;
	char *ldap_filter;		/* %s: the user name */
	char *ldap_dn_template;		/* set: bind to this DN, no search */
	enum conf_scope ldap_scope;
	enum conf_deref ldap_deref;
	char *ldap_bind_dn;
	char *ldap_bind_password_file;
	char *ldap_bind_password;	/* from -w only; a secret, zeroed on free */
	bool ldap_starttls;
	char *ldap_ca_file;
	bool ldap_tls_verify;
	bool ldap_require_tls;
	bool ldap_referrals;
	char *ldap_password_attr;	/* set: compare instead of bind */
	long long ldap_connect_timeout;	/* seconds, each */
	long long ldap_timeout;
	long long ldap_deadline;
	long long ldap_retry;
	char *ldap_group_base;
	char *ldap_group_filter;	/* %u user, %d user DN, %g group */
	bool ldap_group_test;		/* the filter tests one membership (-f) */
	char *ldap_group_attr;
	enum conf_scope ldap_group_scope;
	char *ldap_user_group_attr;	/* e.g. memberOf: groups from the user entry */
	char *ldap_allow_base;		/* set: allow-list entries from the directory */
	char *ldap_allow_filter;
	char *ldap_allow_attr;
	char *ldap_allow_list;		/* the allow list they belong to */
	long long ldap_allow_refresh;	/* seconds between reloads */
};

/* Parse "sub"/"one"/"base" and "never"/"search"/"find"/"always". 0 or -1. */
int conf_parse_scope(const char *value, enum conf_scope *scope_r) WUR;
int conf_parse_deref(const char *value, enum conf_deref *deref_r) WUR;

/* The path of name (state.db) in cuttle.db's directory. Into buf. */
const char *conf_beside_store(const struct conf *conf, const char *name, char *buf,
    size_t size);

/* audit.db's path: [audit] path, or audit.db beside cuttle.db. Into buf. */
const char *conf_audit_path(const struct conf *conf, char *buf, size_t size);

/* [cache] stale_max with "auto" resolved. */
long long conf_stale_max(const struct conf *conf);

/* [auth] workers with 0 resolved to the number of cores. */
int conf_workers(const struct conf *conf);

/* True if backend b is in the chain. */
bool conf_uses(const struct conf *conf, enum conf_backend b);

/* A configuration holding every default. Never NULL (aborts on ENOMEM). */
struct conf *conf_new(void);
void conf_free(struct conf *conf);

/*
 * Read the file at path over the values in conf. A missing file is an
 * error only if required (an explicit --config); the default path may be
 * absent. Returns 0, or -1 with a message naming file:line and the fix in
 * err.
 */
int conf_load(struct conf *conf, const char *path, bool required,
    char *err, size_t errlen) WUR;

/*
 * Set one value as if read from the file ("store", "path", "/x").
 * Returns 0, or -1 with *error_r ("unknown key" for an unknown one).
 */
int conf_set(struct conf *conf, const char *section, const char *key,
    const char *value, const char **error_r) WUR;

#endif
