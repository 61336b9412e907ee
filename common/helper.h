/* helper: the request loop shared by the Squid helper programs. */
#ifndef CUTTLE_HELPER_H
#define CUTTLE_HELPER_H

#include "audit.h"
#include "engine.h"
#include "proto.h"

enum helper_mode {
	HELPER_BASIC,		/* basic_cuttle_auth: user password */
	HELPER_ALLOW,		/* ext_cuttle_acl: SRC [LIST...] */
	HELPER_GROUP,		/* ext_cuttle_acl: LOGIN GROUP... */
	HELPER_USERIP,		/* ext_cuttle_acl: LOGIN SRC */
};

struct helper_opts {
	enum proto_channel channel;
	int nextras;		/* fields declared with --key-extras */
	int client_field;	/* which of them is %>a; -1: none */
	enum helper_mode mode;
	bool strip_domain;	/* -S: DOMAIN\user → user (group mode) */
	bool strip_realm;	/* -K: user@REALM → user (group mode) */
};

/*
 * Read request lines from infd, decide each with engine, write one reply
 * per line to outfd, and record each decision in audit (may be NULL).
 * Requests that wait on Argon2 or a directory go to worker threads
 * ([auth] workers), answered as soon as decided when they carry channel
 * IDs and in order otherwise; Basic verdicts are kept in the credential
 * cache ([cache]); prog's counters go to stderr on SIGUSR1 and to state.db
 * every HELPER_PUBLISH_MS. Returns the exit status: 0 at EOF, 1 if the
 * replies can no longer be written.
 */
int helper_serve(struct engine *engine, const struct helper_opts *opts,
    struct audit *audit, const char *prog, int infd, int outfd);

/* How often a helper records its counters in state.db. */
#define HELPER_PUBLISH_MS 10000

/*
 * Count the fields of a --key-extras format ("%>a %un" → 2) and find the
 * one holding the client address (%>a, else -1, in *client_r). Returns the
 * count, or -1 if there are more than PROTO_EXTRAS_MAX.
 */
int helper_count_extras(const char *format, int *client_r);

/*
 * The whole life of a helper program: --help/--version for a person at a
 * terminal; otherwise parse the options with parse (a problem is logged
 * once and answered BH to every request, never an exit), then the engine,
 * the audit sink and the request loop. Returns the exit status.
 */
int helper_main(int argc, char **argv, const char *prog, const char *usage,
    enum helper_mode mode,
    int (*parse_options)(int argc, char **argv, struct conf *conf,
    struct helper_opts *opts, bool *debug_r, char *err, size_t errlen));

#endif
