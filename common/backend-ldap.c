/*
 * The LDAP backend: search for the user's entry as a service account (or
 * anonymously), refuse more than one match, then bind as the entry found
 * with the user's password; or bind to a DN made from a template.
 *
 * Every operation is asynchronous with a timeout bounded by the request's
 * deadline, so a server that stops answering costs at most that. Servers
 * are tried in order; one that fails is skipped for [ldap] retry seconds
 * (a circuit breaker), and the helper goes back to the first server when
 * it is due again.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define LDAP_DEPRECATED 0
#include <ldap.h>

#include "backend.h"
#include "ldapdiag.h"
#include "ldapesc.h"
#include "log.h"

#define FILTER_MAX 4096
#define DN_MAX 4096

/*
 * The circuit breaker's state is the process's, not a connection's: every
 * worker thread of a helper skips a server another one found down.
 */
struct circuit {
	char *uri;
	uint64_t down_until;	/* monotonic µs; 0: up (read and set atomically) */
};

#define CIRCUITS_MAX 32
static struct circuit circuits[CIRCUITS_MAX];
static int ncircuits;
static pthread_mutex_t circuits_lock = PTHREAD_MUTEX_INITIALIZER;

static struct circuit *
circuit_for(const char *uri)
{
	static struct circuit spare;	/* past CIRCUITS_MAX servers: shared, harmless */
	struct circuit *c = &spare;

	pthread_mutex_lock(&circuits_lock);
	for (int i = 0; i < ncircuits; i++)
		if (strcmp(circuits[i].uri, uri) == 0) {
			c = &circuits[i];
			goto out;
		}
	if (ncircuits < CIRCUITS_MAX && (circuits[ncircuits].uri = strdup(uri)) != NULL)
		c = &circuits[ncircuits++];
out:
	pthread_mutex_unlock(&circuits_lock);
	return c;
}

int
backend_ldap_circuit(int *nservers_r)
{
	uint64_t now = util_monotonic_us();
	int down = 0;

	pthread_mutex_lock(&circuits_lock);
	for (int i = 0; i < ncircuits; i++)
		if (__atomic_load_n(&circuits[i].down_until, __ATOMIC_RELAXED) > now)
			down++;
	*nservers_r = ncircuits;
	pthread_mutex_unlock(&circuits_lock);
	return down;
}

struct server {
	char *uri;
	struct circuit *circuit;
};

static uint64_t
down_until(const struct server *s)
{
	return __atomic_load_n(&s->circuit->down_until, __ATOMIC_RELAXED);
}

static void
set_down_until(struct server *s, uint64_t t)
{
	__atomic_store_n(&s->circuit->down_until, t, __ATOMIC_RELAXED);
}

struct ldap_ctx {
	const struct conf *conf;
	struct server *servers;
	int nservers;
	LDAP *search_ld;	/* bound as the service account, or anonymous */
	LDAP *bind_ld;		/* for the users' binds */
	int cur;		/* the server both connections go to; -1: none */
	bool reused;		/* search_ld was opened by an earlier request */
	int last_rc;		/* the LDAP result code of the last failure */
	uint64_t failback_at;
	char *bindpw;		/* the service account's password */
};

/* The state of one request: its deadline and where the error goes. */
struct op {
	uint64_t deadline;
	char *err;
	size_t errlen;
};

static uint64_t
seconds_us(long long s)
{
	return (uint64_t)s * 1000000u;
}

/* The time left for one operation: its timeout, capped by the deadline. */
static bool
op_time(const struct op *op, long long timeout_s, struct timeval *tv)
{
	uint64_t now = util_monotonic_us(), left;

	if (now >= op->deadline)
		return false;
	left = op->deadline - now;
	if (left > seconds_us(timeout_s))
		left = seconds_us(timeout_s);
	tv->tv_sec = (time_t)(left / 1000000u);
	tv->tv_usec = (suseconds_t)(left % 1000000u);
	return true;
}

/*
 * A watchdog for the calls libldap cannot bound itself: Debian's libldap
 * does the TLS handshake (ldaps://, StartTLS) with blocking reads, so a
 * server that accepts and then says nothing would hold the helper for
 * ever. The connection callback tells us the socket; at the deadline a
 * SIGALRM shuts it down (shutdown() is async-signal-safe), the read
 * returns and libldap reports a failure.
 */
static __thread volatile sig_atomic_t watch_fd = -1;
static __thread volatile sig_atomic_t watch_fired;
/* Each thread's own timer, signalling that thread (worker threads). */
static __thread timer_t watch_timer;
static __thread bool watch_timer_made;

static int
watch_add(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
    struct ldap_conncb *cb)
{
	ber_socket_t fd;

	(void)ld;
	(void)srv;
	(void)addr;
	(void)cb;
	if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) == 1)
		watch_fd = fd;
	return 0;
}

static void
watch_del(LDAP *ld, Sockbuf *sb, struct ldap_conncb *cb)
{
	(void)ld;
	(void)sb;
	(void)cb;
	watch_fd = -1;
}

static ldap_conncb watch_cb = { watch_add, watch_del, NULL };

static void
on_alarm(int sig)
{
	int fd = watch_fd, saved = errno;

	(void)sig;
	watch_fired = 1;
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	errno = saved;
}

static pthread_once_t watch_once = PTHREAD_ONCE_INIT;

static void
watch_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static void
watchdog_arm(const struct timeval *tv)
{
	struct itimerspec it;

	watch_fired = 0;
	pthread_once(&watch_once, watch_install);
	if (!watch_timer_made) {
		struct sigevent sev;

		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_THREAD_ID;
		sev.sigev_signo = SIGALRM;
		sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
		if (timer_create(CLOCK_MONOTONIC, &sev, &watch_timer) != 0)
			return;
		watch_timer_made = true;
	}
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = tv->tv_sec;
	it.it_value.tv_nsec = (long)tv->tv_usec * 1000;
	if (it.it_value.tv_sec == 0 && it.it_value.tv_nsec == 0)
		it.it_value.tv_nsec = 1;
	timer_settime(watch_timer, 0, &it, NULL);
}

