/*
 * audit: every decision of a helper, written to audit.db in batches so
 * that the request path never waits for the disk: identical decisions in
 * one flush interval become one row with a count; a busy or unwritable
 * store drops records (counted, said once on stderr), never blocks.
 */
#ifndef CUTTLE_AUDIT_H
#define CUTTLE_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "verdict.h"

/* How often pending records are written, at most (ms). */
#define AUDIT_FLUSH_MS 1000
/* Distinct pending records kept before the oldest are dropped. */
#define AUDIT_PENDING_MAX 4096

struct audit;

/* An audit sink for helper (its name in the records). Never NULL. */
struct audit *audit_new(const struct conf *conf, const char *helper);
/* Write what is pending and free. NULL is a no-op. */
void audit_free(struct audit *au);

/*
 * Remember one decision: user as sent (made printable, cut to 64 bytes),
 * the client address or NULL, and the verdict. No password ever reaches
 * here: the verdict holds none.
 */
void audit_record(struct audit *au, const char *user, size_t user_len,
    const char *client, const struct verdict *v);

/* Milliseconds until the next flush is due, or -1 when nothing waits. */
int audit_due_ms(const struct audit *au);

/* Write what is pending if its time has come (or now if force). */
void audit_flush(struct audit *au, bool force);

/*
 * Write batches from a thread of the sink's own from now on, so that
 * recording never waits for the disk (helpers). Callers still serialise
 * their calls to audit_record and audit_flush.
 */
void audit_start_writer(struct audit *au);

/* Records dropped so far (store unwritable, busy too long, full queue). */
uint64_t audit_dropped(const struct audit *au);
/* syslog lines dropped so far (socket missing or full). */
uint64_t audit_syslog_dropped(const struct audit *au);

/* Milliseconds since the epoch, the audit log's time unit. */
int64_t audit_now_ms(void);

#endif
