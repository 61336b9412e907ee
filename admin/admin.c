#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "admin.h"
#include "pwhash.h"

void
admin_err(const char *fmt, ...)
{
	va_list ap;

	fputs("cuttle: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
admin_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cuttle %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see `cuttle help %s`)\n", cmd);
	return EXIT_USAGE;
}

struct store *
admin_open_store(struct admin *a, int *exit_r)
{
	struct store *st;
	char err[512];
	int rc;

	rc = store_open(a->conf->store_path, STORE_WRITE, a->conf->busy_timeout,
	    &st, err, sizeof(err));
	if (rc != STORE_OK) {
		admin_err("%s", err);
		*exit_r = EXIT_STORE;
		return NULL;
	}
	return st;
}

int
admin_user_name(struct admin *a, const char *cmd, const char *arg,
    char name[static UTIL_NAME_MAX + 1])
{
	const char *why;
	size_t len = strlen(arg);

	if (!util_name_valid(arg, len, &why))
		return admin_usage(cmd, "'%.60s': %s", arg, why);
	memcpy(name, arg, len + 1);
	if (a->conf->username_case == CONF_CASE_FOLD)
		util_fold_name(name);
	return 0;
}

/* Read one line from fd into buf without its line end. */
static int
read_line(int fd, char *buf, size_t size, size_t *len_r)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (c == '\n')
			break;
		if (n + 1 >= size)
			return -2;
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len_r = n;
	return 0;
}

static int
check_password(const char *buf, size_t len)
{
	if (len == 0) {
		admin_err("empty password refused");
		return EXIT_NO;
	}
	if (memchr(buf, '\0', len) != NULL) {
		admin_err("password contains a NUL byte");
		return EXIT_NO;
	}
	return 0;
}