static void
watchdog_disarm(void)
{
	struct itimerspec it;

	memset(&it, 0, sizeof(it));
	if (watch_timer_made)
		timer_settime(watch_timer, 0, &it, NULL);
	watch_fd = -1;
}

void
backend_ldap_thread_end(void)
{
	if (watch_timer_made)
		timer_delete(watch_timer);
	watch_timer_made = false;
}

static int search(struct ldap_ctx *ctx, const char *base, int scope, const char *filter,
    char **attrs, const struct op *op, LDAPMessage **res_r);

/* Errors that mean "this server, not the request": fail over. */
static bool
server_trouble(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
	    rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_TIMELIMIT_EXCEEDED ||
	    rc == LDAP_ADMINLIMIT_EXCEEDED || rc == LDAP_OTHER;
}

static void
drop(LDAP **ld)
{
	if (*ld != NULL)
		ldap_unbind_ext_s(*ld, NULL, NULL);
	*ld = NULL;
}

static void
drop_all(struct ldap_ctx *ctx)
{
	drop(&ctx->search_ld);
	drop(&ctx->bind_ld);
	ctx->cur = -1;
}

static bool
loopback_uri(const char *uri)
{
	const char *host = strstr(uri, "://");

	if (strncmp(uri, "ldapi:", 6) == 0)
		return true;
	host = host != NULL ? host + 3 : uri;
	return strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost", 9) == 0 ||
	    strncmp(host, "[::1]", 5) == 0 || *host == '/' || *host == '\0';
}

/*
 * Read the service account's password from its file, which must be a
 * regular file owned by root or by us, not reachable by other users and
 * not writable by the group.
 */
