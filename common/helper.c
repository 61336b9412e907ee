#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "cache.h"
#include "helper.h"
#include "log.h"
#include "netlist.h"
#include "pool.h"
#include "status.h"

/* Room for one full line plus what arrives behind it. */
#define INBUF (4 * PROTO_WIRE_MAX)

/* Wait for fd when it was left non-blocking by whoever started us. */
static void
wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	(void)poll(&p, 1, -1);
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				wait_fd(fd, POLLOUT);
				continue;
			}
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
log_verdict(const struct request *req, const struct verdict *v)
{
	char user[64];

	if (!log_debug_enabled())
		return;
	if (req->external && req->nfields > 0)
		util_printable(user, sizeof(user), req->fields[0], req->field_lens[0], 48);
	else
		util_printable(user, sizeof(user), req->user != NULL ? req->user : "",
		    req->user_len, 48);
	log_debug("user=%s result=%s reason=%s backend=%s latency_us=%llu%s%s",
	    user, result_word(v->result), reason_name(v->reason),
	    v->backend[0] != '\0' ? v->backend : "-",
	    (unsigned long long)v->latency_us, v->detail[0] != '\0' ? " detail=" : "",
	    v->detail);
}

/* -S and -K: strip a Windows domain or a Kerberos realm from a login. */
static void
strip_login(const struct helper_opts *opts, struct request *req)
{
	char *u;
	size_t len;

	if (req->bad || req->nfields == 0)
		return;
	u = (char *)req->fields[0];
	len = req->field_lens[0];
	if (opts->strip_domain) {
		char *bs = memchr(u, '\\', len);
		if (bs != NULL) {
			len -= (size_t)(bs + 1 - u);
			u = bs + 1;
		}
	}
	if (opts->strip_realm) {
		char *at = memchr(u, '@', len);
		if (at != NULL) {
			len = (size_t)(at - u);
			*at = '\0';
		}
	}
	req->fields[0] = u;
	req->field_lens[0] = len;
}

/* Copy the i-th space-separated token of line into buf. */
static bool
token(const char *line, size_t len, int i, char *buf, size_t size)
{
	const char *p = line, *end = line + len;

	for (;;) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t n = (size_t)((sp != NULL ? sp : end) - p);
		if (i-- == 0) {
			if (n >= size)
				return false;
			memcpy(buf, p, n);
			buf[n] = '\0';
			return true;
		}
		if (sp == NULL)
			return false;
		p = sp + 1;
	}
}

/* userip in auto mode: "ID LOGIN SRC [-]" rather than "LOGIN SRC [-]"? */
static bool
userip_has_channel(const char *line, size_t len)
{
	char t0[PROTO_CHANNEL_MAX + 2], t1[64], t2[64];
	struct netaddr a;

	if (!token(line, len, 0, t0, sizeof(t0)) || t0[0] == '\0' ||
	    strspn(t0, "0123456789") != strlen(t0))
		return false;
	if (token(line, len, 1, t1, sizeof(t1)) && netaddr_parse(t1, &a) == 0)
		return false;
	return token(line, len, 2, t2, sizeof(t2)) && netaddr_parse(t2, &a) == 0;
}

static void
parse(const struct helper_opts *opts, struct request *req, const char *line,
    size_t len, enum proto_channel *mode)
{
	switch (opts->mode) {
	case HELPER_BASIC:
		proto_parse_basic(req, line, len, mode, opts->nextras);
		return;
	case HELPER_ALLOW:
		/* An address is never all digits: a leading number is a channel ID. */
		proto_parse_fields(req, line, len, mode, 1, false);
		return;
	case HELPER_GROUP:
		proto_parse_fields(req, line, len, mode, 2, false);
		strip_login(opts, req);
		return;
	case HELPER_USERIP:
		if (*mode == PROTO_CHANNEL_AUTO || *mode == PROTO_CHANNEL_AUTO_SEEN) {
			/*
			 * "LOGIN SRC", and Squid may add "-" for an empty
			 * %DATA: where the address stands tells whether a
			 * leading number is a channel ID or a numeric login.
			 */
			enum proto_channel m = userip_has_channel(line, len) ?
			    PROTO_CHANNEL_YES : PROTO_CHANNEL_NO;
			proto_parse_fields(req, line, len, &m, 2, false);
			if (m == PROTO_CHANNEL_YES)
				*mode = PROTO_CHANNEL_AUTO_SEEN;
			return;
		}
		proto_parse_fields(req, line, len, mode, 2, false);
		return;
	}
}

