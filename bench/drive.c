/*
 * drive: feed a Squid helper a request stream the way Squid would (a pipe
 * on its stdin, replies on its stdout), time it, and check every answer.
 * Built and used by bench/run; not installed.
 *
 *   drive [-c] [-r REPEAT] [-W WINDOW] [-u USER] [-t SECONDS] [-w WARMUP-FILE] FILE -- COMMAND [ARGS...]
 *
 * Each line of FILE (and of WARMUP-FILE) is "X<TAB>request", where X is
 * the answer expected for that request: O (OK), E (ERR), B (BH) or - (any).
 * Everything after the tab is sent as is, so with -c the request starts
 * with its channel ID.
 *
 * -w: the warm-up requests go first; the clock starts only once every one
 *     of them is answered, so FILE is timed on a warm helper (its caches
 *     filled, its start-up over). Without -w the clock starts before the
 *     first byte is written (the helper is started just before the files
 *     are loaded, so part of its start-up overlaps that).
 * -c: replies carry channel IDs and may come in any order; each reply is
 *     matched to a request by its ID. An ID may be reused (in flight more
 *     than once) only by requests that expect the same answer: the driver
 *     checks that when it loads the file, then counts per ID. Without -c
 *     replies are matched in order.
 * -r: time FILE this many times in a row in the same process (after the
 *     warm-up) and report the fastest repetition (other load on the
 *     machine only ever slows one down); wrong_total counts wrong answers
 *     over all of them.
 * -W: at most this many requests in flight (sent, not yet answered), as
 *     Squid keeps at most `concurrency` per helper (default: no limit).
 * -u: run the command as this user (its groups too), as Squid runs its
 *     helpers as cache_effective_user; done here rather than with runuser
 *     so that the peak RSS is the helper's alone.
 * -t: a time budget in seconds (default 900) for the warm-up and the timed
 *     part together: when it runs out the helper (its whole process
 *     group) is killed and the figures are those of the replies so far,
 *     with timed_out=1.
 *
 * The requests are written as fast as the helper takes them (within the
 * window, if one is given), while its replies are read.
 * Prints one line:
 *   secs=S warm_secs=S lines=N replies=N ok=N err=N bh=N other=N
 *   correct=N wrong=N unmatched=N maxrss_kb=N exit_secs=S status=N
 *   timed_out=0|1 reps=N wrong_total=N
 * for the timed part: correct/wrong count replies whose expected answer
 * was given; unmatched counts replies with an ID nobody was waiting for.
 * maxrss_kb is the peak RSS of the command and whatever it waited for
 * (wait4), as /usr/bin/time reports it. exit_secs is how long the helper
 * took to exit after its stdin was closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct stream {
	char *buf;	/* the requests, newline-terminated, as sent */
	size_t len;
	size_t lines;
	char *expect;	/* per line (in order), or per ID with -c */
};

static int channel_ids;
static char *id_expect;		/* -c: expected answer per ID */
static uint32_t *id_pending;	/* -c: requests in flight per ID */
static size_t id_cap;

struct tally {
	size_t replies, ok, err, bh, other, correct, wrong, unmatched;
};

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		die(path);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
		die(path);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static int
parse_id(const char *p, const char *end, size_t *id, const char **rest)
{
	size_t v = 0;
	const char *s = p;

	while (p < end && *p >= '0' && *p <= '9' && p - s < 12)
		v = v * 10 + (size_t)(*p++ - '0');
	if (p == s || (p < end && *p != ' '))
		return -1;
	*id = v;
	*rest = p < end ? p + 1 : p;
	return 0;
}

static void
id_grow(size_t id)
{
	size_t cap = id_cap ? id_cap : 1024;

	if (id < id_cap)
		return;
	while (cap <= id)
		cap *= 2;
	id_expect = realloc(id_expect, cap);
	id_pending = realloc(id_pending, cap * sizeof(*id_pending));
	if (id_expect == NULL || id_pending == NULL)
		die("realloc");
	memset(id_expect + id_cap, 0, cap - id_cap);
	memset(id_pending + id_cap, 0, (cap - id_cap) * sizeof(*id_pending));
	id_cap = cap;
}

