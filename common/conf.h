/* conf: cuttle.conf, `key = value` lines in [section]s, with defaults. */
#ifndef CUTTLE_CONF_H
#define CUTTLE_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define CONF_DEFAULT_PATH CUTTLE_SYSCONFDIR "/cuttle.conf"
#define CONF_DEFAULT_STORE CUTTLE_STATEDIR "/cuttle.db"

enum conf_case { CONF_CASE_FOLD, CONF_CASE_EXACT };

struct conf {
	/* [store] */
	char *store_path;
	char *squid_group;
	enum conf_case username_case;
	long long busy_timeout;		/* seconds */
	/* [hash] */
	unsigned long long opslimit;
	size_t memlimit;
	/* [auth] */
	char *backend;
};

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

/* Set one value as if read from the file ("store", "path", "/x"). */
int conf_set(struct conf *conf, const char *section, const char *key,
    const char *value, const char **error_r) WUR;

#endif