/* Counters, bumped from any thread. */
struct counters {
	uint64_t requests;
	uint64_t reasons[REASON_COUNT];
	uint64_t cache_hits, cache_misses, cache_stale, coalesced;
};

#define COUNT(h, field) __atomic_fetch_add(&(h)->ctr.field, 1, __ATOMIC_RELAXED)
#define READ(h, field) __atomic_load_n(&(h)->ctr.field, __ATOMIC_RELAXED)

struct helper {
	const struct helper_opts *opts;
	const char *prog;
	const struct conf *conf;
	struct engine *engine;		/* the reading thread's */
	struct audit *audit;		/* may be NULL */
	pthread_mutex_t audit_lock;
	pthread_mutex_t out_lock;
	int outfd;
	int out_failed;			/* a reply could not be written */
	bool more_input;		/* the reader has another line waiting */
	size_t outlen;
	char outbuf[64 * 1024];		/* replies not yet written */
	struct cache *cache;		/* NULL: off */
	/*
	 * Keyed jobs in the queue or with a worker: a request with the same
	 * credentials waits for that answer instead of a second Argon2 run
	 * (a client resending its password, many tabs at once).
	 */
	pthread_mutex_t inflight_lock;
	pthread_cond_t inflight_done;	/* followers were answered */
	struct job *inflight;
	int nfollowers;			/* at most FOLLOWERS_PER_QUEUE × [auth] queue */
	struct pool *pool;		/* NULL: decide in the reading thread */
	struct counters ctr;
	time_t started;
	uint64_t published_us;
	struct status_writer *status;	/* state.db, opened by the first write */
};

/*
 * Requests waiting for an identical one cost memory, not work: up to this
 * many per place in [auth] queue, then the reader waits for answers
 * before it reads on (Squid, which never has more than concurrency= in
 * flight, never gets there).
 */
#define FOLLOWERS_PER_QUEUE 4

/* A request waiting on another one's check of the same credentials. */
struct follower {
	struct follower *next;
	uint64_t start_us;
	struct request req;
};

/* A request handed to a worker, with its own copy of the line. */
struct job {
	struct pool_job pj;		/* first: the pool sees only this */
	uint64_t start_us;
	bool keyed;
	uint8_t key[CACHE_KEY_BYTES];
	struct job *inflight_next;	/* keyed jobs not yet answered */
	struct follower *followers;
	struct request req;
};

static volatile sig_atomic_t dump_requested;

static void
on_usr1(int sig)
{
	(void)sig;
	dump_requested = 1;
}

/* With out_lock held: write what is buffered. */
static int
flush_locked(struct helper *h)
{
	int rc = 0;

	if (h->outlen > 0 && !__atomic_load_n(&h->out_failed, __ATOMIC_RELAXED)) {
		rc = write_all(h->outfd, h->outbuf, h->outlen);
		if (rc != 0)
			__atomic_store_n(&h->out_failed, errno != 0 ? errno : EIO, __ATOMIC_RELAXED);
	}
	h->outlen = 0;
	return __atomic_load_n(&h->out_failed, __ATOMIC_RELAXED) ? -1 : rc;
}

/*
 * One reply; the replies of all threads go out whole, one at a time. The
 * reading thread defers its write while more requests already wait in its
 * buffer (one write for many replies); anything else is written at once.
 */
