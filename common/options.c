#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "pwhash.h"

const char options_basic_usage[] =
    "usage: basic_cuttle_auth [--config FILE] [--db PATH] "
    "[--channel-id yes|no|auto] [--key-extras FORMAT] [-d] "
    "[basic_ldap_auth options] [ldap_server[:port] | URI ...]";

/* basic_ldap_auth's options that take a value, and those that do not. */
static const char ldap_valued[] = "bfusaDWwHhpUvEStc";
static const char ldap_flags[] = "PORZd";

#define SERVERS_MAX 16

struct ldap_args {
	const char *base, *filter, *userattr, *port;
	const char *servers[SERVERS_MAX];	/* -H, -h and trailing, in order */
	int nservers;
	bool any;
};

static int
add_server(struct ldap_args *la, const char *server, char *err, size_t errlen)
{
	if (la->nservers == SERVERS_MAX) {
		snprintf(err, errlen, "more than %d LDAP servers", SERVERS_MAX);
		return -1;
	}
	la->servers[la->nservers++] = server;
	return 0;
}

/*
 * The servers as URIs: "host" and "host:port" as basic_ldap_auth takes
 * them (-p, wherever it stands, is the port for hosts without one).
 */
static int
server_uris(const struct ldap_args *la, char *uris, size_t size, char *err,
    size_t errlen)
{
	size_t n = 0;

	uris[0] = '\0';
	for (int i = 0; i < la->nservers; i++) {
		const char *s = la->servers[i], *sep = n > 0 ? " " : "";
		int w;

		if (strstr(s, "://") != NULL)
			w = snprintf(uris + n, size - n, "%s%s", sep, s);
		else if (strchr(s, ':') != NULL || la->port == NULL)
			w = snprintf(uris + n, size - n, "%sldap://%s", sep, s);
		else
			w = snprintf(uris + n, size - n, "%sldap://%s:%s", sep, s, la->port);
		if (w < 0 || (size_t)w >= size - n) {
			snprintf(err, errlen, "LDAP server list too long");
			return -1;
		}
		n += (size_t)w;
	}
	return 0;
}

static int
set(struct conf *conf, const char *key, const char *value, char opt,
    char *err, size_t errlen)
{
	const char *why;

	if (conf_set(conf, "ldap", key, value, &why) != 0) {
		snprintf(err, errlen, "-%c %.100s: %s", opt, value, why);
		return -1;
	}
	return 0;
}

/* One basic_ldap_auth option with its value (NULL for flags). */
static int
ldap_option(struct conf *conf, struct ldap_args *la, char opt, char *val,
    bool *debug_r, char *err, size_t errlen)
{
	la->any = la->any || opt != 'd';
	switch (opt) {
	case 'b': la->base = val; return set(conf, "base", val, opt, err, errlen);
	case 'f': la->filter = val; return set(conf, "filter", val, opt, err, errlen);
	case 'u': la->userattr = val; return 0;
	case 's': return set(conf, "scope", val, opt, err, errlen);
	case 'a': return set(conf, "deref", val, opt, err, errlen);
	case 'D': return set(conf, "bind_dn", val, opt, err, errlen);
	case 'W': return set(conf, "bind_password_file", val, opt, err, errlen);
	case 'w':
		/* Taken (and wiped) by take_passwords() before parsing. */
		return 0;
	case 'H': return add_server(la, val, err, errlen);
	case 'h': return add_server(la, val, err, errlen);
	case 'p': la->port = val; return 0;
	case 'U': return set(conf, "password_attr", val, opt, err, errlen);
	case 'v':
		if (strcmp(val, "3") != 0 && strcmp(val, "2") != 0) {
			snprintf(err, errlen, "-v %.20s: use 2 or 3", val);
			return -1;
		}
		if (val[0] == '2')
			log_warn("-v 2: LDAPv2 is obsolete; using version 3");
		return 0;
	case 'E':
	case 'S':
		log_warn("-%c: Netscape SSL options are not supported; using %s as the CA "
		    "file (prefer ldaps:// URIs and [ldap] ca_file)", opt, val);
		return set(conf, "ca_file", val, opt, err, errlen);
	case 'c': return set(conf, "connect_timeout", val, opt, err, errlen);
	case 't': return set(conf, "timeout", val, opt, err, errlen);
	case 'Z': return set(conf, "starttls", "yes", opt, err, errlen);
	case 'R': return set(conf, "referrals", "no", opt, err, errlen);
	case 'P':
	case 'O':
		/* Connections persist, and user binds have their own: no-ops. */
		return 0;
	case 'd':
		*debug_r = true;
		return 0;
	}
	snprintf(err, errlen, "unknown option '-%c' (%s)", opt, options_basic_usage);
	return -1;
}

