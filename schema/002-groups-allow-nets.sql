-- cuttle.db, version 2: groups, allow lists, users' networks.
-- Addresses and prefixes are stored in their canonical text (netlist).
CREATE TABLE groups (
	name    TEXT PRIMARY KEY NOT NULL,
	comment TEXT NOT NULL DEFAULT '',
	created INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE group_members (
	grp  TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
	user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	PRIMARY KEY (grp, user)
) WITHOUT ROWID;
CREATE INDEX group_members_by_user ON group_members (user);

-- IP allow lists: clients let in without credentials (ext_cuttle_acl).
CREATE TABLE allow (
	list    TEXT NOT NULL,               -- "default" unless named
	cidr    TEXT NOT NULL,
	comment TEXT NOT NULL DEFAULT '',
	expires INTEGER,                     -- first instant it no longer matches
	created INTEGER NOT NULL,
	PRIMARY KEY (list, cidr)
) WITHOUT ROWID;

-- Networks a user is bound to: logins only from these.
CREATE TABLE user_nets (
	user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	cidr TEXT NOT NULL,
	PRIMARY KEY (user, cidr)
) WITHOUT ROWID;
