-- Work in progress, not read models: made once and never dropped, neither by a change
-- of the read models' version nor by a rebuild (see create_tables in projections/database.py).
-- The files of batches still VALIDATING, kept until a worker has read them.
CREATE TABLE IF NOT EXISTS import_uploads (
    batch_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    data BLOB NOT NULL,
    kept_at REAL NOT NULL,
    PRIMARY KEY (batch_id, part)
);
-- Which worker holds which batch until when.
CREATE TABLE IF NOT EXISTS import_leases (
    batch_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
);
-- The outbox: invitation mails to send, one per invitation issued, kept from the events
-- (projections/deliveries.py), and marked by the delivery worker as it claims them and
-- hands them over (jobs/delivery.py). Work in progress, not a read model: what was
-- handed over but not yet recorded as an event lives only here, so a version change or
-- a rebuild must not forget it (it would send those mails again). The projection's
-- changes are such that applying the events again changes nothing.
CREATE TABLE IF NOT EXISTS mail_deliveries (
    invitation_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    inviter TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at REAL NOT NULL,
    claimed_by TEXT,
    claimed_until REAL,
    last_error TEXT
);
-- The delivery worker claims the oldest PENDING mails first (ORDER BY seq), skipping the
-- few that wait for a retry; an index on (status, next_attempt_at) made it sort them all.
CREATE INDEX IF NOT EXISTS mail_deliveries_queue ON mail_deliveries (status, seq);
-- Superseding a user's waiting mails (a new invitation, a status change) finds them here.
CREATE INDEX IF NOT EXISTS mail_deliveries_by_user ON mail_deliveries (user_id, status);
