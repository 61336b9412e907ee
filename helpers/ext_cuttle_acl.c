/*
 * ext_cuttle_acl: Squid's `external_acl_type` helper. Answers OK or ERR
 * for "SRC [LIST...]" (allow lists), "LOGIN GROUP..." (--mode group) or
 * "LOGIN SRC" (--mode userip); the mode comes from the options.
 */
#include "config.h"

#include "helper.h"
#include "options.h"

int
main(int argc, char **argv)
{
	return helper_main(argc, argv, "ext_cuttle_acl", options_ext_usage, HELPER_ALLOW,
	    options_ext_acl);
}
