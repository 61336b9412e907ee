/*
 * options: basic_cuttle_auth's command line, including every option of
 * Squid's basic_ldap_auth, so that a squid.conf line can switch helpers by
 * changing only the program name.
 */
#ifndef CUTTLE_OPTIONS_H
#define CUTTLE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "helper.h"

/*
 * Parse argv into conf (after loading --config or the default file) and
 * opts. basic_ldap_auth's options select the LDAP backend. A -w password
 * is wiped from argv at once. Returns 0, or -1 with the problem in err;
 * warnings go to stderr.
 */
int options_basic_auth(int argc, char **argv, struct conf *conf,
    struct helper_opts *opts, bool *debug_r, char *err, size_t errlen) WUR;

/*
 * Parse ext_cuttle_acl's command line, including ext_ldap_group_acl's
 * options (which select --mode group on the LDAP backend).
 */
int options_ext_acl(int argc, char **argv, struct conf *conf,
    struct helper_opts *opts, bool *debug_r, char *err, size_t errlen) WUR;

/* The usage lines. */
extern const char options_basic_usage[];
extern const char options_ext_usage[];

#endif