static int
finish_ldap(struct conf *conf, struct ldap_args *la, char *err, size_t errlen)
{
	char tmpl[1024], uris[2048];

	if (server_uris(la, uris, sizeof(uris), err, errlen) != 0)
		return -1;
	if (uris[0] != '\0' && set(conf, "uri", uris, 'H', err, errlen) != 0)
		return -1;
	if (conf->ldap_uri[0] == '\0' && set(conf, "uri", "ldap://localhost", 'H', err, errlen) != 0)
		return -1;
	if (la->filter == NULL && (la->userattr != NULL || conf->ldap_dn_template[0] == '\0')) {
		/* basic_ldap_auth without -f binds to userattr=user,basedn. */
		if (la->base == NULL) {
			snprintf(err, errlen, "-b basedn is required (%s)", options_basic_usage);
			return -1;
		}
		snprintf(tmpl, sizeof(tmpl), "%s=%%s,%s", la->userattr != NULL ? la->userattr : "uid",
		    la->base);
		if (set(conf, "dn_template", tmpl, 'u', err, errlen) != 0)
			return -1;
	}
	if (!conf_uses(conf, CONF_BACKEND_LDAP)) {
		conf->backends[0] = CONF_BACKEND_LDAP;
		conf->nbackends = 1;
	}
	return 0;
}

/*
 * Take every -w password out of argv before anything else can fail: a
 * helper that stays up answering BH must not keep it in the process list.
 * The last one given is kept in conf.
 */
static int
take_passwords(int argc, char **argv, struct conf *conf, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		char *val = NULL;
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strncmp(argv[i], "-w", 2) != 0)
			continue;
		if (argv[i][2] != '\0')
			val = argv[i] + 2;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			continue;
		if (conf->ldap_bind_password != NULL) {
			pwhash_zero(conf->ldap_bind_password, strlen(conf->ldap_bind_password));
			free(conf->ldap_bind_password);
		}
		conf->ldap_bind_password = strdup(val);
		pwhash_zero(val, strlen(val));
		if (conf->ldap_bind_password == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		log_warn("-w puts the bind password in the process list; use -W FILE");
	}
	return 0;
}

/*
 * What both helpers do first: take the -w passwords out of argv, then read
 * the configuration file (--config, or the default one), which the rest
 * of the command line overrides. Returns 0 or -1 with err.
 */
static int
config_first(int argc, char **argv, struct conf *conf, char *err, size_t errlen)
{
	const char *config = NULL;

	if (take_passwords(argc, argv, conf, err, errlen) != 0)
		return -1;
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--config") == 0)
			config = argv[i + 1];
	return conf_load(conf, config != NULL ? config : CONF_DEFAULT_PATH, config != NULL,
	    err, errlen);
}

/*
 * The long options both helpers take (--config, --db, --channel-id,
 * --debug). Returns 1 when a is one of them, 0 when it is not, -1 with
 * err when its value is bad.
 */
static int
common_long_option(const char *a, const char *val, struct helper_opts *o, bool *debug_r,
    const char **db_r, char *err, size_t errlen)
{
	if (strcmp(a, "--config") == 0)
		return 1;
	if (strcmp(a, "--db") == 0) {
		*db_r = val;
		return 1;
	}
	if (strcmp(a, "--channel-id") == 0) {
		if (proto_channel_parse(val, &o->channel) != 0) {
			snprintf(err, errlen, "--channel-id %.40s: use yes, no or auto", val);
			return -1;
		}
		return 1;
	}
	if (strcmp(a, "--debug") == 0) {
		*debug_r = true;
		return 1;
	}
	return 0;
}

int
options_basic_auth(int argc, char **argv, struct conf *conf,
    struct helper_opts *o, bool *debug_r, char *err, size_t errlen)
{
	const char *db = NULL, *why;
	struct ldap_args la;
	int i, rc;

