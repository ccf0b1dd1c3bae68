-- One schema for SQLite and PostgreSQL: only types both spell the same way (TEXT, BIGINT,
-- DOUBLE PRECISION), times as Unix milliseconds, JSON as TEXT, no auto-increment.

-- Bearer tokens, stored as the hex SHA-256 of the token (the token itself is shown once).
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    rig TEXT,
    created_at BIGINT NOT NULL
);

-- One row per upload, with what the server's own diagnosis found (small columns only: the
-- pages scan these).
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    client_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    day BIGINT NOT NULL,
    rig TEXT,
    probe TEXT,
    target TEXT,
    openocd_version TEXT,
    outcome TEXT NOT NULL,
    stage TEXT,
    cause TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    title TEXT,
    signature TEXT NOT NULL,
    resolved_cause TEXT,
    resolved_fix TEXT,
    resolved_at BIGINT,
    UNIQUE (team, client_id)
);
CREATE INDEX incidents_team_time ON incidents (team, received_at);
CREATE INDEX incidents_team_cause_time ON incidents (team, cause, received_at);
CREATE INDEX incidents_team_day_cause ON incidents (team, day, cause);
CREATE INDEX incidents_team_resolved ON incidents (team, resolved_at);

-- The large parts of an upload, read only for one incident's page.
CREATE TABLE incident_bodies (
    id TEXT PRIMARY KEY REFERENCES incidents (id),
    command TEXT,
    log TEXT NOT NULL,
    report TEXT NOT NULL,
    client_report TEXT NOT NULL,
    redaction TEXT NOT NULL
);

-- Per-token request counts per fixed window (the rate limit, shared by every instance).
CREATE TABLE rate_windows (
    token_hash TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (token_hash, window_start)
);
