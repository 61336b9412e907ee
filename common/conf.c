#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
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
	conf->opslimit = pwhash_default_opslimit();
	conf->memlimit = pwhash_default_memlimit();
	conf->backend = xstrdup("sqlite");
	return conf;
}

void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->store_path);
	free(conf->squid_group);
	free(conf->backend);
	free(conf);
}

static void
replace(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
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
		if (strcmp(key, "backend") == 0) {
			if (strcmp(value, "sqlite") != 0) {
				*error_r = "backend must be sqlite (the only backend in this version)";
				return -1;
			}
			replace(&conf->backend, value);
		} else {
			*error_r = "unknown key";
			return -1;
		}
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
			    strcmp(section, "auth") != 0) {
				snprintf(err, errlen, "%s:%u: unknown section [%.40s] (known: [store], [hash], [auth])",
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