static int
read_bindpw(const char *path, char **pw_r, char *err, size_t errlen)
{
	struct stat st;
	char buf[512];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "bind_password_file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IRWXO | S_IWGRP)) != 0) {
		snprintf(err, errlen, "bind_password_file %s: must be a file owned by root "
		    "(or the helper's user) with mode 0640 or stricter (it is %04o; fix: "
		    "chown root:proxy %s && chmod 0640 %s)", path,
		    (unsigned)(st.st_mode & 07777), path, path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "bind_password_file %s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		snprintf(err, errlen, "bind_password_file %s: empty", path);
		return -1;
	}
	*pw_r = strdup(buf);
	pwhash_zero(buf, sizeof(buf));
	if (*pw_r == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int
ldapb_open(const struct conf *conf, void **ctx_r, char *err, size_t errlen)
{
	struct ldap_ctx *ctx = calloc(1, sizeof(*ctx));
	const char *p = conf->ldap_uri;

	if (ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ctx->conf = conf;
	ctx->cur = -1;
	*ctx_r = ctx;
	/*
	 * libldap's global state is set up by its first call: make that one
	 * here, in the thread that opens the first engine, before any worker.
	 */
	{
		int version;
		(void)ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &version);
	}
	/* One server per space-separated URI, in order of preference. */
	while (*(p += strspn(p, " \t,")) != '\0') {
		size_t len = strcspn(p, " \t,");
		struct server *s = realloc(ctx->servers, (size_t)(ctx->nservers + 1) * sizeof(*s));
		if (s == NULL || (s[ctx->nservers].uri = strndup(p, len)) == NULL) {
			if (s != NULL)
				ctx->servers = s;
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		s[ctx->nservers].circuit = circuit_for(s[ctx->nservers].uri);
		ctx->servers = s;
		if (!ldap_is_ldap_url(s[ctx->nservers].uri) &&
		    strncmp(s[ctx->nservers].uri, "ldaps://", 8) != 0 &&
		    strncmp(s[ctx->nservers].uri, "ldapi://", 8) != 0) {
			snprintf(err, errlen, "[ldap] uri: '%.100s' is not an LDAP URI "
			    "(ldap://, ldaps:// or ldapi://)", s[ctx->nservers].uri);
			ctx->nservers++;
			return -1;
		}
		ctx->nservers++;
		p += len;
	}
	if (ctx->nservers == 0) {
		snprintf(err, errlen, "[ldap] uri is not set (or give -H URI / a server)");
		return -1;
	}
	if (conf->ldap_dn_template[0] == '\0' && conf->ldap_base[0] == '\0') {
		snprintf(err, errlen, "[ldap] base is not set (or give -b BASEDN)");
		return -1;
	}
	if (conf->ldap_bind_dn[0] != '\0') {
		if (conf->ldap_bind_password != NULL) {
			if ((ctx->bindpw = strdup(conf->ldap_bind_password)) == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
		} else if (conf->ldap_bind_password_file[0] == '\0') {
			snprintf(err, errlen, "[ldap] bind_dn is set but bind_password_file is "
			    "not (or give -W FILE)");
			return -1;
		} else if (read_bindpw(conf->ldap_bind_password_file, &ctx->bindpw, err,
		    errlen) != 0) {
			return -1;
		}
	}
	for (int i = 0; i < ctx->nservers; i++) {
		const char *uri = ctx->servers[i].uri;
		bool clear = strncmp(uri, "ldap://", 7) == 0 && !conf->ldap_starttls;
		if (clear && conf->ldap_require_tls) {
			snprintf(err, errlen, "[ldap] require_tls: %.100s would carry passwords in "
			    "clear text (use ldaps:// or starttls = yes)", uri);
			return -1;
		}
		if (clear && !loopback_uri(uri))
			log_warn("%s: simple binds go in clear text to this server "
			    "(use ldaps:// or starttls = yes)", uri);
	}
	return 0;
}

static void
ldapb_close(void *vctx)
{
	struct ldap_ctx *ctx = vctx;

	if (ctx == NULL)
		return;
	drop_all(ctx);
	for (int i = 0; i < ctx->nservers; i++)
		free(ctx->servers[i].uri);
	free(ctx->servers);
	if (ctx->bindpw != NULL) {
		pwhash_zero(ctx->bindpw, strlen(ctx->bindpw));
		free(ctx->bindpw);
	}
	free(ctx);
}

/* Wait for the answer to msgid within the op's time. */
static int
wait_result(LDAP *ld, int msgid, const struct op *op, long long timeout_s,
    LDAPMessage **res)
{
	struct timeval tv;
	int rc;

	*res = NULL;
	if (!op_time(op, timeout_s, &tv)) {
		ldap_abandon_ext(ld, msgid, NULL, NULL);
		return LDAP_TIMEOUT;
	}
	rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, res);
	if (rc == 0) {
		ldap_abandon_ext(ld, msgid, NULL, NULL);
		return LDAP_TIMEOUT;
	}
	if (rc < 0) {
		int e = LDAP_SERVER_DOWN;
		ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &e);
		return e != LDAP_SUCCESS ? e : LDAP_SERVER_DOWN;
	}
	return LDAP_SUCCESS;
}

/* Say what went wrong with server i, in err; classify it. */
static enum backend_result
fail(struct ldap_ctx *ctx, int i, int rc, const char *what, const char *diag,
    const struct op *op)
{
	ctx->last_rc = rc;
	snprintf(op->err, op->errlen, "%s: %s: %s%s%.200s", ctx->servers[i].uri, what,
	    rc == LDAP_TIMEOUT ? "no answer in time" : ldap_err2string(rc),
	    diag != NULL && *diag != '\0' ? ": " : "", diag != NULL ? diag : "");
	return server_trouble(rc) ? BACKEND_DOWN : BACKEND_ERROR;
}

/* A simple bind on ld, waited for; returns the LDAP result code. */
static int
simple_bind(LDAP *ld, const char *dn, const char *pw, size_t len,
    LDAPControl **sctrls, const struct op *op, long long timeout_s,
    char **diag_r, LDAPControl ***rctrls_r)
{
	struct berval cred = { (ber_len_t)len, (char *)pw };
	LDAPMessage *res;
	int msgid, rc, err = LDAP_OTHER;

	*diag_r = NULL;
	if (rctrls_r != NULL)
		*rctrls_r = NULL;
	rc = ldap_sasl_bind(ld, dn, LDAP_SASL_SIMPLE, &cred, sctrls, NULL, &msgid);
	if (rc != LDAP_SUCCESS)
		return rc;
	if ((rc = wait_result(ld, msgid, op, timeout_s, &res)) != LDAP_SUCCESS)
		return rc;
	rc = ldap_parse_result(ld, res, &err, NULL, diag_r, NULL, rctrls_r, 1);
	return rc == LDAP_SUCCESS ? err : rc;
}

/*
 * Open a connection to server i: options, TCP connect within the connect
 * timeout, StartTLS if asked, and the service account's bind if service.
 */
static enum backend_result
connect_server(struct ldap_ctx *ctx, int i, bool service, LDAP **ld_r,
    const struct op *op)
{
	const struct conf *c = ctx->conf;
	struct timeval tv;
	LDAP *ld = NULL;
	int rc, v3 = LDAP_VERSION3, zero = 0, deref = (int)c->ldap_deref;
	int req = c->ldap_tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
	char *diag = NULL;
	enum backend_result br;

	*ld_r = NULL;
	if (!op_time(op, c->ldap_connect_timeout + c->ldap_timeout, &tv)) {
		snprintf(op->err, op->errlen, "%s: no time left before the deadline", ctx->servers[i].uri);
		return BACKEND_DOWN;
	}
	if ((rc = ldap_initialize(&ld, ctx->servers[i].uri)) != LDAP_SUCCESS)
		return fail(ctx, i, rc, "cannot use this URI", NULL, op);
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(ld, LDAP_OPT_REFERRALS, c->ldap_referrals ? LDAP_OPT_ON : LDAP_OPT_OFF);
	ldap_set_option(ld, LDAP_OPT_DEREF, &deref);
	ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON);
	if (op_time(op, c->ldap_connect_timeout, &tv))
		ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	if (op_time(op, c->ldap_timeout, &tv))
		ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
	/* TLS settings apply to this connection only with a new context. */
	if (c->ldap_ca_file[0] != '\0')
		ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c->ldap_ca_file);
	ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &req);
	ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &watch_cb);

	/* Connect and any TLS handshake: bounded by the watchdog. */
	op_time(op, c->ldap_connect_timeout + c->ldap_timeout, &tv);
	watchdog_arm(&tv);
	rc = ldap_connect(ld);
	if (rc != LDAP_SUCCESS && watch_fired) {
		br = fail(ctx, i, LDAP_TIMEOUT, "connect or TLS handshake", NULL, op);
		goto out;
	}
	if (rc != LDAP_SUCCESS) {
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
		/*
		 * A TLS failure on ldaps:// is misconfiguration, not an outage,
		 * but libldap reports both as "can't contact": say what to check.
		 */
		br = fail(ctx, i, rc, strncmp(ctx->servers[i].uri, "ldaps://", 8) == 0 ?
		    "cannot connect (down, or its certificate not trusted: check [ldap] "
		    "ca_file and that the certificate names this host)" : "cannot connect",
		    diag, op);
		if (diag != NULL && strstr(diag, "TLS") != NULL)
			br = BACKEND_ERROR;
		goto out;
	}
	if (c->ldap_starttls && strncmp(ctx->servers[i].uri, "ldap://", 7) == 0) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		watchdog_disarm();
		if (rc != LDAP_SUCCESS) {
			/*
			 * The server answered the connection, so this is TLS
			 * itself: a certificate not trusted, a name that does
			 * not match, no StartTLS on the server. Misconfiguration.
			 */
			if (rc == LDAP_TIMEOUT || watch_fired) {
				br = fail(ctx, i, LDAP_TIMEOUT, "StartTLS failed", NULL, op);
			} else {
				fail(ctx, i, rc, "StartTLS failed (check [ldap] ca_file and that "
				    "the certificate names this host)", NULL, op);
				br = BACKEND_ERROR;
			}
			goto out;
		}
	}
	watchdog_disarm();
	if (service && c->ldap_bind_dn[0] != '\0') {
		rc = simple_bind(ld, c->ldap_bind_dn, ctx->bindpw, strlen(ctx->bindpw), NULL,
		    op, c->ldap_timeout, &diag, NULL);
		if (rc != LDAP_SUCCESS) {
			br = fail(ctx, i, rc, "service account bind refused", diag, op);
			if (rc == LDAP_INVALID_CREDENTIALS)
				br = BACKEND_ERROR;
			goto out;
		}
	}
	*ld_r = ld;
	ld = NULL;
	br = BACKEND_OK;
