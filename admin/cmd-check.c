/* cuttle check, cuttle audit why: a login without Squid, and why a 407. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "audit.h"
#include "engine.h"
#include "netlist.h"
#include "pwhash.h"

/* A configuration read again, for an engine of its own (it owns it). */
static struct conf *
load_again(struct admin *a)
{
	struct conf *conf = conf_new();
	char err[512];
	const char *why;

	if (conf_load(conf, a->config_path, a->config_required, err, sizeof(err)) != 0 ||
	    conf_set(conf, "store", "path", a->conf->store_path, &why) != 0) {
		conf_free(conf);
		return NULL;
	}
	return conf;
}

int
cmd_check(struct admin *a, int argc, char **argv)
{
	const char *pos[1], *ip = NULL;
	bool from_stdin = false;
	const struct admin_opt opts[] = {
		{ "--ip", &ip, NULL, NULL, NULL, 0 },
		{ "--password-stdin", NULL, &from_stdin, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	static struct request req;
	struct verdict v;
	struct engine *e;
	struct audit *au;
	struct conf *conf;
	struct netaddr addr;
	char pw[ADMIN_PASSWORD_MAX + 1], reply[PROTO_LINE_MAX];
	size_t len = 0, ulen;
	uint64_t start;
	int ex;

	if ((ex = admin_parse("check", argc, argv, opts, pos, 1, 1)) != 0)
		return ex;
	ulen = strlen(pos[0]);
	if (ulen == 0 || ulen > UTIL_NAME_MAX)
		return admin_usage("check", "NAME must be 1 to %d bytes", UTIL_NAME_MAX);
	if (ip != NULL && netaddr_parse(ip, &addr) != 0)
		return admin_usage("check", "--ip %s: not an IPv4 or IPv6 address", ip);
	if ((ex = admin_read_password(from_stdin ? PW_STDIN : PW_PROMPT, pos[0], pw, sizeof(pw),
	    &len)) != 0)
		return ex;
	if ((conf = load_again(a)) == NULL) {
		pwhash_zero(pw, sizeof(pw));
		return EXIT_USAGE;
	}
	/* The request as the helper would have parsed it. */
	memset(&req, 0, sizeof(req));
	memcpy(req.buf, pos[0], ulen + 1);
	memcpy(req.buf + ulen + 1, pw, len + 1);
	pwhash_zero(pw, sizeof(pw));
	req.user = req.buf;
	req.user_len = ulen;
	req.password = req.buf + ulen + 1;
	req.password_len = len;
	if (ip != NULL) {
		req.extras[0] = ip;
		req.nextras = 1;
	}
	au = audit_new(conf, "cuttle check");
	e = engine_new(conf, NULL);
	engine_set_client_field(e, ip != NULL ? 0 : -1);
	start = util_monotonic_us();
	engine_decide(e, &req, &v);
	v.latency_us = util_monotonic_us() - start;
	v.flags |= VERDICT_F_CHECK;
	proto_format_reply(reply, sizeof(reply), &req, &v);
	printf("%s: %s (reason %s%s%s)\n", result_word(v.result),
	    v.result == RESULT_OK ? "the helper would let this login in" :
	    v.result == RESULT_ERR ? "the helper would refuse this login" :
	    "the helper could not decide", reason_name(v.reason),
	    v.backend[0] != '\0' ? ", decided by " : "", v.backend);
	if (v.detail[0] != '\0')
		printf("detail: %s\n", v.detail);
	printf("reply to Squid: %s", reply);
	audit_record(au, req.user, req.user_len, ip, &v);
	audit_free(au);
	engine_free(e);
	proto_request_clear(&req);
	ex = v.result == RESULT_OK ? EXIT_DONE : v.result == RESULT_ERR ? EXIT_NO : EXIT_STORE;
	pwhash_zero(&v, sizeof(v));
	return ex;
}

struct squid_counts {
	long long n407, nok, last407;
};

static int
squid_row(const char *const *c, int n, void *vctx)
{
	struct squid_counts *sq = vctx;
	long status = strtol(c[0], NULL, 10);

	(void)n;
	if (status == 407) {
		sq->n407 += strtoll(c[1], NULL, 10);
		sq->last407 = strtoll(c[2], NULL, 10);
	} else if (status >= 200 && status < 400) {
		sq->nok += strtoll(c[1], NULL, 10);
	}
	return 0;
}

/* What the audit log says about one user or address, summarised. */
struct summary {
	long long squid407, squid_ok, squid_last407;
	long long total, ok, err, bh;
	long long last_ok_ms, last_ms, first_fail_ms;
	char last_ok_client[64];
	char last_reason[32], last_result[8], last_detail[160], last_client[64];
	char reasons[512];	/* "bad_password x12, locked x3" */
	char clients[256];	/* failing addresses */
	long long fail_no_client;	/* failures without an address */
	long long repeats;		/* the same wrong password again */
	char users[256];	/* for --ip: the users seen */
	int nclients;
	bool same_client;
};

static void
add_word(char *list, size_t size, const char *word, int *n)
{
	char needle[80];

	if (word[0] == '\0')
		return;
	snprintf(needle, sizeof(needle), " %s,", word);
	if (strstr(list, needle) != NULL)
		return;
	if (strlen(list) + strlen(needle) + 1 < size)
		strcat(list, needle);
	if (n != NULL)
		(*n)++;
}

static int
summarise(const char *const *c, int ncols, void *vctx)
{
	/* first last count user client result reason detail flags */
	struct summary *s = vctx;
	long long count = strtoll(c[2], NULL, 10), last = strtoll(c[1], NULL, 10);

	(void)ncols;
	s->total += count;
	if (last >= s->last_ms) {	/* rows come in id order: ties go to the later */
		s->last_ms = last;
		snprintf(s->last_reason, sizeof(s->last_reason), "%s", c[6]);
		snprintf(s->last_result, sizeof(s->last_result), "%s", c[5]);
		snprintf(s->last_detail, sizeof(s->last_detail), "%s", c[7]);
		snprintf(s->last_client, sizeof(s->last_client), "%s", c[4]);
	}
	add_word(s->users, sizeof(s->users), c[3], NULL);
	if (strcmp(c[5], "ok") == 0) {
		s->ok += count;
		if (last > s->last_ok_ms) {
			s->last_ok_ms = last;
			snprintf(s->last_ok_client, sizeof(s->last_ok_client), "%s", c[4]);
		}
		return 0;
	}
	if (strcmp(c[5], "err") == 0)
		s->err += count;
	else
		s->bh += count;
	if (strstr(c[8], "repeat") != NULL)
		s->repeats += count;
	if (s->first_fail_ms == 0 || strtoll(c[0], NULL, 10) < s->first_fail_ms)
		s->first_fail_ms = strtoll(c[0], NULL, 10);
	add_word(s->clients, sizeof(s->clients), c[4], &s->nclients);
	if (c[4][0] == '\0')
		s->fail_no_client += count;
	{
		/* "reason xN" tallies, kept as text. */
		char *p = strstr(s->reasons, c[6]);
		if (p == NULL && strlen(s->reasons) + 40 < sizeof(s->reasons))
			snprintf(s->reasons + strlen(s->reasons), sizeof(s->reasons) - strlen(s->reasons),
			    "%s%s", s->reasons[0] != '\0' ? ", " : "", c[6]);
	}
	return 0;
}

static const char *
when(long long ms, char buf[static 32])
{
	util_format_time((time_t)(ms / 1000), buf);
	return buf;
}

/* The local account, for the explanation (state and networks). */
struct account {
	bool found, disabled, locked, no_password;
	long long locked_until, expires;
	char nets[256];
	int nnets;
	long long failures, throttled;	/* automatic lockout (state.db) */
	long long addr_failures, addr_throttled;	/* of the last client address */
};

static int
state_row(const char *const *c, int n, void *vctx)
{
	struct account *acc = vctx;

	(void)n;
	acc->failures = strtoll(c[0], NULL, 10);
	acc->throttled = strtoll(c[1], NULL, 10);
	return 1;
}

static int
net_row(const char *const *c, int n, void *vctx)
{
	struct account *acc = vctx;

	(void)n;
	add_word(acc->nets, sizeof(acc->nets), c[0], &acc->nnets);
	return 0;
}

static void
load_account(struct admin *a, const char *name, struct account *acc)
{
	char err[512], folded[UTIL_NAME_MAX + 1];
	const char *args[1] = { folded };
	struct store_user u;
	struct store *st;

	memset(acc, 0, sizeof(*acc));
	if (store_open(a->conf->store_path, STORE_WRITE, a->conf->busy_timeout, &st, err,
	    sizeof(err)) != STORE_OK)
		return;
	snprintf(folded, sizeof(folded), "%s", name);
	if (a->conf->username_case == CONF_CASE_FOLD)
		util_fold_name(folded);
	if (store_user_get(st, folded, &u, err, sizeof(err)) == 1) {
		acc->found = true;
		acc->disabled = u.disabled;
		acc->locked = u.locked && (u.locked_until == 0 || u.locked_until > util_now());
		acc->locked_until = u.locked_until;
		acc->expires = u.expires;
		acc->no_password = strcmp(u.hash, "!") == 0;
		ignore_status(store_read(st, "SELECT cidr FROM user_nets WHERE user = ?1 ORDER BY cidr",
		    args, 1, net_row, acc, err, sizeof(err)));
	}
	pwhash_zero(&u, sizeof(u));
	store_close(st);
	{
		char path[4096];
		conf_beside_store(a->conf, "state.db", path, sizeof(path));
		if (store_open_schema(path, state_migrations, STORE_WRITE, 1, &st, err,
		    sizeof(err)) == STORE_OK) {
			ignore_status(store_read(st, "SELECT count, throttled FROM failures WHERE kind = 'user' "
			    "AND key = ?1", args, 1, state_row, acc, err, sizeof(err)));
			store_close(st);
		}
	}
}

static int
addr_row(const char *const *c, int n, void *vctx)
{
	struct account *acc = vctx;

	(void)n;
	acc->addr_failures = strtoll(c[0], NULL, 10);
	acc->addr_throttled = strtoll(c[1], NULL, 10);
	return 1;
}

/* The automatic lockout of one client address. */
static void
load_addr_state(struct admin *a, const char *addr, struct account *acc)
{
	char path[4096], err[512];
	const char *args[1] = { addr };
	struct store *st;

	conf_beside_store(a->conf, "state.db", path, sizeof(path));
	if (store_open_schema(path, state_migrations, STORE_WRITE, 1, &st, err, sizeof(err)) != STORE_OK)
		return;
	ignore_status(store_read(st, "SELECT count, throttled FROM failures WHERE kind = 'addr' AND key = ?1",
	    args, 1, addr_row, acc, err, sizeof(err)));
	store_close(st);
}

/* Trim the " a, b," list form to "a, b". */
static const char *
listed(char *list)
{
	size_t n = strlen(list);

	if (n > 0 && list[n - 1] == ',')
		list[n - 1] = '\0';
	return list[0] == ' ' ? list + 1 : list;
}

static void
explain_user(const char *name, const struct summary *s, const struct account *acc)
{
	char t1[32], t2[32], clients[256];
	const char *r = s->last_reason;
	bool one_device = s->nclients == 1 && s->fail_no_client == 0;

	snprintf(clients, sizeof(clients), "%s", s->clients);

	if (acc->found)
		printf("account: %s%s%s%s\n", acc->throttled > util_now() ? "throttled, " : "",
		    acc->disabled ? "disabled" : acc->locked ? "locked" :
		    acc->expires != 0 && acc->expires <= util_now() ? "expired" : "active",
		    acc->no_password ? " (password in the directory)" : "",
		    acc->nnets > 0 ? ", bound to networks" : "");
	else
		printf("account: no local account named '%s'\n", name);
	if (s->total == 0) {
		printf("no decisions recorded for '%s' in the period: the requests did not reach "
		    "a cuttle helper (check squid.conf's auth_param line), or the name is spelt "
		    "differently\n", name);
		return;
	}
	if (s->squid407 > 0 || s->squid_ok > 0)
		printf("squid: %lld answers 407 (last %s), %lld successful requests\n", s->squid407,
		    s->squid407 > 0 ? when(s->squid_last407, t1) : "-", s->squid_ok);
	printf("decisions: %lld (%lld OK, %lld ERR, %lld BH)", s->total, s->ok, s->err, s->bh);
	if (s->last_ok_ms != 0)
		printf("; last success %s%s%s", when(s->last_ok_ms, t1),
		    s->last_ok_client[0] != '\0' ? " from " : "", s->last_ok_client);
	printf("\n");
	if (strcmp(s->last_result, "ok") == 0) {
		printf("why: the last login, %s, succeeded. If the user still gets 407, the "
		    "browser is not sending these credentials, or Squid is asking another "
		    "helper.\n", when(s->last_ms, t1));
		return;
	}
	printf("last: %s %s at %s%s%s%s%s\n", s->last_result, r, when(s->last_ms, t1),
	    s->last_client[0] != '\0' ? " from " : "", s->last_client,
	    s->last_detail[0] != '\0' ? ": " : "", s->last_detail);
	printf("why: ");
	if (strcmp(r, "bad_password") == 0) {
		printf("wrong password, %lld failure%s since %s", s->err, s->err == 1 ? "" : "s",
		    when(s->first_fail_ms, t2));
		if (one_device)
			printf(", all from %s", listed(clients));
		if (s->repeats > 0)
			printf("; %lld of them the same wrong password again", s->repeats);
		if (s->repeats > 0 && s->repeats + 1 >= s->err)
			printf(". It is one old password sent over and over: a password saved on %s "
			    "is stale; update it there (the repeats are not counted towards "
			    "lockout).\n", one_device ? "that device" : "a device");
		else if (s->last_ok_ms != 0 && one_device)
			printf(". The password worked before: a password saved on that device is "
			    "probably stale; update it there, or reset it with `cuttle user passwd "
			    "%s`.\n", name);
		else
			printf(". Check the password, or reset it with `cuttle user passwd %s`.\n", name);
	} else if (strcmp(r, "unknown_user") == 0) {
		printf("no user '%s' in the store%s. Check the spelling, or add it with "
		    "`cuttle user add %s`.\n", name, acc->found ? " (it exists now: added since?)" : "",
		    name);
	} else if (strcmp(r, "throttled") == 0) {
		if (acc->throttled <= util_now() && acc->addr_throttled > util_now())
			printf("the address %s is throttled after %lld failed logins from it (any "
			    "name); it ends at %s.\n", s->last_client, acc->addr_failures,
			    when(acc->addr_throttled * 1000, t2));
		else if (acc->throttled > util_now())
			printf("throttled after %lld different wrong passwords; it ends at %s, or "
			    "`cuttle user unlock %s` now.\n", acc->failures,
			    when(acc->throttled * 1000, t2), name);
		else
			printf("was throttled after repeated wrong passwords; that has ended.\n");
	} else if (strcmp(r, "disabled") == 0) {
		printf("the account is disabled%s. `cuttle user enable %s` lets it in again.\n",
		    acc->found && acc->disabled ? " by an admin" : " (by the directory)", name);
	} else if (strcmp(r, "locked") == 0) {
		if (acc->found && acc->locked && acc->locked_until != 0)
			printf("locked by an admin until %s. It ends then, or `cuttle user unlock %s`.\n",
			    when(acc->locked_until * 1000, t2), name);
		else if (acc->found && acc->locked)
			printf("locked by an admin. `cuttle user unlock %s` lets it in again.\n", name);
		else
			printf("locked (%s). If the lock is the directory's, unlock it there.\n",
			    s->last_detail[0] != '\0' ? s->last_detail : "no longer locked here");
	} else if (strcmp(r, "expired") == 0) {
		if (acc->found && acc->expires != 0 && acc->expires <= util_now())
			printf("the account expired at %s. `cuttle user set %s --expires YYYY-MM-DD` "
			    "(or never) renews it.\n", when(acc->expires * 1000, t2), name);
		else
			printf("expired (%s). If it is the directory's password, it must be changed "
			    "there.\n", s->last_detail[0] != '\0' ? s->last_detail : "not any more");
	} else if (strcmp(r, "ip_not_allowed") == 0) {
		if (strstr(s->last_detail, "client address") != NULL)
			printf("the password was right, but the user is bound to networks and the "
			    "helper is not given the client address: add auth_param basic "
			    "key_extras \"%%>a\" to squid.conf and --key-extras \"%%>a\" to the helper.\n");
		else
			printf("the password was right, but %s is not in %s's networks (%s). "
			    "`cuttle user net add %s CIDR` allows another network.\n",
			    s->last_client[0] != '\0' ? s->last_client : "the client", name,
			    acc->nnets > 0 ? listed((char *)acc->nets) : "none now", name);
	} else if (strcmp(r, "not_in_group") == 0) {
		printf("not in the group the ACL asks for. `cuttle user groups %s --add GROUP`.\n", name);
	} else if (strcmp(r, "ambiguous_user") == 0) {
		printf("more than one directory entry matches '%s'; make the name unique in the "
		    "directory or narrow [ldap] filter.\n", name);
	} else if (strcmp(r, "backend_down") == 0 || strcmp(r, "backend_error") == 0) {
		printf("the helper could not decide (%s), so Squid refused. Fix that, then the "
		    "user can log in.\n", s->last_detail);
	} else {
		printf("%s.\n", r);
	}
}

static void
explain_ip(const char *ip, const struct summary *s, int allowed)
{
	char t1[32];
	struct summary copy = *s;

	if (allowed > 0)
		printf("allow lists: %s is on an allow list: it gets in without credentials where "
		    "squid.conf asks ext_cuttle_acl first\n", ip);
	else if (allowed == 0)
		printf("allow lists: %s is on none (`cuttle allow add %s`)\n", ip, ip);
	if (s->total == 0) {
		printf("no decisions recorded for %s in the period\n", ip);
		return;
	}
	if (s->squid407 > 0 || s->squid_ok > 0)
		printf("squid: %lld answers 407 (last %s), %lld successful requests\n", s->squid407,
		    s->squid407 > 0 ? when(s->squid_last407, t1) : "-", s->squid_ok);
	printf("decisions: %lld (%lld OK, %lld ERR, %lld BH); users: %s\n", s->total, s->ok,
	    s->err, s->bh, copy.users[0] != '\0' ? listed(copy.users) : "none");
	printf("last: %s %s at %s%s%s\n", s->last_result, s->last_reason, when(s->last_ms, t1),
	    s->last_detail[0] != '\0' ? ": " : "", s->last_detail);
	if (s->err + s->bh > 0)
		printf("failures: %s\n", copy.reasons);
}

int
cmd_audit_why(struct admin *a, int argc, char **argv)
{
	const char *pos[1] = { NULL }, *ip = NULL, *since_arg = "7d", *why;
	const struct admin_opt opts[] = {
		{ "--ip", &ip, NULL, NULL, NULL, 0 },
		{ "--since", &since_arg, NULL, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	char path[4096], err[512], sincebuf[24], folded[UTIL_NAME_MAX + 1];
	const char *args[3];
	struct summary s;
	struct account acc;
	struct store *st;
	long long secs;
	int ex, allowed = -1;

	if ((ex = admin_parse("audit why", argc, argv, opts, pos, 0, 1)) != 0)
		return ex;
	if ((pos[0] == NULL) == (ip == NULL))
		return admin_usage("audit why", "give a user NAME or --ip ADDR");
	if (util_parse_duration(since_arg, &secs, &why) != 0)
		return admin_usage("audit why", "--since %s: %s", since_arg, why);
	conf_audit_path(a->conf, path, sizeof(path));
	if (store_open_schema(path, audit_migrations, STORE_WRITE, a->conf->busy_timeout, &st,
	    err, sizeof(err)) != STORE_OK) {
		admin_err("%s", err);
		return EXIT_STORE;
	}
	memset(&s, 0, sizeof(s));
	snprintf(sincebuf, sizeof(sincebuf), "%lld", (long long)audit_now_ms() - secs * 1000);
	if (pos[0] != NULL) {
		snprintf(folded, sizeof(folded), "%s", pos[0]);
		util_fold_name(folded);
		args[0] = pos[0];
		args[1] = folded;
	} else {
		args[0] = args[1] = ip;
	}
	args[2] = sincebuf;
	/* Names are recorded as sent; Squid may have lowered them. */
	if (store_read(st, pos[0] != NULL ?
	    "SELECT first, last, count, user, client, result, reason, detail, flags FROM decisions "
	    "WHERE (user = ?1 OR lower(user) = ?2) AND last >= ?3 ORDER BY id" :
	    "SELECT first, last, count, user, client, result, reason, detail, flags FROM decisions "
	    "WHERE client = ?1 AND last >= ?3 ORDER BY id", args, 3, summarise, &s, err,
	    sizeof(err)) != STORE_OK) {
		admin_err("%s", err);
		store_close(st);
		return EXIT_STORE;
	}
	{
		/* What Squid itself answered (log_cuttle_daemon), if recorded. */
		struct squid_counts sq = { 0 };
		ignore_status(store_read(st, pos[0] != NULL ?
		    "SELECT status, count(*), max(at) FROM squid_access WHERE (user = ?1 OR "
		    "lower(user) = ?2) AND at >= ?3 GROUP BY status" :
		    "SELECT status, count(*), max(at) FROM squid_access WHERE client = ?1 AND "
		    "at >= ?3 GROUP BY status", args, 3, squid_row, &sq, err, sizeof(err)));
		s.squid407 = sq.n407;
		s.squid_ok = sq.nok;
		s.squid_last407 = sq.last407;
	}
	store_close(st);
	printf("since %s ago:\n", since_arg);
	if (pos[0] != NULL) {
		load_account(a, pos[0], &acc);
		if (s.last_client[0] != '\0')
			load_addr_state(a, s.last_client, &acc);
		explain_user(pos[0], &s, &acc);
	} else {
		struct netaddr addr;
		if (netaddr_parse(ip, &addr) == 0) {
			struct conf *conf = load_again(a);
			if (conf != NULL) {
				struct engine *e = engine_new(conf, NULL);
				static struct request req;
				struct verdict v;
				memset(&req, 0, sizeof(req));
				req.external = true;
				req.fields[0] = ip;
				req.field_lens[0] = strlen(ip);
				req.nfields = 1;
				engine_decide_allow(e, &req, &v);
				allowed = v.result == RESULT_OK ? 1 : v.result == RESULT_ERR ? 0 : -1;
				engine_free(e);
			}
		}
		explain_ip(ip, &s, allowed);
	}
	return EXIT_DONE;
}
