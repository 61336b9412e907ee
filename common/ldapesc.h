/*
 * ldapesc: escaping values for LDAP filters (RFC 4515) and DNs (RFC 4514),
 * and filling %-templates with escaped values.
 */
#ifndef CUTTLE_LDAPESC_H
#define CUTTLE_LDAPESC_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/*
 * Escape len bytes of in as a filter assertion value: '*', '(', ')', '\',
 * NUL and every byte outside printable ASCII become \XX, so no user name
 * can widen a filter. Returns the length written (NUL-terminated), or -1
 * if out (size) is too small.
 */
long ldapesc_filter(const char *in, size_t len, char *out, size_t size) WUR;

/*
 * Escape len bytes of in as an attribute value in a DN: ',', '+', '"',
 * '\', '<', '>', ';', '=', a leading '#' or space, a trailing space, NUL
 * and bytes outside printable ASCII as \XX. Returns the length or -1.
 */
long ldapesc_dn(const char *in, size_t len, char *out, size_t size) WUR;

enum ldapesc_kind { LDAPESC_FILTER, LDAPESC_DN };

/* One value a template may name: "%s" → { 's', user, … }. */
struct ldapesc_var {
	char name;
	const char *value;
	size_t len;
	enum ldapesc_kind kind;	/* how the value is escaped */
};

/*
 * Fill template: each %X with the escaped value of variable X, "%%" with
 * "%". Returns the length, or -1 with *error_r (unknown %X, too long).
 */
long ldapesc_fill(const char *tmpl, const struct ldapesc_var *vars, int nvars,
    char *out, size_t size, const char **error_r) WUR;

/*
 * Check a template at configuration time: only %% and the letters in
 * allowed may follow a '%'. Returns true, or false with *error_r.
 */
bool ldapesc_check(const char *tmpl, const char *allowed, const char **error_r);

#endif
