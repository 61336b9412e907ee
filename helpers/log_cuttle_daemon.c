/*
 * log_cuttle_daemon: Squid's logfile_daemon. Given the audit store as the
 * log's path (access_log daemon:/var/lib/cuttle/audit.db cuttle), it
 * stores each access record (time, client, user, status, method, host,
 * reason) beside the helpers' decisions; given any other path it writes a
 * plain log file, as Squid's log_file_daemon does, since Squid's
 * logfile_daemon serves every daemon: log.
 *
 * Commands from Squid, one per line: L<line> log it; R rotate; T truncate;
 * O reopen; F flush; r<n> rotation count; b<0|1> buffering. Whatever
 * happens to the store or the file, it reads on until EOF: Squid 5 stops
 * with a fatal error when its logfile daemon goes away.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "logd.h"

int
main(int argc, char **argv)
{
	struct logd *ld;
	char line[65536];

	signal(SIGPIPE, SIG_IGN);
	log_init("log_cuttle_daemon", false);
	if (argc < 2) {
		/* Keep reading anyway: dying would stop Squid. */
		log_error("usage: log_cuttle_daemon PATH (the access_log daemon: path); "
		    "discarding every line");
	}
	ld = logd_open(argc >= 2 ? argv[1] : NULL);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t len = strlen(line);
		/* A line longer than the buffer: the rest comes as its own read. */
		logd_command(ld, line, len);
	}
	logd_close(ld);
	return 0;
}