static int
emit(struct helper *h, const struct request *req, const struct verdict *v, bool defer)
{
	char reply[PROTO_LINE_MAX];
	size_t len = proto_format_reply(reply, sizeof(reply), req, v);
	int rc = 0;

	pthread_mutex_lock(&h->out_lock);
	if (h->outlen + len > sizeof(h->outbuf))
		rc = flush_locked(h);
	memcpy(h->outbuf + h->outlen, reply, len);
	h->outlen += len;
	if (!defer)
		rc = flush_locked(h);
	pthread_mutex_unlock(&h->out_lock);
	return rc;
}

static int
flush_replies(struct helper *h)
{
	int rc;

	pthread_mutex_lock(&h->out_lock);
	rc = flush_locked(h);
	pthread_mutex_unlock(&h->out_lock);
	return rc;
}

/* Record the decision: who, from where, what. */
static void
record(struct helper *h, const struct request *req, const struct verdict *v)
{
	const char *user = NULL, *client = NULL;
	size_t user_len = 0;

	if (h->audit == NULL)
		return;
	switch (h->opts->mode) {
	case HELPER_BASIC:
		user = req->user;
		user_len = req->user_len;
		if (h->opts->client_field >= 0 && h->opts->client_field < req->nextras)
			client = req->extras[h->opts->client_field];
		break;
	case HELPER_ALLOW:
		if (req->nfields > 0)
			client = req->fields[0];
		break;
	case HELPER_GROUP:
	case HELPER_USERIP:
		if (req->nfields > 0) {
			user = req->fields[0];
			user_len = req->field_lens[0];
		}
		if (h->opts->mode == HELPER_USERIP && req->nfields > 1)
			client = req->fields[1];
		break;
	}
	pthread_mutex_lock(&h->audit_lock);
	audit_record(h->audit, user, user_len, client, v);
	audit_flush(h->audit, false);
	pthread_mutex_unlock(&h->audit_lock);
}

/* After the reply: count, log, deferred work (not for cached answers), audit. */
static void
finish(struct helper *h, struct engine *e, const struct request *req, struct verdict *v)
{
	__atomic_fetch_add(&h->ctr.reasons[v->reason], 1, __ATOMIC_RELAXED);
	log_verdict(req, v);
	if (e != NULL)
		engine_after_reply(e, req, v);
	record(h, req, v);
	pwhash_zero(v, sizeof(*v));
}

static void
decide(struct helper *h, struct engine *e, const struct request *req, struct verdict *v)
{
	switch (h->opts->mode) {
	case HELPER_BASIC: engine_decide(e, req, v); break;
	case HELPER_ALLOW: engine_decide_allow(e, req, v); break;
	case HELPER_GROUP: engine_decide_group(e, req, v); break;
	case HELPER_USERIP: engine_decide_userip(e, req, v); break;
	}
}

/* A verdict made from a cache entry. */
static void
from_answer(struct verdict *v, const struct cache_answer *a, unsigned flags)
{
	verdict_init(v);
	verdict_set(v, a->reason, a->backend, NULL);
	v->password_proven = a->password_proven;
	snprintf(v->notes, sizeof(v->notes), "%s", a->notes);
	v->flags |= VERDICT_F_CACHE | flags;
}

/*
 * Answer from the cache if it holds a fresh verdict for these credentials.
 * A few times a second per entry, the user's change counter (and the
 * automatic lockout) is checked first.
 */
