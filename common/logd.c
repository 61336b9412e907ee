#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "logd.h"
#include "store.h"

/* Records are written in one transaction per this many, or on F. */
#define BATCH 256
/* Access records older than the retention are pruned hourly. */
#define PRUNE_EVERY_MS (3600 * 1000)

struct logd {
	char path[4096];
	enum { LOGD_NONE, LOGD_STORE, LOGD_FILE } mode;
	/* store mode */
	struct store *store;
	int pending;		/* rows inside the open transaction */
	int64_t pruned_at;
	int64_t retry_at;
	/* file mode */
	FILE *fp;
	int rotate_count;
	int buffered;
	uint64_t dropped;
	int warned;
};

/* Is path an audit store? A SQLite file whose name ends in ".db". */
static int
is_store(const char *path)
{
	char head[16];
	size_t n = strlen(path);
	FILE *f;

	if (n < 3 || strcmp(path + n - 3, ".db") != 0)
		return 0;
	if ((f = fopen(path, "r")) == NULL)
		return 1;	/* not there yet: the store, once `cuttle init` made it */
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	return n == sizeof(head) && memcmp(head, "SQLite format 3", 15) == 0;
}

/* Say a problem once (until things work again): "PATH: what". */
static void
warn(struct logd *ld, const char *what)
{
	if (!ld->warned)
		log_warn("%s: %s", ld->path, what);
	ld->warned = 1;
}

static int
open_store(struct logd *ld)
{
	char err[512];
	int64_t now = audit_now_ms();

	if (ld->store != NULL)
		return 0;
	if (now < ld->retry_at)
		return -1;
	if (store_open_schema(ld->path, audit_migrations, STORE_READ, 0, &ld->store, err,
	    sizeof(err)) != STORE_OK) {
		ld->retry_at = now + 5000;
		strncat(err, "; access records are dropped until it is fixed", sizeof(err) - strlen(err) - 1);
		warn(ld, err);
		return -1;
	}
	ld->warned = 0;
	return 0;
}

static void
open_file(struct logd *ld)
{
	if (ld->fp != NULL)
		return;
	ld->fp = fopen(ld->path, "a");
	if (ld->fp == NULL) {
		char what[200];
		snprintf(what, sizeof(what), "%s; log lines are dropped until it can be opened",
		    strerror(errno));
		warn(ld, what);
	} else
		ld->warned = 0;
}

struct logd *
logd_open(const char *path)
{
	struct logd *ld = calloc(1, sizeof(*ld));

	if (ld == NULL)
		abort();
	ld->rotate_count = 10;
	ld->buffered = 1;
	if (path == NULL) {
		ld->mode = LOGD_NONE;
		return ld;
	}
	snprintf(ld->path, sizeof(ld->path), "%s", path);
	if (is_store(path)) {
		ld->mode = LOGD_STORE;
		(void)open_store(ld);
	} else {
		ld->mode = LOGD_FILE;
		open_file(ld);
	}
	return ld;
}

static void
commit(struct logd *ld)
{
	char err[512];

	if (ld->store == NULL || ld->pending == 0)
		return;
	if (store_commit(ld->store, err, sizeof(err)) != STORE_OK) {
		ld->dropped += (uint64_t)ld->pending;
		warn(ld, err);
	}
	ld->pending = 0;
}

static void
prune(struct logd *ld)
{
	char before[24], err[256];
	const char *args[1] = { before };
	int64_t now = audit_now_ms();

	if (ld->store == NULL || now - ld->pruned_at < PRUNE_EVERY_MS)
		return;
	ld->pruned_at = now;
	/* The default retention; helpers prune the decisions with [audit]'s. */
	snprintf(before, sizeof(before), "%lld", (long long)(now - 90LL * 86400 * 1000));
	ignore_status(store_write(ld->store, "DELETE FROM squid_access WHERE at < ?1", args, 1, err,
	    sizeof(err)));
}

void
logd_close(struct logd *ld)
{
	if (ld == NULL)
		return;
	commit(ld);
	store_close(ld->store);
	if (ld->fp != NULL)
		fclose(ld->fp);
	free(ld);
}