static int
prompt(int fd, const char *text, char *buf, size_t size, size_t *len_r)
{
	struct termios old, quiet;
	int rc;

	if (write(fd, text, strlen(text)) < 0)
		return -1;
	if (tcgetattr(fd, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
		return -1;
	rc = read_line(fd, buf, size, len_r);
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		rc = -1;
	return rc;
}

/* An alphabet without look-alikes (0/O, 1/l/I) for passwords read aloud. */
static const char gen_alphabet[] =
    "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
#define GEN_LENGTH 20	/* 57^20: about 116 bits */

int
admin_new_password(enum pw_source src, const char *user, char *buf,
    size_t size, size_t *len_r)
{
	char again[ADMIN_PASSWORD_MAX + 1], text[UTIL_NAME_MAX + 64];
	size_t len2;
	int fd, rc;

	switch (src) {
	case PW_GENERATE:
		for (size_t i = 0; i < GEN_LENGTH; i++)
			buf[i] = gen_alphabet[pwhash_uniform(sizeof(gen_alphabet) - 1)];
		buf[GEN_LENGTH] = '\0';
		*len_r = GEN_LENGTH;
		return 0;
	case PW_STDIN:
		rc = read_line(STDIN_FILENO, buf, size, len_r);
		if (rc == -2) {
			admin_err("password on stdin is longer than %d bytes", ADMIN_PASSWORD_MAX);
			return EXIT_USAGE;
		}
		return check_password(buf, *len_r);
	case PW_PROMPT:
		break;
	case PW_NONE:
		buf[0] = '\0';
		*len_r = 0;
		return 0;
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		admin_err("no terminal to ask for the password on: use --password-stdin or --generate");
		return EXIT_USAGE;
	}
	snprintf(text, sizeof(text), "New password for %s: ", user);
	rc = prompt(fd, text, buf, size, len_r);
	if (rc == 0 && (rc = check_password(buf, *len_r)) == 0) {
		rc = prompt(fd, "Retype the new password: ", again, sizeof(again), &len2);
		if (rc == 0 && (len2 != *len_r || memcmp(again, buf, len2) != 0)) {
			admin_err("the passwords do not match; nothing changed");
			rc = EXIT_NO;
		}
	}
	if (rc == -2)
		admin_err("the password is longer than %d bytes", ADMIN_PASSWORD_MAX);
	else if (rc == -1)
		admin_err("reading the password from the terminal failed");
	if (rc < 0)
		rc = rc == -2 ? EXIT_USAGE : EXIT_STORE;
	pwhash_zero(again, sizeof(again));
	close(fd);
	return rc;
}

int
admin_read_password(enum pw_source src, const char *user, char *buf, size_t size,
    size_t *len_r)
{
	char text[UTIL_NAME_MAX + 32];
	int fd, rc;

	if (src == PW_STDIN)
		return admin_new_password(PW_STDIN, user, buf, size, len_r);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		admin_err("no terminal to ask for the password on: use --password-stdin");
		return EXIT_USAGE;
	}
	snprintf(text, sizeof(text), "Password for %s: ", user);
	rc = prompt(fd, text, buf, size, len_r);
	close(fd);
	if (rc < 0) {
		admin_err("reading the password from the terminal failed");
		return EXIT_USAGE;
	}
	return 0;
}

int
admin_refresh_dummy(struct admin *a, struct store *st)
{
	char cur[PWHASH_STR_MAX], fresh[PWHASH_STR_MAX], rnd[32], err[512];
	int rc;

	rc = store_setting_get(st, "dummy_hash", cur, sizeof(cur), err, sizeof(err));
	if (rc < 0) {
		admin_err("%s", err);
		return EXIT_STORE;
	}
	if (rc == 1 && !pwhash_needs_rehash(cur, a->conf->opslimit, a->conf->memlimit))
		return 0;
	/* A random password nobody knows, hashed with the configured limits. */
	pwhash_random(rnd, sizeof(rnd));
	rc = pwhash_make(rnd, sizeof(rnd), a->conf->opslimit, a->conf->memlimit, fresh);
	pwhash_zero(rnd, sizeof(rnd));
	if (rc != 0) {
		admin_err("cannot hash: out of memory (lower [hash] memlimit?)");
		return EXIT_STORE;
	}
	if (store_begin(st, err, sizeof(err)) != STORE_OK ||
	    store_setting_set(st, "dummy_hash", fresh, err, sizeof(err)) != STORE_OK ||
	    store_commit(st, err, sizeof(err)) != STORE_OK) {
		store_rollback(st);
		admin_err("%s", err);
		return EXIT_STORE;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at p, or 0 if it is not one. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n;
	unsigned cp;

	if (*p < 0x80)
		return 1;
	if ((*p & 0xe0) == 0xc0) {
		n = 2;
		cp = *p & 0x1f;
	} else if ((*p & 0xf0) == 0xe0) {
		n = 3;
		cp = *p & 0x0f;
	} else if ((*p & 0xf8) == 0xf0) {
		n = 4;
		cp = *p & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void
admin_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p >= 0x80) {
			size_t n = utf8_len(p);
			if (n == 0) {
				/* JSON must be UTF-8: show a stray byte as U+FFFD. */
				fputs("\\ufffd", f);
			} else {
				fwrite(p, 1, n, f);
				p += n - 1;
			}
			continue;
		}
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

int
admin_parse(const char *cmd, int argc, char **argv, const struct admin_opt *opts,
    const char **pos, int min, int max)
{
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const struct admin_opt *o = NULL;

		if (arg[0] == '-' && arg[1] == '-') {
			for (const struct admin_opt *q = opts; q != NULL && q->name != NULL; q++)
				if (strcmp(q->name, arg) == 0)
					o = q;
			if (o == NULL)
				return admin_usage(cmd, "unknown option '%s'", arg);
			if (o->flag != NULL) {
				*o->flag = true;
				continue;
			}
			if (i + 1 >= argc)
				return admin_usage(cmd, "option %s needs a value", arg);
			if (o->values != NULL) {
				if (*o->nvalues >= o->max)
					return admin_usage(cmd, "too many %s", arg);
				o->values[(*o->nvalues)++] = argv[++i];
			} else {
				*o->value = argv[++i];
			}
		} else if (npos < max) {
			pos[npos++] = arg;
		} else {
			return admin_usage(cmd, "unexpected argument '%s'", arg);
		}
	}
	if (npos < min)
		return admin_usage(cmd, "missing argument");
	return 0;
}

int
admin_check_name(const char *cmd, const char *what, const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64 || strspn(name,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") != len)
		return admin_usage(cmd, "%s '%.70s': use 1 to 64 letters, digits, '.', '_', '@' or '-'",
		    what, name);
	return 0;
}

int
admin_write(struct admin *a, int (*fn)(struct store *st, void *ctx, char *err,
    size_t errlen), void *ctx)
{
	char err[512] = "";
	struct store *st;
	int ex, rc;

	if ((st = admin_open_store(a, &ex)) == NULL)
		return ex;
	if (store_begin(st, err, sizeof(err)) != STORE_OK) {
		admin_err("%s", err);
		store_close(st);
		return EXIT_STORE;
	}
	rc = fn(st, ctx, err, sizeof(err));
	if (rc == EXIT_DONE && store_commit(st, err, sizeof(err)) != STORE_OK)
		rc = EXIT_STORE;
	if (rc != EXIT_DONE) {
		store_rollback(st);
		if (rc == EXIT_STORE && err[0] != '\0')
			admin_err("%s", err);
	}
	store_close(st);
	return rc;
}

int
admin_check_comment(const char *cmd, const char *comment)
{
	if (strlen(comment) > ADMIN_COMMENT_MAX)
		return admin_usage(cmd, "--comment is longer than %d bytes", ADMIN_COMMENT_MAX);
	for (const unsigned char *p = (const unsigned char *)comment; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return admin_usage(cmd, "--comment contains a control character");
	return 0;
}

int
admin_list(struct admin *a, const char *sql, const char *const *args, int nargs,
    int (*row)(const char *const *cols, int ncols, void *ctx), struct admin_list *list)
{
	struct store *st;
	char err[512];
	int ex, rc;

	if ((st = admin_open_store(a, &ex)) == NULL)
		return ex;
	rc = store_read(st, sql, args, nargs, row, list, err, sizeof(err));
	store_close(st);
	if (rc != STORE_OK) {
		admin_err("%s", err);
		return EXIT_STORE;
	}
	admin_list_end(list);
	return EXIT_DONE;
}

void
admin_list_end(const struct admin_list *list)
{
	if (list->json)
		fputs(list->count == 0 ? "[]\n" : "\n]\n", stdout);
}