out:
	watchdog_disarm();
	ldap_memfree(diag);
	drop(&ld);
	return br;
}

static void
mark_down(struct ldap_ctx *ctx, int i)
{
	set_down_until(&ctx->servers[i], util_monotonic_us() + seconds_us(ctx->conf->ldap_retry));
	log_info("%s: marked down for %llds", ctx->servers[i].uri,
	    ctx->conf->ldap_retry);
}

/*
 * Make sure search_ld is connected to the first server that is up. Goes
 * back to the first server when it is due to be tried again.
 */
static enum backend_result
get_conn(struct ldap_ctx *ctx, const struct op *op)
{
	uint64_t now = util_monotonic_us(), soonest = UINT64_MAX;
	enum backend_result br = BACKEND_DOWN;
	bool tried = false;

	if (ctx->search_ld != NULL && ctx->cur > 0 && now >= ctx->failback_at &&
	    down_until(&ctx->servers[0]) <= now) {
		log_info("failing back to %s", ctx->servers[0].uri);
		drop_all(ctx);
	}
	if (ctx->search_ld != NULL) {
		ctx->reused = true;
		return BACKEND_OK;
	}
	ctx->reused = false;
	for (int i = 0; i < ctx->nservers; i++) {
		enum backend_result r;

		uint64_t until = down_until(&ctx->servers[i]);

		if (until > now) {
			if (until < soonest)
				soonest = until;
			continue;
		}
		tried = true;
		r = connect_server(ctx, i, true, &ctx->search_ld, op);
		if (r == BACKEND_OK) {
			ctx->cur = i;
			set_down_until(&ctx->servers[i], 0);
			ctx->failback_at = now + seconds_us(ctx->conf->ldap_retry);
			return BACKEND_OK;
		}
		/*
		 * Only an outage opens the circuit; misconfiguration (TLS, a
		 * refused service account) is reported as such every time.
		 */
		if (r == BACKEND_DOWN)
			mark_down(ctx, i);
		if (br != BACKEND_ERROR)
			br = r;
		if (util_monotonic_us() >= op->deadline)
			break;
	}
	if (!tried) {
		/*
		 * The circuit is open: answer at once instead of waiting. Keep
		 * the cause if this very request found it.
		 */
		char cause[200];
		snprintf(cause, sizeof(cause), "%s", op->err);
		snprintf(op->err, op->errlen, "all %d directory server%s down; next retry in %llus%s%s%s",
		    ctx->nservers, ctx->nservers == 1 ? " is" : "s are",
		    (unsigned long long)((soonest - now) / 1000000u + 1),
		    cause[0] != '\0' ? " (" : "", cause, cause[0] != '\0' ? ")" : "");
		return BACKEND_DOWN;
	}
	return br;
}

/*
 * After trouble mid-request. A connection kept from earlier requests may
 * just have been closed by the server (idle timeout, restart): reopen it
 * once before calling the server down and failing over. A server that
 * does not answer in time is down at once.
 */
static void
retry_or_fail(struct ldap_ctx *ctx)
{
	if (ctx->cur >= 0 && (!ctx->reused || ctx->last_rc != LDAP_SERVER_DOWN))
		mark_down(ctx, ctx->cur);
	else if (ctx->cur >= 0)
		log_debug("%s: kept connection lost; reconnecting", ctx->servers[ctx->cur].uri);
	drop_all(ctx);
	ctx->reused = false;
}

/* What one request asks the directory: the fields its kind uses. */
struct ask {
	const char *user;
	const char *password;		/* verify */
	size_t len;
	struct verdict *v;
	int (*fn)(const char *group, void *arg);	/* groups */
	void *arg;
	const char *group;		/* in_group */
};

/*
 * Ask on the current server, failing over on server trouble while the
 * deadline allows. *gave_up_r (may be NULL) tells whether the servers
 * and the time ran out rather than an answer or an open circuit ending it.
 */
static enum backend_result
with_failover(struct ldap_ctx *ctx, const struct ask *q, const struct op *op,
    enum backend_result (*once)(struct ldap_ctx *ctx, const struct ask *q,
    const struct op *op), bool *gave_up_r)
{
	enum backend_result br = BACKEND_DOWN;

	if (gave_up_r != NULL)
		*gave_up_r = false;
	for (int attempt = 0; attempt <= ctx->nservers + 1; attempt++) {
		br = once(ctx, q, op);
		if (br != BACKEND_DOWN || ctx->cur < 0)
			return br;
		retry_or_fail(ctx);
		if (util_monotonic_us() >= op->deadline)
			break;
	}
	if (gave_up_r != NULL)
		*gave_up_r = true;
	return BACKEND_DOWN;
}

/*
 * The attribute a template compares the name with: "(uid=%s)" → uid,
 * "uid=%s,ou=people" → uid. False when there is not exactly one %s or it
 * does not follow "attr=".
 */
static bool
login_attr(const char *tmpl, char *attr, size_t size)
{
	const char *p = strstr(tmpl, "=%s"), *start;

	if (p == NULL || strstr(p + 3, "%s") != NULL || strstr(tmpl, "%s") != p + 1)
		return false;
	start = p;
	while (start > tmpl && (isalnum((unsigned char)start[-1]) || start[-1] == '-' ||
	    start[-1] == ';' || start[-1] == '.'))
		start--;
	if (start == p || (size_t)(p - start) >= size)
		return false;
	memcpy(attr, start, (size_t)(p - start));
	attr[p - start] = '\0';
	return true;
}

