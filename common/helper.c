#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"
#include "log.h"
#include "netlist.h"

/* Room for one full line plus what arrives behind it. */
#define INBUF (4 * PROTO_WIRE_MAX)

/* Wait for fd when it was left non-blocking by whoever started us. */
static void
wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	(void)poll(&p, 1, -1);
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				wait_fd(fd, POLLOUT);
				continue;
			}
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
log_verdict(const struct request *req, const struct verdict *v)
{
	char user[64];

	if (!log_debug_enabled())
		return;
	if (req->external && req->nfields > 0)
		util_printable(user, sizeof(user), req->fields[0], req->field_lens[0], 48);
	else
		util_printable(user, sizeof(user), req->user != NULL ? req->user : "",
		    req->user_len, 48);
	log_debug("user=%s result=%s reason=%s backend=%s latency_us=%llu%s%s",
	    user, result_word(v->result), reason_name(v->reason),
	    v->backend[0] != '\0' ? v->backend : "-",
	    (unsigned long long)v->latency_us, v->detail[0] != '\0' ? " detail=" : "",
	    v->detail);
}

/* -S and -K: strip a Windows domain or a Kerberos realm from a login. */
static void
strip_login(const struct helper_opts *opts, struct request *req)
{
	char *u;
	size_t len;

	if (req->bad || req->nfields == 0)
		return;
	u = (char *)req->fields[0];
	len = req->field_lens[0];
	if (opts->strip_domain) {
		char *bs = memchr(u, '\\', len);
		if (bs != NULL) {
			len -= (size_t)(bs + 1 - u);
			u = bs + 1;
		}
	}
	if (opts->strip_realm) {
		char *at = memchr(u, '@', len);
		if (at != NULL) {
			len = (size_t)(at - u);
			*at = '\0';
		}
	}
	req->fields[0] = u;
	req->field_lens[0] = len;
}

/* Copy the i-th space-separated token of line into buf. */
static bool
token(const char *line, size_t len, int i, char *buf, size_t size)
{
	const char *p = line, *end = line + len;

	for (;;) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t n = (size_t)((sp != NULL ? sp : end) - p);
		if (i-- == 0) {
			if (n >= size)
				return false;
			memcpy(buf, p, n);
			buf[n] = '\0';
			return true;
		}
		if (sp == NULL)
			return false;
		p = sp + 1;
	}
}

/* userip in auto mode: "ID LOGIN SRC [-]" rather than "LOGIN SRC [-]"? */
static bool
userip_has_channel(const char *line, size_t len)
{
	char t0[PROTO_CHANNEL_MAX + 2], t1[64], t2[64];
	struct netaddr a;

	if (!token(line, len, 0, t0, sizeof(t0)) || t0[0] == '\0' ||
	    strspn(t0, "0123456789") != strlen(t0))
		return false;
	if (token(line, len, 1, t1, sizeof(t1)) && netaddr_parse(t1, &a) == 0)
		return false;
	return token(line, len, 2, t2, sizeof(t2)) && netaddr_parse(t2, &a) == 0;
}

static void
parse(const struct helper_opts *opts, struct request *req, const char *line,
    size_t len, enum proto_channel *mode)
{
	switch (opts->mode) {
	case HELPER_BASIC:
		proto_parse_basic(req, line, len, mode, opts->nextras);
		return;
	case HELPER_ALLOW:
		/* An address is never all digits: a leading number is a channel ID. */
		proto_parse_fields(req, line, len, mode, 1, false);
		return;
	case HELPER_GROUP:
		proto_parse_fields(req, line, len, mode, 2, false);
		strip_login(opts, req);
		return;
	case HELPER_USERIP:
		if (*mode == PROTO_CHANNEL_AUTO || *mode == PROTO_CHANNEL_AUTO_SEEN) {
			/*
			 * "LOGIN SRC", and Squid may add "-" for an empty
			 * %DATA: where the address stands tells whether a
			 * leading number is a channel ID or a numeric login.
			 */
			enum proto_channel m = userip_has_channel(line, len) ?
			    PROTO_CHANNEL_YES : PROTO_CHANNEL_NO;
			proto_parse_fields(req, line, len, &m, 2, false);
			if (m == PROTO_CHANNEL_YES)
				*mode = PROTO_CHANNEL_AUTO_SEEN;
			return;
		}
		proto_parse_fields(req, line, len, mode, 2, false);
		return;
	}
}

/* Record the decision: who, from where, what. */
static void
record(struct audit *audit, const struct helper_opts *opts, const struct request *req,
    const struct verdict *v)
{
	const char *user = NULL, *client = NULL;
	size_t user_len = 0;

	if (audit == NULL)
		return;
	switch (opts->mode) {
	case HELPER_BASIC:
		user = req->user;
		user_len = req->user_len;
		if (opts->client_field >= 0 && opts->client_field < req->nextras)
			client = req->extras[opts->client_field];
		break;
	case HELPER_ALLOW:
		if (req->nfields > 0)
			client = req->fields[0];
		break;
	case HELPER_GROUP:
	case HELPER_USERIP:
		if (req->nfields > 0) {
			user = req->fields[0];
			user_len = req->field_lens[0];
		}
		if (opts->mode == HELPER_USERIP && req->nfields > 1)
			client = req->fields[1];
		break;
	}
	audit_record(audit, user, user_len, client, v);
	audit_flush(audit, false);
}

/* Decide one parsed request and answer it. */
static int
answer(struct engine *engine, const struct helper_opts *opts, struct audit *audit,
    struct request *req, int outfd)
{
	struct verdict v;
	char reply[PROTO_LINE_MAX];
	size_t len;
	uint64_t start = util_monotonic_us();
	int rc;

