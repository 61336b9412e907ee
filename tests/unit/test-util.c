#include "config.h"

#include <stdlib.h>

#include "tap.h"
#include "util.h"

int
main(void)
{
	long long v;
	time_t t;
	const char *e;
	char buf[64];

	ok(util_strtonum("42", 0, 100, &v, &e) == 0 && v == 42, "strtonum parses 42");
	ok(util_strtonum("42x", 0, 100, &v, &e) != 0, "strtonum rejects trailing junk");
	ok(util_strtonum(" 4", 0, 100, &v, &e) != 0, "strtonum rejects leading space");
	ok(util_strtonum("", 0, 100, &v, &e) != 0, "strtonum rejects empty");
	ok(util_strtonum("101", 0, 100, &v, &e) != 0 && strcmp(e, "too large") == 0, "strtonum range max");
	ok(util_strtonum("-1", 0, 100, &v, &e) != 0 && strcmp(e, "too small") == 0, "strtonum range min");
	ok(util_strtonum("99999999999999999999999", 0, 100, &v, &e) != 0, "strtonum overflow");

	ok(util_parse_duration("30s", &v, &e) == 0 && v == 30, "duration 30s");
	ok(util_parse_duration("10m", &v, &e) == 0 && v == 600, "duration 10m");
	ok(util_parse_duration("1h", &v, &e) == 0 && v == 3600, "duration 1h");
	ok(util_parse_duration("7d", &v, &e) == 0 && v == 604800, "duration 7d");
	ok(util_parse_duration("45", &v, &e) == 0 && v == 45, "bare number is seconds");
	ok(util_parse_duration("1w", &v, &e) != 0, "unknown unit refused");
	ok(util_parse_duration("h", &v, &e) != 0, "unit without number refused");
	ok(util_parse_duration("-5m", &v, &e) != 0, "negative refused");
	ok(util_parse_duration("99999999999d", &v, &e) != 0, "absurd duration refused");

	ok(util_parse_expiry("2026-11-30", &t, &e) == 0 && t == 1795996800 + 86400,
	    "date means valid through that day (next midnight UTC)");
	ok(util_parse_expiry("2024-02-29", &t, &e) == 0, "leap day accepted");
	ok(util_parse_expiry("2025-02-29", &t, &e) != 0, "non-leap Feb 29 refused");
	ok(util_parse_expiry("2026-13-01", &t, &e) != 0, "month 13 refused");
	ok(util_parse_expiry("2026-1-01", &t, &e) != 0, "short month refused");
	ok(util_parse_expiry("2026-11-30T12:00:00Z", &t, &e) == 0 && t == 1795996800 + 43200,
	    "RFC 3339 UTC time");
	ok(util_parse_expiry("2026-11-30T12:00:00+02:00", &t, &e) == 0 && t == 1795996800 + 36000,
	    "RFC 3339 offset applied");
	ok(util_parse_expiry("2026-11-30T12:00:00.5Z", &t, &e) == 0, "fraction accepted");
	ok(util_parse_expiry("2026-11-30T12:00:00", &t, &e) != 0, "time without zone refused");
	ok(util_parse_expiry("2026-11-30x", &t, &e) != 0, "trailing junk refused");

	util_format_time(1795996800 + 86400 + 3723, buf);
	is_str(buf, "2026-12-01T01:02:03Z", "format RFC 3339 UTC");

	ok(util_name_valid("alice", 5, &e), "plain name valid");
	ok(util_name_valid("J\xc3\xbcrgen M", 9, &e), "UTF-8 and space valid");
	ok(!util_name_valid("", 0, &e), "empty name invalid");
	ok(!util_name_valid("a\nb", 3, &e), "newline invalid");
	ok(!util_name_valid("a\x7f", 2, &e), "DEL invalid");
	memset(buf, 'a', sizeof(buf));
	{
		char big[300];
		memset(big, 'a', sizeof(big));
		ok(util_name_valid(big, 256, &e) && !util_name_valid(big, 257, &e), "256-byte limit");
	}
	strcpy(buf, "Alice-\xc3\x84Z");
	util_fold_name(buf);
	is_str(buf, "alice-\xc3\x84z", "fold lowers ASCII only");

	util_printable(buf, sizeof(buf), "a\nb\x01\xff" "c", 6, 100);
	is_str(buf, "a?b??c", "printable replaces control and high bytes");
	util_printable(buf, 4, "abcdef", 6, 100);
	is_str(buf, "abc", "printable bounded by buffer");
	util_printable(buf, sizeof(buf), "abcdef", 6, 2);
	is_str(buf, "ab", "printable bounded by max");

	return tap_done();
}
