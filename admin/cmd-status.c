/* cuttle status: the running helpers and their counters (from state.db). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "status.h"

/* The value of key in "key=value ..." counters, or def. */
static const char *
counter(const char *counters, const char *key, char *buf, size_t size, const char *def)
{
	size_t klen = strlen(key);

	for (const char *p = counters; *p != '\0'; p += strcspn(p, " "), p += strspn(p, " ")) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t vlen = strcspn(p + klen + 1, " ");
			snprintf(buf, size, "%.*s", (int)vlen, p + klen + 1);
			return buf;
		}
	}
	return def;
}

static unsigned long long
num(const char *counters, const char *key)
{
	char buf[32];

	return strtoull(counter(counters, key, buf, sizeof(buf), "0"), NULL, 10);
}

struct show {
	bool json;
	int rows;
};

static void
print_json(const struct status_row *r, int first)
{
	const char *p = r->counters;

	printf("%s\n  {\"pid\": %ld, \"program\": ", first ? "" : ",", (long)r->pid);
	admin_json_string(stdout, r->program);
	printf(", \"started\": %lld, \"updated\": %lld, \"counters\": {", r->started, r->updated);
	for (int i = 0; *(p += strspn(p, " ")) != '\0'; i++) {
		size_t len = strcspn(p, " "), klen = strcspn(p, "=");
		char key[64], val[64];
		if (klen < len && klen < sizeof(key) && len - klen - 1 < sizeof(val)) {
			snprintf(key, sizeof(key), "%.*s", (int)klen, p);
			snprintf(val, sizeof(val), "%.*s", (int)(len - klen - 1), p + klen + 1);
			printf("%s\"%s\": ", i > 0 ? ", " : "", key);
			if (val[0] != '\0' && strspn(val, "0123456789") == strlen(val))
				printf("%s", val);
			else
				admin_json_string(stdout, val);
		}
		p += len;
	}
	printf("}}");
}

static int
show_row(const struct status_row *r, void *arg)
{
	struct show *s = arg;
	const char *c = r->counters;
	unsigned long long ok, err = 0, bh, req = num(c, "requests"), hits = num(c, "cache_hits");
	long long up = (long long)time(NULL) - r->started;
	char circuit[32], upbuf[32];

	if (s->json) {
		print_json(r, s->rows == 0);
		s->rows++;
		return 0;
	}
	if (s->rows++ == 0)
		printf("%-7s %-18s %8s %9s %8s %8s %6s %6s %5s %7s  %s\n", "PID", "PROGRAM", "UP",
		    "REQUESTS", "OK", "ERR", "BH", "CACHE%", "QUEUE", "WORKERS", "LDAP");
	ok = num(c, "ok");
	bh = num(c, "bad_request") + num(c, "backend_down") + num(c, "backend_error");
	err = req >= ok + bh ? req - ok - bh : 0;
	if (up >= 86400)
		snprintf(upbuf, sizeof(upbuf), "%lldd%lldh", up / 86400, up % 86400 / 3600);
	else if (up >= 3600)
		snprintf(upbuf, sizeof(upbuf), "%lldh%lldm", up / 3600, up % 3600 / 60);
	else
		snprintf(upbuf, sizeof(upbuf), "%lldm%llds", up / 60, up % 60);
	printf("%-7ld %-18.18s %8s %9llu %8llu %8llu %6llu %5.0f%% %5llu %3llu/%-3llu  %s\n",
	    (long)r->pid, r->program, upbuf, req, ok, err, bh,
	    req > 0 ? 100.0 * (double)hits / (double)req : 0.0, num(c, "queue"),
	    num(c, "busy"), num(c, "workers"),
	    counter(c, "circuit", circuit, sizeof(circuit), "-"));
	return 0;
}

int
cmd_status(struct admin *a, int argc, char **argv)
{
	bool json = false;
	const struct admin_opt opts[] = {
		{ "--json", NULL, &json, NULL, NULL, 0 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	struct show s = { false, 0 };
	char err[512];
	int ex;

	if ((ex = admin_parse("status", argc, argv, opts, NULL, 0, 0)) != 0)
		return ex;
	s.json = json;
	if (json)
		printf("[");
	if (status_foreach(a->conf, show_row, &s, err, sizeof(err)) < 0) {
		if (json)
			printf("]\n");
		admin_err("%s", err);
		return EXIT_STORE;
	}
	if (json)
		printf("%s]\n", s.rows > 0 ? "\n" : "");
	else if (s.rows == 0)
		printf("no helper is running (helpers record their counters a second after "
		    "they start, then every %ds)\n", 10);
	return EXIT_DONE;
}