	switch (opts->mode) {
	case HELPER_BASIC: engine_decide(engine, req, &v); break;
	case HELPER_ALLOW: engine_decide_allow(engine, req, &v); break;
	case HELPER_GROUP: engine_decide_group(engine, req, &v); break;
	case HELPER_USERIP: engine_decide_userip(engine, req, &v); break;
	}
	v.latency_us = util_monotonic_us() - start;
	len = proto_format_reply(reply, sizeof(reply), req, &v);
	rc = write_all(outfd, reply, len);
	log_verdict(req, &v);
	if (rc == 0) {
		engine_after_reply(engine, req, &v);
		record(audit, opts, req, &v);
	}
	pwhash_zero(&v, sizeof(v));
	proto_request_clear(req);
	return rc;
}

int
helper_run(struct engine *engine, const struct helper_opts *opts,
    struct audit *audit, int infd, int outfd)
{
	static char buf[INBUF];
	static struct request req;
	size_t start = 0, end = 0;
	bool discarding = false, eof = false;
	enum proto_channel mode = opts->channel;

	for (;;) {
		char *nl = memchr(buf + start, '\n', end - start);

		if (nl != NULL || (eof && end > start)) {
			size_t len = (nl != NULL ? (size_t)(nl - buf) : end) - start;

			if (discarding) {
				/* The rest of a line already answered as overlong. */
				discarding = false;
			} else {
				if (len >= PROTO_WIRE_MAX)
					proto_parse_overlong(&req, buf + start, len,
					    mode, opts->nextras);
				else
					parse(opts, &req, buf + start, len, &mode);
				if (answer(engine, opts, audit, &req, outfd) != 0)
					goto out_closed;
			}
			pwhash_zero(buf + start, len);
			start += len + (nl != NULL ? 1 : 0);
			continue;
		}
		if (eof)
			break;
		if (!discarding && end - start >= PROTO_WIRE_MAX) {
			/*
			 * No LF within what Squid may send: answer now from the
			 * first bytes, then drop the rest of the line unread.
			 */
			proto_parse_overlong(&req, buf + start, end - start,
			    mode, opts->nextras);
			req.external = opts->mode != HELPER_BASIC;
			if (answer(engine, opts, audit, &req, outfd) != 0)
				goto out_closed;
			discarding = true;
		}
		if (discarding) {
			pwhash_zero(buf, end);
			start = end = 0;
		} else if (start > 0) {
			memmove(buf, buf + start, end - start);
			end -= start;
			/* Clear the bytes the move left behind: they held secrets. */
			pwhash_zero(buf + end, start);
			start = 0;
		}
		/* Idle with records pending: write them when due, not never. */
		if (audit != NULL && audit_due_ms(audit) >= 0) {
			struct pollfd p = { .fd = infd, .events = POLLIN };
			if (poll(&p, 1, audit_due_ms(audit)) == 0) {
				audit_flush(audit, false);
				continue;
			}
		}
		ssize_t n = read(infd, buf + end, INBUF - end);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				wait_fd(infd, POLLIN);
				continue;
			}
			log_error("reading requests: %s", strerror(errno));
			break;
		}
		if (n == 0)
			eof = true;
		end += (size_t)n;
	}
	pwhash_zero(buf, sizeof(buf));
	return 0;
out_closed:
	pwhash_zero(buf, sizeof(buf));
	log_error("writing a reply: %s; exiting", strerror(errno));
	return 1;
}

int
helper_count_extras(const char *format, int *client_r)
{
	int n = 0;
	const char *p = format;

	*client_r = -1;
	while (*(p += strspn(p, " \t")) != '\0') {
		size_t len = strcspn(p, " \t");
		/* The client address, however Squid is asked for it. */
		if ((len == 3 && strncmp(p, "%>a", 3) == 0) ||
		    (len == 5 && strncmp(p, "%{>a}", 5) == 0) ||
		    (len == 4 && strncmp(p, "%SRC", 4) == 0))
			*client_r = n;
		n++;
		p += len;
	}
	return n > PROTO_EXTRAS_MAX ? -1 : n;
}


int
helper_main(int argc, char **argv, const char *prog, const char *usage,
    enum helper_mode mode,
    int (*parse_options)(int argc, char **argv, struct conf *conf,
    struct helper_opts *opts, bool *debug_r, char *err, size_t errlen))
{
	struct helper_opts opts = { PROTO_CHANNEL_AUTO, 0, -1, mode, false, false };
	struct conf *conf;
	struct engine *engine;
	struct audit *audit;
	bool debug = false;
	char err[512];
	int bad;

	/* Asked by a person at a terminal, never by Squid. */
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("%s\n(see %s(8))\n", usage, prog);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("%s (cuttle) %s\n", prog, PACKAGE_VERSION);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	util_no_core_dumps();
	log_init(prog, false);
	conf = conf_new();
	bad = parse_options(argc, argv, conf, &opts, &debug, err, sizeof(err));
	log_init(prog, debug);
	if (bad == 0 && pwhash_init() != 0) {
		snprintf(err, sizeof(err), "libsodium failed to initialise");
		bad = -1;
	}
	if (bad != 0)
		log_error("%s; answering BH to every request until fixed", err);
	engine = engine_new(conf, bad != 0 ? err : NULL);
	engine_set_client_field(engine, opts.client_field);
	audit = audit_new(conf, prog);
	bad = helper_run(engine, &opts, audit, STDIN_FILENO, STDOUT_FILENO);
	audit_free(audit);
	engine_free(engine);
	return bad;
}
