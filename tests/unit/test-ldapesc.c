#include "config.h"

#include "ldapesc.h"
#include "tap.h"

static char out[512];

static const char *
filter(const char *in, size_t len)
{
	if (ldapesc_filter(in, len, out, sizeof(out)) < 0)
		return "(overflow)";
	return out;
}

static const char *
dn(const char *in)
{
	if (ldapesc_dn(in, strlen(in), out, sizeof(out)) < 0)
		return "(overflow)";
	return out;
}

int
main(void)
{
	const char *e;
	char small[8];

	is_str(filter("alice", 5), "alice", "plain name unchanged");
	is_str(filter("*", 1), "\\2a", "star escaped");
	is_str(filter("a*", 2), "a\\2a", "trailing star escaped");
	is_str(filter("*)(uid=*", 8), "\\2a\\29\\28uid=\\2a", "filter injection escaped");
	is_str(filter("admin)(|(uid=*", 14), "admin\\29\\28|\\28uid=\\2a", "OR injection escaped");
	is_str(filter("\\", 1), "\\5c", "backslash escaped");
	is_str(filter("a\0b", 3), "a\\00b", "NUL escaped");
	is_str(filter("j\xc3\xbcrgen", 7), "j\\c3\\bcrgen", "UTF-8 bytes escaped (same value)");
	is_str(filter("\xff\xfe", 2), "\\ff\\fe", "invalid UTF-8 escaped");
	ok(ldapesc_filter("aaaaaaaa", 8, small, sizeof(small)) < 0, "overflow refused");
	ok(ldapesc_filter("***", 3, small, sizeof(small)) < 0, "escaped overflow refused");

	is_str(dn("alice"), "alice", "plain DN value");
	is_str(dn("Smith, John"), "Smith\\2c John", "comma escaped in DN");
	is_str(dn("a+b=c"), "a\\2bb\\3dc", "plus and equals escaped");
	is_str(dn("#x"), "\\23x", "leading # escaped");
	is_str(dn(" x "), "\\20x\\20", "leading and trailing space escaped");
	is_str(dn("x<y>;\"\\"), "x\\3cy\\3e\\3b\\22\\5c", "specials escaped");
	is_str(dn("j\xc3\xbc"), "j\\c3\\bc", "non-ASCII escaped in DN");

	{
		struct ldapesc_var v[2] = {
			{ 's', "a*)", 3, LDAPESC_FILTER },
			{ 'd', "cn=x,dc=y", 9, LDAPESC_FILTER },
		};
		ok(ldapesc_fill("(&(uid=%s)(member=%d)(x=100%%))", v, 2, out, sizeof(out), &e) > 0,
		    "fill a template");
		is_str(out, "(&(uid=a\\2a\\29)(member=cn=x,dc=y)(x=100%))", "template filled and escaped");
		ok(ldapesc_fill("(uid=%s)(uid=%s)", v, 1, out, sizeof(out), &e) > 0 &&
		    strcmp(out, "(uid=a\\2a\\29)(uid=a\\2a\\29)") == 0, "repeated %%s");
		ok(ldapesc_fill("(uid=%x)", v, 2, out, sizeof(out), &e) < 0, "unknown %%x refused");
	}
	{
		struct ldapesc_var v = { 's', "Smith, John", 11, LDAPESC_DN };
		ok(ldapesc_fill("cn=%s,ou=people,dc=example", &v, 1, out, sizeof(out), &e) > 0, "DN template");
		is_str(out, "cn=Smith\\2c John,ou=people,dc=example", "DN template escaped");
	}
	ok(ldapesc_check("(uid=%s)", "s", &e), "check accepts %%s");
	ok(!ldapesc_check("(uid=%u)", "s", &e), "check refuses %%u where not allowed");
	ok(ldapesc_check("(&(member=%d)(x=%%))", "udg", &e), "check accepts %%d and %%%%");
	ok(!ldapesc_check("(uid=%", "s", &e), "check refuses a trailing %%");
	return tap_done();
}
