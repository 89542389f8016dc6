-- Work in progress, not read models: made once and never dropped, neither by a change
-- of the read models' version nor by a rebuild (see create_tables in projections/database.py).
-- The files of batches still VALIDATING, kept until a worker has read them.
CREATE TABLE IF NOT EXISTS import_uploads (
    batch_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    data BYTEA NOT NULL,
    kept_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (batch_id, part)
);
-- Which worker holds which batch until when.
CREATE TABLE IF NOT EXISTS import_leases (
    batch_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