/*
 * The directory's own spelling of the name must be the one given (ASCII
 * case aside): servers match "alice " or a fullwidth "ａlice" to alice,
 * which would slip past local policy and lockout, keyed by the name sent.
 */
static bool
same_login(LDAP *ld, LDAPMessage *entry, const char *attr, const char *user)
{
	struct berval **vals = ldap_get_values_len(ld, entry, attr);
	size_t len = strlen(user);
	bool same = false;

	for (int i = 0; vals != NULL && vals[i] != NULL && !same; i++)
		same = vals[i]->bv_len == len && strncasecmp(vals[i]->bv_val, user, len) == 0 &&
		    memchr(vals[i]->bv_val, '\0', len) == NULL;
	ldap_value_free_len(vals);
	return same;
}

/*
 * Find the user's DN. Returns OK with *dn_r (ldap_memfree it),
 * UNKNOWN_USER, AMBIGUOUS, or DOWN/ERROR.
 */
static enum backend_result
find_dn(struct ldap_ctx *ctx, const char *user, const struct op *op, char **dn_r)
{
	const struct conf *c = ctx->conf;
	struct ldapesc_var var = { 's', user, strlen(user), LDAPESC_FILTER };
	char filter[FILTER_MAX], attr[64], *attrs[] = { LDAP_NO_ATTRS, NULL }, *diag = NULL;
	const char *why;
	struct timeval tv, limit;
	LDAPMessage *res = NULL;
	int msgid, rc, err = LDAP_OTHER, count;
	bool check = login_attr(c->ldap_filter, attr, sizeof(attr));
	enum backend_result br;

	*dn_r = NULL;
	if (check)
		attrs[0] = attr;
	if (ldapesc_fill(c->ldap_filter, &var, 1, filter, sizeof(filter), &why) < 0) {
		snprintf(op->err, op->errlen, "[ldap] filter: %s", why);
		return BACKEND_UNKNOWN_USER;
	}
	if (!op_time(op, c->ldap_timeout, &tv)) {
		snprintf(op->err, op->errlen, "deadline passed before the search");
		return BACKEND_DOWN;
	}
	limit = tv;
	/* Two entries are enough to know the name is ambiguous. */
	rc = ldap_search_ext(ctx->search_ld, c->ldap_base, (int)c->ldap_scope, filter, attrs,
	    0, NULL, NULL, &limit, 2, &msgid);
	if (rc == LDAP_SUCCESS)
		rc = wait_result(ctx->search_ld, msgid, op, c->ldap_timeout, &res);
	if (rc != LDAP_SUCCESS)
		return fail(ctx, ctx->cur, rc, "search failed", NULL, op);
	count = ldap_count_entries(ctx->search_ld, res);
	rc = ldap_parse_result(ctx->search_ld, res, &err, NULL, &diag, NULL, NULL, 0);
	if (rc == LDAP_SUCCESS && err == LDAP_NO_SUCH_OBJECT) {
		/* The base itself is missing: configuration, not the user. */
		br = fail(ctx, ctx->cur, err, "search failed: check [ldap] base", diag, op);
		br = BACKEND_ERROR;
	} else if (rc == LDAP_SUCCESS && err != LDAP_SUCCESS && err != LDAP_SIZELIMIT_EXCEEDED) {
		br = fail(ctx, ctx->cur, err, "search failed", diag, op);
	} else if (count > 1 || err == LDAP_SIZELIMIT_EXCEEDED) {
		br = BACKEND_AMBIGUOUS;
	} else if (count == 0) {
		br = BACKEND_UNKNOWN_USER;
	} else if (check && !same_login(ctx->search_ld, ldap_first_entry(ctx->search_ld, res),
	    attr, user)) {
		snprintf(op->err, op->errlen, "the directory spells this name differently");
		br = BACKEND_UNKNOWN_USER;
	} else {
		*dn_r = ldap_get_dn(ctx->search_ld, ldap_first_entry(ctx->search_ld, res));
		br = *dn_r != NULL ? BACKEND_OK : BACKEND_ERROR;
	}
	ldap_memfree(diag);
	ldap_msgfree(res);
	return br;
}

/* Bind as dn with the user's password and map the answer. */
static enum backend_result
user_bind(struct ldap_ctx *ctx, const char *dn, const char *pw, size_t len,
    struct verdict *v, const struct op *op)
{
	LDAPControl *ppreq = NULL, *sctrls[2] = { NULL, NULL }, **rctrls = NULL, *pp;
	LDAPPasswordPolicyError pperr = PP_noError;
	ber_int_t expire = -1, grace = -1;
	char *diag = NULL;
	enum backend_result br;
	bool proven;
	int rc;

	if (ctx->bind_ld == NULL) {
		br = connect_server(ctx, ctx->cur, false, &ctx->bind_ld, op);
		if (br != BACKEND_OK)
			return br;
	}
	if (ldap_create_passwordpolicy_control(ctx->bind_ld, &ppreq) == LDAP_SUCCESS)
		sctrls[0] = ppreq;
	rc = simple_bind(ctx->bind_ld, dn, pw, len, sctrls, op, ctx->conf->ldap_timeout,
	    &diag, &rctrls);
	if (ppreq != NULL)
		ldap_control_free(ppreq);
	if (rctrls != NULL &&
	    (pp = ldap_control_find(LDAP_CONTROL_PASSWORDPOLICYRESPONSE, rctrls, NULL)) != NULL)
		ldap_parse_passwordpolicy_control(ctx->bind_ld, pp, &expire, &grace, &pperr);
	ldap_controls_free(rctrls);

