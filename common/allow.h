/*
 * allow: the IP allow lists, compiled per helper process and refreshed
 * when `cuttle allow` changes them (a change counter in the store, read at
 * most every ALLOW_RECHECK_US) or when an entry expires.
 */
#ifndef CUTTLE_ALLOW_H
#define CUTTLE_ALLOW_H

#include "conf.h"
#include "netlist.h"

#define ALLOW_RECHECK_US 200000u
#define ALLOW_DEFAULT_LIST "default"

struct allow;

/* An allow cache reading the store conf names. Never NULL. */
struct allow *allow_new(const struct conf *conf);
void allow_free(struct allow *al);

/*
 * Is a on any of the lists named (ALLOW_DEFAULT_LIST when nlists is 0)?
 * Returns 1 or 0, or -1 with err when the store cannot be read.
 */
int allow_match(struct allow *al, const char *const *lists, int nlists,
    const struct netaddr *a, char *err, size_t errlen) WUR;

/*
 * Also take the entries fetch() reports (the directory's) into list,
 * refetched every refresh seconds; if a fetch fails, the entries from the
 * last one stay in use.
 */
void allow_set_source(struct allow *al,
    int (*fetch)(void *ctx, int (*fn)(const char *cidr, void *arg), void *arg,
    char *err, size_t errlen), void *ctx, const char *list, long long refresh);

/* Entries loaded in the last (re)load, for logs and tests. */
size_t allow_entries(const struct allow *al);

#endif
