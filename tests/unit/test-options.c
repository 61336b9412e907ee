#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "options.h"
#include "pwhash.h"
#include "tap.h"

static struct conf *c;
static struct helper_opts o;
static bool debug;
static char err[512];

/* Parse a NULL-terminated argument list (copied: -w wipes its value). */
static int
parse(const char *first, ...)
{
	static char store[32][256];
	char *argv[32];
	int argc = 0, rc;
	va_list ap;

	conf_free(c);
	c = conf_new();
	memset(&o, 0, sizeof(o));
	debug = false;
	err[0] = '\0';
	argv[argc++] = "basic_cuttle_auth";
	va_start(ap, first);
	for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
		snprintf(store[argc], sizeof(store[argc]), "%s", a);
		argv[argc] = store[argc];
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	rc = options_basic_auth(argc, argv, c, &o, &debug, err, sizeof(err));
	if (argc > 2 && strcmp(first, "-b") == 0)
		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i - 1], "-w") == 0)
				ok(argv[i][0] == '\0', "-w value wiped from argv");
	return rc;
}

int
main(void)
{
	if (pwhash_init() != 0)
		return 99;
	ok(parse("--config", "/nonexistent/x.conf", NULL) != 0 && strstr(err, "/nonexistent/x.conf") != NULL,
	    "missing --config names the file");
	ok(parse("--channel-id", "yes", "--key-extras", "%>a %un", "-d", NULL) == 0 &&
	    o.channel == PROTO_CHANNEL_YES && o.nextras == 2 && debug, "our own options");
	ok(c->nbackends == 1 && c->backends[0] == CONF_BACKEND_SQLITE, "-d alone keeps the store backend");

	ok(parse("-b", "ou=people,dc=example,dc=com", "ldap.example.com", NULL) == 0, "DN-template mode");
	ok(c->nbackends == 1 && c->backends[0] == CONF_BACKEND_LDAP, "basic_ldap_auth options select LDAP");
	is_str(c->ldap_dn_template, "uid=%s,ou=people,dc=example,dc=com", "template from -b, default uid");
	is_str(c->ldap_uri, "ldap://ldap.example.com", "trailing server becomes a URI");

	ok(parse("-b", "dc=example,dc=com", "-u", "cn", "-h", "dc1", "-p", "3268", NULL) == 0 &&
	    strcmp(c->ldap_dn_template, "cn=%s,dc=example,dc=com") == 0, "-u attr");
	is_str(c->ldap_uri, "ldap://dc1:3268", "-h with -p");

	ok(parse("-b", "dc=example,dc=com", "-f", "(&(uid=%s)(objectClass=person))", "-s", "one",
	    "-a", "always", "-D", "cn=proxy,dc=example,dc=com", "-W", "/etc/secret", "-H",
	    "ldaps://a.example", "-H", "ldap://b.example", "-Z", "-R", "-P", "-O", "-v", "3",
	    "-c", "3", "-t", "7", "-U", "userPassword", "c.example:1389", NULL) == 0,
	    "every basic_ldap_auth option: %s", err);
	is_str(c->ldap_filter, "(&(uid=%s)(objectClass=person))", "-f filter");
	is_str(c->ldap_dn_template, "", "-f means search mode");
	ok(c->ldap_scope == CONF_SCOPE_ONE && c->ldap_deref == CONF_DEREF_ALWAYS, "-s and -a");
	is_str(c->ldap_bind_dn, "cn=proxy,dc=example,dc=com", "-D");
	is_str(c->ldap_bind_password_file, "/etc/secret", "-W");
	is_str(c->ldap_uri, "ldaps://a.example ldap://b.example ldap://c.example:1389", "URIs in order");
	ok(c->ldap_starttls && !c->ldap_referrals, "-Z and -R");
	ok(c->ldap_connect_timeout == 3 && c->ldap_timeout == 7, "-c and -t");
	is_str(c->ldap_password_attr, "userPassword", "-U");

	ok(parse("-b", "dc=x", "-w", "s3cret", "-D", "cn=a,dc=x", "localhost", NULL) == 0 &&
	    c->ldap_bind_password != NULL && strcmp(c->ldap_bind_password, "s3cret") == 0, "-w taken");
	ok(parse("-bdc=x", "-fuid=%s", NULL) == 0 && strcmp(c->ldap_base, "dc=x") == 0 &&
	    strcmp(c->ldap_filter, "uid=%s") == 0, "-bVALUE form");
	is_str(c->ldap_uri, "ldap://localhost", "no server: ldap://localhost, as basic_ldap_auth");

	ok(parse("-f", "(uid=%s)", NULL) == 0, "-f without -b parses (base checked at open)");
	ok(parse("-u", "uid", "srv", NULL) != 0 && strstr(err, "-b basedn is required") != NULL,
	    "template mode needs -b");
	ok(parse("-b", "dc=x", "-s", "deep", NULL) != 0 && strstr(err, "-s deep") != NULL, "bad scope named");
	ok(parse("-b", "dc=x", "-v", "4", NULL) != 0, "-v 4 refused");
	ok(parse("-b", "dc=x", "-f", "(uid=%u)", NULL) != 0, "-f with %%u refused");
	ok(parse("-b", NULL) != 0 && strstr(err, "needs a value") != NULL, "-b without value");
	ok(parse("-X", NULL) != 0 && strstr(err, "unknown option '-X'") != NULL, "unknown short option");
	ok(parse("-b", "dc=x", "-c", "0", NULL) != 0, "-c 0 refused");
	conf_free(c);
	return tap_done();
}
