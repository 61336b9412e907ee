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
	bool config_required;	/* given with --config */
};

struct admin_cmd {
	const char *name;	/* "user add" */
	const char *args;	/* "NAME [--password-stdin | --generate] ..." */
	int (*run)(struct admin *a, int argc, char **argv);
	const char *help;	/* one or more sentences */
	bool changes;		/* recorded in the audit log (who changed what) */
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
int cmd_user_groups(struct admin *a, int argc, char **argv);
int cmd_user_net_add(struct admin *a, int argc, char **argv);
int cmd_user_net_del(struct admin *a, int argc, char **argv);
int cmd_user_net_list(struct admin *a, int argc, char **argv);
int cmd_group_add(struct admin *a, int argc, char **argv);
int cmd_group_del(struct admin *a, int argc, char **argv);
int cmd_group_list(struct admin *a, int argc, char **argv);
int cmd_group_members(struct admin *a, int argc, char **argv);
int cmd_allow_add(struct admin *a, int argc, char **argv);
int cmd_allow_del(struct admin *a, int argc, char **argv);
int cmd_allow_list(struct admin *a, int argc, char **argv);
int cmd_allow_import(struct admin *a, int argc, char **argv);
int cmd_audit(struct admin *a, int argc, char **argv);
int cmd_audit_stats(struct admin *a, int argc, char **argv);
int cmd_audit_prune(struct admin *a, int argc, char **argv);
int cmd_audit_why(struct admin *a, int argc, char **argv);
int cmd_check(struct admin *a, int argc, char **argv);
int cmd_status(struct admin *a, int argc, char **argv);

/* Record a CLI change (argv from the command words on) and its status. */
void admin_log_change(struct admin *a, int argc, char **argv, int status);

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

/*
 * Read a password to check (not a new one): one line of stdin, or one
 * prompt on the terminal without echo. Returns 0 or an exit status.
 */
int admin_read_password(enum pw_source src, const char *user, char *buf,
    size_t size, size_t *len_r);

/* Make (or refresh) the dummy hash unknown users are verified against. */
int admin_refresh_dummy(struct admin *a, struct store *st);

/*
 * Command-line options of one command: each "--name" either sets *flag or
 * takes the next argument into *value (the last one wins; for repeatable
 * ones, values collects up to max of them). Positional arguments go to
 * pos[], at least min and at most max. Returns 0 or EXIT_USAGE after
 * printing why.
 */
struct admin_opt {
	const char *name;
	const char **value;
	bool *flag;
	const char **values;	/* repeatable */
	int *nvalues;
	int max;
};
int admin_parse(const char *cmd, int argc, char **argv,
    const struct admin_opt *opts, const char **pos, int min, int max);

/* Check a group or list name: 1..64 of [A-Za-z0-9._@-]. 0 or EXIT_USAGE. */
int admin_check_name(const char *cmd, const char *what, const char *name);

/* Run fn in a BEGIN IMMEDIATE transaction; prints errors; an exit status. */
int admin_write(struct admin *a, int (*fn)(struct store *st, void *ctx,
    char *err, size_t errlen), void *ctx);

/* Make user a member of groups (inside the caller's transaction). */
int admin_add_memberships(struct store *st, const char *user,
    const char **groups, int n, char *err, size_t errlen);

/*
 * A listing: a table with a header, or a JSON array with one element per
 * row. Row printers take a context that starts with this.
 */
struct admin_list {
	bool json;
	int count;	/* rows printed so far */
};

/*
 * Print the rows sql returns (row prints one, with list as its context),
 * then end the listing. Returns an exit status (errors printed).
 */
int admin_list(struct admin *a, const char *sql, const char *const *args, int nargs,
    int (*row)(const char *const *cols, int ncols, void *ctx), struct admin_list *list);

/* End a listing: close its JSON array ("[]" when there were no rows). */
void admin_list_end(const struct admin_list *list);

/* Write s as a JSON string. */
void admin_json_string(FILE *f, const char *s);

#define ADMIN_PASSWORD_MAX 1024
#define ADMIN_COMMENT_MAX 1000

/* Check a --comment: at most ADMIN_COMMENT_MAX bytes, no control characters. */
int admin_check_comment(const char *cmd, const char *comment);

#endif
