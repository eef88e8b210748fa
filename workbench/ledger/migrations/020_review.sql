-- Review: state transitions, comments (optionally pinned to a region), marks, renditions and checks.

-- Append-only state machine: the newest row per version is its state (no row = draft).
CREATE TABLE reviews (
    id          VARCHAR PRIMARY KEY,
    version_id  VARCHAR NOT NULL,
    from_state  VARCHAR NOT NULL,              -- draft | in_review | changes_requested | approved | published
    to_state    VARCHAR NOT NULL,
    actor       VARCHAR NOT NULL,
    note        VARCHAR,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE VIEW version_state AS
SELECT v.id AS version_id, v.asset_id, coalesce(r.state, 'draft') AS state, r.changed_at, r.changed_by
FROM versions v
LEFT JOIN (
    SELECT version_id, arg_max(to_state, created_at) AS state, max(created_at) AS changed_at,
           arg_max(actor, created_at) AS changed_by
    FROM reviews GROUP BY version_id
) r ON r.version_id = v.id;

CREATE TABLE comments (
    id          VARCHAR PRIMARY KEY,
    version_id  VARCHAR NOT NULL,
    author      VARCHAR NOT NULL,
    body        VARCHAR NOT NULL,
    region      JSON,                          -- normalised {"x","y","w","h"} box or {"x","y"} point
    parent_id   VARCHAR,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE comment_resolutions (
    comment_id  VARCHAR NOT NULL,
    resolved    BOOLEAN NOT NULL,              -- a later row may reopen
    actor       VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE version_marks (
    version_id  VARCHAR NOT NULL,
    mark        VARCHAR,                       -- select | alt | kill | NULL
    rating      INTEGER,                       -- 1..5
    author      VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE renditions (
    id          VARCHAR PRIMARY KEY,
    version_id  VARCHAR NOT NULL,
    preset      VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    format      VARCHAR NOT NULL,
    bytes       BIGINT NOT NULL,
    crop        JSON,                          -- source box kept, padding added, scale
    preset_spec JSON,                          -- the preset as it was when rendered
    warnings    JSON,                          -- e.g. upscaled beyond limit, no subject found
    author      VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE checks (
    id              VARCHAR PRIMARY KEY,
    rendition_id    VARCHAR NOT NULL,
    channel         VARCHAR NOT NULL,
    passed          BOOLEAN NOT NULL,
    report          JSON NOT NULL,             -- [{"rule", "passed", "detail"}]
    overridden_by   VARCHAR,
    override_reason VARCHAR,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