static bool
answer_cached(struct helper *h, const struct request *req, const uint8_t key[CACHE_KEY_BYTES])
{
	uint64_t start = util_monotonic_us();
	struct cache_answer a;
	struct verdict v;

	if (!cache_get(h->cache, key, &a))
		return false;
	if (a.check_due) {
		long long serial;
		int rc = engine_user_serial(h->engine, req, &serial);

		if (rc < 0)
			return false;	/* the store decides (and may be down) */
		if (serial != a.serial) {
			cache_drop(h->cache, key);
			return false;
		}
		verdict_init(&v);
		if (engine_throttled(h->engine, req, &v)) {
			v.latency_us = util_monotonic_us() - start;
			(void)emit(h, req, &v, h->more_input);
			finish(h, NULL, req, &v);
			return true;
		}
		cache_checked(h->cache, key);
	}
	/* A refusal held here is that same wrong password again: a repeat. */
	from_answer(&v, &a, a.reason == REASON_OK ? 0 : VERDICT_F_REPEAT);
	COUNT(h, cache_hits);
	v.latency_us = util_monotonic_us() - start;
	(void)emit(h, req, &v, h->more_input);
	finish(h, NULL, req, &v);
	return true;
}

/*
 * The backend is down: an accepted verdict for the same credentials, no
 * older than [cache] stale_max and for a user unchanged since, stands in.
 */
static void
serve_stale(struct helper *h, const struct job *j, long long serial, bool have_serial,
    struct verdict *v)
{
	struct cache_answer a;
	char why[sizeof(v->detail)];

	if (!cache_get_stale(h->cache, j->key, &a) || (have_serial && serial != a.serial))
		return;
	snprintf(why, sizeof(why), "%s", v->detail);
	from_answer(v, &a, VERDICT_F_STALE);
	snprintf(v->detail, sizeof(v->detail), "stale: verified %llus ago; %.180s",
	    (unsigned long long)(a.age_us / 1000000u), why);
	COUNT(h, cache_stale);
}

/* The job is answered: no more followers join it; take those it has. */
static struct follower *
take_followers(struct helper *h, struct job *j)
{
	struct follower *f;

	if (!j->keyed)
		return NULL;
	pthread_mutex_lock(&h->inflight_lock);
	for (struct job **jp = &h->inflight; *jp != NULL; jp = &(*jp)->inflight_next)
		if (*jp == j) {
			*jp = j->inflight_next;
			break;
		}
	f = j->followers;
	j->followers = NULL;
	for (struct follower *g = f; g != NULL; g = g->next)
		h->nfollowers--;
	if (f != NULL)
		pthread_cond_broadcast(&h->inflight_done);
	pthread_mutex_unlock(&h->inflight_lock);
	return f;
}

/* Give each follower the verdict its leader got. */
static void
answer_followers(struct helper *h, struct follower *f, const struct verdict *lead)
{
	struct verdict v;

	for (struct follower *next; f != NULL; f = next) {
		next = f->next;
		memcpy(&v, lead, sizeof(v));
		pwhash_zero(v.rehash_from, sizeof(v.rehash_from));
		if (v.result != RESULT_BH)
			v.flags |= VERDICT_F_CACHE;
		if (v.reason == REASON_BAD_PASSWORD || v.reason == REASON_UNKNOWN_USER)
			v.flags |= VERDICT_F_REPEAT;
		v.latency_us = util_monotonic_us() - f->start_us;
		(void)emit(h, &f->req, &v, true);
		finish(h, NULL, &f->req, &v);
		pwhash_zero(f, sizeof(*f));
		free(f);
	}
	(void)flush_replies(h);
}

static void *
worker_start(void *arg)
{
	struct helper *h = arg;

	return engine_clone(h->engine);
}

static void
worker_end(void *arg, void *tctx)
{
	(void)arg;
	engine_free(tctx);
	backend_ldap_thread_end();
}

