#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pool.h"
#include "util.h"

struct pool_worker {
	struct pool *pool;
	pthread_t thread;
	struct pool_job *job;		/* running; NULL when idle */
	bool retired;			/* stuck past a deadline: on its own now */
	struct pool_worker *next;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* workers: a job, or stop */
	pthread_cond_t done;		/* pool_wait and pool_free */
	pthread_cond_t wake;		/* the supervisor */
	struct pool_ops ops;
	int max_workers, queue_max;
	struct pool_job *head, *tail;	/* the queue */
	int queued;
	struct pool_worker *workers;	/* the live, unretired ones */
	int nworkers, idle, busy, stuck;
	uint64_t next_seq, done_seq;
	uint64_t expired, rejected;
	bool stopping;
	uint64_t spawn_warned_us;
	pthread_t supervisor;
};

static void *worker_main(void *arg);

/* With the lock held: start one more worker. False if it cannot be. */
static bool
spawn(struct pool *p)
{
	struct pool_worker *w = calloc(1, sizeof(*w));
	int rc;

	if (w == NULL)
		return false;
	w->pool = p;
	if ((rc = util_thread_start(&w->thread, true, worker_main, w)) != 0) {
		/* Said once a minute at most; queued jobs still meet their deadlines. */
		uint64_t now = util_monotonic_us();
		if (now - p->spawn_warned_us >= 60000000u || p->spawn_warned_us == 0) {
			log_error("cannot start a worker thread: %s", strerror(rc));
			p->spawn_warned_us = now;
		}
		free(w);
		w = NULL;
	} else {
		w->next = p->workers;
		p->workers = w;
		p->nworkers++;
	}
	return w != NULL;
}

static void
unlink_worker(struct pool *p, struct pool_worker *w)
{
	struct pool_worker **wp = &p->workers;

	while (*wp != NULL && *wp != w)
		wp = &(*wp)->next;
	if (*wp == w)
		*wp = w->next;
}

static void *
worker_main(void *arg)
{
	struct pool_worker *w = arg;
	struct pool *p = w->pool;
	void *tctx = p->ops.thread_start(p->ops.arg);

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct pool_job *job;
		bool last;

		p->idle++;
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->work, &p->lock);
		p->idle--;
		if (p->head == NULL)
			break;		/* stopping, and nothing left */
		job = p->head;
		p->head = job->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued--;
		job->worker = w;
		w->job = job;
		p->busy++;
		pthread_mutex_unlock(&p->lock);

		p->ops.run(p->ops.arg, tctx, job);

		pthread_mutex_lock(&p->lock);
		w->job = NULL;
		last = --job->holds == 0;
		if (w->retired) {
			/*
			 * The supervisor gave up on us: leave quietly. While
			 * stuck counts us, pool_free leaves the pool be.
			 */
			pthread_mutex_unlock(&p->lock);
			if (last)
				p->ops.release(p->ops.arg, job);
			p->ops.thread_end(p->ops.arg, tctx);
			free(w);
			pthread_mutex_lock(&p->lock);
			p->stuck--;
			pthread_cond_broadcast(&p->done);
			pthread_mutex_unlock(&p->lock);
			return NULL;	/* p may be gone from here on */
		}
		p->busy--;
		if (p->stopping && p->busy == 0)
			pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->lock);
		if (last)
			p->ops.release(p->ops.arg, job);
		pthread_mutex_lock(&p->lock);
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	p->ops.thread_end(p->ops.arg, tctx);
	pthread_mutex_lock(&p->lock);
	unlink_worker(p, w);
	p->nworkers--;
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->lock);
	free(w);
	return NULL;	/* p may be gone from here on */
}

static void
mark_answered(struct pool *p, struct pool_job *job)
{
	if (job->sync && job->seq > p->done_seq)
		p->done_seq = job->seq;
	pthread_cond_broadcast(&p->done);
}

/* With the lock held: the jobs past their deadline, answered by us. */
static struct pool_job *
collect_expired(struct pool *p, uint64_t now, uint64_t *next_r, struct pool_job **queued_r)
{
	struct pool_job *running = NULL, **jp = &p->head, *prev = NULL;

	*queued_r = NULL;
	while (*jp != NULL) {
		struct pool_job *job = *jp;
		if (job->deadline_us <= now) {
			*jp = job->next;
			if (p->tail == job)
				p->tail = prev;
			p->queued--;
			job->answered = true;
			job->next = *queued_r;
			*queued_r = job;
			continue;
		}
		if (job->deadline_us < *next_r)
			*next_r = job->deadline_us;
		prev = job;
		jp = &job->next;
	}
	for (struct pool_worker *w = p->workers, *nw; w != NULL; w = nw) {
		struct pool_job *job = w->job;
		uint64_t stuck_at;
		nw = w->next;
		if (job == NULL || (job->answered && !job->late))
			continue;
		if (!job->answered) {
			if (job->deadline_us > now) {
				if (job->deadline_us < *next_r)
					*next_r = job->deadline_us;
				continue;
			}
			/* Past its deadline: answer for it. */
			job->answered = true;
			job->late = true;
			job->holds++;
			job->next = running;
			running = job;
		}
		stuck_at = job->deadline_us + POOL_STUCK_MS * 1000u;
		if (stuck_at > now) {
			if (stuck_at < *next_r)
				*next_r = stuck_at;
			continue;
		}
		/* Still in there: a call that blocks. Retire it, make another. */
		job->late = false;
		w->retired = true;
		unlink_worker(p, w);
		p->nworkers--;
		p->busy--;
		p->stuck++;
		log_warn("a worker is stuck %ds past a request's deadline; retired it "
		    "(%d stuck now)", POOL_STUCK_MS / 1000, p->stuck);
	}
	return running;
}

