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

#include "conf.h"
#include "engine.h"
#include "helper.h"
#include "log.h"
#include "pwhash.h"

static const char usage[] =
    "usage: basic_cuttle_auth [--config FILE] [--db PATH] "
    "[--channel-id yes|no|auto] [--key-extras FORMAT] [-d]";

/*
 * Parse argv. A problem is not fatal: it is returned in err and the helper
 * answers BH naming it, so Squid does not restart it in a loop.
 */
static int
parse_args(int argc, char **argv, struct conf *conf, struct helper_opts *o,
    bool *debug_r, char *err, size_t errlen)
{
	const char *config = NULL, *db = NULL, *error;
	bool config_required = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		bool takes = strcmp(a, "--config") == 0 || strcmp(a, "--db") == 0 ||
		    strcmp(a, "--channel-id") == 0 || strcmp(a, "--key-extras") == 0;

		if (takes) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "option %s needs a value (%s)", a, usage);
				return -1;
			}
			val = argv[++i];
		}
		if (strcmp(a, "--config") == 0) {
			config = val;
			config_required = true;
		} else if (strcmp(a, "--db") == 0) {
			db = val;
		} else if (strcmp(a, "--channel-id") == 0) {
			if (proto_channel_parse(val, &o->channel) != 0) {
				snprintf(err, errlen, "--channel-id %.40s: use yes, no or auto", val);
				return -1;
			}
		} else if (strcmp(a, "--key-extras") == 0) {
			if ((o->nextras = helper_count_extras(val)) < 0) {
				snprintf(err, errlen, "--key-extras: more than %d fields", PROTO_EXTRAS_MAX);
				return -1;
			}
		} else if (strcmp(a, "-d") == 0 || strcmp(a, "--debug") == 0) {
			*debug_r = true;
		} else {
			snprintf(err, errlen, "unknown option '%.60s' (%s)", a, usage);
			return -1;
		}
	}
	if (conf_load(conf, config != NULL ? config : CONF_DEFAULT_PATH,
	    config_required, err, errlen) != 0)
		return -1;
	if (db != NULL && conf_set(conf, "store", "path", db, &error) != 0) {
		snprintf(err, errlen, "--db %.200s: %s", db, error);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct helper_opts opts = { PROTO_CHANNEL_AUTO, 0 };
	struct conf *conf = conf_new();
	struct engine *engine;
	bool debug = false;
	char err[512];
	int bad;

	/* Asked by a person at a terminal, never by Squid. */
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("%s\n(see basic_cuttle_auth(8))\n", usage);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("basic_cuttle_auth (cuttle) %s\n", PACKAGE_VERSION);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	util_no_core_dumps();
	log_init("basic_cuttle_auth", false);
	bad = parse_args(argc, argv, conf, &opts, &debug, err, sizeof(err));
	log_init("basic_cuttle_auth", debug);
	if (bad == 0 && pwhash_init() != 0) {
		snprintf(err, sizeof(err), "libsodium failed to initialise");
		bad = -1;
	}
	if (bad != 0)
		log_error("%s; answering BH to every request until fixed", err);
	engine = engine_new(conf, bad != 0 ? err : NULL);
	bad = helper_run(engine, &opts, STDIN_FILENO, STDOUT_FILENO);
	engine_free(engine);
	return bad;
}
