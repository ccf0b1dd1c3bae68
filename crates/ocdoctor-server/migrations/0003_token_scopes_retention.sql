-- Tokens get a public id (what `serve token list` shows and `serve token revoke` names: the
-- first 12 hex digits of the hash), a scope (upload, read or admin) and a revocation time.
-- Tokens made before scopes existed could do everything: they are admin.
ALTER TABLE tokens ADD COLUMN id TEXT;
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE tokens ADD COLUMN revoked_at BIGINT;
UPDATE tokens SET id = SUBSTR(token_hash, 1, 12);
CREATE UNIQUE INDEX tokens_id ON tokens (id);

-- Retention (`serve --retain-days`, `serve prune`) deletes the oldest incidents of every team.
CREATE INDEX incidents_received ON incidents (received_at);

-- The machine snapshot an upload may carry (`upload --env`, redacted), as JSON.
ALTER TABLE incident_bodies ADD COLUMN env TEXT;
