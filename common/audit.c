#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "store.h"

/* Old records are pruned by a helper at most this often (ms). */
#define PRUNE_EVERY_MS (3600 * 1000)

struct pending {
	int64_t first, last;
	uint64_t count;
	char user[65];
	char client[64];
	enum result result;
	enum reason reason;
	char backend[16];
	unsigned flags;
	uint64_t latency_us;
	char detail[160];
};

/* Open addressing over the pending records: twice their number of slots. */
#define INDEX_SLOTS (2 * AUDIT_PENDING_MAX)

struct audit {
	char path[4096];
	int index[INDEX_SLOTS];	/* pending record + 1; 0: empty */
	char helper[32];
	long long retention;
	struct store *store;
	bool warned;
	struct pending *p;
	size_t n;
	int64_t oldest;		/* when the oldest pending record was made (monotonic ms) */
	int64_t pruned_at;
	uint64_t dropped;
	/* syslog: our own non-blocking socket, so a stuck daemon never blocks us. */
	bool syslog;
	int facility;
	char syslog_path[108];
	int sock;
	int64_t sock_retry;
	uint64_t syslog_dropped;
	bool syslog_warned;
	/*
	 * The writer thread (audit_start_writer): a full or due batch is
	 * handed over whole (wn > 0 while it writes it), so recording never
	 * waits for the disk; if the writer is still busy when the next batch
	 * is full, records are dropped and counted.
	 */
	bool threaded;
	bool overrun_warned;
	pthread_t writer;
	pthread_mutex_t wlock;
	pthread_cond_t wcond;
	struct pending *wp;
	size_t wn;
	bool wstop;
};

static void write_or_keep(struct audit *au, int wait_ms, bool drop);

/* For scheduling: a clock that never steps. */
static int64_t
mono_ms(void)
{
	return (int64_t)(util_monotonic_us() / 1000u);
}

int64_t
audit_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

struct audit *
audit_new(const struct conf *conf, const char *helper)
{
	struct audit *au = calloc(1, sizeof(*au));

	if (au == NULL || (au->p = calloc(AUDIT_PENDING_MAX, sizeof(*au->p))) == NULL ||
	    (au->wp = calloc(AUDIT_PENDING_MAX, sizeof(*au->wp))) == NULL)
		abort();
	pthread_mutex_init(&au->wlock, NULL);
	pthread_cond_init(&au->wcond, NULL);
	conf_audit_path(conf, au->path, sizeof(au->path));
	snprintf(au->helper, sizeof(au->helper), "%s", helper);
	au->retention = conf->audit_retention;
	au->syslog = conf->audit_syslog;
	au->facility = conf->audit_syslog_facility;
	snprintf(au->syslog_path, sizeof(au->syslog_path), "%s", conf->audit_syslog_socket);
	au->sock = -1;
	return au;
}

void
audit_free(struct audit *au)
{
	if (au == NULL)
		return;
	audit_flush(au, true);
	store_close(au->store);
	if (au->sock >= 0)
		close(au->sock);
	free(au->p);
	free(au->wp);
	pthread_mutex_destroy(&au->wlock);
	pthread_cond_destroy(&au->wcond);
	free(au);
}

/* FNV-1a over what makes two decisions identical. */
static uint32_t
key_hash(const char *user, const char *client, const struct verdict *v)
{
	uint32_t h = 2166136261u;
	const char *parts[3] = { user, client, v->backend };
	unsigned nums[3] = { (unsigned)v->result, (unsigned)v->reason, v->flags };

	for (int i = 0; i < 3; i++) {
		for (const unsigned char *p = (const unsigned char *)parts[i]; *p != '\0'; p++)
			h = (h ^ *p) * 16777619u;
		h = (h ^ 0xffu) * 16777619u;
		h = (h ^ nums[i]) * 16777619u;
	}
	return h;
}

static bool
same(const struct pending *p, const char *user, const char *client,
    const struct verdict *v)
{
	return p->result == v->result && p->reason == v->reason && p->flags == v->flags &&
	    strcmp(p->user, user) == 0 && strcmp(p->client, client) == 0 &&
	    strcmp(p->backend, v->backend) == 0;
}