static void
copy_field(char *dst, size_t size, const char *src, size_t len)
{
	if (len == 1 && src[0] == '-')
		len = 0;
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

int
logd_parse_access(const char *line, struct logd_access *a)
{
	const char *f[7];
	size_t fl[7];
	const char *p = line;
	char *end;
	double t;
	long st;

	memset(a, 0, sizeof(*a));
	for (int i = 0; i < 7; i++) {
		p += strspn(p, " ");
		fl[i] = strcspn(p, " \r\n");
		f[i] = p;
		if (fl[i] == 0)
			return -1;
		p += fl[i];
	}
	t = strtod(f[0], &end);
	if (end != f[0] + fl[0] || t <= 0)
		return -1;
	st = strtol(f[3], &end, 10);
	if (end != f[3] + fl[3] || st < 0 || st > 999)
		return -1;
	a->at_ms = (int64_t)(t * 1000.0 + 0.5);
	a->status = (int)st;
	copy_field(a->client, sizeof(a->client), f[1], fl[1]);
	copy_field(a->user, sizeof(a->user), f[2], fl[2]);
	copy_field(a->method, sizeof(a->method), f[4], fl[4]);
	copy_field(a->host, sizeof(a->host), f[5], fl[5]);
	copy_field(a->reason, sizeof(a->reason), f[6], fl[6]);
	return 0;
}

static void
store_line(struct logd *ld, const char *line)
{
	struct logd_access a;
	char at[24], status[8], err[512];
	const char *args[7] = { at, a.client, a.user, status, a.method, a.host, a.reason };

	if (logd_parse_access(line, &a) != 0) {
		char what[200];
		snprintf(what, sizeof(what), "a line not in the cuttle logformat (see "
		    "log_cuttle_daemon(8)): %.80s", line);
		warn(ld, what);
		ld->dropped++;
		return;
	}
	if (open_store(ld) != 0) {
		ld->dropped++;
		return;
	}
	if (ld->pending == 0 && store_begin(ld->store, err, sizeof(err)) != STORE_OK) {
		/* Busy: try again with the next line; never wait. */
		ld->dropped++;
		return;
	}
	snprintf(at, sizeof(at), "%lld", (long long)a.at_ms);
	snprintf(status, sizeof(status), "%d", a.status);
	if (store_write(ld->store, "INSERT INTO squid_access (at, client, user, status, method, "
	    "host, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", args, 7, err,
	    sizeof(err)) != STORE_OK) {
		store_rollback(ld->store);
		ld->dropped += (uint64_t)ld->pending + 1;
		ld->pending = 0;
		warn(ld, err);
		store_close(ld->store);
		ld->store = NULL;
		return;
	}
	if (++ld->pending >= BATCH || !ld->buffered) {
		commit(ld);
		prune(ld);
	}
}

/* Rotate path: path.(n-1) → path.n, …, path → path.0 (as Squid's own daemon). */
static void
rotate(struct logd *ld)
{
	char from[4200], to[4200];

	if (ld->fp != NULL)
		fclose(ld->fp);
	ld->fp = NULL;
	for (int i = ld->rotate_count; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", ld->path, i - 2);
		snprintf(to, sizeof(to), "%s.%d", ld->path, i - 1);
		(void)rename(from, to);
	}
	if (ld->rotate_count > 0) {
		snprintf(to, sizeof(to), "%s.0", ld->path);
		(void)rename(ld->path, to);
	}
	open_file(ld);
}

void
logd_command(struct logd *ld, const char *line, size_t len)
{
	(void)len;
	if (ld->mode == LOGD_NONE)
		return;
	switch (line[0]) {
	case 'L':
		if (ld->mode == LOGD_STORE) {
			store_line(ld, line + 1);
		} else {
			open_file(ld);
			if (ld->fp == NULL || fputs(line + 1, ld->fp) < 0) {
				ld->dropped++;
				break;
			}
			if (!ld->buffered)
				fflush(ld->fp);
		}
		break;
	case 'R':
		/* The store is not a file to rotate: records age out by retention. */
		if (ld->mode == LOGD_STORE) {
			commit(ld);
			store_close(ld->store);
			ld->store = NULL;
			ld->retry_at = 0;
			(void)open_store(ld);
		} else {
			rotate(ld);
		}
		break;
	case 'T':
		if (ld->mode == LOGD_FILE && ld->fp != NULL) {
			fflush(ld->fp);
			if (ftruncate(fileno(ld->fp), 0) != 0)
				warn(ld, strerror(errno));
		}
		break;
	case 'O':
		if (ld->mode == LOGD_STORE) {
			commit(ld);
			store_close(ld->store);
			ld->store = NULL;
			ld->retry_at = 0;
		} else if (ld->fp != NULL) {
			fclose(ld->fp);
			ld->fp = NULL;
			open_file(ld);
		}
		break;
	case 'F':
		if (ld->mode == LOGD_STORE) {
			commit(ld);
			prune(ld);
		} else if (ld->fp != NULL) {
			fflush(ld->fp);
		}
		break;
	case 'r': {
		char n[16];
		long long v;
		const char *why;
		snprintf(n, sizeof(n), "%.*s", (int)strcspn(line + 1, "\r\n"), line + 1);
		if (util_strtonum(n, 0, 1000, &v, &why) == 0)
			ld->rotate_count = (int)v;
		break;
	}
	case 'b':
		ld->buffered = line[1] == '1';
		if (!ld->buffered)
			logd_command(ld, "F\n", 2);
		break;
	default:
		/* Unknown commands are ignored rather than fatal. */
		break;
	}
}

uint64_t
logd_dropped(const struct logd *ld)
{
	return ld->dropped;
}
