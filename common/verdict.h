/*
 * verdict: the single value a decision produces. The reply to Squid and
 * the audit record are both made from it; reasons are a closed set shared
 * by helpers, audit, CLI and man pages.
 */
#ifndef CUTTLE_VERDICT_H
#define CUTTLE_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "pwhash.h"

enum result { RESULT_OK, RESULT_ERR, RESULT_BH };

enum reason {
	REASON_OK,
	REASON_UNKNOWN_USER,
	REASON_BAD_PASSWORD,
	REASON_DISABLED,
	REASON_LOCKED,
	REASON_EXPIRED,
	REASON_THROTTLED,
	REASON_IP_NOT_ALLOWED,
	REASON_NOT_ALLOWED,
	REASON_NOT_IN_GROUP,
	REASON_AMBIGUOUS_USER,
	REASON_BAD_REQUEST,
	REASON_BACKEND_DOWN,
	REASON_BACKEND_ERROR,
	REASON_COUNT
};

#define VERDICT_F_CACHE  0x01u	/* answered from the credential cache */
#define VERDICT_F_STALE  0x02u	/* cached answer served during an outage */
#define VERDICT_F_REPEAT 0x04u	/* same wrong password as a recent failure */
#define VERDICT_F_CHECK  0x08u	/* a dry run (`cuttle check`) */

struct verdict {
	enum result result;
	enum reason reason;
	const char *backend;		/* "sqlite", or "" when none decided */
	unsigned flags;
	uint64_t latency_us;
	bool password_proven;		/* the password was checked and correct */
	long long valid_until;		/* OK no longer holds then (expiry); 0: no end */
	char detail[256];		/* why, for BH replies and logs; no secrets */
	char notes[512];		/* encoded " key=value" notes for Squid */
	/*
	 * The hash the password was proven against when it should be
	 * re-hashed after the reply. Never logged; cleared with the request.
	 */
	char rehash_from[PWHASH_STR_MAX];
};

/* Start a verdict as "no decision yet". */
void verdict_init(struct verdict *v);

/*
 * Decide: set the reason, the result that goes with it and the backend.
 * detail is printf-style and may be NULL.
 */
void verdict_set(struct verdict *v, enum reason reason, const char *backend,
    const char *detail_fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Add a note for Squid (e.g. group=staff), %-encoding the value. Returns 0,
 * or -1 if there is no room left (the note is dropped).
 */
int verdict_add_note(struct verdict *v, const char *key, const char *value);

/* "ok", "bad_password", ...: the word used everywhere. */
const char *reason_name(enum reason reason);
/* Parse a reason word. Returns 0 or -1. */
int reason_parse(const char *name, enum reason *reason_r);
/* The result a reason implies. */
enum result reason_result(enum reason reason);
/* The word Squid reads: "OK", "ERR" or "BH" (the only mapping). */
const char *result_word(enum result result);
/* The result in lower case, for audit and JSON. */
const char *result_name(enum result result);

/*
 * The free text for Squid (the client sees it as %m): one generic refusal
 * unless the password was proven correct; the problem for BH.
 */
const char *verdict_text(const struct verdict *v);

#endif
