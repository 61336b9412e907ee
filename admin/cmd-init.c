/* cuttle init: the store directory, cuttle.db, schema migrations. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "pwhash.h"

#define DIR_MODE  02770	/* setgid: files made in it get Squid's group */
#define FILE_MODE 0660

/* mkdir -p for the parents; they are ordinary directories (0755). */
static int
make_parents(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		return 0;
	*slash = '\0';
	if (mkdir(path, 0755) == 0 ||
	    (errno == ENOENT && make_parents(path) == 0 && mkdir(path, 0755) == 0)) {
		/* Squid's user must pass through; the CLI's umask would stop it. */
		(void)chmod(path, 0755);
	}
	*slash = '/';
	return 0;
}

static int
own(const char *path, gid_t gid, mode_t mode)
{
	if (chown(path, (uid_t)-1, gid) != 0) {
		admin_err("%s: cannot give it group %u: %s (run `cuttle init` as root, "
		    "or set [store] squid_group to a group of yours)", path,
		    (unsigned)gid, strerror(errno));
		return -1;
	}
	if (chmod(path, mode) != 0) {
		admin_err("%s: chmod: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* True if dir holds nothing but cuttle's stores (and their WAL files). */
static bool
only_stores(const char *dir)
{
	static const char *const ours[] = { "cuttle.db", "state.db", "audit.db" };
	struct dirent *de;
	DIR *d = opendir(dir);
	bool clean = true;

	if (d == NULL)
		return false;
	while (clean && (de = readdir(d)) != NULL) {
		bool mine = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
		for (size_t i = 0; !mine && i < sizeof(ours) / sizeof(ours[0]); i++)
			mine = strncmp(de->d_name, ours[i], strlen(ours[i])) == 0;
		clean = mine;
	}
	closedir(d);
	return clean;
}

static int
prepare_dir(const char *dir, gid_t gid, const char *group)
{
	struct stat st;
	char *copy;

	if (stat(dir, &st) != 0) {
		if (errno != ENOENT) {
			admin_err("%s: %s", dir, strerror(errno));
			return -1;
		}
		if ((copy = strdup(dir)) == NULL)
			return -1;
		make_parents(copy);
		free(copy);
		if (mkdir(dir, 0700) != 0) {
			admin_err("%s: cannot create the store directory: %s", dir, strerror(errno));
			return -1;
		}
		printf("created %s (mode 2770, group %s)\n", dir, group);
	} else if (!S_ISDIR(st.st_mode)) {
		admin_err("%s: not a directory", dir);
		return -1;
	} else if ((st.st_mode & (S_IWOTH | S_ISVTX)) != 0 || !only_stores(dir)) {
		/*
		 * The store directory is narrowed to Squid's group, so it must
		 * be the store's own: never a shared one such as /tmp or
		 * /var/lib. An empty one (made by a package, say) is fine.
		 */
		admin_err("%s: holds other files or is shared (mode %04o); give the store a "
		    "directory of its own, e.g. --db %s/cuttle/cuttle.db",
		    dir, (unsigned)(st.st_mode & 07777), strcmp(dir, "/") == 0 ? "" : dir);
		return -1;
	}
	return own(dir, gid, DIR_MODE);
}

/* Fix the group and mode of a database and its WAL files. */
static int
own_db(const char *path, gid_t gid)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char file[4096];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		if (access(file, F_OK) == 0 && own(file, gid, FILE_MODE) != 0)
			return -1;
	}
	return 0;
}

/*
 * Create or migrate one database of the store. Returns the version it
 * started from, or -1 after saying why. With st_r, the store stays open.
 */
static int
init_db(const char *path, const struct store_migration *schema, gid_t gid,
    long long busy, struct store **st_r)
{
	struct store *st;
	char err[512];
	int from;

	if (store_open_schema(path, schema, STORE_CREATE, busy, &st, err, sizeof(err)) != STORE_OK) {
		admin_err("%s", err);
		return -1;
	}
	from = store_migrate(st, err, sizeof(err));
	if (from < 0)
		admin_err("%s", err);
	/* The WAL files exist while a connection is open: fix them now too. */
	if (from >= 0 && own_db(path, gid) != 0)
		from = -1;
	if (from >= 0 && st_r != NULL)
		*st_r = st;
	else
		store_close(st);
	return from;
}

static void
report(const char *path, int from, int to)
{
	if (from == 0)
		printf("initialised %s (schema version %d)\n", path, to);
	else if (from < to)
		printf("migrated %s from schema version %d to %d\n", path, from, to);
	else
		printf("%s is up to date (schema version %d)\n", path, from);
}

/* The secret key for repeated-password tags: made once, never shown. */
static int
make_tag_key(struct store *st)
{
	unsigned char key[32];
	char hex[65], err[512];
	int rc;

	rc = store_setting_get(st, "tag_key", hex, sizeof(hex), err, sizeof(err));
	if (rc == 1)
		return 0;
	pwhash_random(key, sizeof(key));
	pwhash_bin2hex(key, sizeof(key), hex);
	pwhash_zero(key, sizeof(key));
	rc = store_setting_set(st, "tag_key", hex, err, sizeof(err));
	pwhash_zero(hex, sizeof(hex));
	if (rc != STORE_OK) {
		admin_err("%s", err);
		return -1;
	}
	return 0;
}

int
cmd_init(struct admin *a, int argc, char **argv)
{
	char *path = a->conf->store_path, *dircopy, audit[4096], state[4096];
	struct group *gr;
	struct store *st = NULL;
	gid_t gid;
	int from, afrom, rc;

	if (argc > 1)
		return admin_usage("init", "unexpected argument '%s'", argv[1]);
	gr = getgrnam(a->conf->squid_group);
	if (gr == NULL) {
		admin_err("[store] squid_group: no group '%s' on this system (install squid, "
		    "or set squid_group in %s to the group Squid's helpers run as)",
		    a->conf->squid_group, a->config_path);
		return EXIT_USAGE;
	}
	gid = gr->gr_gid;
	if ((dircopy = strdup(path)) == NULL)
		return EXIT_STORE;
	rc = prepare_dir(dirname(dircopy), gid, a->conf->squid_group);
	free(dircopy);
	if (rc != 0)
		return EXIT_STORE;

	if ((from = init_db(path, store_migrations, gid, a->conf->busy_timeout, &st)) < 0)
		return EXIT_STORE;
	rc = admin_refresh_dummy(a, st);
	if (rc == 0 && own_db(path, gid) != 0)
		rc = EXIT_STORE;
	store_close(st);
	if (rc != 0)
		return rc;
	report(path, from, store_schema_version());
	conf_audit_path(a->conf, audit, sizeof(audit));
	if ((afrom = init_db(audit, audit_migrations, gid, a->conf->busy_timeout, NULL)) < 0)
		return EXIT_STORE;
	report(audit, afrom, store_schema_latest(audit_migrations));
	conf_beside_store(a->conf, "state.db", state, sizeof(state));
	if ((afrom = init_db(state, state_migrations, gid, a->conf->busy_timeout, &st)) < 0)
		return EXIT_STORE;
	rc = make_tag_key(st);
	store_close(st);
	if (rc != 0)
		return EXIT_STORE;
	report(state, afrom, store_schema_latest(state_migrations));
	return EXIT_DONE;
}