static void
worker_run(void *arg, void *tctx, struct pool_job *pj)
{
	struct helper *h = arg;
	struct job *j = (struct job *)pj;
	struct verdict v;
	struct follower *followers;
	long long serial = -1;
	uint64_t serial_us = 0;
	bool have_serial = false;

	/* The counter before the check: a change during it is noticed later. */
	if (j->keyed) {
		serial_us = util_monotonic_us();
		have_serial = engine_user_serial(tctx, &j->req, &serial) >= 0;
	}
	decide(h, tctx, &j->req, &v);
	if (j->keyed && v.reason == REASON_BACKEND_DOWN)
		serve_stale(h, j, serial, have_serial, &v);
	else if (j->keyed && have_serial)
		cache_put(h->cache, j->key, &v, serial, serial_us);
	engine_before_reply(tctx, &j->req, &v);
	v.latency_us = util_monotonic_us() - j->start_us;
	if (!pool_claim(h->pool, pj)) {
		/* Answered BH at the deadline already. */
		pwhash_zero(&v, sizeof(v));
		return;
	}
	followers = take_followers(h, j);
	(void)emit(h, &j->req, &v, followers != NULL);
	pool_answered(h->pool, pj);
	answer_followers(h, followers, &v);
	finish(h, tctx, &j->req, &v);
}

static void
worker_expire(void *arg, struct pool_job *pj)
{
	struct helper *h = arg;
	struct job *j = (struct job *)pj;
	struct follower *followers;
	struct verdict v;

	verdict_init(&v);
	verdict_set(&v, REASON_BACKEND_DOWN, "", "no decision within the deadline "
	    "([auth] deadline %llds)", h->conf->deadline_ms / 1000);
	v.latency_us = util_monotonic_us() - j->start_us;
	followers = take_followers(h, j);
	(void)emit(h, &j->req, &v, followers != NULL);
	answer_followers(h, followers, &v);
	finish(h, NULL, &j->req, &v);
}

static void
worker_release(void *arg, struct pool_job *pj)
{
	(void)arg;
	pwhash_zero(pj, sizeof(struct job));
	free(pj);
}

static void dump_counters(struct helper *h);
static void publish_counters(struct helper *h, bool final);

static void
tick(void *arg)
{
	struct helper *h = arg;
	uint64_t now = util_monotonic_us();

	if (h->audit != NULL) {
		pthread_mutex_lock(&h->audit_lock);
		if (audit_due_ms(h->audit) == 0)
			audit_flush(h->audit, false);
		pthread_mutex_unlock(&h->audit_lock);
	}
	if (dump_requested) {
		dump_requested = 0;
		dump_counters(h);
	}
	if (now - h->published_us >= HELPER_PUBLISH_MS * 1000u) {
		h->published_us = now;
		publish_counters(h, false);
	}
}

/* Requests that may wait on Argon2 or a directory go to the workers. */
static bool
offloaded(const struct helper *h, const struct request *req)
{
	if (h->pool == NULL || req->bad || engine_broken(h->engine))
		return false;
	if (h->opts->mode == HELPER_BASIC && req->password_len == 0)
		return false;	/* refused before any lookup */
	return h->opts->mode == HELPER_BASIC || h->opts->mode == HELPER_GROUP;
}

