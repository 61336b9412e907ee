/* The worker pool: every job answered once, deadlines, stuck workers, a full queue. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"
#include "tap.h"
#include "util.h"

struct tjob {
	struct pool_job pj;
	int id;
	int sleep_ms;
};

#define JOBS 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int answers[JOBS], expired[JOBS], released, threads_started, threads_ended;
static struct pool *pool;

static void *
t_start(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	threads_started++;
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void
t_end(void *arg, void *tctx)
{
	(void)arg;
	(void)tctx;
	pthread_mutex_lock(&lock);
	threads_ended++;
	pthread_mutex_unlock(&lock);
}

static void
t_run(void *arg, void *tctx, struct pool_job *pj)
{
	struct tjob *j = (struct tjob *)pj;

	(void)arg;
	(void)tctx;
	usleep((useconds_t)j->sleep_ms * 1000);
	if (!pool_claim(pool, pj))
		return;
	pthread_mutex_lock(&lock);
	answers[j->id]++;
	pthread_mutex_unlock(&lock);
	pool_answered(pool, pj);
}

static void
t_expire(void *arg, struct pool_job *pj)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	expired[((struct tjob *)pj)->id]++;
	pthread_mutex_unlock(&lock);
}

static void
t_release(void *arg, struct pool_job *pj)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	released++;
	pthread_mutex_unlock(&lock);
	free(pj);
}

static uint64_t
submit(int id, int sleep_ms, int deadline_ms, bool sync)
{
	struct tjob *j = calloc(1, sizeof(*j));
	uint64_t seq;

	j->id = id;
	j->sleep_ms = sleep_ms;
	j->pj.sync = sync;
	j->pj.deadline_us = util_monotonic_us() + (uint64_t)deadline_ms * 1000u;
	if ((seq = pool_submit(pool, &j->pj)) == 0)
		free(j);
	return seq;
}

int
main(void)
{
	struct pool_ops ops = { NULL, t_start, t_end, t_run, t_expire, t_release, NULL };
	struct pool_stats st;
	uint64_t seq, t0;
	int once = 0, bad = 0, rejected = 0, taken = 0;

	/* Many quick jobs over 3 workers: each answered exactly once. */
	pool = pool_new(3, JOBS, &ops);
	ok(pool != NULL, "a pool");
	for (int i = 0; i < 48; i++)
		taken += submit(i, i % 5, 10000, false) != 0;
	ok(taken == 48, "48 jobs taken (%d)", taken);
	seq = submit(48, 1, 10000, true);
	pool_wait(pool, seq);
	pthread_mutex_lock(&lock);
	ok(answers[48] == 1, "a sync job: pool_wait returns once it is answered");
	pthread_mutex_unlock(&lock);
	pool_free(pool);
	for (int i = 0; i < 49; i++) {
		once += answers[i] == 1 && expired[i] == 0;
		bad += answers[i] + expired[i] != 1;
	}
	ok(once == 49 && bad == 0, "all 49 jobs answered exactly once (%d once, %d not)", once, bad);
	ok(released == 49, "every job released once (%d)", released);
	ok(threads_started >= 1 && threads_started <= 3, "at most 3 workers started (%d)",
	    threads_started);
	ok(threads_ended == threads_started, "all of them ended at pool_free");

	/* A full queue: one worker busy, room for two. */
	memset(answers, 0, sizeof(answers));
	released = threads_started = threads_ended = 0;
	pool = pool_new(1, 2, &ops);
	submit(0, 300, 10000, false);
	usleep(50000);		/* the worker has it */
	for (int i = 1; i <= 4; i++)
		rejected += submit(i, 1, 10000, false) == 0;
	ok(rejected == 2, "two queued, two refused (%d refused)", rejected);
	pool_get_stats(pool, &st);
	ok(st.rejected == 2 && st.queued == 2 && st.busy == 1, "counted: rejected %llu, "
	    "queued %d, busy %d", (unsigned long long)st.rejected, st.queued, st.busy);
	pool_free(pool);
	ok(answers[0] + answers[1] + answers[2] == 3, "the accepted ones were answered");

	/* Deadlines: a job stuck in its worker is answered at the deadline; the
	 * worker is retired after POOL_STUCK_MS and a new one serves the next. */
	memset(answers, 0, sizeof(answers));
	memset(expired, 0, sizeof(expired));
	released = threads_started = threads_ended = 0;
	pool = pool_new(1, 8, &ops);
	t0 = util_monotonic_us();
	seq = submit(0, 2500, 300, true);
	pool_wait(pool, seq);
	ok(util_monotonic_us() - t0 < 1500000, "a stuck sync job is answered near its "
	    "deadline (%llu ms)", (unsigned long long)((util_monotonic_us() - t0) / 1000));
	pthread_mutex_lock(&lock);
	ok(expired[0] == 1 && answers[0] == 0, "answered by the deadline, once");
	pthread_mutex_unlock(&lock);
	usleep((POOL_STUCK_MS + 300) * 1000);
	pool_get_stats(pool, &st);
	ok(st.stuck == 1 && st.expired == 1, "the worker was retired as stuck (stuck %d)", st.stuck);
	seq = submit(1, 1, 5000, true);
	pool_wait(pool, seq);
	pthread_mutex_lock(&lock);
	ok(answers[1] == 1, "a new worker answers the next job");
	pthread_mutex_unlock(&lock);
	/* A queued job past its deadline is answered too. */
	submit(2, 600, 5000, false);
	usleep(50000);
	seq = submit(3, 1, 200, true);
	pool_wait(pool, seq);
	pthread_mutex_lock(&lock);
	ok(expired[3] == 1 && answers[3] == 0, "a job still queued at its deadline is answered by it");
	pthread_mutex_unlock(&lock);
	usleep(2000000);	/* the stuck one returns and leaves */
	pool_get_stats(pool, &st);
	ok(st.stuck == 0, "the retired worker left when its call returned");
	pool_free(pool);
	pthread_mutex_lock(&lock);
	ok(answers[0] == 0 && expired[0] == 1, "its late answer was dropped");
	ok(answers[2] == 1, "the slow queued one was answered by its worker");
	pthread_mutex_unlock(&lock);
	ok(released == 4, "every job released once (%d)", released);
	return tap_done();
}
