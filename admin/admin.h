/* The `cuttle` admin CLI: shared context, the command table, helpers. */
#ifndef CUTTLE_ADMIN_H
#define CUTTLE_ADMIN_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"
#include "store.h"

/* Exit statuses (DESIGN.md): done; refused/negative; usage; store failure. */
enum { EXIT_DONE = 0, EXIT_NO = 1, EXIT_USAGE = 2, EXIT_STORE = 3 };

struct admin {
	struct conf *conf;
	const char *config_path;
};

struct admin_cmd {
	const char *name;	/* "user add" */
	const char *args;	/* "NAME [--password-stdin | --generate] ..." */
	int (*run)(struct admin *a, int argc, char **argv);
	const char *help;	/* one or more sentences */
};

extern const struct admin_cmd admin_cmds[];

/* The handlers: argv[0] is the last command word, options follow. */
int cmd_init(struct admin *a, int argc, char **argv);
int cmd_user_add(struct admin *a, int argc, char **argv);
int cmd_user_passwd(struct admin *a, int argc, char **argv);
int cmd_user_del(struct admin *a, int argc, char **argv);
int cmd_user_lock(struct admin *a, int argc, char **argv);
int cmd_user_unlock(struct admin *a, int argc, char **argv);
int cmd_user_disable(struct admin *a, int argc, char **argv);
int cmd_user_enable(struct admin *a, int argc, char **argv);
int cmd_user_set(struct admin *a, int argc, char **argv);
int cmd_user_list(struct admin *a, int argc, char **argv);
int cmd_user_show(struct admin *a, int argc, char **argv);

/* Print "cuttle: <message>" to stderr. */
void admin_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a usage error for cmd and return EXIT_USAGE. */
int admin_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Open the store for a command. On failure prints why (naming `cuttle
 * init` for a missing store) and returns NULL with *exit_r set.
 */
struct store *admin_open_store(struct admin *a, int *exit_r);

/*
 * The user name an argument names: checked and folded as the helpers
 * fold it. Returns 0, or prints why and returns EXIT_USAGE.
 */
int admin_user_name(struct admin *a, const char *cmd, const char *arg,
    char name[static UTIL_NAME_MAX + 1]);

/* PW_NONE: no local password; the user logs in through LDAP. */
enum pw_source { PW_PROMPT, PW_STDIN, PW_GENERATE, PW_NONE };

/*
 * Get a new password of at most ADMIN_PASSWORD_MAX bytes into buf, which
 * must hold ADMIN_PASSWORD_MAX + 1 (zero it after use): prompt twice on the
 * terminal without echo, read one line of stdin, or generate one (the
 * caller prints a generated one, once). Returns 0 or an exit status after
 * printing why.
 */
int admin_new_password(enum pw_source src, const char *user, char *buf,
    size_t size, size_t *len_r);

/* Make (or refresh) the dummy hash unknown users are verified against. */
int admin_refresh_dummy(struct admin *a, struct store *st);

/* Write s as a JSON string. */
void admin_json_string(FILE *f, const char *s);

#define ADMIN_PASSWORD_MAX 1024

#endif
