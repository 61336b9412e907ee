/* cuttle: the admin CLI. main() parses global options and dispatches. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "pwhash.h"

static int cmd_help(struct admin *a, int argc, char **argv);

const struct admin_cmd admin_cmds[] = {
	{ "init", "", cmd_init,
	  "Create the store directory, cuttle.db and its schema, or migrate an older "
	  "store to the current schema; fix ownership and modes. Safe to run again." },
	{ "user add", "NAME [--password-stdin | --generate | --no-password] "
	  "[--expires YYYY-MM-DD] [--comment TEXT]",
	  cmd_user_add,
	  "Add a user. Without --password-stdin or --generate, asks for the password "
	  "twice on the terminal. --generate prints a new random password once. "
	  "--no-password makes a local record for a directory (LDAP) user: its "
	  "state and expiry apply, the directory checks the password." },
	{ "user passwd", "NAME [--password-stdin | --generate | --no-password]", cmd_user_passwd,
	  "Set a user's password (--no-password: leave it to the directory)." },
	{ "user del", "NAME", cmd_user_del, "Delete a user." },
	{ "user lock", "NAME [--for DURATION]", cmd_user_lock,
	  "Lock a user out until `user unlock`, or for DURATION (30s, 10m, 1h, 7d)." },
	{ "user unlock", "NAME", cmd_user_unlock,
	  "Clear an admin lock and any automatic lockout of a user." },
	{ "user disable", "NAME", cmd_user_disable,
	  "Disable a user until `user enable`." },
	{ "user enable", "NAME", cmd_user_enable, "Enable a disabled user." },
	{ "user set", "NAME [--expires YYYY-MM-DD | --expires never] [--comment TEXT]",
	  cmd_user_set,
	  "Change a user's expiry (valid through that day, UTC; `never` removes it) "
	  "or comment." },
	{ "user list", "[--json]", cmd_user_list,
	  "List users with their state and expiry." },
	{ "user show", "NAME [--json]", cmd_user_show, "Show one user." },
	{ "help", "[COMMAND]", cmd_help, "Describe the commands, or one of them." },
	{ NULL, NULL, NULL, NULL }
};

static void
print_cmd(FILE *f, const struct admin_cmd *c, bool long_form)
{
	fprintf(f, "  cuttle %s%s%s\n", c->name, c->args[0] != '\0' ? " " : "", c->args);
	if (long_form)
		fprintf(f, "      %s\n", c->help);
}

static void
general_usage(FILE *f)
{
	fprintf(f, "usage: cuttle [--config FILE] [--db PATH] COMMAND [ARGS]\n\ncommands:\n");
	for (const struct admin_cmd *c = admin_cmds; c->name != NULL; c++)
		print_cmd(f, c, false);
	fprintf(f, "\n`cuttle help COMMAND` describes one; cuttle(8) has the details.\n");
}

/* Find the command that argv starts with (one or two words). */
static const struct admin_cmd *
find_cmd(int argc, char **argv, int *words_r)
{
	for (const struct admin_cmd *c = admin_cmds; c->name != NULL; c++) {
		const char *sp = strchr(c->name, ' ');
		if (sp == NULL) {
			if (argc >= 1 && strcmp(argv[0], c->name) == 0) {
				*words_r = 1;
				return c;
			}
		} else if (argc >= 2 && strncmp(argv[0], c->name, (size_t)(sp - c->name)) == 0 &&
		    argv[0][sp - c->name] == '\0' && strcmp(argv[1], sp + 1) == 0) {
			*words_r = 2;
			return c;
		}
	}
	return NULL;
}

static int
cmd_help(struct admin *a, int argc, char **argv)
{
	char want[64] = "";
	int shown = 0;

	(void)a;
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(want);
		snprintf(want + n, sizeof(want) - n, "%s%s", n > 0 ? " " : "", argv[i]);
	}
	if (want[0] == '\0') {
		general_usage(stdout);
		return EXIT_DONE;
	}
	/* "help user" shows every user command; "help user add" just one. */
	for (const struct admin_cmd *c = admin_cmds; c->name != NULL; c++) {
		size_t n = strlen(want);
		if (strcmp(c->name, want) == 0 ||
		    (strncmp(c->name, want, n) == 0 && c->name[n] == ' ')) {
			print_cmd(stdout, c, true);
			shown++;
		}
	}
	if (shown == 0) {
		admin_err("no command '%s' (try `cuttle help`)", want);
		return EXIT_USAGE;
	}
	return EXIT_DONE;
}

int
main(int argc, char **argv)
{
	struct admin a = { 0 };
	const char *db = NULL, *error;
	char err[512];
	bool config_required = false;
	const struct admin_cmd *cmd;
	int i, words, rc;

	/* Nothing the CLI creates is ever reachable by other users. */
	umask(007);
	util_no_core_dumps();
	a.conf = conf_new();
	a.config_path = CONF_DEFAULT_PATH;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "--db") == 0) &&
		    i + 1 < argc) {
			if (argv[i][2] == 'c') {
				a.config_path = argv[++i];
				config_required = true;
			} else {
				db = argv[++i];
			}
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			general_usage(stdout);
			return EXIT_DONE;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("cuttle %s\n", PACKAGE_VERSION);
			return EXIT_DONE;
		} else {
			fprintf(stderr, "cuttle: unknown or incomplete option '%s'\n", argv[i]);
			general_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		general_usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_cmd(argc - i, argv + i, &words);
	if (cmd == NULL) {
		admin_err("unknown command '%s' (try `cuttle help`)", argv[i]);
		return EXIT_USAGE;
	}
	if (cmd->run == cmd_help)
		return cmd_help(&a, argc - i, argv + i);
	if (conf_load(a.conf, a.config_path, config_required, err, sizeof(err)) != 0) {
		admin_err("%s", err);
		conf_free(a.conf);
		return EXIT_USAGE;
	}
	if (db != NULL && conf_set(a.conf, "store", "path", db, &error) != 0) {
		admin_err("--db %s: %s", db, error);
		conf_free(a.conf);
		return EXIT_USAGE;
	}
	if (pwhash_init() != 0) {
		admin_err("libsodium failed to initialise");
		return EXIT_STORE;
	}
	/* Handlers see their arguments after the command words, as argv[1..]. */
	rc = cmd->run(&a, argc - i - words + 1, argv + i + words - 1);
	conf_free(a.conf);
	return rc;
}
