/*
 * lockout: automatic throttling after repeated failures, per user name
 * (known or not, so it reveals nothing) and per client address, shared by
 * every helper process through state.db. A client resending the same
 * wrong password (a stale saved one) counts once, recognised by keyed
 * tags that never reveal the password.
 */
#ifndef CUTTLE_LOCKOUT_H
#define CUTTLE_LOCKOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

/* How many recent wrong-password tags are kept per name or address. */
#define LOCKOUT_TAGS 5

struct lockout;

/* A lockout keeper (state.db beside the store). NULL if disabled. */
struct lockout *lockout_new(const struct conf *conf);
void lockout_free(struct lockout *lo);

/*
 * Is the name or the address (may be NULL) throttled now? Returns 1 and
 * *until_r, or 0. An unreadable state.db lets requests through (said once
 * on stderr): lockout must not turn into an outage.
 */
int lockout_check(struct lockout *lo, const char *user, const char *addr,
    long long *until_r);

/*
 * Count a failed login. Returns true if it repeated one of the last wrong
 * passwords for this name (then it does not count).
 */
bool lockout_failure(struct lockout *lo, const char *user, const char *addr,
    const char *password, size_t len);

/* A successful login clears the name's failures. */
void lockout_success(struct lockout *lo, const char *user);

/*
 * Clear a name's (or an address's) lockout: `cuttle user unlock`. Opens
 * state.db at path itself. Returns 0, or -1 with err.
 */
int lockout_clear(const char *path, const char *kind, const char *key, char *err,
    size_t errlen);

#endif
