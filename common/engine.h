/*
 * engine: the decision pipeline. request → (fast paths) → backend →
 * local policy → verdict; after the reply, deferred work (rehash).
 */
#ifndef CUTTLE_ENGINE_H
#define CUTTLE_ENGINE_H

#include "conf.h"
#include "proto.h"
#include "verdict.h"

struct engine;

/*
 * An engine deciding with conf (which it takes over). If the setup is
 * broken (bad option or config), pass the problem as setup_error: the
 * engine then answers every request BH backend_error naming it, so that
 * the helper stays up. Never NULL.
 */
struct engine *engine_new(struct conf *conf, const char *setup_error);
void engine_free(struct engine *engine);

/*
 * Another engine on the same configuration (which stays the first one's),
 * with its own connections: one per worker thread. Free it before the
 * first. Never NULL.
 */
struct engine *engine_clone(const struct engine *engine);

/*
 * The automatic lockout check alone (throttle before any cache answer):
 * true and v decided (throttled) if the name or address is throttled.
 */
bool engine_throttled(struct engine *engine, const struct request *req,
    struct verdict *v);

/*
 * The change counter of the user req names in the local store: 1 and
 * *serial_r, 0 if the store has no such user (*serial_r = -1) or there is
 * no store, -1 if it cannot be read.
 */
int engine_user_serial(struct engine *engine, const struct request *req,
    long long *serial_r);

/* True if the engine answers everything BH for a setup error. */
bool engine_broken(const struct engine *engine);

/* The configuration the engine decides with. */
const struct conf *engine_conf(const struct engine *engine);

/* "sqlite", "ldap", "sqlite,ldap": the chain, for cache keys and status. */
const char *engine_chain(const struct engine *engine);

/* Decide req into v. Never blocks beyond the backend's bounds. */
void engine_decide(struct engine *engine, const struct request *req,
    struct verdict *v);

/*
 * A failed login is counted for automatic lockout before its reply goes
 * out, so that the next request (which Squid may send the moment it has
 * the reply) already sees it. Sets VERDICT_F_REPEAT for a repeat. Not for
 * dry runs.
 */
void engine_before_reply(struct engine *engine, const struct request *req,
    struct verdict *v);

/* Deferred work once the reply is out (rehash, a success clearing lockout). */
void engine_after_reply(struct engine *engine, const struct request *req,
    struct verdict *v);

/*
 * Call fn with each group the user named is in, from the backends that
 * know groups (LDAP). Returns 1 when the user was found, 0 when not (err
 * says why), -1 when the backend failed (err).
 */
int engine_groups(struct engine *engine, const char *name,
    int (*fn)(const char *group, void *arg), void *arg, char *err,
    size_t errlen) WUR;

/* The key_extras field (0-based) that holds the client address (%>a). */
void engine_set_client_field(struct engine *engine, int field);

/*
 * External ACL decisions (ext_cuttle_acl), on requests parsed with
 * proto_parse_fields: "SRC [LIST...]" → ok / not_allowed;
 * "LOGIN GROUP..." → ok / not_in_group; "LOGIN SRC" → ok / ip_not_allowed.
 */
void engine_decide_allow(struct engine *engine, const struct request *req,
    struct verdict *v);
void engine_decide_group(struct engine *engine, const struct request *req,
    struct verdict *v);
void engine_decide_userip(struct engine *engine, const struct request *req,
    struct verdict *v);

#endif