static void *
supervisor_main(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!(p->stopping && p->head == NULL && p->busy == 0)) {
		uint64_t now = util_monotonic_us(), next = now + POOL_TICK_MS * 1000u;
		struct pool_job *queued, *running = collect_expired(p, now, &next, &queued);
		struct timespec ts;

		/* Keep enough workers for the queue, within a bound on stuck ones. */
		while (p->head != NULL && p->idle == 0 && p->nworkers < p->max_workers &&
		    p->stuck < 4 * p->max_workers && !p->stopping)
			if (!spawn(p))
				break;	/* tried again at the next tick */
		pthread_mutex_unlock(&p->lock);
		for (struct pool_job *j = queued, *nj; j != NULL; j = nj) {
			nj = j->next;
			p->ops.expire(p->ops.arg, j);
			pthread_mutex_lock(&p->lock);
			p->expired++;
			mark_answered(p, j);
			pthread_mutex_unlock(&p->lock);
			p->ops.release(p->ops.arg, j);
		}
		for (struct pool_job *j = running, *nj; j != NULL; j = nj) {
			/* The stuck worker holds it too: the last one frees it. */
			bool last;
			nj = j->next;
			p->ops.expire(p->ops.arg, j);
			pthread_mutex_lock(&p->lock);
			p->expired++;
			mark_answered(p, j);
			last = --j->holds == 0;
			pthread_mutex_unlock(&p->lock);
			if (last)
				p->ops.release(p->ops.arg, j);
		}
		if (p->ops.tick != NULL)
			p->ops.tick(p->ops.arg);
		pthread_mutex_lock(&p->lock);
		if (queued != NULL || running != NULL)
			continue;
		now = util_monotonic_us();
		if (next <= now)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)((next - now) / 1000000u);
		ts.tv_nsec += (long)((next - now) % 1000000u) * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&p->wake, &p->lock, &ts);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pool *
pool_new(int workers, int queue_max, const struct pool_ops *ops)
{
	struct pool *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (p == NULL)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	pthread_cond_init(&p->wake, &ca);
	pthread_condattr_destroy(&ca);
	p->ops = *ops;
	p->max_workers = workers < 1 ? 1 : workers;
	p->queue_max = queue_max < 1 ? 1 : queue_max;
	if (util_thread_start(&p->supervisor, false, supervisor_main, p) != 0) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->work);
		pthread_cond_destroy(&p->done);
		pthread_cond_destroy(&p->wake);
		free(p);
		return NULL;
	}
	return p;
}

bool
pool_free(struct pool *p)
{
	if (p == NULL)
		return true;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	/* The supervisor ends once the queue is empty and nobody is busy. */
	pthread_join(p->supervisor, NULL);
	pthread_mutex_lock(&p->lock);
	pthread_cond_broadcast(&p->work);
	while (p->nworkers > 0)
		pthread_cond_wait(&p->done, &p->lock);
	if (p->stuck > 0) {
		/* They may still touch the pool: leave it to the process's end. */
		pthread_mutex_unlock(&p->lock);
		return false;
	}
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->wake);
	free(p);
	return true;
}

uint64_t
pool_submit(struct pool *p, struct pool_job *job)
{
	uint64_t seq;

	pthread_mutex_lock(&p->lock);
	if (p->queued >= p->queue_max) {
		p->rejected++;
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	job->next = NULL;
	job->answered = false;
	job->late = false;
	job->worker = NULL;
	job->holds = 1;
	job->seq = seq = ++p->next_seq;
	if (p->tail != NULL)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	p->queued++;
	if (p->idle == 0 && p->nworkers < p->max_workers && p->stuck < 4 * p->max_workers)
		(void)spawn(p);
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	return seq;
}

void
pool_wait(struct pool *p, uint64_t seq)
{
	pthread_mutex_lock(&p->lock);
	while (p->done_seq < seq)
		pthread_cond_wait(&p->done, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

bool
pool_claim(struct pool *p, struct pool_job *job)
{
	bool mine;

	pthread_mutex_lock(&p->lock);
	mine = !job->answered;
	job->answered = true;
	pthread_mutex_unlock(&p->lock);
	return mine;
}

void
pool_answered(struct pool *p, struct pool_job *job)
{
	pthread_mutex_lock(&p->lock);
	mark_answered(p, job);
	pthread_mutex_unlock(&p->lock);
}

void
pool_get_stats(struct pool *p, struct pool_stats *s)
{
	pthread_mutex_lock(&p->lock);
	s->workers = p->nworkers;
	s->busy = p->busy;
	s->queued = p->queued;
	s->stuck = p->stuck;
	s->expired = p->expired;
	s->rejected = p->rejected;
	pthread_mutex_unlock(&p->lock);
}
