-- Product fidelity (issue 13): one report per (scored image, reference) with one row per rule, the heatmap
-- as a blob, and the gate's overrides. Append-only: scoring again adds a report; the newest per target is
-- what the gate and the badges read (fidelity_latest). No indexes (style: tables that may evolve carry none).

CREATE TABLE fidelity_reports (
    id                   VARCHAR PRIMARY KEY,
    target_sha256        VARCHAR NOT NULL,     -- the scored image's blob
    version_id           VARCHAR,              -- the scored version (NULL for an output or a file)
    output_id            VARCHAR,              -- the scored run output (also set for a version committed from one)
    run_id               VARCHAR,              -- the run that made it: recipe, engine and model by join
    reference_sha256     VARCHAR NOT NULL,     -- the best-matching reference the report is against
    reference_version_id VARCHAR,              -- its version (NULL for a reference given as a file)
    candidates           JSON,                 -- every reference tried: [{"sha256", "version_id", "score"}]
    passed               BOOLEAN NOT NULL,
    score                DOUBLE NOT NULL,      -- 0..1, the mean of the measured rules' scores
    failed               JSON,                 -- names of the failed rules
    heatmap_sha256       VARCHAR,              -- PNG of where the product differs (a blob), NULL without product
    alignment            JSON,                 -- method, scale, rotation, translation, inliers
    settings             JSON,                 -- the [fidelity] thresholds as resolved for this report
    product_lock         VARCHAR,              -- reference sha256 whose pixels a product lock composited in
    author               VARCHAR NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE fidelity_rules (
    report_id   VARCHAR NOT NULL,
    rule        VARCHAR NOT NULL,              -- presence | colour | shape | detail | label
    passed      BOOLEAN NOT NULL,
    skipped     BOOLEAN NOT NULL,              -- not measured (disabled, nothing to read, no product)
    value       DOUBLE,
    threshold   DOUBLE,
    score       DOUBLE,
    detail      VARCHAR NOT NULL,
    extra       JSON                           -- e.g. aspect_change, reference_text / output_text
);

-- A failing version let through the gate anyway: who, why, for which report and which step.
CREATE TABLE fidelity_overrides (
    id          VARCHAR PRIMARY KEY,
    version_id  VARCHAR NOT NULL,
    report_id   VARCHAR NOT NULL,
    action      VARCHAR NOT NULL,              -- approve | export
    reason      VARCHAR NOT NULL,
    actor       VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The newest report per scored version and per scored output (what badges, the gate and rankings read).
CREATE VIEW fidelity_latest AS
SELECT r.*, o.engine, o.model, o.recipe_name, o.recipe_version
FROM fidelity_reports r
LEFT JOIN runs o ON o.id = r.run_id
QUALIFY row_number() OVER (PARTITION BY coalesce(r.version_id, r.output_id, r.target_sha256)
                           ORDER BY r.created_at DESC, r.id DESC) = 1;
