/* helper: the request loop shared by the Squid helper programs. */
#ifndef CUTTLE_HELPER_H
#define CUTTLE_HELPER_H

#include "engine.h"
#include "proto.h"

struct helper_opts {
	enum proto_channel channel;
	int nextras;		/* fields declared with --key-extras */
};

/*
 * Read request lines from infd, decide each with engine, write one reply
 * per line to outfd (flushed per reply). Returns the exit status: 0 at EOF,
 * 1 if the replies can no longer be written.
 */
int helper_run(struct engine *engine, const struct helper_opts *opts,
    int infd, int outfd);

/*
 * Count the fields of a --key-extras format ("%>a %un" → 2). Returns the
 * count, or -1 if there are more than PROTO_EXTRAS_MAX.
 */
int helper_count_extras(const char *format);

#endif
