/*
 * backend: where passwords are checked. Each backend is a table of
 * functions returning enum backend_result (as Dovecot's passdb modules);
 * the engine maps results to reasons.
 */
#ifndef CUTTLE_BACKEND_H
#define CUTTLE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "netlist.h"
#include "verdict.h"

enum backend_result {
	BACKEND_OK,		/* password correct */
	BACKEND_UNKNOWN_USER,	/* no such user (after equal-time work) */
	BACKEND_BAD_PASSWORD,	/* wrong password */
	BACKEND_DISABLED,	/* the directory says: account disabled */
	BACKEND_LOCKED,		/* the directory says: account locked */
	BACKEND_EXPIRED,	/* the directory says: password/account expired */
	BACKEND_AMBIGUOUS,	/* the name matched more than one entry */
	BACKEND_DOWN,		/* store or directory unreachable or busy */
	BACKEND_ERROR,		/* misconfiguration, corrupt store */
};

/* Local account state that policy applies whichever backend verified. */
struct backend_account {
	bool found;
	bool disabled;
	bool locked;
	long long locked_until;	/* 0: until unlocked */
	long long expires;	/* 0: never */
};

struct backend_ops {
	const char *name;
	/* Prepare; must not block on the store or run Argon2. 0 or -1+err. */
	int (*open)(const struct conf *conf, void **ctx_r, char *err,
	    size_t errlen);
	/*
	 * Check user's password. Fills acct when the backend knows local
	 * state, v->rehash_from when the hash should be upgraded, and err
	 * for DOWN and ERROR.
	 */
	enum backend_result (*verify)(void *ctx, const char *user,
	    const char *password, size_t len, struct backend_account *acct,
	    struct verdict *v, char *err, size_t errlen);
	/* Work after the reply was sent (rehash); may be NULL. */
	void (*after_reply)(void *ctx, const char *user, const char *password,
	    size_t len, struct verdict *v);
	/*
	 * The local state of user, for policy on top of another backend's
	 * verdict; may be NULL. Returns 1 and fills acct, 0 if absent, -1.
	 */
	int (*account)(void *ctx, const char *user, struct backend_account *acct,
	    char *err, size_t errlen);
	/*
	 * Call fn with each group user is in (stops when fn returns non-zero);
	 * may be NULL. Returns OK, UNKNOWN_USER, AMBIGUOUS, DOWN or ERROR.
	 */
	enum backend_result (*groups)(void *ctx, const char *user,
	    int (*fn)(const char *group, void *arg), void *arg, char *err,
	    size_t errlen);
	/*
	 * Is user in group? For directories whose group filter names the
	 * group (%g), one search per group. May be NULL. Returns OK (member),
	 * UNKNOWN_USER (not a member or no such user), DOWN or ERROR.
	 */
	enum backend_result (*in_group)(void *ctx, const char *user,
	    const char *group, char *err, size_t errlen);
	/*
	 * The networks user is bound to (local store only; may be NULL):
	 * *bound_r if there are any, *inside_r if addr (may be NULL) is in
	 * one. Returns 0, or -1 with err.
	 */
	int (*nets)(void *ctx, const char *user, const struct netaddr *addr,
	    bool *bound_r, bool *inside_r, char *err, size_t errlen);
	/*
	 * Allow-list entries kept in the directory: fn gets each address or
	 * prefix as text. May be NULL. Returns the count, or -1 with err.
	 */
	int (*allow_entries)(void *ctx, int (*fn)(const char *cidr, void *arg),
	    void *arg, char *err, size_t errlen);
	/*
	 * The user's change counter (local store only; may be NULL): bumped
	 * by every admin change to the user, its groups or its networks.
	 * Returns 1 and *serial_r, 0 if there is no such user, -1 with err.
	 */
	int (*serial)(void *ctx, const char *user, long long *serial_r, char *err,
	    size_t errlen);
	void (*close)(void *ctx);
};

extern const struct backend_ops backend_sqlite;
extern const struct backend_ops backend_ldap;

/*
 * The directory servers this process skips now (circuit open), of
 * *nservers_r known. Safe from any thread.
 */
int backend_ldap_circuit(int *nservers_r);

/* A thread that used the LDAP backend ends: free its watchdog timer. */
void backend_ldap_thread_end(void);

/* A stored hash that holds no password: the user logs in elsewhere (LDAP). */
#define BACKEND_NO_PASSWORD "!"

#endif
