/* util: strict parsing of numbers, durations and times; user names. */
#ifndef CUTTLE_UTIL_H
#define CUTTLE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <time.h>

#define WUR __attribute__((warn_unused_result))

/* Longest user name the store accepts, in bytes. */
#define UTIL_NAME_MAX 256

/*
 * Parse a decimal integer in [min, max] with nothing after it (OpenBSD's
 * strtonum). Returns 0 and sets *value_r, or -1 with *error_r set to
 * "invalid", "too small" or "too large".
 */
int util_strtonum(const char *s, long long min, long long max,
    long long *value_r, const char **error_r) WUR;

/*
 * Parse a duration: a number with an optional unit s, m, h or d ("30s",
 * "10m", "1h", "7d"; a bare number is seconds). Returns 0 and the seconds,
 * or -1 with *error_r.
 */
int util_parse_duration(const char *s, long long *seconds_r,
    const char **error_r) WUR;

/*
 * Parse an expiry: YYYY-MM-DD means valid through that day (UTC), so the
 * result is the next midnight; a full RFC 3339 time is taken as given.
 * Returns 0 and the first instant no longer valid, or -1 with *error_r.
 */
int util_parse_expiry(const char *s, time_t *when_r, const char **error_r) WUR;

/* Format t as RFC 3339 UTC ("2026-11-30T09:14:00Z") into buf. */
void util_format_time(time_t t, char buf[static 32]);

/*
 * Check that name can be a user name: 1..UTIL_NAME_MAX bytes, no control
 * characters. Returns true if so; otherwise false with *error_r.
 */
bool util_name_valid(const char *name, size_t len, const char **error_r);

/* Fold ASCII upper case to lower case in place (Squid's default). */
void util_fold_name(char *name);

/*
 * Copy at most max bytes of untrusted src into dst (size dstsize), replacing
 * bytes outside printable ASCII with '?', for logs. Returns dst.
 */
char *util_printable(char *dst, size_t dstsize, const char *src, size_t len,
    size_t max);

/* Seconds since the epoch. */
time_t util_now(void);

/*
 * Keep secrets out of core dumps: no core file and not dumpable (which
 * also keeps other processes of the same user from ptrace-reading us).
 */
void util_no_core_dumps(void);

/*
 * Start a thread (detached or not) that takes no signal but SIGALRM, which
 * the LDAP watchdog sends to one thread by its id: SIGUSR1 and the rest are
 * for the thread reading requests. Returns pthread_create's status.
 */
int util_thread_start(pthread_t *thread, bool detached, void *(*fn)(void *), void *arg) WUR;

/* Monotonic clock in microseconds. */
uint64_t util_monotonic_us(void);

#endif
