/*
 * basic_cuttle_auth: Squid's `auth_param basic program`. Answers
 * "[ID] user password" lines with OK, ERR or BH.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "engine.h"
#include "helper.h"
#include "log.h"
#include "options.h"
#include "pwhash.h"

int
main(int argc, char **argv)
{
	struct helper_opts opts = { PROTO_CHANNEL_AUTO, 0, -1, HELPER_BASIC, false, false };
	struct conf *conf = conf_new();
	struct engine *engine;
	struct audit *audit;
	bool debug = false;
	char err[512];
	int bad;

	/* Asked by a person at a terminal, never by Squid. */
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("%s\n(see basic_cuttle_auth(8))\n", options_basic_usage);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("basic_cuttle_auth (cuttle) %s\n", PACKAGE_VERSION);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	util_no_core_dumps();
	log_init("basic_cuttle_auth", false);
	bad = options_basic_auth(argc, argv, conf, &opts, &debug, err, sizeof(err));
	log_init("basic_cuttle_auth", debug);
	if (bad == 0 && pwhash_init() != 0) {
		snprintf(err, sizeof(err), "libsodium failed to initialise");
		bad = -1;
	}
	if (bad != 0)
		log_error("%s; answering BH to every request until fixed", err);
	engine = engine_new(conf, bad != 0 ? err : NULL);
	engine_set_client_field(engine, opts.client_field);
	audit = audit_new(conf, "basic_cuttle_auth");
	bad = helper_run(engine, &opts, audit, STDIN_FILENO, STDOUT_FILENO);
	audit_free(audit);
	engine_free(engine);
	return bad;
}
