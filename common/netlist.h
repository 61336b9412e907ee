/*
 * netlist: IPv4 and IPv6 prefixes, and lists of them compiled into sorted,
 * disjoint ranges for lookups in O(log n) whatever the list's size. IPv4
 * lives in the IPv4-mapped part of the IPv6 space (::ffff:0:0/96), so
 * ::ffff:10.0.0.1 and 10.0.0.1 are the same address.
 */
#ifndef CUTTLE_NETLIST_H
#define CUTTLE_NETLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct netaddr {
	uint8_t b[16];		/* network byte order */
};

struct netprefix {
	struct netaddr addr;
	unsigned len;		/* 0..128, in the IPv6 space */
	bool v4;		/* written as IPv4 */
};

/* Parse an IPv4 or IPv6 address (no prefix). Returns 0 or -1. */
int netaddr_parse(const char *s, struct netaddr *a) WUR;

/*
 * Parse "ADDR" or "ADDR/LEN". An address with bits set after the prefix
 * ("10.0.0.1/8") is refused, and err names the corrected prefix. Returns
 * 0, or -1 with a message in err.
 */
int netprefix_parse(const char *s, struct netprefix *p, char *err,
    size_t errlen) WUR;

/* The canonical text of p ("10.0.0.0/8", "2001:db8::/32", "10.0.0.1"). */
void netprefix_format(const struct netprefix *p, char buf[static 64]);

/* True if a is inside p. */
bool netprefix_contains(const struct netprefix *p, const struct netaddr *a);

struct netlist;

/* An empty list (NULL when out of memory). */
struct netlist *netlist_new(void);
void netlist_free(struct netlist *nl);

/* Add a prefix; call netlist_compile() before matching. 0 or -1 (ENOMEM). */
int netlist_add(struct netlist *nl, const struct netprefix *p) WUR;

/* Sort and merge the prefixes into disjoint ranges. 0 or -1. */
int netlist_compile(struct netlist *nl) WUR;

/* True if a falls in any prefix of the (compiled) list. */
bool netlist_match(const struct netlist *nl, const struct netaddr *a);

/* The number of disjoint ranges after compiling. */
size_t netlist_ranges(const struct netlist *nl);

#endif