/* Decide one parsed request and answer it (or hand it to a worker). */
static int
handle(struct helper *h, struct request *req)
{
	uint64_t start = util_monotonic_us();
	uint8_t key[CACHE_KEY_BYTES];
	bool keyed = false;
	struct verdict v;

	COUNT(h, requests);
	if (h->cache != NULL && h->opts->mode == HELPER_BASIC && !req->bad &&
	    req->password_len > 0 && !engine_broken(h->engine)) {
		cache_key(h->cache, req, key);
		keyed = true;
		if (answer_cached(h, req, key))
			goto out;
		COUNT(h, cache_misses);
	}
	if (offloaded(h, req)) {
		struct job *j;
		uint64_t seq = 0;

		pthread_mutex_lock(&h->inflight_lock);
		while (h->nfollowers >= FOLLOWERS_PER_QUEUE * h->conf->queue)
			pthread_cond_wait(&h->inflight_done, &h->inflight_lock);
		if (keyed && req->has_channel) {
			for (j = h->inflight; j != NULL; j = j->inflight_next)
				if (memcmp(j->key, key, sizeof(key)) == 0)
					break;
			if (j != NULL) {
				struct follower *f = malloc(sizeof(*f));
				if (f != NULL) {
					f->start_us = start;
					proto_request_copy(&f->req, req);
					f->next = j->followers;
					j->followers = f;
					h->nfollowers++;
					pthread_mutex_unlock(&h->inflight_lock);
					COUNT(h, coalesced);
					goto out;
				}
			}
		}
		if ((j = malloc(sizeof(*j))) != NULL) {
			memset(&j->pj, 0, sizeof(j->pj));
			j->start_us = start;
			j->keyed = keyed;
			j->followers = NULL;
			j->inflight_next = NULL;
			if (keyed)
				memcpy(j->key, key, sizeof(key));
			proto_request_copy(&j->req, req);
			j->pj.sync = !req->has_channel;
			j->pj.deadline_us = start + (uint64_t)h->conf->deadline_ms * 1000u;
			if (keyed) {
				j->inflight_next = h->inflight;
				h->inflight = j;
			}
			seq = pool_submit(h->pool, &j->pj);
			if (seq == 0) {
				if (keyed)
					h->inflight = j->inflight_next;
				worker_release(h, &j->pj);
			}
		}
		pthread_mutex_unlock(&h->inflight_lock);
		if (seq != 0) {
			if (!req->has_channel)
				pool_wait(h->pool, seq);	/* in order without channel IDs */
			goto out;
		}
		verdict_init(&v);
		verdict_set(&v, REASON_BACKEND_DOWN, "", "overloaded: %d requests already wait "
		    "for a worker (raise children in squid.conf, or [auth] queue)", h->conf->queue);
		v.latency_us = util_monotonic_us() - start;
		(void)emit(h, req, &v, h->more_input);
		finish(h, NULL, req, &v);
		goto out;
	}
	decide(h, h->engine, req, &v);
	engine_before_reply(h->engine, req, &v);
	v.latency_us = util_monotonic_us() - start;
	if (emit(h, req, &v, h->more_input) == 0)
		finish(h, h->engine, req, &v);
	else
		pwhash_zero(&v, sizeof(v));
out:
	proto_request_clear(req);
	return __atomic_load_n(&h->out_failed, __ATOMIC_RELAXED) ? -1 : 0;
}

/* The counters as "key=value ..." text: stderr and state.db say the same. */
static void
format_counters(struct helper *h, char *buf, size_t size)
{
	struct pool_stats ps;
	size_t o = 0;
	int down, nservers = 0;

	memset(&ps, 0, sizeof(ps));
	if (h->pool != NULL)
		pool_get_stats(h->pool, &ps);
#define ADD(...) do { \
		int n_ = snprintf(buf + o, size - o, __VA_ARGS__); \
		if (n_ > 0 && (size_t)n_ < size - o) \
			o += (size_t)n_; \
	} while (0)
	buf[0] = '\0';
	ADD("requests=%llu", (unsigned long long)READ(h, requests));
	for (int r = 0; r < REASON_COUNT; r++)
		ADD(" %s=%llu", reason_name((enum reason)r),
		    (unsigned long long)__atomic_load_n(&h->ctr.reasons[r], __ATOMIC_RELAXED));
	ADD(" cache_hits=%llu cache_misses=%llu cache_stale=%llu cache_coalesced=%llu "
	    "cache_entries=%llu",
	    (unsigned long long)READ(h, cache_hits), (unsigned long long)READ(h, cache_misses),
	    (unsigned long long)READ(h, cache_stale), (unsigned long long)READ(h, coalesced),
	    (unsigned long long)(h->cache != NULL ? cache_entries(h->cache) : 0));
	ADD(" queue=%d workers=%d busy=%d stuck=%d deadline_bh=%llu overloaded=%llu",
	    ps.queued, ps.workers, ps.busy, ps.stuck, (unsigned long long)ps.expired,
	    (unsigned long long)ps.rejected);
	if (h->audit != NULL) {
		pthread_mutex_lock(&h->audit_lock);
		ADD(" audit_dropped=%llu syslog_dropped=%llu",
		    (unsigned long long)audit_dropped(h->audit),
		    (unsigned long long)audit_syslog_dropped(h->audit));
		pthread_mutex_unlock(&h->audit_lock);
	}
	down = backend_ldap_circuit(&nservers);
	if (nservers > 0)
		ADD(" ldap_servers=%d ldap_down=%d circuit=%s", nservers, down,
		    down == 0 ? "closed" : down < nservers ? "partly_open" : "open");
