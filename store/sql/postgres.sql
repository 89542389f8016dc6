-- The keys of personal data (store/keyring.py): one per person (a user, or a row of a
-- file: the user it registers), one per token subject who acted. Kept apart from the
-- events they decrypt, never dropped by a rebuild; erasing a person deletes their key.
CREATE TABLE IF NOT EXISTS personal_keys (
    id BYTEA PRIMARY KEY,
    -- NULL once destroyed: the id stays, so that no key is made for it again.
    key BYTEA,
    -- SHA-256 of the token subject, for an actor's key.
    actor BYTEA UNIQUE
)
