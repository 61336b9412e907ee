/* ldapdiag: what a directory's bind diagnostics say about an account. */
#ifndef CUTTLE_LDAPDIAG_H
#define CUTTLE_LDAPDIAG_H

#include <stdbool.h>

#include "backend.h"

/*
 * Map Active Directory's "invalid credentials" diagnostic text ("80090308:
 * LdapErr: DSID-0C09042F, comment: AcceptSecurityContext error, data 52e,
 * v4563") to a result: 525 unknown user; 52e wrong password; 530, 531,
 * 533 disabled; 532, 701, 773 expired; 775 locked. *proven_r is set when
 * AD gives that answer only to the right password. Anything else is
 * BACKEND_BAD_PASSWORD.
 */
enum backend_result ldapdiag_ad(const char *diag, bool *proven_r);

#endif