	memset(&la, 0, sizeof(la));
	if (config_first(argc, argv, conf, err, errlen) != 0)
		return -1;
	for (i = 1; i < argc; i++) {
		char *a = argv[i], *val;

		if (strncmp(a, "--", 2) == 0) {
			bool takes = strcmp(a, "--config") == 0 || strcmp(a, "--db") == 0 ||
			    strcmp(a, "--channel-id") == 0 || strcmp(a, "--key-extras") == 0;
			if (takes && i + 1 >= argc) {
				snprintf(err, errlen, "option %s needs a value (%s)", a,
				    options_basic_usage);
				return -1;
			}
			val = takes ? argv[++i] : NULL;
			if ((rc = common_long_option(a, val, o, debug_r, &db, err, errlen)) < 0)
				return -1;
			if (rc > 0)
				continue;
			if (strcmp(a, "--key-extras") == 0) {
				if ((o->nextras = helper_count_extras(val, &o->client_field)) < 0) {
					snprintf(err, errlen, "--key-extras: more than %d fields",
					    PROTO_EXTRAS_MAX);
					return -1;
				}
			} else {
				snprintf(err, errlen, "unknown option '%.60s' (%s)", a,
				    options_basic_usage);
				return -1;
			}
		} else if (a[0] == '-' && a[1] != '\0') {
			char opt = a[1];
			if (strchr(ldap_valued, opt) != NULL) {
				/* "-bVALUE" or "-b VALUE", as basic_ldap_auth takes them. */
				if (a[2] != '\0') {
					val = a + 2;
				} else if (i + 1 < argc) {
					val = argv[++i];
				} else {
					snprintf(err, errlen, "option -%c needs a value (%s)", opt,
					    options_basic_usage);
					return -1;
				}
			} else if (strchr(ldap_flags, opt) != NULL && a[2] == '\0') {
				val = NULL;
			} else {
				snprintf(err, errlen, "unknown option '%.60s' (%s)", a,
				    options_basic_usage);
				return -1;
			}
			if (ldap_option(conf, &la, opt, val, debug_r, err, errlen) != 0)
				return -1;
		} else {
			/* Trailing arguments are LDAP servers. */
			la.any = true;
			if (add_server(&la, a, err, errlen) != 0)
				return -1;
		}
	}
	if (la.any && finish_ldap(conf, &la, err, errlen) != 0)
		return -1;
	if (db != NULL && conf_set(conf, "store", "path", db, &why) != 0) {
		snprintf(err, errlen, "--db %.200s: %s", db, why);
		return -1;
	}
	return 0;
}

const char options_ext_usage[] =
    "usage: ext_cuttle_acl [--config FILE] [--db PATH] [--mode allow|group|userip] "
    "[--channel-id yes|no|auto] [-d] [ext_ldap_group_acl options] [ldap_server ...]";

/* ext_ldap_group_acl's options beyond basic_ldap_auth's. */
static const char group_valued[] = "bfBFsaDWwHhpcetv";
static const char group_flags[] = "PRZSKdg";

struct group_args {
	struct ldap_args la;
	const char *group_filter, *user_base, *user_filter;
};

/*
 * Their %g is the group; %u and %v are the user: the login, or the user's
 * DN when -F searches for it. (Squid 5's help text calls %v the group, but
 * ext_ldap_group_acl puts the user there; we do what it does.)
 */
