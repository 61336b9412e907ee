#include "config.h"

#include "proto.h"
#include "tap.h"

static struct request req;

static enum proto_channel mode_after;

static void
parse(const char *line, enum proto_channel mode, int nextras)
{
	mode_after = mode;
	proto_parse_basic(&req, line, strlen(line), &mode_after, nextras);
}

static const char *
reply(enum reason reason, bool proven, const char *detail)
{
	static char buf[PROTO_LINE_MAX];
	struct verdict v;

	verdict_init(&v);
	verdict_set(&v, reason, "sqlite", detail != NULL ? "%s" : NULL, detail);
	v.password_proven = proven;
	proto_format_reply(buf, sizeof(buf), &req, &v);
	return buf;
}

int
main(void)
{
	char s[32], big[PROTO_LINE_MAX + 10];
	enum proto_channel m;

	parse("alice secret", PROTO_CHANNEL_AUTO, 0);
	ok(!req.bad && !req.has_channel, "two fields: no channel");
	is_str(req.user, "alice", "user");
	is_str(req.password, "secret", "password");

	parse("7 alice secret", PROTO_CHANNEL_AUTO, 0);
	ok(!req.bad && req.has_channel, "auto: digits + one more field is a channel");
	is_str(req.channel, "7", "channel ID");
	is_str(req.user, "alice", "user after channel");

	parse("7 alice", PROTO_CHANNEL_AUTO, 0);
	ok(!req.bad && !req.has_channel, "auto: numeric user, two fields, no channel");
	is_str(req.user, "7", "numeric user kept");

	parse("123 456 789", PROTO_CHANNEL_NO, 0);
	ok(!req.bad && !req.has_channel, "no: never a channel");
	is_str(req.user, "123", "no: first field is the user");

	parse("alice secret 10.0.0.1", PROTO_CHANNEL_AUTO, 0);
	ok(!req.bad && !req.has_channel && req.nextras == 1, "undeclared key_extras tolerated");
	is_str(req.extras[0], "10.0.0.1", "extra kept");

	parse("3 alice secret 10.0.0.1", PROTO_CHANNEL_AUTO, 1);
	ok(!req.bad && req.has_channel && req.nextras == 1, "declared extras counted in auto rule");
	is_str(req.user, "alice", "user with channel and extras");

	parse("alice secret", PROTO_CHANNEL_YES, 0);
	ok(req.bad, "yes: a non-numeric first field is malformed");

	parse("00042 bob pw", PROTO_CHANNEL_YES, 0);
	is_str(req.channel, "00042", "channel echoed verbatim");

	parse("al%20ice p%25w%20x%C3%A9", PROTO_CHANNEL_AUTO, 0);
	is_str(req.user, "al ice", "user percent-decoded");
	is_str(req.password, "p%w x\xc3\xa9", "password percent-decoded incl. UTF-8");
	ok(req.password_len == 7, "decoded length");

	parse("alice 100%", PROTO_CHANNEL_AUTO, 0);
	is_str(req.password, "100%", "trailing percent kept");
	parse("alice %zz%4", PROTO_CHANNEL_AUTO, 0);
	is_str(req.password, "%zz%4", "invalid escapes kept");

	parse("alice se%00cret", PROTO_CHANNEL_AUTO, 0);
	ok(req.bad, "NUL after decoding is bad");
	parse("al%00ice secret", PROTO_CHANNEL_AUTO, 0);
	ok(req.bad, "NUL in user is bad");
	parse("alice", PROTO_CHANNEL_AUTO, 0);
	ok(req.bad && strstr(req.error, "missing password") != NULL, "missing password field");
	parse("", PROTO_CHANNEL_AUTO, 0);
	ok(req.bad, "empty line is bad");
	parse("5 alice", PROTO_CHANNEL_YES, 0);
	ok(req.bad && req.has_channel, "bad line keeps its channel ID");
	parse("6", PROTO_CHANNEL_YES, 0);
	ok(req.bad && req.has_channel && strcmp(req.error, "missing user and password fields") == 0,
	    "a line that is only a channel ID: missing fields, not overlong (%s)", req.error);
	parse("alice ", PROTO_CHANNEL_AUTO, 0);
	ok(!req.bad && req.password_len == 0, "empty password parses (engine refuses it)");
	parse(" secret", PROTO_CHANNEL_AUTO, 0);
	ok(req.bad, "empty user is bad");

	memset(big, 'a', sizeof(big));
	memcpy(big, "12 alice ", 9);
	m = PROTO_CHANNEL_AUTO;
	proto_parse_basic(&req, big, PROTO_LINE_MAX - 1 + 3, &m, 0);
	ok(!req.bad && req.has_channel, "8191-byte request (8192 with LF) after a channel ID accepted");
	ok(req.password_len == PROTO_LINE_MAX - 1 - 6, "longest password kept whole");
	ok(m == PROTO_CHANNEL_AUTO_SEEN, "auto mode remembers it saw a channel ID");
	m = PROTO_CHANNEL_AUTO;
	proto_parse_basic(&req, big, PROTO_LINE_MAX + 3, &m, 0);
	ok(req.bad && req.has_channel, "8192-byte request + LF is overlong, channel kept");
	is_str(req.channel, "12", "overlong channel");
	m = PROTO_CHANNEL_NO;
	proto_parse_basic(&req, big + 3, PROTO_LINE_MAX - 1, &m, 0);
	ok(!req.bad, "8191 bytes without channel accepted");
	proto_parse_basic(&req, big + 3, PROTO_LINE_MAX, &m, 0);
	ok(req.bad, "8192 bytes without channel is overlong");
	parse("6 alice pw 10.0.0.1 1.2.3.4, 5.6.7.8", PROTO_CHANNEL_AUTO_SEEN, 2);
	ok(!req.bad && req.has_channel && strcmp(req.user, "alice") == 0,
	    "after a channel ID was seen, extra fields (quoted extras) keep the ID");
	parse("6 alice pw 10.0.0.1 1.2.3.4, 5.6.7.8", PROTO_CHANNEL_AUTO, 2);
	ok(!req.has_channel, "... but not before");
	parse("alice pw 1.2.3.4\0evil", PROTO_CHANNEL_AUTO, 1);
	{
		const char l[] = "alice pw 1.2.3.4\0evil";
		m = PROTO_CHANNEL_AUTO;
		proto_parse_basic(&req, l, sizeof(l) - 1, &m, 1);
		ok(req.bad, "raw NUL anywhere in the line is bad");
	}
	proto_parse_overlong(&req, big, 100, PROTO_CHANNEL_NO, 0);
	ok(req.bad && !req.has_channel, "overlong, channel-id no: no channel");

	parse("alice x", PROTO_CHANNEL_AUTO, 0);
	is_str(reply(REASON_OK, true, NULL), "OK reason_=ok\n", "OK reply");
	is_str(reply(REASON_BAD_PASSWORD, false, NULL),
	    "ERR reason_=bad_password Invalid username or password\n", "generic refusal");
	is_str(reply(REASON_UNKNOWN_USER, false, NULL),
	    "ERR reason_=unknown_user Invalid username or password\n", "unknown user: same text");
	is_str(reply(REASON_DISABLED, true, NULL), "ERR reason_=disabled Account disabled\n",
	    "state shown after proven password");
	is_str(reply(REASON_LOCKED, false, NULL),
	    "ERR reason_=locked Invalid username or password\n", "state hidden without proof");
	is_str(reply(REASON_EXPIRED, true, NULL), "ERR reason_=expired Account expired\n",
	    "expired text");
	is_str(reply(REASON_BACKEND_DOWN, false, "store\ngone\r"),
	    "BH reason_=backend_down store?gone?\n", "BH text made one printable line");
	parse("99 alice x", PROTO_CHANNEL_AUTO, 0);
	is_str(reply(REASON_OK, true, NULL), "99 OK reason_=ok\n", "channel ID echoed first");
	is_str(reply(REASON_BAD_REQUEST, false, "x"), "99 BH reason_=bad_request x\n",
	    "BH with channel");
	{
		char longd[300];
		memset(longd, 'x', sizeof(longd) - 1);
		longd[sizeof(longd) - 1] = '\0';
		const char *r = reply(REASON_BACKEND_ERROR, false, longd);
		ok(strchr(r, '\n') == r + strlen(r) - 1, "long detail still one line");
	}

	/* External ACL requests. */
	m = PROTO_CHANNEL_AUTO;
	proto_parse_fields(&req, "10.0.0.1 office", strlen("10.0.0.1 office"), &m, 1, false);
	ok(!req.bad && !req.has_channel && req.nfields == 2, "allow: SRC and a list");
	is_str(req.fields[1], "office", "ACL argument kept");
	m = PROTO_CHANNEL_AUTO;
	proto_parse_fields(&req, "4 10.0.0.1", strlen("4 10.0.0.1"), &m, 1, false);
	ok(!req.bad && req.has_channel && req.nfields == 1 && m == PROTO_CHANNEL_AUTO_SEEN,
	    "allow: a leading number is a channel ID");
	m = PROTO_CHANNEL_AUTO;
	proto_parse_fields(&req, "J%C3%BCrgen staff%20team", strlen("J%C3%BCrgen staff%20team"), &m, 2, false);
	is_str(req.fields[0], "J\xc3\xbcrgen", "fields are percent-decoded");
	is_str(req.fields[1], "staff team", "ACL argument decoded");
	m = PROTO_CHANNEL_AUTO;
	proto_parse_fields(&req, "123 10.0.0.1", strlen("123 10.0.0.1"), &m, 2, true);
	ok(!req.bad && !req.has_channel, "userip: numeric login, two fields: no channel");
	proto_parse_fields(&req, "9 123 10.0.0.1", strlen("9 123 10.0.0.1"), &m, 2, true);
	ok(!req.bad && req.has_channel && strcmp(req.fields[0], "123") == 0, "userip: three fields: channel");
	m = PROTO_CHANNEL_AUTO;
	proto_parse_fields(&req, "bob%00 staff", strlen("bob%00 staff"), &m, 2, false);
	ok(req.bad, "NUL in a field is bad");
	proto_parse_fields(&req, "", strlen(""), &m, 1, false);
	ok(req.bad, "empty external line is bad");
	proto_parse_fields(&req, "bob", strlen("bob"), &m, 2, false);
	ok(req.bad && strstr(req.error, "missing") != NULL, "missing fields");
	m = PROTO_CHANNEL_YES;
	proto_parse_fields(&req, "5 10.0.0.1", strlen("5 10.0.0.1"), &m, 1, false);
	is_str(reply(REASON_NOT_ALLOWED, false, NULL), "5 ERR reason_=not_allowed\n",
	    "external ERR carries no text");
	{
		struct verdict v;
		verdict_init(&v);
		ok(verdict_add_note(&v, "group", "staff") == 0 &&
		    verdict_add_note(&v, "group", "a b=c\"d%") == 0, "notes added");
		is_str(v.notes, " group=staff group=a%20b%3Dc%22d%25", "note values percent-encoded");
		for (int i = 0; i < 100; i++)
			(void)verdict_add_note(&v, "group", "a-long-group-name");
		ok(strlen(v.notes) < sizeof(v.notes), "notes never overflow");
	}

	ok(proto_channel_parse("auto", &m) == 0 && m == PROTO_CHANNEL_AUTO, "parse auto");
	ok(proto_channel_parse("yes", &m) == 0 && m == PROTO_CHANNEL_YES, "parse yes");
	ok(proto_channel_parse("maybe", &m) != 0, "parse refuses maybe");

	strcpy(s, "%41%42c");
	ok(proto_unescape(s, strlen(s)) == 3 && memcmp(s, "ABc", 3) == 0, "unescape");

	proto_request_clear(&req);
	{
		size_t nz = 0;
		for (size_t i = 0; i < sizeof(req.buf); i++)
			nz += req.buf[i] != 0;
		ok(nz == 0, "clear zeroes the buffer holding the password");
	}
	is_str(reason_name(REASON_IP_NOT_ALLOWED), "ip_not_allowed", "reason names");
	{
		enum reason r;
		ok(reason_parse("backend_down", &r) == 0 && r == REASON_BACKEND_DOWN, "reason_parse");
		ok(reason_parse("nope", &r) != 0, "reason_parse refuses unknown");
	}
	is_str(result_word(RESULT_BH), "BH", "result word");
	return tap_done();
}
