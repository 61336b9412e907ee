/*
 * ext_cuttle_acl: Squid's `external_acl_type` helper. Answers OK or ERR
 * for "SRC [LIST...]" (allow lists), "LOGIN GROUP..." (--mode group) or
 * "LOGIN SRC" (--mode userip).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
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
	struct helper_opts opts = { PROTO_CHANNEL_AUTO, 0, -1, HELPER_ALLOW, false, false };
	struct conf *conf = conf_new();
	struct engine *engine;
	struct audit *audit;
	bool debug = false;
	char err[512];
	int bad;

	/* Asked by a person at a terminal, never by Squid. */
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("%s\n(see ext_cuttle_acl(8))\n", options_ext_usage);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	util_no_core_dumps();
	log_init("ext_cuttle_acl", false);
	bad = options_ext_acl(argc, argv, conf, &opts, &debug, err, sizeof(err));
	log_init("ext_cuttle_acl", debug);
	if (bad == 0 && pwhash_init() != 0) {
		snprintf(err, sizeof(err), "libsodium failed to initialise");
		bad = -1;
	}
	if (bad != 0)
		log_error("%s; answering BH to every request until fixed", err);
	engine = engine_new(conf, bad != 0 ? err : NULL);
	audit = audit_new(conf, "ext_cuttle_acl");
	bad = helper_run(engine, &opts, audit, STDIN_FILENO, STDOUT_FILENO);
	audit_free(audit);
	engine_free(engine);
	return bad;
}
