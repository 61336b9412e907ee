#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlist.h"

struct range {
	struct netaddr lo, hi;
};

struct netlist {
	struct range *r;
	size_t n, cap;
};

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int
netaddr_parse(const char *s, struct netaddr *a)
{
	struct in_addr in4;

	if (inet_pton(AF_INET, s, &in4) == 1) {
		memcpy(a->b, v4mapped, 12);
		memcpy(a->b + 12, &in4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1)
		return 0;
	return -1;
}

/* Keep the first len bits of a, clear the rest. */
static void
mask(struct netaddr *a, unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > i * 8 ? len - i * 8 : 0;
		if (bits < 8)
			a->b[i] &= (uint8_t)(0xff00u >> bits);
	}
}

/* Set every bit after the first len. */
static void
fill(struct netaddr *a, unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > i * 8 ? len - i * 8 : 0;
		if (bits < 8)
			a->b[i] |= (uint8_t)(0xffu >> bits);
	}
}

int
netprefix_parse(const char *s, struct netprefix *p, char *err, size_t errlen)
{
	char addr[64], fixed[64];
	const char *slash = strchr(s, '/'), *why;
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	long long len;
	struct netaddr m;

	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(err, errlen, "'%.80s' is not an IPv4 or IPv6 address or prefix", s);
		return -1;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (netaddr_parse(addr, &p->addr) != 0) {
		snprintf(err, errlen, "'%.80s' is not an IPv4 or IPv6 address or prefix", s);
		return -1;
	}
	p->v4 = strchr(addr, ':') == NULL;
	if (slash == NULL) {
		p->len = 128;
		return 0;
	}
	if (util_strtonum(slash + 1, 0, p->v4 ? 32 : 128, &len, &why) != 0) {
		snprintf(err, errlen, "'%.80s': prefix length must be 0 to %d", s, p->v4 ? 32 : 128);
		return -1;
	}
	p->len = (unsigned)len + (p->v4 ? 96 : 0);
	m = p->addr;
	mask(&m, p->len);
	if (memcmp(&m, &p->addr, sizeof(m)) != 0) {
		struct netprefix q = *p;
		q.addr = m;
		netprefix_format(&q, fixed);
		snprintf(err, errlen, "'%.80s' has host bits set; did you mean %s?", s, fixed);
		return -1;
	}
	return 0;
}

void
netprefix_format(const struct netprefix *p, char buf[static 64])
{
	char a[INET6_ADDRSTRLEN];
	bool v4 = p->v4 && memcmp(p->addr.b, v4mapped, 12) == 0 && p->len >= 96;

	if (v4)
		inet_ntop(AF_INET, p->addr.b + 12, a, sizeof(a));
	else
		inet_ntop(AF_INET6, p->addr.b, a, sizeof(a));
	if (p->len == 128)
		snprintf(buf, 64, "%s", a);
	else
		snprintf(buf, 64, "%s/%u", a, v4 ? p->len - 96 : p->len);
}

bool
netprefix_contains(const struct netprefix *p, const struct netaddr *a)
{
	struct netaddr m = *a;

	mask(&m, p->len);
	return memcmp(&m, &p->addr, sizeof(m)) == 0;
}

struct netlist *
netlist_new(void)
{
	return calloc(1, sizeof(struct netlist));
}

void
netlist_free(struct netlist *nl)
{
	if (nl == NULL)
		return;
	free(nl->r);
	free(nl);
}

int
netlist_add(struct netlist *nl, const struct netprefix *p)
{
	if (nl->n == nl->cap) {
		size_t cap = nl->cap == 0 ? 64 : nl->cap * 2;
		struct range *r = realloc(nl->r, cap * sizeof(*r));
		if (r == NULL)
			return -1;
		nl->r = r;
		nl->cap = cap;
	}
	nl->r[nl->n].lo = p->addr;
	mask(&nl->r[nl->n].lo, p->len);
	nl->r[nl->n].hi = nl->r[nl->n].lo;
	fill(&nl->r[nl->n].hi, p->len);
	nl->n++;
	return 0;
}

static int
cmp_lo(const void *x, const void *y)
{
	return memcmp(&((const struct range *)x)->lo, &((const struct range *)y)->lo,
	    sizeof(struct netaddr));
}

/* a + 1 == b, for merging adjacent ranges. */
static bool
next_to(const struct netaddr *a, const struct netaddr *b)
{
	struct netaddr s = *a;

	for (int i = 15; i >= 0; i--)
		if (++s.b[i] != 0)
			break;
	return memcmp(&s, b, sizeof(s)) == 0 && memcmp(a, b, sizeof(s)) < 0;
}

int
netlist_compile(struct netlist *nl)
{
	size_t o = 0;

	if (nl->n == 0)
		return 0;
	qsort(nl->r, nl->n, sizeof(*nl->r), cmp_lo);
	for (size_t i = 1; i < nl->n; i++) {
		struct range *last = &nl->r[o];
		if (memcmp(&nl->r[i].lo, &last->hi, sizeof(struct netaddr)) <= 0 ||
		    next_to(&last->hi, &nl->r[i].lo)) {
			if (memcmp(&nl->r[i].hi, &last->hi, sizeof(struct netaddr)) > 0)
				last->hi = nl->r[i].hi;
		} else {
			nl->r[++o] = nl->r[i];
		}
	}
	nl->n = o + 1;
	return 0;
}

bool
netlist_match(const struct netlist *nl, const struct netaddr *a)
{
	size_t lo = 0, hi = nl->n;

	/* The last range starting at or before a is the only candidate. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(&nl->r[mid].lo, a, sizeof(*a)) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && memcmp(a, &nl->r[lo - 1].hi, sizeof(*a)) <= 0;
}

size_t
netlist_ranges(const struct netlist *nl)
{
	return nl->n;
}
