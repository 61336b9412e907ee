#include "config.h"

#include <stdlib.h>
#include <time.h>

#include "netlist.h"
#include "tap.h"

static char err[256], buf[64];

static const char *
fmt(const char *s)
{
	struct netprefix p;

	if (netprefix_parse(s, &p, err, sizeof(err)) != 0)
		return err;
	netprefix_format(&p, buf);
	return buf;
}

static struct netaddr
addr(const char *s)
{
	struct netaddr a;

	if (netaddr_parse(s, &a) != 0)
		abort();
	return a;
}

/* Random prefixes around a few hot spots, so that they overlap. */
static void
random_prefix(struct netprefix *p, bool v6)
{
	memset(p, 0, sizeof(*p));
	if (v6) {
		p->addr.b[0] = 0x20;
		p->addr.b[1] = 0x01;
		for (int i = 2; i < 16; i++)
			p->addr.b[i] = (uint8_t)(i < 4 ? rand() % 3 : rand());
		p->len = 16 + (unsigned)(rand() % 113);
	} else {
		p->addr.b[10] = p->addr.b[11] = 0xff;
		p->addr.b[12] = (uint8_t)(10 + rand() % 3);
		for (int i = 13; i < 16; i++)
			p->addr.b[i] = (uint8_t)(rand() % 4 == 0 ? rand() : rand() % 4);
		p->len = 96 + 8 + (unsigned)(rand() % 25);
		p->v4 = true;
	}
	/* Clear host bits the way the parser would insist on. */
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = p->len > i * 8 ? p->len - i * 8 : 0;
		if (bits < 8)
			p->addr.b[i] &= (uint8_t)(0xff00u >> bits);
	}
}

