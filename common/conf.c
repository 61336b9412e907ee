#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <syslog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ldapesc.h"
#include "pwhash.h"

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		abort();
	return p;
}

struct conf *
conf_new(void)
{
	struct conf *conf = calloc(1, sizeof(*conf));

	if (conf == NULL)
		abort();
	conf->store_path = xstrdup(CONF_DEFAULT_STORE);
	conf->squid_group = xstrdup(SQUID_GROUP);
	conf->username_case = CONF_CASE_FOLD;
	conf->busy_timeout = 2;
	conf->lockout_enabled = true;
	conf->lockout_max_failures = 10;
	conf->lockout_window = 600;
	conf->lockout_duration = 900;
	conf->lockout_per_address = true;
	conf->audit_path = xstrdup("");
	conf->audit_retention = 90 * 86400;
	conf->audit_syslog = false;
	conf->audit_syslog_facility = LOG_AUTH;
	conf->audit_syslog_socket = xstrdup("/dev/log");
	conf->opslimit = pwhash_default_opslimit();
	conf->memlimit = pwhash_default_memlimit();
	conf->backends[0] = CONF_BACKEND_SQLITE;
	conf->nbackends = 1;
	conf->group_notes = true;
	conf->workers = 0;
	conf->deadline_ms = 10000;
	conf->queue = 256;
	conf->cache_ttl = 60;
	conf->cache_negative_ttl = 30;
	conf->cache_size = 65536;
	conf->cache_stale_max = -1;
	conf->ldap_uri = xstrdup("");
	conf->ldap_base = xstrdup("");
	conf->ldap_filter = xstrdup(CONF_LDAP_FILTER_DEFAULT);
	conf->ldap_dn_template = xstrdup("");
	conf->ldap_scope = CONF_SCOPE_SUB;
	conf->ldap_deref = CONF_DEREF_NEVER;
	conf->ldap_bind_dn = xstrdup("");
	conf->ldap_bind_password_file = xstrdup("");
	conf->ldap_starttls = false;
	conf->ldap_ca_file = xstrdup("");
	conf->ldap_tls_verify = true;
	conf->ldap_require_tls = false;
	conf->ldap_referrals = false;
	conf->ldap_password_attr = xstrdup("");
	conf->ldap_connect_timeout = 2;
	conf->ldap_timeout = 4;
	conf->ldap_deadline = 8;
	conf->ldap_retry = 10;
	conf->ldap_group_base = xstrdup("");
	conf->ldap_group_filter = xstrdup(CONF_GROUP_FILTER_DEFAULT);
	conf->ldap_group_attr = xstrdup("cn");
	conf->ldap_group_scope = CONF_SCOPE_SUB;
	conf->ldap_user_group_attr = xstrdup("");
	conf->ldap_allow_base = xstrdup("");
	conf->ldap_allow_filter = xstrdup("(objectClass=cuttleAllowEntry)");
	conf->ldap_allow_attr = xstrdup("cuttleAllowNet");
	conf->ldap_allow_list = xstrdup("default");
	conf->ldap_allow_refresh = 60;
	return conf;
}

void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->store_path);
	free(conf->squid_group);
	free(conf->audit_path);
	free(conf->audit_syslog_socket);
	free(conf->ldap_uri);
	free(conf->ldap_base);
	free(conf->ldap_filter);
	free(conf->ldap_dn_template);
	free(conf->ldap_bind_dn);
	free(conf->ldap_bind_password_file);
	if (conf->ldap_bind_password != NULL) {
		pwhash_zero(conf->ldap_bind_password, strlen(conf->ldap_bind_password));
		free(conf->ldap_bind_password);
	}
	free(conf->ldap_ca_file);
	free(conf->ldap_password_attr);
	free(conf->ldap_group_base);
	free(conf->ldap_group_filter);
	free(conf->ldap_group_attr);
	free(conf->ldap_user_group_attr);
	free(conf->ldap_allow_base);
	free(conf->ldap_allow_filter);
	free(conf->ldap_allow_attr);
	free(conf->ldap_allow_list);
	free(conf);
}

