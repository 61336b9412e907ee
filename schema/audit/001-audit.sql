-- audit.db, version 1: every helper decision and every admin change.
-- Times are milliseconds since the Unix epoch (UTC).
CREATE TABLE decisions (
	id         INTEGER PRIMARY KEY,
	first      INTEGER NOT NULL,          -- first of `count` identical decisions
	last       INTEGER NOT NULL,          -- the last of them
	count      INTEGER NOT NULL DEFAULT 1,
	helper     TEXT NOT NULL,             -- basic_cuttle_auth, ext_cuttle_acl, cuttle check
	user       TEXT NOT NULL DEFAULT '',  -- as sent, printable, at most 64 bytes
	client     TEXT NOT NULL DEFAULT '',  -- the client address when known
	result     TEXT NOT NULL,             -- ok, err, bh
	reason     TEXT NOT NULL,             -- the reason code
	backend    TEXT NOT NULL DEFAULT '',
	flags      TEXT NOT NULL DEFAULT '',  -- comma-separated: cache, stale, repeat, check
	latency_us INTEGER NOT NULL DEFAULT 0, -- the longest of them
	detail     TEXT NOT NULL DEFAULT ''   -- why, in words (no secrets)
);
CREATE INDEX decisions_by_last ON decisions (last);
CREATE INDEX decisions_by_user ON decisions (user, last);
CREATE INDEX decisions_by_client ON decisions (client, last);

-- Changes made with the cuttle CLI, and who made them.
CREATE TABLE admin_changes (
	id        INTEGER PRIMARY KEY,
	at        INTEGER NOT NULL,
	uid       INTEGER NOT NULL,
	sudo_user TEXT NOT NULL DEFAULT '',
	command   TEXT NOT NULL,              -- e.g. "user lock alice --for 1h"
	status    INTEGER NOT NULL            -- the command's exit status
);
CREATE INDEX admin_changes_by_at ON admin_changes (at);
