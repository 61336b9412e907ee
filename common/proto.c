#include "config.h"

#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include "proto.h"

int
proto_channel_parse(const char *s, enum proto_channel *mode_r)
{
	if (strcmp(s, "auto") == 0)
		*mode_r = PROTO_CHANNEL_AUTO;
	else if (strcmp(s, "yes") == 0)
		*mode_r = PROTO_CHANNEL_YES;
	else if (strcmp(s, "no") == 0)
		*mode_r = PROTO_CHANNEL_NO;
	else
		return -1;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t
proto_unescape(char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < len &&
		    (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
			s[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	return o;
}

static bool
all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Split buf (NUL-terminated, len bytes) on single spaces, in place. */
static int
split(char *buf, size_t len, char **fields, size_t *lens, int max)
{
	int n = 0;
	char *p = buf, *end = buf + len;

	while (n < max) {
		char *sp = memchr(p, ' ', (size_t)(end - p));
		fields[n] = p;
		lens[n] = (size_t)((sp != NULL ? sp : end) - p);
		n++;
		if (sp == NULL)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	return n;
}

static void
take_channel(struct request *req, const char *tok, size_t len)
{
	req->has_channel = true;
	if (len > PROTO_CHANNEL_MAX)
		len = PROTO_CHANNEL_MAX;
	memcpy(req->channel, tok, len);
	req->channel[len] = '\0';
}

static void
set_bad(struct request *req, const char *error)
{
	req->bad = true;
	snprintf(req->error, sizeof(req->error), "%s", error);
}

/*
 * The channel ID and the checks every request line gets: always an ID with
 * "yes"; never with "no"; in auto, a leading all-digit token when counted
 * says the line has the fields for one (and afterwards, once one was seen,
 * whenever there are at least min_fields). Then the 8192-byte limit on the
 * request after the ID, and no NUL anywhere. Returns the index of the first
 * field after the ID, or -1 with req->bad set.
 */
static int
channel_and_checks(struct request *req, const char *line, size_t len, char **fields,
    const size_t *lens, int n, enum proto_channel *mode, bool counted, int min_fields)
{
	bool digits = all_digits(fields[0], lens[0]);
	int first = 0;

	if (*mode == PROTO_CHANNEL_YES || (*mode == PROTO_CHANNEL_AUTO && counted && digits) ||
	    (*mode == PROTO_CHANNEL_AUTO_SEEN && n >= min_fields && digits)) {
		if (!digits || lens[0] > PROTO_CHANNEL_MAX) {
			set_bad(req, "malformed channel ID");
			return -1;
		}
		take_channel(req, fields[0], lens[0]);
		first = 1;
		if (*mode == PROTO_CHANNEL_AUTO)
			*mode = PROTO_CHANNEL_AUTO_SEEN;
	}
	/* The request after the channel ID (and its space) is what Squid bounds. */
	if (len - (first ? (lens[0] < len ? lens[0] + 1 : len) : 0) >= PROTO_LINE_MAX) {
		set_bad(req, "request line longer than 8192 bytes");
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		set_bad(req, "NUL byte in request");
		return -1;
	}
	return first;
}

void
proto_parse_basic(struct request *req, const char *line, size_t len,
    enum proto_channel *mode, int nextras)
{
	char *fields[PROTO_EXTRAS_MAX + 4];
	size_t lens[PROTO_EXTRAS_MAX + 4];
	int n, first = 0, maxf = (int)(sizeof(fields) / sizeof(fields[0]));
	char *user, *pw;

	proto_request_clear(req);
	if (len >= PROTO_WIRE_MAX) {
		proto_parse_overlong(req, line, len, *mode, nextras);
		return;
	}
	memcpy(req->buf, line, len);
	req->buf[len] = '\0';
	req->buf_used = len + 1;
	n = split(req->buf, len, fields, lens, maxf);
	/* In auto: one field more than user, password and the declared extras. */
	first = channel_and_checks(req, line, len, fields, lens, n, mode, n == 2 + nextras + 1,
	    2 + nextras + 1);
	if (first < 0)
		return;
	if (n - first < 2) {
		set_bad(req, n - first == 1 && lens[first] > 0 ?
		    "missing password field" : "missing user and password fields");
		return;
	}
	user = fields[first];
	pw = fields[first + 1];
	req->user_len = proto_unescape(user, lens[first]);
	user[req->user_len] = '\0';
	req->password_len = proto_unescape(pw, lens[first + 1]);
	pw[req->password_len] = '\0';
	req->user = user;
	req->password = pw;
	for (int i = first + 2; i < n && req->nextras < PROTO_EXTRAS_MAX; i++)
		req->extras[req->nextras++] = fields[i];

	if (req->user_len == 0) {
		set_bad(req, "empty user name");
		return;
	}
	if (memchr(user, '\0', req->user_len) != NULL ||
	    memchr(pw, '\0', req->password_len) != NULL) {
		set_bad(req, "NUL byte in user name or password");
		return;
	}
}

void
proto_parse_fields(struct request *req, const char *line, size_t len,
    enum proto_channel *mode, int needed, bool exact)
{
	char *fields[PROTO_EXTRAS_MAX + 2];
	size_t lens[PROTO_EXTRAS_MAX + 2];
	int n, first = 0;

	proto_request_clear(req);
	req->external = true;
	if (len >= PROTO_WIRE_MAX) {
		proto_parse_overlong(req, line, len, *mode, 0);
		req->external = true;
		return;
	}
	memcpy(req->buf, line, len);
	req->buf[len] = '\0';
	req->buf_used = len + 1;
	n = split(req->buf, len, fields, lens, PROTO_EXTRAS_MAX + 1);
	first = channel_and_checks(req, line, len, fields, lens, n, mode,
	    exact ? n == needed + 1 : n >= needed + 1, needed + 1);
	if (first < 0)
		return;
	if (n > PROTO_EXTRAS_MAX + first) {
		set_bad(req, "too many fields");
		return;
	}
	for (int i = first; i < n; i++) {
		size_t l = proto_unescape(fields[i], lens[i]);
		fields[i][l] = '\0';
		if (memchr(fields[i], '\0', l) != NULL) {
			set_bad(req, "NUL byte in a field");
			return;
		}
		req->fields[req->nfields] = fields[i];
		req->field_lens[req->nfields++] = l;
	}
	if (req->nfields < needed || (req->nfields == 1 && req->field_lens[0] == 0)) {
		set_bad(req, "missing fields");
		return;
	}
}

void
proto_parse_overlong(struct request *req, const char *prefix, size_t len,
    enum proto_channel mode, int nextras)
{
	const char *sp;
	size_t toklen;

	proto_request_clear(req);
	set_bad(req, "request line longer than 8192 bytes");
	if (mode == PROTO_CHANNEL_NO)
		return;
	sp = memchr(prefix, ' ', len);
	toklen = sp != NULL ? (size_t)(sp - prefix) : len;
	/*
	 * The field count is unknown, so in auto a leading number is taken
	 * as the channel ID: a BH for a numeric user name without
	 * concurrency does less harm than a reply Squid cannot place.
	 */
	if (sp != NULL && all_digits(prefix, toklen) && toklen <= PROTO_CHANNEL_MAX)
		take_channel(req, prefix, toklen);
	(void)nextras;
}

/* Append src to buf as free text: printable bytes only, one line. */
static size_t
append_text(char *buf, size_t size, size_t o, const char *src)
{
	for (; *src != '\0' && o + 2 < size; src++) {
		unsigned char c = (unsigned char)*src;
		buf[o++] = c >= 0x20 && c != 0x7f ? (char)c : '?';
	}
	return o;
}

size_t
proto_format_reply(char *buf, size_t size, const struct request *req,
    const struct verdict *v)
{
	int n;
	size_t o;
	const char *text = verdict_text(v);

	n = snprintf(buf, size, "%s%s%s reason_=%s%s", req->has_channel ? req->channel : "",
	    req->has_channel ? " " : "", result_word(v->result),
	    reason_name(v->reason), v->notes);
	/* External ACL answers carry no text but for BH (cache.log). */
	if (req->external && v->result != RESULT_BH)
		text = "";
	o = n > 0 && (size_t)n < size ? (size_t)n : 0;
	if (*text != '\0' && o + 2 < size) {
		buf[o++] = ' ';
		o = append_text(buf, size, o, text);
	}
	buf[o++] = '\n';
	buf[o] = '\0';
	return o;
}

/* A pointer into src->buf, moved to the same place in dst->buf. */
static const char *
rebase(const struct request *src, struct request *dst, const char *p)
{
	if (p >= src->buf && p < src->buf + sizeof(src->buf))
		return dst->buf + (p - src->buf);
	return p;
}

void
proto_request_copy(struct request *dst, const struct request *src)
{
	memcpy(dst, src, sizeof(*dst));
	dst->user = rebase(src, dst, src->user);
	dst->password = rebase(src, dst, src->password);
	for (int i = 0; i < PROTO_EXTRAS_MAX; i++) {
		dst->extras[i] = rebase(src, dst, src->extras[i]);
		dst->fields[i] = rebase(src, dst, src->fields[i]);
	}
}

void
proto_request_clear(struct request *req)
{
	size_t used = req->buf_used < sizeof(req->buf) ? req->buf_used : sizeof(req->buf);
	size_t rest = offsetof(struct request, buf_used);

	/* The line (and so the password), then everything after the buffer. */
	pwhash_zero(req->buf, used);
	pwhash_zero((char *)req + rest, sizeof(*req) - rest);
}
