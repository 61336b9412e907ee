/*
 * proto: Squid's helper protocol. Parses a request line (channel ID,
 * RFC 1738 %-decoding) and encodes a verdict as the reply line.
 */
#ifndef CUTTLE_PROTO_H
#define CUTTLE_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "verdict.h"

/*
 * The longest request Squid sends for Basic, LF included. Squid puts the
 * channel ID in front of that, so a whole line may be PROTO_WIRE_MAX.
 */
#define PROTO_LINE_MAX 8192
#define PROTO_CHANNEL_MAX 20
#define PROTO_WIRE_MAX (PROTO_LINE_MAX + PROTO_CHANNEL_MAX + 1)
#define PROTO_EXTRAS_MAX 16

enum proto_channel {
	PROTO_CHANNEL_AUTO,
	PROTO_CHANNEL_YES,
	PROTO_CHANNEL_NO,
	/*
	 * Auto after a channel ID was seen: Squid keeps its concurrency for a
	 * helper's life, so from then on a leading number on a line with at
	 * least one field more than needed is a channel ID (quoted key_extras
	 * values may hold spaces and add fields).
	 */
	PROTO_CHANNEL_AUTO_SEEN,
};

/* Parse "yes", "no" or "auto". Returns 0 or -1. */
int proto_channel_parse(const char *s, enum proto_channel *mode_r) WUR;

/*
 * One request. The fields point into buf, which holds the decoded line
 * and so the password: proto_request_clear() zeroes it.
 */
struct request {
	char buf[PROTO_WIRE_MAX];
	size_t buf_used;		/* bytes of buf that may hold the line */
	bool has_channel;
	char channel[PROTO_CHANNEL_MAX + 1];
	const char *user;
	size_t user_len;
	const char *password;
	size_t password_len;
	const char *extras[PROTO_EXTRAS_MAX];	/* key_extras, undecoded */
	int nextras;
	/* External ACL requests: every field, %-decoded. */
	bool external;
	const char *fields[PROTO_EXTRAS_MAX];
	size_t field_lens[PROTO_EXTRAS_MAX];
	int nfields;
	bool bad;			/* malformed: answer BH bad_request */
	char error[128];		/* what was malformed */
};

/*
 * Parse a Basic request line of len bytes (no LF). nextras is how many
 * key_extras fields the admin declared (for the auto channel-ID rule).
 * Always fills req: a malformed line sets req->bad and, where it can be
 * told, the channel ID so that the BH reply reaches the right request.
 * In auto mode, *mode becomes PROTO_CHANNEL_AUTO_SEEN once a channel ID
 * was found.
 */
void proto_parse_basic(struct request *req, const char *line, size_t len,
    enum proto_channel *mode, int nextras);

/*
 * Parse an external ACL request: [channel-ID] field… (the FORMAT codes,
 * then the ACL's arguments), each %-decoded. needed is how many fields
 * the mode needs at least; exact says it needs exactly that many (for
 * the auto channel-ID rule). A NUL byte makes it bad.
 */
void proto_parse_fields(struct request *req, const char *line, size_t len,
    enum proto_channel *mode, int needed, bool exact);

/*
 * Fill req for a line longer than Squid may send, given its first bytes:
 * only the channel ID is taken; req->bad is set.
 */
void proto_parse_overlong(struct request *req, const char *prefix, size_t len,
    enum proto_channel mode, int nextras);

/*
 * Encode the reply for v to req into buf: "[ID ]WORD[ key=value…][ text]\n".
 * Returns its length (always less than size, which must be >= 512).
 */
size_t proto_format_reply(char *buf, size_t size, const struct request *req,
    const struct verdict *v);

/* Copy a request (its fields then point into dst's own buffer). */
void proto_request_copy(struct request *dst, const struct request *src);

/* Zero the request, password included. */
void proto_request_clear(struct request *req);

/*
 * Decode RFC 1738 %XX escapes in place; an invalid escape stays as it is.
 * (Unlike Squid's rfc1738_unescape, "%%" stays "%%" and "%00" decodes to
 * NUL, which the parser then refuses; Squid's escaping never makes
 * either.) Returns the new length.
 */
size_t proto_unescape(char *s, size_t len);

#endif