/* "X<TAB>request" lines → the bytes to send and the expectations. */
static void
load(const char *path, struct stream *s)
{
	size_t len, cap = 1024;
	char *in = slurp(path, &len), *p = in, *end = in + len, *out;

	s->buf = out = malloc(len + 1);
	s->expect = malloc(cap);
	s->lines = 0;
	if (out == NULL || s->expect == NULL)
		die("malloc");
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char x = *p;
		size_t n;

		if (nl == NULL)
			nl = end;
		if (nl - p < 2 || p[1] != '\t' || strchr("OEB-", x) == NULL) {
			fprintf(stderr, "drive: %s:%zu: want X<TAB>request\n", path, s->lines + 1);
			exit(2);
		}
		p += 2;
		n = (size_t)(nl - p);
		memcpy(out, p, n);
		out += n;
		*out++ = '\n';
		if (channel_ids) {
			size_t id;
			const char *rest;

			if (parse_id(p, nl, &id, &rest) != 0) {
				fprintf(stderr, "drive: %s:%zu: no channel ID\n", path, s->lines + 1);
				exit(2);
			}
			id_grow(id);
			if (id_expect[id] != 0 && id_expect[id] != x) {
				fprintf(stderr, "drive: %s:%zu: ID %zu reused for another expected answer\n",
				    path, s->lines + 1, id);
				exit(2);
			}
			id_expect[id] = x;
		}
		if (s->lines == cap) {
			cap *= 2;
			s->expect = realloc(s->expect, cap);
			if (s->expect == NULL)
				die("realloc");
		}
		s->expect[s->lines++] = x;
		p = nl + 1;
	}
	s->len = (size_t)(out - s->buf);
	free(in);
}

static void
count_pending(const struct stream *s)
{
	const char *p = s->buf, *end = s->buf + s->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t id;
		const char *rest;

		if (parse_id(p, nl, &id, &rest) == 0)
			id_pending[id]++;
		p = nl + 1;
	}
}

static void
judge(char want, const char *word, size_t wlen, struct tally *t)
{
	char got = '?';

	if (wlen == 2 && memcmp(word, "OK", 2) == 0)
		got = 'O', t->ok++;
	else if (wlen == 3 && memcmp(word, "ERR", 3) == 0)
		got = 'E', t->err++;
	else if (wlen == 2 && memcmp(word, "BH", 2) == 0)
		got = 'B', t->bh++;
	else
		t->other++;
	if (want != '-') {
		if (got == want)
			t->correct++;
		else
			t->wrong++;
	}
}

/* One reply line (without its newline). */
static void
reply(const char *p, const char *end, const struct stream *s, struct tally *t)
{
	const char *w;
	char want;

	if (channel_ids) {
		size_t id;

		if (parse_id(p, end, &id, &p) != 0 || id >= id_cap || id_pending[id] == 0) {
			t->unmatched++;
			t->replies++;
			return;
		}
		id_pending[id]--;
		want = id_expect[id];
	} else {
		want = t->replies < s->lines ? s->expect[t->replies] : '-';
	}
	t->replies++;
	for (w = p; w < end && *w != ' '; w++)
		;
	judge(want, p, (size_t)(w - p), t);
}

static int to_child = -1, from_child = -1;
static pid_t child;
static char rbuf[1 << 20];
static size_t rhave;
static double deadline;
static int timed_out;
static size_t window;

/* Send s, read until every line is answered. 0, or -1 on EOF/timeout. */
static int
run(const struct stream *s, struct tally *t)
{
	size_t sent = 0, lim = 0, lim_lines = 0;

	memset(t, 0, sizeof(*t));
	if (channel_ids)
		count_pending(s);
	while (t->replies < s->lines) {
		struct pollfd pfd[2] = {
			{ .fd = from_child, .events = POLLIN },
			{ .fd = to_child, .events = POLLOUT },
		};
		int n;

		/* lim: the end of the last line the window lets us send. */
		if (window == 0)
			lim = s->len;
		while (lim < s->len && lim_lines < t->replies + window) {
			const char *nl = memchr(s->buf + lim, '\n', s->len - lim);

			lim = (size_t)(nl - s->buf) + 1;
			lim_lines++;
		}
		n = poll(pfd, sent < lim ? 2 : 1, 200);

		if (n < 0 && errno != EINTR)
			die("poll");
		if (now() > deadline) {
			timed_out = 1;
			return -1;
		}
		if (n <= 0)
			continue;
		if (sent < lim && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(to_child, s->buf + sent, lim - sent);

			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "drive: write: %s\n", strerror(errno));
				return -1;
			}
			if (w > 0)
				sent += (size_t)w;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(from_child, rbuf + rhave, sizeof(rbuf) - rhave);
			char *p = rbuf, *end, *nl;

			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				fprintf(stderr, "drive: helper closed its output with %zu of %zu lines answered\n",
				    t->replies, s->lines);
				return -1;
			}
			rhave += (size_t)r;
			end = rbuf + rhave;
			while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
				reply(p, nl, s, t);
				p = nl + 1;
			}
			rhave = (size_t)(end - p);
			memmove(rbuf, p, rhave);
			if (rhave == sizeof(rbuf)) {
				fprintf(stderr, "drive: reply line too long\n");
				return -1;
			}
		}
	}
	return 0;
}