static int
translate_group_filter(struct conf *conf, const struct group_args *ga, char *err,
    size_t errlen)
{
	char out[2048];
	size_t o = 0;

	for (const char *p = ga->group_filter; *p != '\0' && o + 3 < sizeof(out); p++) {
		if (*p == '%' && p[1] == 'g') {
			out[o++] = '%';
			out[o++] = 'g';
			p++;
		} else if (*p == '%' && (p[1] == 'u' || p[1] == 'v')) {
			out[o++] = '%';
			out[o++] = ga->user_filter != NULL ? 'd' : 'u';
			p++;
		} else if (*p == '%' && p[1] == '%') {
			out[o++] = '%';
			out[o++] = '%';
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	/* Like ext_ldap_group_acl: an entry matching the filter means "member". */
	conf->ldap_group_test = true;
	return set(conf, "group_filter", out, 'f', err, errlen);
}

int
options_ext_acl(int argc, char **argv, struct conf *conf, struct helper_opts *o,
    bool *debug_r, char *err, size_t errlen)
{
	const char *db = NULL, *why, *mode = NULL;
	struct group_args ga;
	int i, rc;

	memset(&ga, 0, sizeof(ga));
	if (config_first(argc, argv, conf, err, errlen) != 0)
		return -1;
	for (i = 1; i < argc; i++) {
		char *a = argv[i], *val = NULL;

		if (strncmp(a, "--", 2) == 0) {
			bool takes = strcmp(a, "--config") == 0 || strcmp(a, "--db") == 0 ||
			    strcmp(a, "--channel-id") == 0 || strcmp(a, "--mode") == 0;
			if (takes && i + 1 >= argc) {
				snprintf(err, errlen, "option %s needs a value (%s)", a, options_ext_usage);
				return -1;
			}
			val = takes ? argv[++i] : NULL;
			if ((rc = common_long_option(a, val, o, debug_r, &db, err, errlen)) < 0)
				return -1;
			if (rc == 0 && strcmp(a, "--mode") == 0)
				mode = val;
			else if (rc == 0) {
				snprintf(err, errlen, "unknown option '%.60s' (%s)", a, options_ext_usage);
				return -1;
			}
			continue;
		}
		if (a[0] != '-' || a[1] == '\0') {
			ga.la.any = true;
			if (add_server(&ga.la, a, err, errlen) != 0)
				return -1;
			continue;
		}
		if (strchr(group_valued, a[1]) != NULL) {
			if (a[2] != '\0')
				val = a + 2;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				snprintf(err, errlen, "option -%c needs a value (%s)", a[1], options_ext_usage);
				return -1;
			}
		} else if (strchr(group_flags, a[1]) == NULL || a[2] != '\0') {
			snprintf(err, errlen, "unknown option '%.60s' (%s)", a, options_ext_usage);
			return -1;
		}
		switch (a[1]) {
		case 'b':
			ga.la.any = true;
			if (set(conf, "group_base", val, 'b', err, errlen) != 0)
				return -1;
			break;
		case 'f': ga.la.any = true; ga.group_filter = val; break;
		case 'B': ga.user_base = val; break;
		case 'F': ga.user_filter = val; break;
		case 'S': o->strip_domain = true; break;
		case 'K': o->strip_realm = true; break;
		case 'g':
			snprintf(err, errlen, "-g (a base DN extension from the ACL) is not supported");
			return -1;
		case 'e':
			/* Some builds take -e for the TLS/SSL mode; treat as -Z. */
			if (set(conf, "starttls", "yes", 'e', err, errlen) != 0)
				return -1;
			break;
		default:
			if (ldap_option(conf, &ga.la, a[1], val, debug_r, err, errlen) != 0)
				return -1;
		}
	}
	if (ga.la.any) {
		char uris[2048];
		if (server_uris(&ga.la, uris, sizeof(uris), err, errlen) != 0)
			return -1;
		if (uris[0] != '\0' && set(conf, "uri", uris, 'H', err, errlen) != 0)
			return -1;
		if (conf->ldap_uri[0] == '\0' && set(conf, "uri", "ldap://localhost", 'H', err, errlen) != 0)
			return -1;
		if (ga.user_base != NULL && set(conf, "base", ga.user_base, 'B', err, errlen) != 0)
			return -1;
		if (ga.user_filter != NULL && set(conf, "filter", ga.user_filter, 'F', err, errlen) != 0)
			return -1;
		if (ga.group_filter != NULL && translate_group_filter(conf, &ga, err, errlen) != 0)
			return -1;
		if (conf->ldap_base[0] == '\0' && conf->ldap_group_base[0] != '\0' &&
		    set(conf, "base", conf->ldap_group_base, 'b', err, errlen) != 0)
			return -1;
		if (!conf_uses(conf, CONF_BACKEND_LDAP)) {
			conf->backends[0] = CONF_BACKEND_LDAP;
			conf->nbackends = 1;
		}
		if (mode == NULL)
			mode = "group";
	}
	if (mode == NULL || strcmp(mode, "allow") == 0)
		o->mode = HELPER_ALLOW;
	else if (strcmp(mode, "group") == 0)
		o->mode = HELPER_GROUP;
	else if (strcmp(mode, "userip") == 0)
		o->mode = HELPER_USERIP;
	else {
		snprintf(err, errlen, "--mode %.40s: use allow, group or userip", mode);
		return -1;
	}
	if (db != NULL && conf_set(conf, "store", "path", db, &why) != 0) {
		snprintf(err, errlen, "--db %.200s: %s", db, why);
		return -1;
	}
	return 0;
}
