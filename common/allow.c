#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"
#include "log.h"
#include "store.h"

struct allow_list {
	char name[65];
	struct netlist *nl;
};

struct allow {
	struct store_keeper keep;
	struct allow_list *lists;
	int nlists;
	size_t entries;
	bool loaded;
	unsigned generation;	/* the store open the lists came from */
	long long serial;	/* the store's "allow" counter when loaded */
	long long next_expiry;	/* the soonest expiry among loaded entries; 0 none */
	uint64_t checked_us;
	/* The directory's entries, if any: one more list. */
	int (*fetch)(void *ctx, int (*fn)(const char *cidr, void *arg), void *arg,
	    char *err, size_t errlen);
	void *fetch_ctx;
	char src_list[65];
	long long refresh;
	uint64_t next_fetch_us;
	struct netlist *src;
};

struct allow *
allow_new(const struct conf *conf)
{
	struct allow *al = calloc(1, sizeof(*al));

	if (al == NULL)
		abort();
	al->keep.path = conf->store_path;
	al->keep.busy_timeout = conf->busy_timeout;
	return al;
}

static void
free_lists(struct allow_list *lists, int n)
{
	for (int i = 0; i < n; i++)
		netlist_free(lists[i].nl);
	free(lists);
}

void
allow_free(struct allow *al)
{
	if (al == NULL)
		return;
	free_lists(al->lists, al->nlists);
	netlist_free(al->src);
	store_keeper_drop(&al->keep);
	free(al);
}

struct loading {
	struct allow_list *lists;
	int n;
	size_t entries;
	long long next_expiry;
	bool failed;
};

static int
load_row(const char *const *c, int ncols, void *vctx)
{
	struct loading *ld = vctx;
	struct netprefix p;
	char err[256];
	long long expires;

	(void)ncols;
	if (ld->n == 0 || strcmp(ld->lists[ld->n - 1].name, c[0]) != 0) {
		struct allow_list *l = realloc(ld->lists, (size_t)(ld->n + 1) * sizeof(*l));
		if (l == NULL || (l[ld->n].nl = netlist_new()) == NULL) {
			if (l != NULL)
				ld->lists = l;
			ld->failed = true;
			return 1;
		}
		ld->lists = l;
		snprintf(l[ld->n].name, sizeof(l[ld->n].name), "%s", c[0]);
		ld->n++;
	}
	if (netprefix_parse(c[1], &p, err, sizeof(err)) != 0) {
		/* The CLI stores only canonical entries; skip anything else. */
		log_warn("allow list '%.64s': %s", c[0], err);
		return 0;
	}
	if (netlist_add(ld->lists[ld->n - 1].nl, &p) != 0) {
		ld->failed = true;
		return 1;
	}
	expires = c[2][0] != '\0' ? strtoll(c[2], NULL, 10) : 0;
	if (expires != 0 && (ld->next_expiry == 0 || expires < ld->next_expiry))
		ld->next_expiry = expires;
	ld->entries++;
	return 0;
}

/* Read every list that has not expired and compile it. */
static int
reload(struct allow *al, long long serial, char *err, size_t errlen)
{
	struct loading ld = { NULL, 0, 0, 0, false };
	char now[32];
	const char *args[1] = { now };
	int rc;

	snprintf(now, sizeof(now), "%lld", (long long)util_now());
	rc = store_read(al->keep.store, "SELECT list, cidr, expires FROM allow "
	    "WHERE expires IS NULL OR expires > ?1 ORDER BY list", args, 1, load_row, &ld,
	    err, errlen);
	for (int i = 0; rc == STORE_OK && !ld.failed && i < ld.n; i++)
		if (netlist_compile(ld.lists[i].nl) != 0)
			ld.failed = true;
	if (rc != STORE_OK || ld.failed) {
		if (rc == STORE_OK)
			snprintf(err, errlen, "out of memory loading the allow lists");
		free_lists(ld.lists, ld.n);
		return -1;
	}
	free_lists(al->lists, al->nlists);
	al->lists = ld.lists;
	al->nlists = ld.n;
	al->entries = ld.entries;
	al->next_expiry = ld.next_expiry;
	al->serial = serial;
	al->generation = al->keep.generation;
	al->loaded = true;
	log_debug("allow lists loaded: %zu entries in %d lists", ld.entries, ld.n);
	return 0;
}

