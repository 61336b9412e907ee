/*
 * pool: worker threads for the slow decisions (Argon2, directory round
 * trips), a bounded queue in front of them, and a supervisor that holds
 * every job to its deadline. A job is answered exactly once: by the
 * worker that decided it (pool_claim), or at its deadline by the
 * supervisor (ops->expire), after which the worker's result is dropped.
 * A worker still stuck past a deadline (a library call that blocks, such
 * as name resolution) is retired, not waited for: a fresh one takes its
 * place, and the stuck one ends on its own when the call returns.
 */
#ifndef CUTTLE_POOL_H
#define CUTTLE_POOL_H

#include <stdbool.h>
#include <stdint.h>

struct pool_worker;

/* The pool's part of a job; embed it first in the caller's job. */
struct pool_job {
	struct pool_job *next;
	uint64_t deadline_us;		/* monotonic; set before pool_submit */
	bool sync;			/* the submitter waits with pool_wait */
	/* the pool's own */
	bool answered;
	bool late;			/* answered at its deadline while running */
	int holds;			/* worker and supervisor: the last frees it */
	uint64_t seq;
	struct pool_worker *worker;	/* running it; NULL while queued */
};

struct pool_ops {
	void *arg;
	/* A worker thread starts and ends: its own context (e.g. an engine). */
	void *(*thread_start)(void *arg);
	void (*thread_end)(void *arg, void *thread_ctx);
	/*
	 * Decide job; before replying, call pool_claim (false: it was already
	 * answered at its deadline; drop the result), and once the reply is
	 * out, pool_answered.
	 */
	void (*run)(void *arg, void *thread_ctx, struct pool_job *job);
	/* Answer job at its deadline (BH). */
	void (*expire)(void *arg, struct pool_job *job);
	/* Free job: it is done with. */
	void (*release)(void *arg, struct pool_job *job);
	/* Called by the supervisor about every POOL_TICK_MS (may be NULL). */
	void (*tick)(void *arg);
};

#define POOL_TICK_MS 100
/* A worker still busy this long past its job's deadline is taken as stuck. */
#define POOL_STUCK_MS 1000

struct pool;

struct pool_stats {
	int workers;		/* threads able to take work */
	int busy;		/* of them, deciding now */
	int queued;		/* jobs waiting for one */
	int stuck;		/* retired threads still in a blocking call */
	uint64_t expired;	/* jobs answered at their deadline */
	uint64_t rejected;	/* jobs refused: the queue was full */
};

/*
 * A pool of at most workers threads (started as work arrives) with room
 * for queue_max waiting jobs. The supervisor thread starts at once.
 * Returns NULL if threads cannot be made.
 */
struct pool *pool_new(int workers, int queue_max, const struct pool_ops *ops);

/*
 * Stop taking work, let the queued and running jobs finish (each within
 * its deadline), end the threads. Returns false if retired workers are
 * still stuck in a call: they may still use the pool and whatever their
 * jobs point to, so the caller must not free those (exit instead).
 */
bool pool_free(struct pool *pool);

/*
 * Queue job. Returns its sequence number (for pool_wait; the job may be
 * freed at any time after), or 0 when the queue is full (job not taken).
 */
uint64_t pool_submit(struct pool *pool, struct pool_job *job);

/* For a sync job: wait until the job numbered seq has been answered. */
void pool_wait(struct pool *pool, uint64_t seq);

/* May this worker answer job? (false: the deadline answered it). */
bool pool_claim(struct pool *pool, struct pool_job *job);

/* The claimed job's reply is out (wakes a pool_wait). */
void pool_answered(struct pool *pool, struct pool_job *job);

void pool_get_stats(struct pool *pool, struct pool_stats *s);

#endif