/* Interrupted: take the helper (its own process group) along. */
static void
on_signal(int sig)
{
	if (child > 0)
		kill(-child, SIGKILL);
	_exit(128 + sig);
}

static void
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl");
}

int
main(int argc, char **argv)
{
	const char *warm_path = NULL, *user = NULL;
	struct passwd *pw = NULL;
	struct stream warm = { 0 }, main_s = { 0 };
	struct tally wt, t = { 0 };
	struct rusage ru;
	double t0, t1, t2, warm_secs = 0, limit = 900;
	int in[2], out[2], c, st = 0, failed = 0, reps = 1, rep;
	size_t wrong_total = 0;
	double best = -1;

	while ((c = getopt(argc, argv, "+cw:t:W:r:u:")) != -1) {
		switch (c) {
		case 'u':
			user = optarg;
			break;
		case 'r':
			reps = atoi(optarg);
			if (reps < 1)
				reps = 1;
			break;
		case 'W':
			window = (size_t)atol(optarg);
			break;
		case 'c':
			channel_ids = 1;
			break;
		case 'w':
			warm_path = optarg;
			break;
		case 't':
			limit = atof(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind < 3 || strcmp(argv[optind + 1], "--") != 0) {
usage:
		fprintf(stderr, "usage: drive [-c] [-r REPEAT] [-W WINDOW] [-u USER] [-t SECONDS] [-w WARMUP-FILE] FILE -- COMMAND [ARGS...]\n");
		return 2;
	}
	/*
	 * The helper is started before the requests are loaded: a process's
	 * peak RSS (ru_maxrss) includes what it had before exec, and a fork
	 * of a driver holding a million requests would count them.
	 */
	if (user != NULL && (pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "drive: no user %s\n", user);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (pipe(in) != 0 || pipe(out) != 0)
		die("pipe");
	/* Roomy pipes, the same for every helper measured. */
	(void)fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
	(void)fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		setpgid(0, 0); /* so that a timeout can kill all of it */
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		if (pw != NULL && (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
		    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0))
			_exit(126);
		execvp(argv[optind + 2], argv + optind + 2);
		_exit(127);
	}
	setpgid(child, child);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	close(in[0]);
	close(out[1]);
	to_child = in[1];
	from_child = out[0];
	nonblock(to_child);
	nonblock(from_child);
	if (warm_path != NULL)
		load(warm_path, &warm);
	load(argv[optind], &main_s);

	deadline = now() + limit;
	t0 = now();
	if (warm_path != NULL) {
		if (run(&warm, &wt) != 0)
			failed = 1;
		warm_secs = now() - t0;
		if (wt.wrong)
			fprintf(stderr, "drive: %zu wrong answers during the warm-up\n", wt.wrong);
	}
	for (rep = 0; rep < reps && !failed; rep++) {
		struct tally rt;
		double d;

		t1 = now();
		if (run(&main_s, &rt) != 0)
			failed = 1;
		t2 = now();
		d = t2 - t1;
		wrong_total += rt.wrong;
		/* A failed repetition is reported only when none succeeded. */
		if (best < 0 || (!failed && d < best)) {
			best = d;
			t = rt;
		}
	}
	if (best < 0)
		best = 0;
	t2 = now();
	close(to_child);
	if (failed)
		kill(-child, SIGKILL);
	/* Drain whatever is left until the helper closes its output; kill
	 * it if it has not exited 30 s after its stdin was closed. */
	for (;;) {
		char b[65536];
		struct pollfd pfd = { .fd = from_child, .events = POLLIN };
		ssize_t r;

		if (now() > t2 + 30)
			break;
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		r = read(from_child, b, sizeof(b));
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
	memset(&ru, 0, sizeof(ru));
	for (;;) {
		pid_t w = wait4(child, &st, WNOHANG, &ru);

		if (w == child)
			break;
		if (w < 0 && errno != EINTR)
			die("wait4");
		if (now() > t2 + 30) {
			fprintf(stderr, "drive: helper still running 30 s after end of input; killed\n");
			kill(-child, SIGKILL);
			if (wait4(child, &st, 0, &ru) < 0)
				die("wait4");
			break;
		}
		usleep(2000);
	}
	printf("secs=%.6f warm_secs=%.3f lines=%zu replies=%zu ok=%zu err=%zu bh=%zu other=%zu "
	    "correct=%zu wrong=%zu unmatched=%zu maxrss_kb=%ld exit_secs=%.3f status=%d timed_out=%d "
	    "reps=%d wrong_total=%zu\n",
	    best, warm_secs, main_s.lines, t.replies, t.ok, t.err, t.bh, t.other, t.correct,
	    t.wrong, t.unmatched, ru.ru_maxrss, now() - t2,
	    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), timed_out, rep, wrong_total);
	return failed ? 1 : 0;
}
