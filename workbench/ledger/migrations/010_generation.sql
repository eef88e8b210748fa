-- Generation: versioned recipes, sweeps, runs (one row per engine request), outputs and their marks.

CREATE TABLE recipes (
    id                VARCHAR PRIMARY KEY,
    name              VARCHAR NOT NULL,
    version           INTEGER NOT NULL,        -- 1, 2, 3 ... per name; editing makes a new version
    template          VARCHAR NOT NULL,        -- Jinja2 (sandboxed, StrictUndefined)
    negative_template VARCHAR,
    variables         JSON,                    -- declared variables and their defaults {"colour": "navy", ...}
    defaults          JSON,                    -- engine params defaults {"engine": "local", "aspect": "1:1", "n": 1}
    description       VARCHAR,
    author            VARCHAR NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    retired_at        TIMESTAMPTZ
);

CREATE TABLE sweeps (
    id                 VARCHAR PRIMARY KEY,
    name               VARCHAR,
    spec               JSON NOT NULL,          -- the axes as the user gave them
    planned_runs       INTEGER NOT NULL,
    estimated_cost_usd DOUBLE,
    author             VARCHAR NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE runs (
    id                  VARCHAR PRIMARY KEY,
    sweep_id            VARCHAR,
    recipe_id           VARCHAR,               -- NULL for an inline prompt without a stored recipe
    recipe_name         VARCHAR,
    recipe_version      INTEGER,
    template            VARCHAR,               -- the template text as rendered (inline prompts too)
    variables           JSON,                  -- the values this run rendered with
    prompt              VARCHAR NOT NULL,      -- rendered prompt
    negative_prompt     VARCHAR,
    engine              VARCHAR NOT NULL,
    model               VARCHAR,
    params              JSON,                  -- aspect, size, n, strength, extras
    seed                BIGINT,
    reference_versions  JSON,                  -- list of version ids
    reference_blobs     JSON,                  -- list of sha256, same order
    request_hash        VARCHAR NOT NULL,      -- sha256 of the canonical request
    status              VARCHAR NOT NULL,      -- planned | running | succeeded | failed | cancelled
    error               VARCHAR,
    error_type          VARCHAR,
    model_text          VARCHAR,               -- words the model returned (kept on failure too)
    attempts            INTEGER NOT NULL DEFAULT 0,
    estimated_cost_usd  DOUBLE,
    cost_usd            DOUBLE,
    input_tokens        INTEGER,
    output_tokens       INTEGER,
    latency_s           DOUBLE,
    provider_request_id VARCHAR,
    model_version       VARCHAR,
    cached_from         VARCHAR,               -- run whose recorded outputs answered this identical request
    retry_log           JSON,                  -- [{attempt, error_type, status, message, delay_s}] per retried attempt
    author              VARCHAR NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at          TIMESTAMPTZ,
    finished_at         TIMESTAMPTZ
);

CREATE TABLE run_outputs (
    id          VARCHAR PRIMARY KEY,
    run_id      VARCHAR NOT NULL,
    idx         INTEGER NOT NULL,
    sha256      VARCHAR NOT NULL,
    width       INTEGER,
    height      INTEGER,
    mime        VARCHAR,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Append-only: the newest row per output is its state.
CREATE TABLE output_marks (
    output_id   VARCHAR NOT NULL,
    mark        VARCHAR NOT NULL,              -- pick | reject | clear
    rating      INTEGER,                       -- 1..5
    note        VARCHAR,
    author      VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE VIEW output_state AS
SELECT o.*, m.mark, m.rating, m.note, m.author AS marked_by, m.created_at AS marked_at
FROM run_outputs o
LEFT JOIN (
    SELECT output_id, arg_max(mark, created_at) AS mark, arg_max(rating, created_at) AS rating,
           arg_max(note, created_at) AS note, arg_max(author, created_at) AS author, max(created_at) AS created_at
    FROM output_marks GROUP BY output_id
) m ON m.output_id = o.id;
