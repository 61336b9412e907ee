/*
 * basic_cuttle_auth: Squid's `auth_param basic program`. Answers
 * "[ID] user password" lines with OK, ERR or BH.
 */
#include "config.h"

#include "helper.h"
#include "options.h"

int
main(int argc, char **argv)
{
	return helper_main(argc, argv, "basic_cuttle_auth", options_basic_usage,
	    HELPER_BASIC, options_basic_auth);
}
