#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "util.h"

int
util_strtonum(const char *s, long long min, long long max,
    long long *value_r, const char **error_r)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s)) {
		*error_r = "invalid";
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		*error_r = "invalid";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*error_r = "too small";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*error_r = "too large";
		return -1;
	}
	*value_r = v;
	return 0;
}

int
util_parse_duration(const char *s, long long *seconds_r, const char **error_r)
{
	char num[32];
	size_t len = strlen(s);
	long long mult = 1, v;

	if (len == 0 || len >= sizeof(num)) {
		*error_r = "invalid duration (use e.g. 30s, 10m, 1h, 7d)";
		return -1;
	}
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's': mult = 1; num[--len] = '\0'; break;
	case 'm': mult = 60; num[--len] = '\0'; break;
	case 'h': mult = 3600; num[--len] = '\0'; break;
	case 'd': mult = 86400; num[--len] = '\0'; break;
	default: break;
	}
	/* Ten years is more than any lock or TTL needs and cannot overflow. */
	if (util_strtonum(num, 0, 315360000LL / mult, &v, error_r) != 0) {
		*error_r = "invalid duration (use e.g. 30s, 10m, 1h, 7d)";
		return -1;
	}
	*seconds_r = v * mult;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static int
days_in_month(long long y, unsigned m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

/* Read exactly n digits at *p. */
static int
digits(const char **p, int n, int *v_r)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v_r = v;
	return 0;
}

int
util_parse_expiry(const char *s, time_t *when_r, const char **error_r)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	long long t;

	*error_r = "invalid date (use YYYY-MM-DD or an RFC 3339 time such as 2026-12-31T18:00:00Z)";
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (unsigned)mo))
		return -1;
	if (*p == '\0') {
		/* Valid through that day: the account ends at the next midnight. */
		*when_r = (time_t)((days_from_civil(y, (unsigned)mo, (unsigned)d) + 1) * 86400);
		return 0;
	}
	if ((*p != 'T' && *p != 't' && *p != ' ') || (p++, digits(&p, 2, &h)) ||
	    *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		return -1;
	if (h > 23 || mi > 59 || sec > 60)
		return -1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec - off;
	*when_r = (time_t)t;
	return 0;
}

void
util_format_time(time_t t, char buf[static 32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "@%lld", (long long)t);
}

bool
util_name_valid(const char *name, size_t len, const char **error_r)
{
	if (len == 0) {
		*error_r = "user name is empty";
		return false;
	}
	if (len > UTIL_NAME_MAX) {
		*error_r = "user name is longer than 256 bytes";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f) {
			*error_r = "user name contains a control character";
			return false;
		}
	}
	/*
	 * Directories ignore such spaces when they compare names: "alice "
	 * would be alice there, yet another name to local policy and lockout.
	 */
	for (size_t i = 0; i + 1 < len; i++)
		if (name[i] == ' ' && name[i + 1] == ' ') {
			*error_r = "user name has two spaces in a row";
			return false;
		}
	if (name[0] == ' ' || name[len - 1] == ' ') {
		*error_r = "user name starts or ends with a space";
		return false;
	}
	return true;
}

void
util_fold_name(char *name)
{
	for (; *name != '\0'; name++)
		if (*name >= 'A' && *name <= 'Z')
			*name = (char)(*name - 'A' + 'a');
}

char *
util_printable(char *dst, size_t dstsize, const char *src, size_t len,
    size_t max)
{
	size_t n = 0;

	if (dstsize == 0)
		return dst;
	for (size_t i = 0; i < len && i < max && n + 1 < dstsize; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[n] = '\0';
	return dst;
}

time_t
util_now(void)
{
	return time(NULL);
}

uint64_t
util_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
util_no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
util_thread_start(pthread_t *thread, bool detached, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int rc;

	pthread_attr_init(&attr);
	if (detached)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* The new thread inherits the mask in force while it is made. */
	sigfillset(&all);
	sigdelset(&all, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(thread, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return rc;
}