#undef ADD
}

static void
dump_counters(struct helper *h)
{
	char buf[2048];

	format_counters(h, buf, sizeof(buf));
	log_info("counters: %s", buf);
}

static void
publish_counters(struct helper *h, bool final)
{
	char buf[2048];

	if (h->status == NULL)
		h->status = status_writer_new(h->conf);
	format_counters(h, buf, sizeof(buf));
	status_write(h->status, getpid(), h->prog, h->started, buf, final);
}

static void tick(void *arg);

static int
helper_loop(struct helper *h, int infd)
{
	static char buf[INBUF];
	static struct request req;
	const struct helper_opts *opts = h->opts;
	size_t start = 0, end = 0;
	bool discarding = false, eof = false;
	enum proto_channel mode = opts->channel;

	for (;;) {
		char *nl = memchr(buf + start, '\n', end - start);

		if (nl != NULL || (eof && end > start)) {
			size_t len = (nl != NULL ? (size_t)(nl - buf) : end) - start;

			if (discarding) {
				/* The rest of a line already answered as overlong. */
				discarding = false;
			} else {
				if (len >= PROTO_WIRE_MAX)
					proto_parse_overlong(&req, buf + start, len,
					    mode, opts->nextras);
				else
					parse(opts, &req, buf + start, len, &mode);
				h->more_input = nl != NULL &&
				    memchr(nl + 1, '\n', (size_t)(buf + end - (nl + 1))) != NULL;
				if (handle(h, &req) != 0)
					goto out_closed;
			}
			pwhash_zero(buf + start, len);
			start += len + (nl != NULL ? 1 : 0);
			continue;
		}
		if (eof)
			break;
		if (!discarding && end - start >= PROTO_WIRE_MAX) {
			/*
			 * No LF within what Squid may send: answer now from the
			 * first bytes, then drop the rest of the line unread.
			 */
			proto_parse_overlong(&req, buf + start, end - start,
			    mode, opts->nextras);
			req.external = opts->mode != HELPER_BASIC;
			h->more_input = false;
			if (handle(h, &req) != 0)
				goto out_closed;
			discarding = true;
		}
		if (discarding) {
			pwhash_zero(buf, end);
			start = end = 0;
		} else if (start > 0) {
			memmove(buf, buf + start, end - start);
			end -= start;
			/* Clear the bytes the move left behind: they held secrets. */
			pwhash_zero(buf + end, start);
			start = 0;
		}
		/* About to wait for Squid: what was answered goes out now. */
		if (flush_replies(h) != 0)
			goto out_closed;
		if (h->pool == NULL)
			tick(h);	/* no supervisor thread: its chores, here */
		ssize_t n = read(infd, buf + end, INBUF - end);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				wait_fd(infd, POLLIN);
				continue;
			}
			log_error("reading requests: %s", strerror(errno));
			break;
		}
		if (n == 0)
			eof = true;
		end += (size_t)n;
	}
	pwhash_zero(buf, sizeof(buf));
	return flush_replies(h) == 0 ? 0 : 1;
out_closed:
	pwhash_zero(buf, sizeof(buf));
	log_error("writing a reply: %s; exiting", strerror(h->out_failed));
	return 1;
}

int
helper_serve(struct engine *engine, const struct helper_opts *opts,
    struct audit *audit, const char *prog, int infd, int outfd)
{
	static struct helper h;
	struct pool_ops ops = { &h, worker_start, worker_end, worker_run, worker_expire,
		worker_release, tick };
	int rc;