static void
replace(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

const char *
conf_audit_path(const struct conf *conf, char *buf, size_t size)
{
	if (conf->audit_path[0] != '\0') {
		snprintf(buf, size, "%s", conf->audit_path);
		return buf;
	}
	return conf_beside_store(conf, "audit.db", buf, size);
}

const char *
conf_beside_store(const struct conf *conf, const char *name, char *buf, size_t size)
{
	const char *slash = strrchr(conf->store_path, '/');

	snprintf(buf, size, "%.*s/%s", slash != NULL ? (int)(slash - conf->store_path) : 0,
	    conf->store_path, name);
	return buf;
}

bool
conf_uses(const struct conf *conf, enum conf_backend b)
{
	for (int i = 0; i < conf->nbackends; i++)
		if (conf->backends[i] == b)
			return true;
	return false;
}

long long
conf_stale_max(const struct conf *conf)
{
	if (conf->cache_stale_max >= 0)
		return conf->cache_stale_max;
	return conf_uses(conf, CONF_BACKEND_LDAP) ? 3600 : 0;
}

int
conf_workers(const struct conf *conf)
{
	long n;

	if (conf->workers > 0)
		return conf->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

static int
parse_backends(struct conf *conf, const char *value, const char **error_r)
{
	enum conf_backend list[CONF_BACKENDS_MAX];
	const char *p = value;
	int n = 0;

	*error_r = "backend must be sqlite, ldap, or both in order (sqlite, ldap)";
	for (;;) {
		size_t len;
		enum conf_backend b;

		p += strspn(p, ", \t");
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		if (len == 6 && strncmp(p, "sqlite", 6) == 0)
			b = CONF_BACKEND_SQLITE;
		else if (len == 4 && strncmp(p, "ldap", 4) == 0)
			b = CONF_BACKEND_LDAP;
		else
			return -1;
		if (n == CONF_BACKENDS_MAX || (n == 1 && list[0] == b))
			return -1;
		list[n++] = b;
		p += len;
	}
	memcpy(conf->backends, list, sizeof(list));
	if (n == 0)
		return -1;
	conf->nbackends = n;
	return 0;
}

static int
parse_bool(const char *value, bool *b_r, const char **error_r)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "on") == 0)
		*b_r = true;
	else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 || strcmp(value, "off") == 0)
		*b_r = false;
	else {
		*error_r = "must be yes or no";
		return -1;
	}
	return 0;
}

int
conf_parse_scope(const char *value, enum conf_scope *scope_r)
{
	if (strcmp(value, "sub") == 0 || strcmp(value, "subtree") == 0)
		*scope_r = CONF_SCOPE_SUB;
	else if (strcmp(value, "one") == 0 || strcmp(value, "onelevel") == 0)
		*scope_r = CONF_SCOPE_ONE;
	else if (strcmp(value, "base") == 0)
		*scope_r = CONF_SCOPE_BASE;
	else
		return -1;
	return 0;
}

int
conf_parse_deref(const char *value, enum conf_deref *deref_r)
{
	if (strcmp(value, "never") == 0)
		*deref_r = CONF_DEREF_NEVER;
	else if (strcmp(value, "search") == 0)
		*deref_r = CONF_DEREF_SEARCH;
	else if (strcmp(value, "find") == 0)
		*deref_r = CONF_DEREF_FIND;
	else if (strcmp(value, "always") == 0)
		*deref_r = CONF_DEREF_ALWAYS;
	else
		return -1;
	return 0;
}

static int
set_seconds(long long *slot, const char *value, long long max,
    const char **error_r)
{
	long long n;

	if (util_parse_duration(value, &n, error_r) != 0)
		return -1;
	if (n < 1 || n > max) {
		*error_r = "must be from 1s to the documented maximum";
		return -1;
	}
	*slot = n;
	return 0;
}

static int
set_template(char **slot, const char *value, const char *allowed,
    const char **error_r)
{
	if (!ldapesc_check(value, allowed, error_r))
		return -1;
	replace(slot, value);
	return 0;
}

