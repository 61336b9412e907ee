#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ldapesc.h"

static const char hexdig[] = "0123456789abcdef";

/* Append one byte, or its \XX form, to out. Returns -1 when full. */
static int
put(char *out, size_t size, size_t *o, unsigned char c, bool escape)
{
	if (escape) {
		if (*o + 3 >= size)
			return -1;
		out[(*o)++] = '\\';
		out[(*o)++] = hexdig[c >> 4];
		out[(*o)++] = hexdig[c & 0xf];
	} else {
		if (*o + 1 >= size)
			return -1;
		out[(*o)++] = (char)c;
	}
	return 0;
}

long
ldapesc_filter(const char *in, size_t len, char *out, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		/*
		 * Escaping every non-ASCII byte too keeps invalid UTF-8 from
		 * reaching the server raw; the value compared is unchanged.
		 */
		bool esc = c == '*' || c == '(' || c == ')' || c == '\\' ||
		    c < 0x20 || c >= 0x7f;
		if (put(out, size, &o, c, esc) != 0)
			return -1;
	}
	out[o] = '\0';
	return (long)o;
}

long
ldapesc_dn(const char *in, size_t len, char *out, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		bool esc = strchr(",+\"\\<>;=", c) != NULL || c < 0x20 || c >= 0x7f ||
		    (i == 0 && (c == '#' || c == ' ')) || (i == len - 1 && c == ' ');
		if (c == '\0')
			esc = true;
		if (put(out, size, &o, c, esc) != 0)
			return -1;
	}
	out[o] = '\0';
	return (long)o;
}

long
ldapesc_fill(const char *tmpl, const struct ldapesc_var *vars, int nvars,
    char *out, size_t size, const char **error_r)
{
	size_t o = 0;

	if (size == 0) {
		*error_r = "no room";
		return -1;
	}
	for (const char *p = tmpl; *p != '\0'; p++) {
		const struct ldapesc_var *v = NULL;
		long n;

		if (*p != '%') {
			if (o + 1 >= size)
				goto toolong;
			out[o++] = *p;
			continue;
		}
		p++;
		if (*p == '%') {
			if (o + 1 >= size)
				goto toolong;
			out[o++] = '%';
			continue;
		}
		for (int i = 0; i < nvars; i++)
			if (vars[i].name == *p)
				v = &vars[i];
		if (v == NULL) {
			*error_r = "unknown %-sequence in template";
			return -1;
		}
		n = v->kind == LDAPESC_FILTER ?
		    ldapesc_filter(v->value, v->len, out + o, size - o) :
		    ldapesc_dn(v->value, v->len, out + o, size - o);
		if (n < 0)
			goto toolong;
		o += (size_t)n;
	}
	out[o] = '\0';
	return (long)o;
toolong:
	*error_r = "value too long for the template";
	return -1;
}

bool
ldapesc_check(const char *tmpl, const char *allowed, const char **error_r)
{
	for (const char *p = tmpl; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == '%')
			continue;
		if (*p == '\0' || strchr(allowed, *p) == NULL) {
			*error_r = "unknown %-sequence (allowed: %% and the documented letters)";
			return false;
		}
	}
	return true;
}
