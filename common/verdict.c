#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "verdict.h"

static const struct {
	const char *name;
	enum result result;
	const char *text;	/* shown only once the password is proven */
} reasons[REASON_COUNT] = {
	[REASON_OK] = { "ok", RESULT_OK, NULL },
	[REASON_UNKNOWN_USER] = { "unknown_user", RESULT_ERR, NULL },
	[REASON_BAD_PASSWORD] = { "bad_password", RESULT_ERR, NULL },
	[REASON_DISABLED] = { "disabled", RESULT_ERR, "Account disabled" },
	[REASON_LOCKED] = { "locked", RESULT_ERR, "Account locked" },
	[REASON_EXPIRED] = { "expired", RESULT_ERR, "Account expired" },
	[REASON_THROTTLED] = { "throttled", RESULT_ERR, NULL },
	[REASON_IP_NOT_ALLOWED] = { "ip_not_allowed", RESULT_ERR,
	    "Login not allowed from this address" },
	[REASON_NOT_ALLOWED] = { "not_allowed", RESULT_ERR, NULL },
	[REASON_NOT_IN_GROUP] = { "not_in_group", RESULT_ERR, NULL },
	[REASON_AMBIGUOUS_USER] = { "ambiguous_user", RESULT_ERR, NULL },
	[REASON_BAD_REQUEST] = { "bad_request", RESULT_BH, NULL },
	[REASON_BACKEND_DOWN] = { "backend_down", RESULT_BH, NULL },
	[REASON_BACKEND_ERROR] = { "backend_error", RESULT_BH, NULL },
};

static const char generic_refusal[] = "Invalid username or password";

void
verdict_init(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->result = RESULT_BH;
	v->reason = REASON_BACKEND_ERROR;
	v->backend = "";
}

void
verdict_set(struct verdict *v, enum reason reason, const char *backend,
    const char *detail_fmt, ...)
{
	va_list ap;

	v->reason = reason;
	v->result = reasons[reason].result;
	v->backend = backend != NULL ? backend : "";
	v->detail[0] = '\0';
	if (detail_fmt != NULL) {
		va_start(ap, detail_fmt);
		vsnprintf(v->detail, sizeof(v->detail), detail_fmt, ap);
		va_end(ap);
	}
}

int
verdict_add_note(struct verdict *v, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	char buf[256];
	size_t o = 0, have = strlen(v->notes);

	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (o + 4 >= sizeof(buf))
			return -1;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._-@", *p) != NULL) {
			buf[o++] = (char)*p;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
	}
	buf[o] = '\0';
	if (have + strlen(key) + o + 3 >= sizeof(v->notes))
		return -1;
	snprintf(v->notes + have, sizeof(v->notes) - have, " %s=%s", key, buf);
	return 0;
}

const char *
reason_name(enum reason reason)
{
	return (unsigned)reason < REASON_COUNT ? reasons[reason].name : "unknown";
}

int
reason_parse(const char *name, enum reason *reason_r)
{
	for (int i = 0; i < REASON_COUNT; i++) {
		if (strcmp(reasons[i].name, name) == 0) {
			*reason_r = (enum reason)i;
			return 0;
		}
	}
	return -1;
}

enum result
reason_result(enum reason reason)
{
	return reasons[reason].result;
}

const char *
result_word(enum result result)
{
	switch (result) {
	case RESULT_OK: return "OK";
	case RESULT_ERR: return "ERR";
	case RESULT_BH: break;
	}
	return "BH";
}

const char *
result_name(enum result result)
{
	switch (result) {
	case RESULT_OK: return "ok";
	case RESULT_ERR: return "err";
	case RESULT_BH: break;
	}
	return "bh";
}

const char *
verdict_text(const struct verdict *v)
{
	switch (v->result) {
	case RESULT_OK:
		return "";
	case RESULT_ERR:
		if (v->password_proven && reasons[v->reason].text != NULL)
			return reasons[v->reason].text;
		return generic_refusal;
	case RESULT_BH:
		break;
	}
	return v->detail[0] != '\0' ? v->detail : "internal error";
}
