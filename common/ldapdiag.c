#include "config.h"

#include <string.h>
#include <strings.h>

#include "ldapdiag.h"

enum backend_result
ldapdiag_ad(const char *diag, bool *proven_r)
{
	static const struct {
		const char code[4];
		enum backend_result result;
		bool proven;
	} codes[] = {
		{ "525", BACKEND_UNKNOWN_USER, false },
		{ "52e", BACKEND_BAD_PASSWORD, false },
		{ "775", BACKEND_LOCKED, false },	/* said whatever the password */
		{ "530", BACKEND_DISABLED, true },	/* not at this time */
		{ "531", BACKEND_DISABLED, true },	/* not from this workstation */
		{ "533", BACKEND_DISABLED, true },
		{ "532", BACKEND_EXPIRED, true },	/* password expired */
		{ "701", BACKEND_EXPIRED, true },	/* account expired */
		{ "773", BACKEND_EXPIRED, true },	/* must reset password */
	};
	const char *d = diag != NULL ? strstr(diag, "data ") : NULL;

	*proven_r = false;
	if (d == NULL)
		return BACKEND_BAD_PASSWORD;
	d += 5;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (strncasecmp(d, codes[i].code, 3) == 0 &&
		    (d[3] == ',' || d[3] == ' ' || d[3] == '\0')) {
			*proven_r = codes[i].proven;
			return codes[i].result;
		}
	}
	return BACKEND_BAD_PASSWORD;
}