static void
flags_text(unsigned flags, char *buf, size_t size)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ VERDICT_F_CACHE, "cache" }, { VERDICT_F_STALE, "stale" },
		{ VERDICT_F_REPEAT, "repeat" }, { VERDICT_F_CHECK, "check" },
	};
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((flags & names[i].bit) && o < size)
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o > 0 ? "," : "", names[i].name);
}

/* A syslog value: printable, no spaces or quotes (%-encoded), "-" if empty. */
static size_t
syslog_value(char *out, size_t size, const char *in)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (*in == '\0' && size > 1) {
		out[o++] = '-';
	}
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0' && o + 4 < size; p++) {
		if (*p > 0x20 && *p < 0x7f && *p != '%' && *p != '"' && *p != '=') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return o;
}

static void
syslog_drop(struct audit *au, const char *why)
{
	au->syslog_dropped++;
	if (!au->syslog_warned)
		log_warn("syslog %s: %s; dropping decision lines (counted), answers go on",
		    au->syslog_path, why);
	au->syslog_warned = true;
}

/*
 * One line per decision, RFC 3164 framing, sent without waiting: a full
 * or missing syslog socket drops the line.
 */
static void
send_syslog(struct audit *au, const char *user, const char *client, const struct verdict *v)
{
	char line[1024], h[80], u[200], c[80], b[40], f[64], d[400], stamp[32];
	struct sockaddr_un sun;
	time_t now = time(NULL);
	struct tm tm;
	int64_t ms = audit_now_ms();

	if (au->sock < 0) {
		if (ms < au->sock_retry) {
			syslog_drop(au, "not reachable");
			return;
		}
		au->sock_retry = ms + 10000;
		au->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (au->sock < 0) {
			syslog_drop(au, strerror(errno));
			return;
		}
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", au->syslog_path);
		if (connect(au->sock, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
			int e = errno;
			close(au->sock);
			au->sock = -1;
			syslog_drop(au, strerror(e));
			return;
		}
	}
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	syslog_value(h, sizeof(h), au->helper);
	syslog_value(u, sizeof(u), user);
	syslog_value(c, sizeof(c), client);
	syslog_value(b, sizeof(b), v->backend);
	flags_text(v->flags, f, sizeof(f));
	syslog_value(d, sizeof(d), v->detail);
	snprintf(line, sizeof(line), "<%d>%s cuttle[%ld]: helper=%s user=%s client=%s result=%s "
	    "reason=%s backend=%s flags=%s latency_us=%llu detail=%s",
	    au->facility | (v->result == RESULT_OK ? LOG_INFO : LOG_NOTICE), stamp, (long)getpid(),
	    h, u, c, result_name(v->result), reason_name(v->reason), b,
	    f[0] != '\0' ? f : "-", (unsigned long long)v->latency_us, d);
	if (send(au->sock, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		int e = errno;
		if (e != EAGAIN && e != EWOULDBLOCK) {
			close(au->sock);
			au->sock = -1;
		}
		syslog_drop(au, e == EAGAIN || e == EWOULDBLOCK ? "full (is the daemon stuck?)" :
		    strerror(e));
		return;
	}
	au->syslog_warned = false;
}

/*
 * The name as sent, made printable for the log: control bytes become '?',
 * UTF-8 is kept (so `cuttle audit --user jürgen` finds it), cut to at most
 * max bytes without splitting a character.
 */
static void
printable_name(char *dst, size_t size, const char *src, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	if (n >= size)
		n = size - 1;
	/* Do not end inside a multibyte character. */
	if (n < len)
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[n] = '\0';
}

/* Give the pending batch to the writer thread; false if it is still busy. */
static bool
handoff(struct audit *au)
{
	struct pending *t;

	pthread_mutex_lock(&au->wlock);
	if (au->wn > 0) {
		pthread_mutex_unlock(&au->wlock);
		return false;
	}
	t = au->wp;
	au->wp = au->p;
	au->p = t;
	au->wn = au->n;
	au->n = 0;
	memset(au->index, 0, sizeof(au->index));
	pthread_cond_signal(&au->wcond);
	pthread_mutex_unlock(&au->wlock);
	return true;
}

void
audit_record(struct audit *au, const char *user, size_t user_len,
    const char *client, const struct verdict *v)
{
	char name[65];
	int64_t now = audit_now_ms();
	struct pending *p;

	printable_name(name, sizeof(name), user != NULL ? user : "", user != NULL ? user_len : 0, 64);
	if (client == NULL)
		client = "";
	if (au->syslog)
		send_syslog(au, name, client, v);
	/* Identical decisions within one flush interval: one row, counted. */
	uint32_t slot = key_hash(name, client, v) % INDEX_SLOTS;
	for (; au->index[slot] != 0; slot = (slot + 1) % INDEX_SLOTS) {
		p = &au->p[au->index[slot] - 1];
		if (same(p, name, client, v)) {
			p->count++;
			p->last = now;
			if (v->latency_us > p->latency_us)
				p->latency_us = v->latency_us;
			return;
		}
	}
	if (au->n == AUDIT_PENDING_MAX) {
		/* Many distinct decisions: write them now rather than drop any. */
		if (au->threaded)
			(void)handoff(au);
		else
			write_or_keep(au, 0, false);
		if (au->n == AUDIT_PENDING_MAX) {
			__atomic_fetch_add(&au->dropped, 1, __ATOMIC_RELAXED);
			if (!au->overrun_warned)
				log_warn("audit log %s: more distinct decisions than it can write; "
				    "dropping some (counted: audit_dropped in `cuttle status`), "
				    "answers go on", au->path);
			au->overrun_warned = true;
			return;
		}
		slot = key_hash(name, client, v) % INDEX_SLOTS;
	}
	au->index[slot] = (int)au->n + 1;
	p = &au->p[au->n++];
	memset(p, 0, sizeof(*p));
	p->first = p->last = now;
	p->count = 1;
	snprintf(p->user, sizeof(p->user), "%s", name);
	util_printable(p->client, sizeof(p->client), client, strlen(client), 63);
	p->result = v->result;
	p->reason = v->reason;
	snprintf(p->backend, sizeof(p->backend), "%s", v->backend);
	p->flags = v->flags;
	p->latency_us = v->latency_us;
	util_printable(p->detail, sizeof(p->detail), v->detail, strlen(v->detail), 159);
	if (au->n == 1)
		au->oldest = mono_ms();
}

int
audit_due_ms(const struct audit *au)
{
	int64_t left;

	if (au->n == 0)
		return -1;
	left = au->oldest + AUDIT_FLUSH_MS - mono_ms();
	return left < 0 ? 0 : (int)left;
}


static void
warn_once(struct audit *au, const char *what)
{
	if (!au->warned)
		log_warn("audit log %s: %s; decisions are not recorded until it is fixed "
		    "(records dropped are counted)", au->path, what);
	au->warned = true;
}

/*
 * Write the pending records in one transaction, waiting at most wait_ms
 * for another writer; false if they could not be.
 */
static bool
write_rows(struct audit *au, const struct pending *rows, size_t nrows, int wait_ms)
{
	bool ok;
	char err[512], first[24], last[24], count[24], lat[24], flags[64];
	int rc;

	if (au->store == NULL) {
		rc = store_open_schema(au->path, audit_migrations, STORE_READ, 0, &au->store,
		    err, sizeof(err));
		if (rc != STORE_OK) {
			warn_once(au, err);
			return false;
		}
		if (store_readonly(au->store)) {
			warn_once(au, "read-only");
			store_close(au->store);
			au->store = NULL;
			return false;
		}
		store_set_bulk(au->store);
	}
	store_set_busy(au->store, wait_ms);
	ok = store_begin(au->store, err, sizeof(err)) == STORE_OK;
	store_set_busy(au->store, 0);
	if (!ok)
		return false;	/* busy: they stay pending */
	for (size_t i = 0; i < nrows; i++) {
		const struct pending *p = &rows[i];
		const char *args[12] = { first, last, count, au->helper, p->user, p->client,
		    result_name(p->result), reason_name(p->reason), p->backend, flags, lat,
		    p->detail };
		snprintf(first, sizeof(first), "%lld", (long long)p->first);
		snprintf(last, sizeof(last), "%lld", (long long)p->last);
		snprintf(count, sizeof(count), "%llu", (unsigned long long)p->count);
		snprintf(lat, sizeof(lat), "%llu", (unsigned long long)p->latency_us);
		flags_text(p->flags, flags, sizeof(flags));
		if (store_write(au->store, "INSERT INTO decisions (first, last, count, helper, user, "
		    "client, result, reason, backend, flags, latency_us, detail) VALUES "
		    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", args, 12, err,
		    sizeof(err)) != STORE_OK) {
			store_rollback(au->store);
			warn_once(au, err);
			store_close(au->store);
			au->store = NULL;
			return false;
		}
	}
	if (store_commit(au->store, err, sizeof(err)) != STORE_OK)
		return false;
	au->warned = false;
	return true;
}

/* Delete records older than the retention, once an hour at most. */
static void
prune(struct audit *au, int64_t now)
{
	char before[24], err[256];
	const char *args[1] = { before };
	int rc;

	if (au->store == NULL || now - au->pruned_at < PRUNE_EVERY_MS)
		return;
	au->pruned_at = now;
	snprintf(before, sizeof(before), "%lld", (long long)(now - au->retention * 1000));
	rc = store_write(au->store, "DELETE FROM decisions WHERE last < ?1", args, 1, err, sizeof(err));
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		log_debug("audit prune: %s", err);
}

/*
 * Write what is pending, waiting at most wait_ms for another writer. If
 * that fails and drop is set, or the records have waited too long, they
 * are dropped (counted, said on stderr).
 */
static void
write_or_keep(struct audit *au, int wait_ms, bool drop)
{
	int64_t now = audit_now_ms();

	if (write_rows(au, au->p, au->n, wait_ms)) {
		au->n = 0;
		memset(au->index, 0, sizeof(au->index));
		prune(au, now);
		return;
	}
	/*
	 * Not written: keep them a while (the store may just be busy), but
	 * never let a broken store hold more than a few flush intervals.
	 */
	if (drop || mono_ms() - au->oldest > 10 * AUDIT_FLUSH_MS) {
		uint64_t lost = 0;
		for (size_t i = 0; i < au->n; i++)
			lost += au->p[i].count;
		__atomic_fetch_add(&au->dropped, lost, __ATOMIC_RELAXED);
		au->n = 0;
		memset(au->index, 0, sizeof(au->index));
		log_warn("audit log %s: busy or unwritable; %llu decisions not recorded "
		    "(%llu so far)", au->path, (unsigned long long)lost,
		    (unsigned long long)au->dropped);
	}
}

void
audit_flush(struct audit *au, bool force)
{
	if (force && au->threaded) {
		/* Let the writer finish its batch and stop; the rest is written here. */
		pthread_mutex_lock(&au->wlock);
		au->wstop = true;
		pthread_cond_signal(&au->wcond);
		pthread_mutex_unlock(&au->wlock);
		pthread_join(au->writer, NULL);
		au->threaded = false;
	}
	if (au->n == 0 || (!force && mono_ms() - au->oldest < AUDIT_FLUSH_MS))
		return;
	if (au->threaded) {
		(void)handoff(au);	/* busy writer: they wait for the next turn */
		return;
	}
	/*
	 * On the request path never wait for another writer; at exit (force)
	 * the replies are out, so a short wait saves the last records.
	 */
	write_or_keep(au, force ? 2000 : 0, force);
}

uint64_t
audit_dropped(const struct audit *au)
{
	return __atomic_load_n(&au->dropped, __ATOMIC_RELAXED);
}

static void *
writer_main(void *arg)
{
	struct audit *au = arg;

	pthread_mutex_lock(&au->wlock);
	for (;;) {
		while (au->wn == 0 && !au->wstop)
			pthread_cond_wait(&au->wcond, &au->wlock);
		if (au->wn == 0)
			break;
		pthread_mutex_unlock(&au->wlock);
		/* Off the request path: another writer may be waited for a while. */
		if (write_rows(au, au->wp, au->wn, 1000)) {
			prune(au, audit_now_ms());
		} else {
			uint64_t lost = 0;
			for (size_t i = 0; i < au->wn; i++)
				lost += au->wp[i].count;
			__atomic_fetch_add(&au->dropped, lost, __ATOMIC_RELAXED);
			log_warn("audit log %s: busy or unwritable; %llu decisions not recorded "
			    "(%llu so far)", au->path, (unsigned long long)lost,
			    (unsigned long long)audit_dropped(au));
		}
		pthread_mutex_lock(&au->wlock);
		au->wn = 0;
	}
	pthread_mutex_unlock(&au->wlock);
	return NULL;
}

void
audit_start_writer(struct audit *au)
{
	au->threaded = util_thread_start(&au->writer, false, writer_main, au) == 0;
}

uint64_t
audit_syslog_dropped(const struct audit *au)
{
	return au->syslog_dropped;
}
