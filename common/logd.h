/*
 * logd: the work of log_cuttle_daemon. Squid's logfile-daemon commands
 * applied to an audit store (access records) or to a plain file.
 */
#ifndef CUTTLE_LOGD_H
#define CUTTLE_LOGD_H

#include <stddef.h>
#include <stdint.h>

struct logd;

/*
 * Open the log at path: an existing audit store (audit.db) gets access
 * records, any other path a plain file. NULL path: discard everything.
 * Never NULL; problems are said on stderr and the daemon goes on.
 */
struct logd *logd_open(const char *path);
/* Flush and close. */
void logd_close(struct logd *ld);

/* Apply one command line from Squid (with its LF, if any). */
void logd_command(struct logd *ld, const char *line, size_t len);

/* Lines that could not be stored or written. */
uint64_t logd_dropped(const struct logd *ld);

/*
 * Parse an access line in the `cuttle` logformat:
 *   %ts.%03tu %>a %un %>Hs %rm %>rd %note{reason_}
 * into its fields. Returns 0, or -1 if it does not look like one.
 */
struct logd_access {
	int64_t at_ms;
	char client[64], user[128], method[32], host[256], reason[32];
	int status;
};
int logd_parse_access(const char *line, struct logd_access *a);

#endif
