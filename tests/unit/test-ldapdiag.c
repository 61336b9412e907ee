#include "config.h"

#include "ldapdiag.h"
#include "tap.h"

#define AD(code) "80090308: LdapErr: DSID-0C09042F, comment: AcceptSecurityContext error, data " code ", v4563"

int
main(void)
{
	bool p;

	ok(ldapdiag_ad(AD("525"), &p) == BACKEND_UNKNOWN_USER && !p, "525: unknown user");
	ok(ldapdiag_ad(AD("52e"), &p) == BACKEND_BAD_PASSWORD && !p, "52e: wrong password");
	ok(ldapdiag_ad(AD("52E"), &p) == BACKEND_BAD_PASSWORD, "52E: case-insensitive");
	ok(ldapdiag_ad(AD("530"), &p) == BACKEND_DISABLED && p, "530: not permitted now: disabled, proven");
	ok(ldapdiag_ad(AD("531"), &p) == BACKEND_DISABLED && p, "531: workstation: disabled, proven");
	ok(ldapdiag_ad(AD("532"), &p) == BACKEND_EXPIRED && p, "532: password expired, proven");
	ok(ldapdiag_ad(AD("533"), &p) == BACKEND_DISABLED && p, "533: account disabled, proven");
	ok(ldapdiag_ad(AD("701"), &p) == BACKEND_EXPIRED && p, "701: account expired, proven");
	ok(ldapdiag_ad(AD("773"), &p) == BACKEND_EXPIRED && p, "773: must reset: expired, proven");
	ok(ldapdiag_ad(AD("775"), &p) == BACKEND_LOCKED && !p, "775: locked, not proven");
	ok(ldapdiag_ad(AD("5330"), &p) == BACKEND_BAD_PASSWORD && !p, "5330 is not 533");
	ok(ldapdiag_ad(AD("999"), &p) == BACKEND_BAD_PASSWORD && !p, "unknown code: bad password");
	ok(ldapdiag_ad("Invalid credentials", &p) == BACKEND_BAD_PASSWORD && !p, "OpenLDAP text: bad password");
	ok(ldapdiag_ad(NULL, &p) == BACKEND_BAD_PASSWORD && !p, "no text: bad password");
	ok(ldapdiag_ad("data ", &p) == BACKEND_BAD_PASSWORD, "truncated text");
	return tap_done();
}
