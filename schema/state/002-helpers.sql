-- state.db, version 2: each running helper's counters (`cuttle status`),
-- written by the helper every few seconds and removed when it exits.
CREATE TABLE helpers (
	pid      INTEGER PRIMARY KEY NOT NULL,
	program  TEXT NOT NULL,
	started  INTEGER NOT NULL,           -- seconds since the epoch
	updated  INTEGER NOT NULL,
	counters TEXT NOT NULL               -- "key=value key=value ..."
);
