CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE IF NOT EXISTS projection_positions (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    username TEXT NOT NULL,
    name_sort TEXT COLLATE "C" NOT NULL,
    email_key TEXT COLLATE "C" NOT NULL UNIQUE,
    username_key TEXT COLLATE "C" NOT NULL UNIQUE,
    search_text TEXT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    status_changed_at TEXT NOT NULL,
    invitation_id TEXT,
    invitation_issued_at TEXT,
    invitation_expires_at TEXT,
    invitation_sent_at TEXT,
    invitation_accepted_at TEXT,
    -- Set when the invitation's mail failed for good (InvitationUndeliverable).
    invitation_delivery_failed_at TEXT,
    invitation_delivery_error TEXT,
    group_ids TEXT NOT NULL,
    permissions TEXT NOT NULL,
    import_batch_id TEXT
);
CREATE INDEX IF NOT EXISTS users_by_name ON users (name_sort, seq);
CREATE INDEX IF NOT EXISTS users_by_email ON users (email_key, seq);
CREATE INDEX IF NOT EXISTS users_by_username ON users (username_key, seq);
CREATE INDEX IF NOT EXISTS users_by_status ON users (status, seq);
-- The expiry sweeper's question: which PENDING invitations have run out?
CREATE INDEX IF NOT EXISTS users_by_expiry ON users (status, invitation_expires_at);
-- Every invitation issued, current or replaced, to the user it was for.
CREATE TABLE IF NOT EXISTS invitations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS users_search ON users USING gin (search_text gin_trgm_ops);
-- Searches of 1 or 2 characters match the start of a word: the first character and the
-- first two of each word (run of letters and digits) of a user's folded name, email and
-- username, one row each (projections/user_words.py). Such a search is one range of
-- this key, in creation order: no scan of the users.
CREATE TABLE IF NOT EXISTS user_words (
    prefix TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (prefix, seq)
);
CREATE TABLE IF NOT EXISTS group_members (
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE IF NOT EXISTS access_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    permissions TEXT NOT NULL,
    member_count INTEGER NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);
CREATE TABLE IF NOT EXISTS status_changes (
    position BIGINT PRIMARY KEY,
    user_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS status_changes_by_user ON status_changes (user_id, version);
CREATE INDEX IF NOT EXISTS status_changes_by_time ON status_changes (at, position);
CREATE TABLE IF NOT EXISTS import_batches (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    filename TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    total INTEGER NOT NULL,
    validated INTEGER NOT NULL,
    valid INTEGER NOT NULL,
    invalid INTEGER NOT NULL,
    excluded INTEGER NOT NULL,
    processed INTEGER NOT NULL,
    created INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    access TEXT,
    -- The current phase's clock (domain/imports/phases.py): when its first event was
    -- recorded, the units of its work done then, and when its latest event was recorded.
    phase_started_at TEXT,
    phase_done INTEGER,
    progressed_at TEXT,
    existing INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS import_rows (
    batch_id TEXT NOT NULL,
    row_number INTEGER NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    username TEXT,
    status TEXT NOT NULL,
    errors TEXT NOT NULL,
    user_id TEXT,
    email_key TEXT,
    username_key TEXT,
    existing_user_id TEXT,
    existing_user_status TEXT,
    action TEXT,
    -- 1 once the person the row is about was erased (eraseUser): its values are blank.
    erased INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (batch_id, row_number)
);
CREATE INDEX IF NOT EXISTS import_rows_by_status ON import_rows (batch_id, status, row_number);
CREATE INDEX IF NOT EXISTS import_rows_by_email ON import_rows (batch_id, email_key);
CREATE INDEX IF NOT EXISTS import_rows_by_username ON import_rows (batch_id, username_key);
-- Every row about a person, in any batch (eraseUser): the row that registered them, the
-- rows that named them as registered already, the rows that hold their email.
CREATE INDEX IF NOT EXISTS import_rows_by_user ON import_rows (user_id)
    WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS import_rows_by_existing_user ON import_rows (existing_user_id)
    WHERE existing_user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS import_rows_by_email_key ON import_rows (email_key)
    WHERE email_key IS NOT NULL;
-- A batch's users (the users query's importBatchId, revertImport's users).
CREATE INDEX IF NOT EXISTS users_by_import_batch ON users (import_batch_id, seq);
-- Bulk actions (startBulkAction, revertImport) with their progress (projections/bulk.py).
CREATE TABLE IF NOT EXISTS bulk_actions (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    import_batch_id TEXT,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    total INTEGER NOT NULL,
    processed INTEGER NOT NULL,
    changed INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    kept INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS bulk_actions_running ON bulk_actions (status, seq);
CREATE INDEX IF NOT EXISTS bulk_actions_by_batch ON bulk_actions (import_batch_id);
-- The users a revert left because they had accepted, in the order it met them.
CREATE TABLE IF NOT EXISTS bulk_action_kept (
    action_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (action_id, seq)
);
