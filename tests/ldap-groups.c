/*
 * ldap-groups: print the groups the library finds for each user named,
 * one "user: group group ..." line each, with the helpers' configuration.
 * For the integration tests of the group lookup (the external ACL helper
 * uses the same call).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "engine.h"
#include "pwhash.h"

static int
print_group(const char *group, void *arg)
{
	(void)arg;
	printf(" %s", group);
	return 0;
}

int
main(int argc, char **argv)
{
	struct conf *conf = conf_new();
	struct engine *e;
	char err[512];
	int rc = 0;

	if (argc < 3 || pwhash_init() != 0) {
		fprintf(stderr, "usage: ldap-groups CONFIG USER...\n");
		return 2;
	}
	if (conf_load(conf, argv[1], true, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	e = engine_new(conf, NULL);
	for (int i = 2; i < argc; i++) {
		printf("%s:", argv[i]);
		switch (engine_groups(e, argv[i], print_group, NULL, err, sizeof(err))) {
		case 1: printf("\n"); break;
		case 0: printf(" (not found: %s)\n", err); break;
		default: printf(" (error: %s)\n", err); rc = 3; break;
		}
	}
	engine_free(e);
	return rc;
}