int
main(void)
{
	struct netprefix p, list[400];
	struct netlist *nl;
	int mismatches = 0, hits = 0;

	is_str(fmt("10.0.0.0/8"), "10.0.0.0/8", "IPv4 prefix");
	is_str(fmt("10.1.2.3"), "10.1.2.3", "IPv4 address");
	is_str(fmt("2001:DB8::/32"), "2001:db8::/32", "IPv6 prefix, canonical");
	is_str(fmt("::1"), "::1", "IPv6 loopback");
	is_str(fmt("0.0.0.0/0"), "0.0.0.0/0", "all of IPv4");
	is_str(fmt("10.0.0.1/8"), "'10.0.0.1/8' has host bits set; did you mean 10.0.0.0/8?",
	    "host bits refused with the corrected prefix");
	is_str(fmt("2001:db8::1/32"), "'2001:db8::1/32' has host bits set; did you mean 2001:db8::/32?",
	    "IPv6 host bits refused");
	ok(netprefix_parse("10.0.0.0/33", &p, err, sizeof(err)) != 0, "/33 refused for IPv4");
	ok(netprefix_parse("::/129", &p, err, sizeof(err)) != 0, "/129 refused");
	ok(netprefix_parse("10.0.0.0/", &p, err, sizeof(err)) != 0, "empty length refused");
	ok(netprefix_parse("10.0.0.0/8x", &p, err, sizeof(err)) != 0, "junk length refused");
	ok(netprefix_parse("-", &p, err, sizeof(err)) != 0, "'-' refused");
	ok(netprefix_parse("garbage", &p, err, sizeof(err)) != 0, "garbage refused");
	ok(netprefix_parse("10.0.0", &p, err, sizeof(err)) != 0, "short IPv4 refused");
	ok(netprefix_parse("", &p, err, sizeof(err)) != 0, "empty refused");

	ok(netprefix_parse("10.0.0.0/8", &p, err, sizeof(err)) == 0 &&
	    netprefix_contains(&p, &(struct netaddr){ .b = { 0 } }) == false, "contains: outside");
	{
		struct netaddr a = addr("10.200.1.1"), m = addr("::ffff:10.0.0.1");
		ok(netprefix_contains(&p, &a), "contains: inside");
		ok(netprefix_contains(&p, &m), "IPv4-mapped IPv6 matches the IPv4 prefix");
	}

	nl = netlist_new();
	ok(netprefix_parse("10.0.0.0/8", &p, err, sizeof(err)) == 0 && netlist_add(nl, &p) == 0, "add");
	ok(netprefix_parse("10.1.0.0/16", &p, err, sizeof(err)) == 0 && netlist_add(nl, &p) == 0, "add nested");
	ok(netprefix_parse("11.0.0.0/8", &p, err, sizeof(err)) == 0 && netlist_add(nl, &p) == 0, "add adjacent");
	ok(netprefix_parse("::1", &p, err, sizeof(err)) == 0 && netlist_add(nl, &p) == 0, "add ::1");
	ok(netlist_compile(nl) == 0 && netlist_ranges(nl) == 2, "nested and adjacent merged: 2 ranges");
	{
		struct netaddr a;
		a = addr("10.255.255.255"); ok(netlist_match(nl, &a), "match end of 10/8");
		a = addr("11.255.255.255"); ok(netlist_match(nl, &a), "match end of 11/8");
		a = addr("12.0.0.0"); ok(!netlist_match(nl, &a), "12.0.0.0 outside");
		a = addr("9.255.255.255"); ok(!netlist_match(nl, &a), "9.255.255.255 outside");
		a = addr("::1"); ok(netlist_match(nl, &a), "::1 matches");
		a = addr("::2"); ok(!netlist_match(nl, &a), "::2 outside");
		a = addr("::ffff:10.9.9.9"); ok(netlist_match(nl, &a), "mapped address matches");
	}
	netlist_free(nl);
	nl = netlist_new();
	ok(netlist_compile(nl) == 0, "empty list compiles");
	{
		struct netaddr a = addr("1.2.3.4");
		ok(!netlist_match(nl, &a), "empty list matches nothing");
	}
	netlist_free(nl);

	/* Against a brute-force reference on random overlapping prefixes. */
	srand(12345);
	for (int round = 0; round < 40; round++) {
		int n = 1 + rand() % 400;
		nl = netlist_new();
		for (int i = 0; i < n; i++) {
			random_prefix(&list[i], rand() % 2);
			if (netlist_add(nl, &list[i]) != 0)
				abort();
		}
		if (netlist_compile(nl) != 0)
			abort();
		for (int q = 0; q < 2000; q++) {
			struct netprefix probe;
			bool want = false;
			random_prefix(&probe, rand() % 2);
			/* Probe near edges too: random host bits. */
			if (rand() % 2)
				probe.addr.b[15] ^= (uint8_t)rand();
			for (int i = 0; i < n && !want; i++)
				want = netprefix_contains(&list[i], &probe.addr);
			hits += want;
			if (netlist_match(nl, &probe.addr) != want)
				mismatches++;
		}
		netlist_free(nl);
	}
	ok(mismatches == 0, "80000 random lookups agree with brute force (%d mismatches, %d hits)",
	    mismatches, hits);
	ok(hits > 1000 && hits < 79000, "the random data exercises both answers (%d hits)", hits);

	{
		/* 100,000 entries compile fast enough for a helper to reload. */
		clock_t t0 = clock();
		nl = netlist_new();
		for (int i = 0; i < 100000; i++) {
			/* Every other address from 10.0.0.0: 100000 separate ranges. */
			char s[32];
			unsigned a = 2u * (unsigned)i;
			snprintf(s, sizeof(s), "10.%u.%u.%u", a >> 16, (a >> 8) & 255, a & 255);
			if (netprefix_parse(s, &p, err, sizeof(err)) != 0 || netlist_add(nl, &p) != 0)
				abort();
		}
		ok(netlist_compile(nl) == 0 && netlist_ranges(nl) == 100000, "100000 entries compile");
		{
			struct netaddr a = addr("10.1.134.158"), b = addr("10.1.134.159");
			ok(netlist_match(nl, &a) && !netlist_match(nl, &b), "lookups in a 100000-entry list");
		}
		printf("# 100000 entries added and compiled in %.3f s CPU, %zu ranges\n",
		    (double)(clock() - t0) / CLOCKS_PER_SEC, netlist_ranges(nl));
		netlist_free(nl);
	}
	return tap_done();
}