	switch (rc) {
	case LDAP_SUCCESS:
		if (pperr == PP_changeAfterReset) {
			v->password_proven = true;
			snprintf(op->err, op->errlen, "password must be changed after a reset");
			br = BACKEND_EXPIRED;
		} else {
			br = BACKEND_OK;
		}
		break;
	case LDAP_INVALID_CREDENTIALS:
		if (pperr == PP_accountLocked) {
			snprintf(op->err, op->errlen, "account locked by the password policy");
			br = BACKEND_LOCKED;
		} else if (pperr == PP_passwordExpired) {
			v->password_proven = true;
			snprintf(op->err, op->errlen, "password expired by the password policy");
			br = BACKEND_EXPIRED;
		} else {
			br = ldapdiag_ad(diag, &proven);
			v->password_proven = proven;
			if (diag != NULL && *diag != '\0')
				snprintf(op->err, op->errlen, "%.200s", diag);
		}
		break;
	case LDAP_INVALID_DN_SYNTAX:
	case LDAP_NO_SUCH_OBJECT:
		/* A name no entry can have (invalid UTF-8 in a DN template). */
		br = BACKEND_BAD_PASSWORD;
		break;
	default:
		br = fail(ctx, ctx->cur, rc, "bind failed", diag, op);
		if (br == BACKEND_DOWN)
			drop(&ctx->bind_ld);
		break;
	}
	ldap_memfree(diag);
	return br;
}

/* Compare mode (-U): check the password against an attribute. */
static enum backend_result
user_compare(struct ldap_ctx *ctx, const char *dn, const char *pw, size_t len,
    const struct op *op)
{
	struct berval bv = { (ber_len_t)len, (char *)pw };
	LDAPMessage *res;
	int msgid, rc, err = LDAP_OTHER;

	rc = ldap_compare_ext(ctx->search_ld, dn, ctx->conf->ldap_password_attr, &bv,
	    NULL, NULL, &msgid);
	if (rc == LDAP_SUCCESS)
		rc = wait_result(ctx->search_ld, msgid, op, ctx->conf->ldap_timeout, &res);
	if (rc != LDAP_SUCCESS)
		return fail(ctx, ctx->cur, rc, "compare failed", NULL, op);
	rc = ldap_parse_result(ctx->search_ld, res, &err, NULL, NULL, NULL, NULL, 1);
	if (rc != LDAP_SUCCESS)
		err = rc;
	if (err == LDAP_COMPARE_TRUE)
		return BACKEND_OK;
	/* With a DN template an unknown user is an entry that is not there. */
	if (err == LDAP_COMPARE_FALSE || err == LDAP_NO_SUCH_ATTRIBUTE ||
	    err == LDAP_NO_SUCH_OBJECT || err == LDAP_INVALID_DN_SYNTAX)
		return BACKEND_BAD_PASSWORD;
	return fail(ctx, ctx->cur, err, "compare failed", NULL, op);
}

/*
 * The user's DN: the DN template filled in (RFC 4514 escaping), or the one
 * entry the search finds. Returns OK with dn, UNKNOWN_USER (no entry, or a
 * name no template can hold), AMBIGUOUS, DOWN or ERROR.
 */
static enum backend_result
user_dn(struct ldap_ctx *ctx, const char *user, const struct op *op, char dn[static DN_MAX])
{
	const struct conf *c = ctx->conf;
	enum backend_result br;
	const char *why;
	char *found;

	if (c->ldap_dn_template[0] != '\0') {
		struct ldapesc_var var = { 's', user, strlen(user), LDAPESC_DN };
		if (ldapesc_fill(c->ldap_dn_template, &var, 1, dn, DN_MAX, &why) < 0) {
			snprintf(op->err, op->errlen, "dn_template: %s", why);
			return BACKEND_UNKNOWN_USER;
		}
		return BACKEND_OK;
	}
	if ((br = find_dn(ctx, user, op, &found)) != BACKEND_OK)
		return br;
	snprintf(dn, DN_MAX, "%s", found);
	ldap_memfree(found);
	return BACKEND_OK;
}

/*
 * DN-template mode: the entry bound to must carry the name as given (the
 * server may have matched "alice " to uid=alice).
 */
static enum backend_result
template_login(struct ldap_ctx *ctx, const char *dn, const char *user, const struct op *op)
{
	char attr[64], *attrs[2] = { attr, NULL };
	LDAPMessage *res = NULL;
	enum backend_result br;
	int rc;

	if (!login_attr(ctx->conf->ldap_dn_template, attr, sizeof(attr)))
		return BACKEND_OK;
	rc = search(ctx, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, op, &res);
	if (rc == LDAP_SUCCESS && ldap_first_entry(ctx->search_ld, res) != NULL)
		br = same_login(ctx->search_ld, ldap_first_entry(ctx->search_ld, res), attr, user) ?
		    BACKEND_OK : BACKEND_BAD_PASSWORD;
	else if (rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_SUCCESS)
		br = BACKEND_BAD_PASSWORD;
	else
		br = fail(ctx, ctx->cur, rc, "reading the user's entry failed", NULL, op);
	ldap_msgfree(res);
	return br;
}

/* One attempt on the current server: find the DN and check the password. */
static enum backend_result
verify_once(struct ldap_ctx *ctx, const struct ask *q, const struct op *op)
{
	const struct conf *c = ctx->conf;
	const char *user = q->user, *pw = q->password;
	size_t len = q->len;
	struct verdict *v = q->v;
	char dn[DN_MAX];
	enum backend_result br;

	br = get_conn(ctx, op);
	if (br == BACKEND_OK)
		br = user_dn(ctx, user, op, dn);
	if (br != BACKEND_OK)
		goto out;
	if (c->ldap_password_attr[0] != '\0')
		br = user_compare(ctx, dn, pw, len, op);
	else
		br = user_bind(ctx, dn, pw, len, v, op);
	if (br == BACKEND_OK && c->ldap_dn_template[0] != '\0')
		br = template_login(ctx, dn, user, op);
out:
	/*
	 * Without a search, an unknown DN and a wrong password look the same
	 * to LDAP: report bad_password for both.
	 */
	if (br == BACKEND_UNKNOWN_USER && c->ldap_dn_template[0] != '\0')
		br = BACKEND_BAD_PASSWORD;
	return br;
}

