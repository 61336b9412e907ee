-- audit.db, version 2: what Squid itself answered, stored by
-- log_cuttle_daemon (access_log daemon:/path/audit.db cuttle).
CREATE TABLE squid_access (
	id     INTEGER PRIMARY KEY,
	at     INTEGER NOT NULL,            -- milliseconds since the epoch
	client TEXT NOT NULL DEFAULT '',
	user   TEXT NOT NULL DEFAULT '',    -- '' when none was given
	status INTEGER NOT NULL,            -- 200, 403, 407, ...
	method TEXT NOT NULL DEFAULT '',
	host   TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT ''     -- the helper's reason_ note, if any
);
CREATE INDEX squid_access_by_at ON squid_access (at);
CREATE INDEX squid_access_by_user ON squid_access (user, at);
CREATE INDEX squid_access_by_client ON squid_access (client, at);
