#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static const char *log_prog = "cuttle";
static bool log_debug_on;

void
log_init(const char *progname, bool debug)
{
	log_prog = progname;
	log_debug_on = debug;
}

bool
log_debug_enabled(void)
{
	return log_debug_on;
}

static void
log_v(const char *level, const char *fmt, va_list ap)
{
	char line[1024];

	/* One write per line so that lines of concurrent helpers do not mix. */
	vsnprintf(line, sizeof(line), fmt, ap);
	/* Whatever it quotes, a log line stays one printable line. */
	for (char *p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (level != NULL)
		fprintf(stderr, "%s: %s: %s\n", log_prog, level, line);
	else
		fprintf(stderr, "%s: %s\n", log_prog, line);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v("error", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v("warning", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v(NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;
	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_v("debug", fmt, ap);
	va_end(ap);
}