static int
set_ldap(struct conf *conf, const char *key, const char *value,
    const char **error_r)
{
	static const struct {
		const char *key;
		size_t off;
	} strings[] = {
		{ "uri", offsetof(struct conf, ldap_uri) },
		{ "base", offsetof(struct conf, ldap_base) },
		{ "bind_dn", offsetof(struct conf, ldap_bind_dn) },
		{ "bind_password_file", offsetof(struct conf, ldap_bind_password_file) },
		{ "ca_file", offsetof(struct conf, ldap_ca_file) },
		{ "password_attr", offsetof(struct conf, ldap_password_attr) },
		{ "group_base", offsetof(struct conf, ldap_group_base) },
		{ "group_attr", offsetof(struct conf, ldap_group_attr) },
		{ "user_group_attr", offsetof(struct conf, ldap_user_group_attr) },
		{ "allow_base", offsetof(struct conf, ldap_allow_base) },
		{ "allow_filter", offsetof(struct conf, ldap_allow_filter) },
		{ "allow_attr", offsetof(struct conf, ldap_allow_attr) },
	};

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		if (strcmp(key, strings[i].key) == 0) {
			replace((char **)((char *)conf + strings[i].off), value);
			return 0;
		}
	}
	if (strcmp(key, "filter") == 0)
		return set_template(&conf->ldap_filter, value, "s", error_r);
	if (strcmp(key, "dn_template") == 0)
		return set_template(&conf->ldap_dn_template, value, "s", error_r);
	if (strcmp(key, "group_filter") == 0)
		return set_template(&conf->ldap_group_filter, value, "udg", error_r);
	if (strcmp(key, "scope") == 0 || strcmp(key, "group_scope") == 0) {
		if (conf_parse_scope(value, key[0] == 's' ? &conf->ldap_scope :
		    &conf->ldap_group_scope) != 0) {
			*error_r = "must be sub, one or base";
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "deref") == 0) {
		if (conf_parse_deref(value, &conf->ldap_deref) != 0) {
			*error_r = "must be never, search, find or always";
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "starttls") == 0)
		return parse_bool(value, &conf->ldap_starttls, error_r);
	if (strcmp(key, "tls_verify") == 0)
		return parse_bool(value, &conf->ldap_tls_verify, error_r);
	if (strcmp(key, "require_tls") == 0)
		return parse_bool(value, &conf->ldap_require_tls, error_r);
	if (strcmp(key, "referrals") == 0)
		return parse_bool(value, &conf->ldap_referrals, error_r);
	if (strcmp(key, "connect_timeout") == 0)
		return set_seconds(&conf->ldap_connect_timeout, value, 60, error_r);
	if (strcmp(key, "timeout") == 0)
		return set_seconds(&conf->ldap_timeout, value, 120, error_r);
	if (strcmp(key, "deadline") == 0)
		return set_seconds(&conf->ldap_deadline, value, 300, error_r);
	if (strcmp(key, "retry") == 0)
		return set_seconds(&conf->ldap_retry, value, 3600, error_r);
	if (strcmp(key, "allow_refresh") == 0)
		return set_seconds(&conf->ldap_allow_refresh, value, 86400, error_r);
	if (strcmp(key, "allow_list") == 0) {
		size_t len = strlen(value);
		if (len == 0 || len > 64 || strspn(value, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") != len) {
			*error_r = "must be a list name (1 to 64 letters, digits, '.', '_', '@', '-')";
			return -1;
		}
		replace(&conf->ldap_allow_list, value);
		return 0;
	}
	*error_r = "unknown key";
	return -1;
}

