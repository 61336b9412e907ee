/* log: diagnostics to stderr (Squid's cache.log), never stdout. */
#ifndef CUTTLE_LOG_H
#define CUTTLE_LOG_H

#include <stdbool.h>

/* Name the program in every line; debug enables log_debug(). */
void log_init(const char *progname, bool debug);
bool log_debug_enabled(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
