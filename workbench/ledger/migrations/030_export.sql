-- Export: the append-only export ledger. One row per step of one item's delivery to one channel.
--
-- An attempt writes a 'pending' row BEFORE anything is sent and a result row (same attempt_id) right
-- after; a pending row with no result is an interrupted delivery that the next run reconciles by asking
-- the channel before it re-sends. The newest successful row per (channel, destination, slot) is what the
-- destination holds now (export_current). Rows are never updated or deleted; ids are time-sortable.

CREATE TABLE export_batches (
    id            VARCHAR PRIMARY KEY,
    channel       VARCHAR NOT NULL,
    destination   VARCHAR NOT NULL,          -- folder path, shop URL, bucket, base id ... (never credentials)
    spec          JSON,                      -- selectors and presets as given
    dry_run       BOOLEAN NOT NULL DEFAULT false,
    forced_reason VARCHAR,
    actor         VARCHAR NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE export_batch_results (
    batch_id      VARCHAR NOT NULL,
    status        VARCHAR NOT NULL,          -- ok | partial | failed | refused
    counts        JSON,                      -- {"sent": n, "skipped": n, "replaced": n, "failed": n, ...}
    finished_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE exports (
    id                 VARCHAR PRIMARY KEY,  -- sortable: the newest row wins
    batch_id           VARCHAR NOT NULL,
    attempt_id         VARCHAR NOT NULL,     -- pairs a pending row with its result
    channel            VARCHAR NOT NULL,
    destination        VARCHAR NOT NULL,
    slot               VARCHAR NOT NULL,     -- the place on the destination: target + asset + preset
    target             VARCHAR,              -- product handle / record / key the item went to
    version_id         VARCHAR NOT NULL,
    asset_id           VARCHAR,
    rendition_id       VARCHAR,
    preset             VARCHAR,
    sha256             VARCHAR NOT NULL,     -- bytes delivered (the rendition blob)
    action             VARCHAR NOT NULL,     -- pending | sent | skipped | replaced | failed
    status             VARCHAR NOT NULL,     -- pending | ok | failed
    remote_id          VARCHAR,
    remote_url         VARCHAR,
    replaced_remote_id VARCHAR,              -- the media this delivery replaced
    reconciled         BOOLEAN NOT NULL DEFAULT false,  -- result found on the channel after an interruption
    error              VARCHAR,              -- redacted
    error_type         VARCHAR,
    forced_reason      VARCHAR,              -- set when rules were overridden
    actor              VARCHAR NOT NULL,
    details            JSON,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- What each destination slot holds now: the newest successful delivery.
CREATE VIEW export_current AS
SELECT channel, destination, slot,
       arg_max(version_id, id) AS version_id, arg_max(asset_id, id) AS asset_id,
       arg_max(rendition_id, id) AS rendition_id, arg_max(preset, id) AS preset,
       arg_max(sha256, id) AS sha256, arg_max(target, id) AS target,
       arg_max(remote_id, id) AS remote_id, arg_max(remote_url, id) AS remote_url,
       max(id) AS export_id, max(created_at) AS exported_at
FROM exports
WHERE status = 'ok' AND action IN ('sent', 'replaced', 'skipped')
GROUP BY channel, destination, slot;

-- Attempts that wrote 'pending' and never a result: interrupted deliveries to reconcile.
CREATE VIEW export_pending AS
SELECT p.*
FROM exports p
WHERE p.action = 'pending'
  AND NOT EXISTS (SELECT 1 FROM exports r WHERE r.attempt_id = p.attempt_id AND r.action <> 'pending');
