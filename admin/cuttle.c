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
	  "store to the current schema; fix ownership and modes. Safe to run again.", true },
	{ "user add", "NAME [--password-stdin | --generate | --no-password] "
	  "[--expires YYYY-MM-DD] [--comment TEXT] [--group GROUP]...",
	  cmd_user_add,
	  "Add a user. Without --password-stdin or --generate, asks for the password "
	  "twice on the terminal. --generate prints a new random password once. "
	  "--no-password makes a local record for a directory (LDAP) user: its "
	  "state and expiry apply, the directory checks the password.", true },
	{ "user passwd", "NAME [--password-stdin | --generate | --no-password]", cmd_user_passwd,
	  "Set a user's password (--no-password: leave it to the directory).", true },
	{ "user del", "NAME", cmd_user_del, "Delete a user.", true },
	{ "user lock", "NAME [--for DURATION]", cmd_user_lock,
	  "Lock a user out until `user unlock`, or for DURATION (30s, 10m, 1h, 7d).", true },
	{ "user unlock", "NAME", cmd_user_unlock,
	  "Clear an admin lock and any automatic lockout of a user.", true },
	{ "user disable", "NAME", cmd_user_disable,
	  "Disable a user until `user enable`.", true },
	{ "user enable", "NAME", cmd_user_enable, "Enable a disabled user.", true },
	{ "user set", "NAME [--expires YYYY-MM-DD | --expires never] [--comment TEXT]",
	  cmd_user_set,
	  "Change a user's expiry (valid through that day, UTC; `never` removes it) "
	  "or comment.", true },
	{ "user list", "[--json]", cmd_user_list,
	  "List users with their state and expiry.", false },
	{ "user show", "NAME [--json]", cmd_user_show, "Show one user.", false },
	{ "user groups", "NAME [--add GROUP]... [--del GROUP]... [--json]", cmd_user_groups,
	  "List a user's groups, or add and remove memberships (all or nothing).", true },
	{ "user net add", "NAME CIDR", cmd_user_net_add,
	  "Bind a user to a network: from then on it logs in only from its networks.", true },
	{ "user net del", "NAME CIDR", cmd_user_net_del, "Remove a network from a user.", true },
	{ "user net list", "NAME [--json]", cmd_user_net_list, "List a user's networks.", false },
	{ "group add", "NAME [--comment TEXT]", cmd_group_add, "Create a group.", true },
	{ "group del", "NAME", cmd_group_del, "Delete a group (its members stay).", true },
	{ "group list", "[--json]", cmd_group_list, "List groups with their member counts.", false },
	{ "group members", "NAME [--json]", cmd_group_members, "List a group's members.", false },
	{ "allow add", "CIDR [--list NAME] [--comment TEXT] [--expires YYYY-MM-DD]", cmd_allow_add,
	  "Let an address or prefix (IPv4 or IPv6) in without credentials "
	  "(ext_cuttle_acl). The list is `default` unless named.", true },
	{ "allow del", "CIDR [--list NAME]", cmd_allow_del, "Remove an entry from an allow list.", true },
	{ "allow list", "[--list NAME] [--json]", cmd_allow_list, "List allow-list entries.", false },
	{ "allow import", "FILE [--list NAME] [--replace]", cmd_allow_import,
	  "Load entries, one per line (# comments; - for stdin), all or nothing; "
	  "--replace swaps the whole list at once.", true },
	{ "check", "NAME [--ip ADDR] [--password-stdin]", cmd_check,
	  "Run a login through the helpers' decision path without Squid: prints the "
	  "verdict and its reason; exit 0 OK, 1 ERR, 3 BH. Recorded in the audit log as "
	  "a check.", false },
	{ "audit", "[--user U] [--ip ADDR|CIDR] [--result ok|err|bh] [--reason R] "
	  "[--since 1h|2026-11-30] [--limit N] [--json] [--follow] [--admin | --squid]", cmd_audit,
	  "Show recorded decisions, newest last (--follow: keep printing new ones; "
	  "--admin: changes made with cuttle, and by whom; --squid: what Squid answered, "
	  "from log_cuttle_daemon).", false },
	{ "audit stats", "[--since …] [--json]", cmd_audit_stats,
	  "Decisions per result and reason, top failing users and addresses.", false },
	{ "audit prune", "--older-than DURATION", cmd_audit_prune,
	  "Delete audit records older than DURATION (helpers prune after [audit] retention).",
	  true },
	{ "audit why", "NAME | --ip ADDR [--since DURATION]", cmd_audit_why,
	  "Explain in plain words what happened to a user (or an address) recently, "
	  "and what to do.", false },
	{ "status", "[--json]", cmd_status,
	  "Show the helper processes running now and their counters: requests, "
	  "results, cache hits, queue, workers, directory circuit state (recorded by "
	  "each helper a second after it starts, then every 10 s; SIGUSR1 writes them "
	  "to its stderr, Squid's cache.log).", false },
	{ "help", "[COMMAND]", cmd_help, "Describe the commands, or one of them.", false },
	{ NULL, NULL, NULL, NULL, false }
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

/* Find the command whose words argv starts with ("user net add"). */
static const struct admin_cmd *
find_cmd(int argc, char **argv, int *words_r)
{
	const struct admin_cmd *best = NULL;
	int best_words = 0;

	for (const struct admin_cmd *c = admin_cmds; c->name != NULL; c++) {
		const char *p = c->name;
		int w = 0;

		while (*p != '\0' && w < argc) {
			size_t len = strcspn(p, " ");
			if (strlen(argv[w]) != len || strncmp(argv[w], p, len) != 0)
				break;
			w++;
			p += len;
			p += strspn(p, " ");
		}
		if (*p == '\0' && w > best_words) {
			best = c;
			best_words = w;
		}
	}
	*words_r = best_words;
	return best;
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
				a.config_required = true;
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
	if (conf_load(a.conf, a.config_path, a.config_required, err, sizeof(err)) != 0) {
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
	if (cmd->changes && rc != EXIT_USAGE)
		admin_log_change(&a, argc - i, argv + i, rc);
	conf_free(a.conf);
	return rc;
}
