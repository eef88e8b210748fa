-- Derived work (issue 15 item 8): what is computed from a version after it is recorded (its auto-tags), as
-- append-only rows. A 'pending' row is written in the version's own transaction; the result (the tags) is
-- written together with a 'done' row in one later transaction, or a 'failed' row with the reason. Work is
-- finished once a 'done' row exists, so a crash between the two leaves it pending, never lost: `workbench
-- verify` lists it and `workbench tags --refresh` (or `verify --repair`) finishes it. No index (style: tables
-- that may evolve carry none).

CREATE TABLE derived_work (
    version_id  VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,          -- tags
    state       VARCHAR NOT NULL,          -- pending | done | failed
    error       VARCHAR,                   -- why a 'failed' attempt failed (redacted, one line)
    actor       VARCHAR,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Ledgers from before this migration: ingested images that never got their auto-tagging event (a crash
-- after the versions were recorded lost them for good) become pending work.
INSERT INTO derived_work (version_id, kind, state, actor)
SELECT v.id, 'tags', 'pending', 'migration 070'
FROM versions v JOIN blobs b ON b.sha256 = v.sha256
WHERE v.source = 'ingest' AND b.kind = 'image'
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.action = 'tag.auto' AND e.target_id = v.id);