void
allow_set_source(struct allow *al,
    int (*fetch)(void *ctx, int (*fn)(const char *cidr, void *arg), void *arg,
    char *err, size_t errlen), void *ctx, const char *list, long long refresh)
{
	al->fetch = fetch;
	al->fetch_ctx = ctx;
	snprintf(al->src_list, sizeof(al->src_list), "%s", list);
	al->refresh = refresh;
}

static int
src_entry(const char *cidr, void *arg)
{
	struct netprefix p;
	char err[256];

	if (netprefix_parse(cidr, &p, err, sizeof(err)) != 0) {
		log_warn("directory allow list: %s (entry skipped)", err);
		return 0;
	}
	return netlist_add(arg, &p) != 0;
}

/* Refetch the directory's entries when due; keep the old ones on failure. */
static void
refresh_source(struct allow *al, uint64_t now)
{
	struct netlist *nl;
	char err[256];
	int n;

	if (al->fetch == NULL || now < al->next_fetch_us)
		return;
	al->next_fetch_us = now + (uint64_t)al->refresh * 1000000u;
	if ((nl = netlist_new()) == NULL)
		return;
	n = al->fetch(al->fetch_ctx, src_entry, nl, err, sizeof(err));
	if (n < 0 || netlist_compile(nl) != 0) {
		log_warn("directory allow list not refreshed (keeping the last one): %s", err);
		netlist_free(nl);
		return;
	}
	netlist_free(al->src);
	al->src = nl;
	log_debug("directory allow list: %d entries", n);
}

/* Bring the compiled lists up to date, cheaply when nothing changed. */
static int
refresh(struct allow *al, char *err, size_t errlen)
{
	uint64_t now = util_monotonic_us();
	long long serial;
	int rc;

	refresh_source(al, now);

	if (al->loaded && now - al->checked_us < ALLOW_RECHECK_US &&
	    (al->next_expiry == 0 || util_now() < al->next_expiry))
		return 0;
	al->checked_us = now;
	if ((rc = store_keep(&al->keep, err, errlen)) != STORE_OK) {
		/* With the directory's list, a store that was never made is fine. */
		if (rc == STORE_EMISSING && al->fetch != NULL) {
			free_lists(al->lists, al->nlists);
			al->lists = NULL;
			al->nlists = 0;
			al->loaded = false;
			return 0;
		}
		return -1;
	}
	serial = store_counter(al->keep.store, "allow");
	if (al->loaded && al->generation == al->keep.generation && serial == al->serial &&
	    (al->next_expiry == 0 || util_now() < al->next_expiry))
		return 0;
	if (reload(al, serial, err, errlen) != 0) {
		store_keeper_drop(&al->keep);
		return -1;
	}
	return 0;
}

int
allow_match(struct allow *al, const char *const *lists, int nlists,
    const struct netaddr *a, char *err, size_t errlen)
{
	static const char *const dflt[1] = { ALLOW_DEFAULT_LIST };

	/*
	 * An unreadable store is an error even if lists were loaded before:
	 * the entry may just have been removed, and letting a client in
	 * without credentials on stale data is the wrong way to fail.
	 */
	if (refresh(al, err, errlen) != 0)
		return -1;
	if (nlists == 0) {
		lists = dflt;
		nlists = 1;
	}
	for (int i = 0; i < nlists; i++) {
		for (int j = 0; j < al->nlists; j++)
			if (strcmp(lists[i], al->lists[j].name) == 0 &&
			    netlist_match(al->lists[j].nl, a))
				return 1;
		if (al->src != NULL && strcmp(lists[i], al->src_list) == 0 &&
		    netlist_match(al->src, a))
			return 1;
	}
	return 0;
}

size_t
allow_entries(const struct allow *al)
{
	return al->entries;
}