int
conf_set(struct conf *conf, const char *section, const char *key,
    const char *value, const char **error_r)
{
	long long n;

	if (strcmp(section, "store") == 0) {
		if (strcmp(key, "path") == 0) {
			if (*value != '/') {
				*error_r = "path must be absolute";
				return -1;
			}
			replace(&conf->store_path, value);
		} else if (strcmp(key, "squid_group") == 0) {
			if (*value == '\0') {
				*error_r = "squid_group must name a group";
				return -1;
			}
			replace(&conf->squid_group, value);
		} else if (strcmp(key, "username_case") == 0) {
			if (strcmp(value, "fold") == 0)
				conf->username_case = CONF_CASE_FOLD;
			else if (strcmp(value, "exact") == 0)
				conf->username_case = CONF_CASE_EXACT;
			else {
				*error_r = "username_case must be fold or exact";
				return -1;
			}
		} else if (strcmp(key, "busy_timeout") == 0) {
			if (util_parse_duration(value, &n, error_r) != 0)
				return -1;
			if (n > 60) {
				*error_r = "busy_timeout must be at most 60s";
				return -1;
			}
			conf->busy_timeout = n;
		} else {
			*error_r = "unknown key";
			return -1;
		}
	} else if (strcmp(section, "hash") == 0) {
		if (strcmp(key, "opslimit") == 0)
			return pwhash_parse_opslimit(value, &conf->opslimit, error_r);
		else if (strcmp(key, "memlimit") == 0)
			return pwhash_parse_memlimit(value, &conf->memlimit, error_r);
		*error_r = "unknown key";
		return -1;
	} else if (strcmp(section, "auth") == 0) {
		if (strcmp(key, "backend") == 0)
			return parse_backends(conf, value, error_r);
		if (strcmp(key, "group_notes") == 0)
			return parse_bool(value, &conf->group_notes, error_r);
		if (strcmp(key, "workers") == 0) {
			if (strcmp(value, "auto") == 0) {
				conf->workers = 0;
				return 0;
			}
			if (util_strtonum(value, 1, 256, &n, error_r) != 0) {
				*error_r = "workers must be auto or 1 to 256";
				return -1;
			}
			conf->workers = (int)n;
			return 0;
		}
		if (strcmp(key, "deadline") == 0) {
			if (set_seconds(&n, value, 300, error_r) != 0) {
				*error_r = "deadline must be from 1s to 300s";
				return -1;
			}
			conf->deadline_ms = n * 1000;
			return 0;
		}
		if (strcmp(key, "queue") == 0) {
			if (util_strtonum(value, 1, 100000, &n, error_r) != 0) {
				*error_r = "queue must be 1 to 100000";
				return -1;
			}
			conf->queue = (int)n;
			return 0;
		}
		*error_r = "unknown key";
		return -1;
	} else if (strcmp(section, "cache") == 0) {
		if (strcmp(key, "ttl") == 0 || strcmp(key, "negative_ttl") == 0 ||
		    strcmp(key, "stale_max") == 0) {
			long long *slot = key[0] == 't' ? &conf->cache_ttl :
			    key[0] == 'n' ? &conf->cache_negative_ttl : &conf->cache_stale_max;
			if (slot == &conf->cache_stale_max && strcmp(value, "auto") == 0) {
				*slot = -1;
				return 0;
			}
			if (util_parse_duration(value, &n, error_r) != 0)
				return -1;
			if (n < 0 || n > 7 * 86400) {
				*error_r = "must be from 0 (off) to 7d";
				return -1;
			}
			*slot = n;
			return 0;
		}
		if (strcmp(key, "size") == 0) {
			if (util_strtonum(value, 0, 10000000, &n, error_r) != 0) {
				*error_r = "size must be 0 (off) to 10000000 entries";
				return -1;
			}
			conf->cache_size = n;
			return 0;
		}
		*error_r = "unknown key";
		return -1;
	} else if (strcmp(section, "ldap") == 0) {
		return set_ldap(conf, key, value, error_r);
	} else if (strcmp(section, "lockout") == 0) {
		if (strcmp(key, "enabled") == 0)
			return parse_bool(value, &conf->lockout_enabled, error_r);
		if (strcmp(key, "per_address") == 0)
			return parse_bool(value, &conf->lockout_per_address, error_r);
		if (strcmp(key, "max_failures") == 0) {
			if (util_strtonum(value, 1, 100000, &n, error_r) != 0) {
				*error_r = "max_failures must be 1 to 100000";
				return -1;
			}
			conf->lockout_max_failures = n;
			return 0;
		}
		if (strcmp(key, "window") == 0)
			return set_seconds(&conf->lockout_window, value, 7 * 86400, error_r);
		if (strcmp(key, "duration") == 0)
			return set_seconds(&conf->lockout_duration, value, 7 * 86400, error_r);
		*error_r = "unknown key";
		return -1;
	} else if (strcmp(section, "audit") == 0) {
		if (strcmp(key, "path") == 0) {
			if (*value != '/' && *value != '\0') {
				*error_r = "path must be absolute";
				return -1;
			}
			replace(&conf->audit_path, value);
			return 0;
		}
		if (strcmp(key, "syslog") == 0)
			return parse_bool(value, &conf->audit_syslog, error_r);
		if (strcmp(key, "syslog_socket") == 0) {
			if (*value != '/') {
				*error_r = "syslog_socket must be an absolute path";
				return -1;
			}
			replace(&conf->audit_syslog_socket, value);
			return 0;
		}
		if (strcmp(key, "syslog_facility") == 0) {
			static const struct { const char *name; int f; } fac[] = {
				{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV }, { "daemon", LOG_DAEMON },
				{ "user", LOG_USER }, { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
				{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
				{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
			};
			for (size_t i = 0; i < sizeof(fac) / sizeof(fac[0]); i++) {
				if (strcmp(value, fac[i].name) == 0) {
					conf->audit_syslog_facility = fac[i].f;
					return 0;
				}
			}
			*error_r = "syslog_facility must be auth, authpriv, daemon, user or local0..local7";
			return -1;
		}
		if (strcmp(key, "retention") == 0) {
			if (util_parse_duration(value, &n, error_r) != 0)
				return -1;
			if (n < 3600) {
				*error_r = "retention must be at least 1h";
				return -1;
			}
			conf->audit_retention = n;
			return 0;
		}
		*error_r = "unknown key";
		return -1;
	} else {
		*error_r = "unknown section";
		return -1;
	}
	return 0;
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

int
conf_load(struct conf *conf, const char *path, bool required, char *err,
    size_t errlen)
{
	FILE *f;
	char line[4096], section[64] = "";
	unsigned lineno = 0;
	int rc = 0;

	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT && !required)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p, *eq, *key, *value;
		const char *error;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			rc = -1;
			break;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if (*p == '[') {
			char *close = strchr(p, ']');
			if (close == NULL || close[1] != '\0' ||
			    (size_t)(close - p - 1) >= sizeof(section)) {
				snprintf(err, errlen, "%s:%u: malformed section header (use [name])",
				    path, lineno);
				rc = -1;
				break;
			}
			*close = '\0';
			snprintf(section, sizeof(section), "%s", trim(p + 1));
			if (strcmp(section, "store") != 0 && strcmp(section, "hash") != 0 &&
			    strcmp(section, "auth") != 0 && strcmp(section, "ldap") != 0 &&
			    strcmp(section, "audit") != 0 && strcmp(section, "lockout") != 0 &&
			    strcmp(section, "cache") != 0) {
				snprintf(err, errlen, "%s:%u: unknown section [%.40s] (known: [store], [hash], [auth], [cache], [ldap], [lockout], [audit])",
				    path, lineno, section);
				rc = -1;
				break;
			}
			continue;
		}
		eq = strchr(p, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = trim(p);
		value = trim(eq + 1);
		if (section[0] == '\0') {
			snprintf(err, errlen, "%s:%u: key '%.40s' outside a [section]",
			    path, lineno, key);
			rc = -1;
			break;
		}
		if (conf_set(conf, section, key, value, &error) != 0) {
			if (strcmp(error, "unknown key") == 0)
				snprintf(err, errlen, "%s:%u: unknown key '%.40s' in [%s] (see cuttle.conf(5))",
				    path, lineno, key, section);
			else
				snprintf(err, errlen, "%s:%u: %s: %s", path, lineno, key, error);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	fclose(f);
	return rc;
}
