#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "status.h"
#include "store.h"

/* Rows older than this belong to processes that died without removing them. */
#define STATUS_FORGET_S 3600

struct status_writer {
	struct store_keeper keep;
	char path[4096];
	bool warned;
};

struct status_writer *
status_writer_new(const struct conf *conf)
{
	struct status_writer *w = calloc(1, sizeof(*w));

	if (w == NULL)
		abort();
	conf_beside_store(conf, "state.db", w->path, sizeof(w->path));
	w->keep.path = w->path;
	w->keep.busy_timeout = 0;	/* busy: skipped, the next one is 10 s away */
	w->keep.schema = state_migrations;
	return w;
}

void
status_writer_free(struct status_writer *w)
{
	if (w == NULL)
		return;
	store_keeper_drop(&w->keep);
	free(w);
}

void
status_write(struct status_writer *w, pid_t pid, const char *program, time_t started,
    const char *counters, bool gone)
{
	char err[512], spid[24], sstart[24], snow[24], sold[24];
	const char *args[5] = { spid, program, sstart, snow, counters };
	time_t now = time(NULL);
	int rc;

	if ((rc = store_keep(&w->keep, err, sizeof(err))) != STORE_OK) {
		if (!w->warned)
			log_debug("counters not recorded in %s: %s", w->path, err);
		w->warned = true;
		return;
	}
	snprintf(spid, sizeof(spid), "%ld", (long)pid);
	snprintf(sstart, sizeof(sstart), "%lld", (long long)started);
	snprintf(snow, sizeof(snow), "%lld", (long long)now);
	snprintf(sold, sizeof(sold), "%lld", (long long)now - STATUS_FORGET_S);
	if (gone) {
		/* The last word: worth a short wait. */
		store_set_busy(w->keep.store, 1000);
		rc = store_write(w->keep.store, "DELETE FROM helpers WHERE pid = ?1", args, 1,
		    err, sizeof(err));
	} else {
		const char *old[1] = { sold };
		rc = store_write(w->keep.store, "INSERT INTO helpers (pid, program, started, "
		    "updated, counters) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (pid) DO UPDATE "
		    "SET program = ?2, started = ?3, updated = ?4, counters = ?5", args, 5,
		    err, sizeof(err));
		if (rc == STORE_OK)
			ignore_status(store_write(w->keep.store, "DELETE FROM helpers WHERE "
			    "updated < ?1", old, 1, err, sizeof(err)));
	}
	if (rc != STORE_OK && rc != STORE_ENOTFOUND && !w->warned) {
		log_debug("counters not recorded in %s: %s", w->path, err);
		w->warned = true;
	}
}

struct each {
	int (*fn)(const struct status_row *row, void *arg);
	void *arg;
	int count;
};

static int
each_row(const char *const *cols, int ncols, void *arg)
{
	struct each *e = arg;
	struct status_row r;

	(void)ncols;
	r.pid = (pid_t)strtol(cols[0], NULL, 10);
	/* A process that is gone (EPERM: alive, another user's). */
	if (r.pid <= 0 || (kill(r.pid, 0) != 0 && errno != EPERM))
		return 0;
	r.program = cols[1];
	r.started = strtoll(cols[2], NULL, 10);
	r.updated = strtoll(cols[3], NULL, 10);
	r.counters = cols[4];
	e->count++;
	return e->fn(&r, e->arg);
}

int
status_foreach(const struct conf *conf, int (*fn)(const struct status_row *row, void *arg),
    void *arg, char *err, size_t errlen)
{
	char path[4096];
	struct store *st;
	struct each e = { fn, arg, 0 };
	int rc;

	conf_beside_store(conf, "state.db", path, sizeof(path));
	if (store_open_schema(path, state_migrations, STORE_READ, 2, &st, err, errlen) != STORE_OK)
		return -1;
	rc = store_read(st, "SELECT pid, program, started, updated, counters FROM helpers "
	    "ORDER BY pid", NULL, 0, each_row, &e, err, errlen);
	store_close(st);
	return rc == STORE_OK ? e.count : -1;
}
