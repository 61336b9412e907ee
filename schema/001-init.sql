-- cuttle.db, version 1: users and settings.
-- Times are seconds since the Unix epoch (UTC); NULL means "never".
CREATE TABLE users (
	name             TEXT PRIMARY KEY NOT NULL,
	hash             TEXT NOT NULL,              -- self-describing, e.g. $argon2id$v=19$m=...
	disabled         INTEGER NOT NULL DEFAULT 0, -- set by `user disable`, cleared by `enable`
	locked           INTEGER NOT NULL DEFAULT 0, -- set by `user lock`, cleared by `unlock`
	locked_until     INTEGER,                    -- end of a `lock --for`; NULL: until unlocked
	expires          INTEGER,                    -- first instant the account is no longer valid
	comment          TEXT NOT NULL DEFAULT '',
	created          INTEGER NOT NULL,
	updated          INTEGER NOT NULL,
	password_changed INTEGER NOT NULL,
	serial           INTEGER NOT NULL DEFAULT 1  -- bumped by every admin change to the user
) WITHOUT ROWID;

CREATE TABLE settings (
	key   TEXT PRIMARY KEY NOT NULL,
	value TEXT NOT NULL
) WITHOUT ROWID;