	memset(&h, 0, sizeof(h));
	h.opts = opts;
	h.prog = prog;
	h.conf = engine_conf(engine);
	h.engine = engine;
	h.audit = audit;
	h.outfd = outfd;
	h.started = time(NULL);
	/* The first record a second after start, then every HELPER_PUBLISH_MS. */
	h.published_us = util_monotonic_us() - (HELPER_PUBLISH_MS - 1000) * 1000u;
	pthread_mutex_init(&h.audit_lock, NULL);
	pthread_mutex_init(&h.out_lock, NULL);
	pthread_mutex_init(&h.inflight_lock, NULL);
	pthread_cond_init(&h.inflight_done, NULL);
	if (opts->mode == HELPER_BASIC)
		h.cache = cache_new(h.conf, engine_chain(engine));
	h.pool = pool_new(conf_workers(h.conf), h.conf->queue, &ops);
	if (h.pool == NULL)
		log_warn("cannot start threads; deciding one request at a time");
	rc = helper_loop(&h, infd);
	/* Squid closed our input: finish what is in flight, then go. */
	if (!pool_free(h.pool)) {
		/*
		 * A retired worker is still in a call that does not return; it
		 * uses the cache, the audit sink and the configuration when it
		 * does. Record what we have and end the process under it.
		 */
		publish_counters(&h, true);
		if (audit != NULL) {
			pthread_mutex_lock(&h.audit_lock);
			audit_flush(audit, true);
			pthread_mutex_unlock(&h.audit_lock);
		}
		log_warn("exiting with a worker still stuck in a call");
		_exit(rc);
	}
	h.pool = NULL;
	publish_counters(&h, true);
	status_writer_free(h.status);
	cache_free(h.cache);
	return rc;
}

int
helper_count_extras(const char *format, int *client_r)
{
	int n = 0;
	const char *p = format;

	*client_r = -1;
	while (*(p += strspn(p, " \t")) != '\0') {
		size_t len = strcspn(p, " \t");
		/* The client address, however Squid is asked for it. */
		if ((len == 3 && strncmp(p, "%>a", 3) == 0) ||
		    (len == 5 && strncmp(p, "%{>a}", 5) == 0) ||
		    (len == 4 && strncmp(p, "%SRC", 4) == 0))
			*client_r = n;
		n++;
		p += len;
	}
	return n > PROTO_EXTRAS_MAX ? -1 : n;
}


int
helper_main(int argc, char **argv, const char *prog, const char *usage,
    enum helper_mode mode,
    int (*parse_options)(int argc, char **argv, struct conf *conf,
    struct helper_opts *opts, bool *debug_r, char *err, size_t errlen))
{
	struct helper_opts opts = { PROTO_CHANNEL_AUTO, 0, -1, mode, false, false };
	struct conf *conf;
	struct engine *engine;
	struct audit *audit;
	struct sigaction sa;
	bool debug = false;
	char err[512];
	int bad;

	/* Asked by a person at a terminal, never by Squid. */
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("%s\n(see %s(8))\n", usage, prog);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("%s (cuttle) %s\n", prog, PACKAGE_VERSION);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	util_no_core_dumps();
	log_init(prog, false);
	conf = conf_new();
	bad = parse_options(argc, argv, conf, &opts, &debug, err, sizeof(err));
	log_init(prog, debug);
	if (bad == 0 && pwhash_init() != 0) {
		snprintf(err, sizeof(err), "libsodium failed to initialise");
		bad = -1;
	}
	if (bad != 0)
		log_error("%s; answering BH to every request until fixed", err);
	engine = engine_new(conf, bad != 0 ? err : NULL);
	engine_set_client_field(engine, opts.client_field);
	audit = audit_new(conf, prog);
	audit_start_writer(audit);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	bad = helper_serve(engine, &opts, audit, prog, STDIN_FILENO, STDOUT_FILENO);
	audit_free(audit);
	engine_free(engine);
	return bad;
}
