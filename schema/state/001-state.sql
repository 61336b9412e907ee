-- state.db, version 1: runtime state the helpers write (automatic lockout).
-- Kept apart from cuttle.db so these writes never contend with the admin.
CREATE TABLE failures (
	kind      TEXT NOT NULL,             -- "user" (folded name, known or not) or "addr"
	key       TEXT NOT NULL,
	count     INTEGER NOT NULL,          -- distinct failures in the window
	since     INTEGER NOT NULL,          -- start of the window (seconds)
	last      INTEGER NOT NULL,
	throttled INTEGER NOT NULL DEFAULT 0, -- throttled until (seconds); 0: not
	tags      TEXT NOT NULL DEFAULT '',  -- keyed tags of recent wrong passwords
	PRIMARY KEY (kind, key)
) WITHOUT ROWID;

CREATE TABLE settings (
	key   TEXT PRIMARY KEY NOT NULL,
	value TEXT NOT NULL
) WITHOUT ROWID;