static enum backend_result
ldapb_verify(void *vctx, const char *user, const char *password, size_t len,
    struct backend_account *acct, struct verdict *v, char *err, size_t errlen)
{
	struct ldap_ctx *ctx = vctx;
	struct op op = {
		util_monotonic_us() + seconds_us(ctx->conf->ldap_deadline), err, errlen
	};
	struct ask q = { user, password, len, v, NULL, NULL, NULL };
	enum backend_result br;
	bool gave_up;

	(void)acct;
	/* An empty password would be an anonymous bind, which succeeds. */
	if (len == 0)
		return BACKEND_BAD_PASSWORD;
	br = with_failover(ctx, &q, &op, verify_once, &gave_up);
	if (!gave_up)
		return br;
	if (util_monotonic_us() >= op.deadline) {
		char cause[160];
		snprintf(cause, sizeof(cause), "%s", op.err);
		snprintf(err, errlen, "directory did not answer within %llds (%s)",
		    ctx->conf->ldap_deadline, cause);
	}
	return BACKEND_DOWN;
}

/* The value of the first RDN of dn ("cn=staff,ou=groups,…" → "staff"). */
static int
rdn_value(const char *dn, char *out, size_t size)
{
	LDAPDN parsed = NULL;
	int rc = -1;

	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS &&
	    parsed != NULL && parsed[0] != NULL && parsed[0][0] != NULL) {
		struct berval *bv = &parsed[0][0]->la_value;
		if (bv->bv_len < size) {
			memcpy(out, bv->bv_val, bv->bv_len);
			out[bv->bv_len] = '\0';
			rc = 0;
		}
	}
	ldap_dnfree(parsed);
	return rc;
}

/* Report every value of attr in the entries of res to fn. */
/* True if dn is base or below it (compared case-insensitively, as text). */
static bool
under_base(const char *dn, const char *base)
{
	size_t dl = strlen(dn), bl = strlen(base);

	if (bl == 0)
		return true;
	if (dl < bl || strcasecmp(dn + dl - bl, base) != 0)
		return false;
	return dl == bl || dn[dl - bl - 1] == ',';
}

static int
each_value(LDAP *ld, LDAPMessage *res, const char *attr, bool is_dn,
    const char *within, int (*fn)(const char *group, void *arg), void *arg)
{
	int n = 0;
	bool stop = false;

	for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL && !stop;
	    e = ldap_next_entry(ld, e)) {
		struct berval **vals = ldap_get_values_len(ld, e, attr);
		for (int i = 0; vals != NULL && vals[i] != NULL; i++) {
			char name[512];
			if (memchr(vals[i]->bv_val, '\0', vals[i]->bv_len) != NULL)
				continue;
			if (is_dn) {
				char dn[DN_MAX];
				if (vals[i]->bv_len >= sizeof(dn))
					continue;
				memcpy(dn, vals[i]->bv_val, vals[i]->bv_len);
				dn[vals[i]->bv_len] = '\0';
				/* Only groups under group_base, when one is set. */
				if (within != NULL && !under_base(dn, within))
					continue;
				if (rdn_value(dn, name, sizeof(name)) != 0 ||
				    memchr(name, '\0', strlen(name) + 1) != name + strlen(name))
					continue;
			} else {
				if (vals[i]->bv_len >= sizeof(name))
					continue;
				memcpy(name, vals[i]->bv_val, vals[i]->bv_len);
				name[vals[i]->bv_len] = '\0';
			}
			n++;
			if (fn(name, arg) != 0) {
				stop = true;
				break;
			}
		}
		ldap_value_free_len(vals);
	}
	return n;
}

/* Search and wait within the op's time; *res_r on success. */
static int
search(struct ldap_ctx *ctx, const char *base, int scope, const char *filter,
    char **attrs, const struct op *op, LDAPMessage **res_r)
{
	struct timeval tv;
	int msgid, rc, err = LDAP_OTHER;

	*res_r = NULL;
	if (!op_time(op, ctx->conf->ldap_timeout, &tv))
		return LDAP_TIMEOUT;
	rc = ldap_search_ext(ctx->search_ld, base, scope, filter, attrs, 0, NULL, NULL,
	    &tv, 0, &msgid);
	if (rc == LDAP_SUCCESS)
		rc = wait_result(ctx->search_ld, msgid, op, ctx->conf->ldap_timeout, res_r);
	if (rc != LDAP_SUCCESS)
		return rc;
	rc = ldap_parse_result(ctx->search_ld, *res_r, &err, NULL, NULL, NULL, NULL, 0);
	return rc != LDAP_SUCCESS ? rc : err;
}

/* The groups of one user, on the current server. */
static enum backend_result
groups_once(struct ldap_ctx *ctx, const struct ask *q, const struct op *op)
{
	const struct conf *c = ctx->conf;
	const char *user = q->user;
	int (*fn)(const char *group, void *arg) = q->fn;
	void *arg = q->arg;
	char dn[DN_MAX], filter[FILTER_MAX], *attrs[2] = { NULL, NULL };
	const char *why, *base;
	LDAPMessage *res = NULL;
	enum backend_result br;
	int rc;

	if ((br = get_conn(ctx, op)) != BACKEND_OK)
		return br;
	if ((br = user_dn(ctx, user, op, dn)) != BACKEND_OK)
		return br;
	if (c->ldap_user_group_attr[0] != '\0') {
		/* Groups listed on the user's entry (memberOf). */
		attrs[0] = c->ldap_user_group_attr;
		rc = search(ctx, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, op, &res);
		if (rc == LDAP_SUCCESS)
			each_value(ctx->search_ld, res, c->ldap_user_group_attr, true,
			    c->ldap_group_base, fn, arg);
		if (rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_INVALID_DN_SYNTAX) {
			ldap_msgfree(res);
			return BACKEND_UNKNOWN_USER;
		}
	} else {
		struct ldapesc_var vars[2] = {
			{ 'u', user, strlen(user), LDAPESC_FILTER },
			{ 'd', dn, strlen(dn), LDAPESC_FILTER },
		};
		if (ldapesc_fill(c->ldap_group_filter, vars, 2, filter, sizeof(filter), &why) < 0) {
			snprintf(op->err, op->errlen, "[ldap] group_filter: %s", why);
			return BACKEND_ERROR;
		}
		attrs[0] = c->ldap_group_attr;
		base = c->ldap_group_base[0] != '\0' ? c->ldap_group_base : c->ldap_base;
		rc = search(ctx, base, (int)c->ldap_group_scope, filter, attrs, op, &res);
		if (rc == LDAP_SUCCESS || rc == LDAP_NO_SUCH_OBJECT)
			each_value(ctx->search_ld, res, c->ldap_group_attr, false, NULL, fn, arg);
		if (rc == LDAP_NO_SUCH_OBJECT)
			rc = LDAP_SUCCESS;
	}
	ldap_msgfree(res);
	if (rc != LDAP_SUCCESS)
		return fail(ctx, ctx->cur, rc, "group search failed", NULL, op);
	return BACKEND_OK;
}

