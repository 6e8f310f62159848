-- The sample identity schema (PostgreSQL, schema public), captured by
-- Debezium as identity.public.<table>. Idempotent: safe to apply again.

CREATE TABLE IF NOT EXISTS users (
    id             TEXT PRIMARY KEY,  -- like 'u-77'
    email          TEXT NOT NULL,
    email_verified BOOLEAN NOT NULL DEFAULT false,
    given_name     TEXT,
    family_name    TEXT,
    display_name   TEXT,
    phone          TEXT,
    locale         TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Updates and deletes then carry the whole old row (the "before" image).
ALTER TABLE users REPLICA IDENTITY FULL;
CREATE INDEX IF NOT EXISTS users_email_normalised
    ON users (lower(btrim(email)));

CREATE TABLE IF NOT EXISTS organisations (
    id         TEXT PRIMARY KEY,  -- like 'o-12'
    name       TEXT NOT NULL,
    domain     TEXT,
    tax_id     TEXT,
    country    CHAR(2),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS memberships (
    user_id    TEXT NOT NULL REFERENCES users (id),
    org_id     TEXT NOT NULL REFERENCES organisations (id),
    role       TEXT NOT NULL DEFAULT 'member',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, org_id)
);
CREATE INDEX IF NOT EXISTS memberships_org ON memberships (org_id);
ALTER TABLE organisations REPLICA IDENTITY FULL;
ALTER TABLE memberships REPLICA IDENTITY FULL;

-- Links a user to its record in another system, e.g. ('erp', 'C-1042', 'u-77').
CREATE TABLE IF NOT EXISTS external_ids (
    system      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (system, external_id)
);
CREATE INDEX IF NOT EXISTS external_ids_user ON external_ids (user_id);
ALTER TABLE external_ids REPLICA IDENTITY FULL;
