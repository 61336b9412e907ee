/*
 * status: each running helper's counters in state.db (table helpers), for
 * `cuttle status`. A helper writes its row every few seconds and removes
 * it when it exits; rows of processes that are gone are ignored by the
 * reader and cleared by the next writer.
 */
#ifndef CUTTLE_STATUS_H
#define CUTTLE_STATUS_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "conf.h"

struct status_writer;

/* A writer for state.db beside conf's store. Never NULL. */
struct status_writer *status_writer_new(const struct conf *conf);
void status_writer_free(struct status_writer *w);

/*
 * Record (or with gone, remove) this process's row: counters is
 * "key=value ..." text. Best effort: a busy or missing state.db skips it.
 */
void status_write(struct status_writer *w, pid_t pid, const char *program,
    time_t started, const char *counters, bool gone);

struct status_row {
	pid_t pid;
	const char *program;
	long long started, updated;
	const char *counters;
};

/*
 * Call fn for each helper whose process is still alive, in pid order.
 * Returns the count, or -1 with err (state.db unreadable).
 */
int status_foreach(const struct conf *conf, int (*fn)(const struct status_row *row,
    void *arg), void *arg, char *err, size_t errlen);

#endif