static enum backend_result
ldapb_groups(void *vctx, const char *user,
    int (*fn)(const char *group, void *arg), void *arg, char *err, size_t errlen)
{
	struct ldap_ctx *ctx = vctx;
	struct op op = {
		util_monotonic_us() + seconds_us(ctx->conf->ldap_deadline), err, errlen
	};
	struct ask q = { user, NULL, 0, NULL, fn, arg, NULL };

	return with_failover(ctx, &q, &op, groups_once, NULL);
}

/* One membership test with a group filter that names the group (%g). */
static enum backend_result
in_group_once(struct ldap_ctx *ctx, const struct ask *q, const struct op *op)
{
	const struct conf *c = ctx->conf;
	const char *user = q->user, *group = q->group;
	char dn[DN_MAX] = "", filter[FILTER_MAX], *attrs[] = { LDAP_NO_ATTRS, NULL };
	const char *why, *base;
	LDAPMessage *res = NULL;
	enum backend_result br;
	int rc, count;

	if ((br = get_conn(ctx, op)) != BACKEND_OK)
		return br;
	/* The user's DN only when the filter wants it (%d). */
	if (strstr(c->ldap_group_filter, "%d") != NULL &&
	    (br = user_dn(ctx, user, op, dn)) != BACKEND_OK)
		return br;
	{
		struct ldapesc_var vars[3] = {
			{ 'u', user, strlen(user), LDAPESC_FILTER },
			{ 'd', dn, strlen(dn), LDAPESC_FILTER },
			{ 'g', group, strlen(group), LDAPESC_FILTER },
		};
		if (ldapesc_fill(c->ldap_group_filter, vars, 3, filter, sizeof(filter), &why) < 0) {
			snprintf(op->err, op->errlen, "[ldap] group_filter: %s", why);
			return BACKEND_ERROR;
		}
	}
	base = c->ldap_group_base[0] != '\0' ? c->ldap_group_base : c->ldap_base;
	rc = search(ctx, base, (int)c->ldap_group_scope, filter, attrs, op, &res);
	count = rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED ?
	    ldap_count_entries(ctx->search_ld, res) : 0;
	ldap_msgfree(res);
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && rc != LDAP_NO_SUCH_OBJECT)
		return fail(ctx, ctx->cur, rc, "group search failed", NULL, op);
	return count > 0 ? BACKEND_OK : BACKEND_UNKNOWN_USER;
}

static enum backend_result
ldapb_in_group(void *vctx, const char *user, const char *group, char *err,
    size_t errlen)
{
	struct ldap_ctx *ctx = vctx;
	struct op op = {
		util_monotonic_us() + seconds_us(ctx->conf->ldap_deadline), err, errlen
	};
	struct ask q = { user, NULL, 0, NULL, NULL, NULL, group };

	return with_failover(ctx, &q, &op, in_group_once, NULL);
}

struct allow_cb {
	int (*fn)(const char *cidr, void *arg);
	void *arg;
};

static int
allow_value(const char *value, void *arg)
{
	struct allow_cb *cb = arg;

	return cb->fn(value, cb->arg);
}

static int
ldapb_allow_entries(void *vctx, int (*fn)(const char *cidr, void *arg), void *arg,
    char *err, size_t errlen)
{
	struct ldap_ctx *ctx = vctx;
	const struct conf *c = ctx->conf;
	struct op op = {
		util_monotonic_us() + seconds_us(c->ldap_deadline), err, errlen
	};
	struct allow_cb cb = { fn, arg };
	char *attrs[2] = { c->ldap_allow_attr, NULL };
	LDAPMessage *res = NULL;
	int n = -1;

	for (int attempt = 0; attempt <= ctx->nservers + 1; attempt++) {
		int rc;
		if (get_conn(ctx, &op) != BACKEND_OK)
			break;
		rc = search(ctx, c->ldap_allow_base, LDAP_SCOPE_SUBTREE, c->ldap_allow_filter,
		    attrs, &op, &res);
		if (rc == LDAP_SUCCESS) {
			n = each_value(ctx->search_ld, res, c->ldap_allow_attr, false, NULL, allow_value, &cb);
			ldap_msgfree(res);
			break;
		}
		ldap_msgfree(res);
		res = NULL;
		if (fail(ctx, ctx->cur, rc, "allow-list search failed", NULL, &op) != BACKEND_DOWN)
			break;
		retry_or_fail(ctx);
		if (util_monotonic_us() >= op.deadline)
			break;
	}
	return n;
}

const struct backend_ops backend_ldap = {
	.allow_entries = ldapb_allow_entries,
	.in_group = ldapb_in_group,
	.name = "ldap",
	.open = ldapb_open,
	.verify = ldapb_verify,
	.groups = ldapb_groups,
	.close = ldapb_close,
};
