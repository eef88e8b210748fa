-- Foundation: blobs, assets, versions, folders, collections, tags, fields, notes, catalog, events.
-- Nothing is deleted in place: rows are retired (retired_at) or superseded by newer rows.

CREATE TABLE blobs (
    sha256      VARCHAR PRIMARY KEY,       -- hex sha256 of the bytes; the object store key
    size        BIGINT NOT NULL,
    mime        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,          -- image | document | video | other
    format      VARCHAR,                   -- JPEG, PNG, WEBP, TIFF, GIF, BMP, HEIF, AVIF, PDF, PSD, MP4...
    width       INTEGER,                   -- stored pixel size (before EXIF orientation)
    height      INTEGER,
    mode        VARCHAR,                   -- Pillow mode: RGB, RGBA, CMYK, L, I;16 ...
    bit_depth   INTEGER,
    has_alpha   BOOLEAN,
    orientation INTEGER,                   -- EXIF orientation tag (1 = upright)
    icc         VARCHAR,                   -- ICC profile description, if embedded
    meta        JSON,                      -- EXIF facts and format-specific metadata
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE folders (
    id          VARCHAR PRIMARY KEY,
    path        VARCHAR NOT NULL,          -- 'Spring 2026/Shoes'; virtual, never touches files
    parent_id   VARCHAR,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    retired_at  TIMESTAMPTZ
);

CREATE TABLE assets (
    id          VARCHAR PRIMARY KEY,
    name        VARCHAR NOT NULL,          -- human name, e.g. 'mug_SKU-1001' or 'SKU-1001/hero'
    sku         VARCHAR,
    role        VARCHAR NOT NULL,          -- reference | output | document
    kind        VARCHAR NOT NULL,          -- image | document | video | other
    title       VARCHAR,
    folder_id   VARCHAR,
    source_path VARCHAR,                   -- where it was ingested from (informational)
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by  VARCHAR NOT NULL,
    retired_at  TIMESTAMPTZ
);

CREATE TABLE versions (
    id          VARCHAR PRIMARY KEY,
    asset_id    VARCHAR NOT NULL,
    number      INTEGER NOT NULL,          -- 1, 2, 3 ... per asset
    parent_id   VARCHAR,                   -- any earlier version (branching allowed)
    sha256      VARCHAR NOT NULL,          -- blob
    message     VARCHAR,
    author      VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,          -- ingest | commit | edit | revert
    run_id      VARCHAR,                   -- the run that made it, when generated
    output_id   VARCHAR,                   -- the run output it was committed from
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE collections (
    id          VARCHAR PRIMARY KEY,
    name        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,          -- static | dynamic
    filter      JSON,                      -- saved search for dynamic collections
    description VARCHAR,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by  VARCHAR NOT NULL,
    retired_at  TIMESTAMPTZ
);

CREATE TABLE collection_items (
    collection_id VARCHAR NOT NULL,
    asset_id      VARCHAR NOT NULL,
    added_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    added_by      VARCHAR NOT NULL,
    removed_at    TIMESTAMPTZ
);

CREATE TABLE tags (
    id          VARCHAR PRIMARY KEY,
    target_kind VARCHAR NOT NULL,          -- asset | version
    target_id   VARCHAR NOT NULL,
    tag         VARCHAR NOT NULL,          -- 'colour:navy', 'background:white-studio', 'face', 'sku-1001' ...
    source      VARCHAR NOT NULL,          -- user | ingest | <tagger name>
    confidence  DOUBLE NOT NULL DEFAULT 1.0,
    region      JSON,                      -- normalised box {x,y,w,h} when the tag is about a region
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    retired_at  TIMESTAMPTZ
);

CREATE TABLE asset_fields (
    asset_id    VARCHAR NOT NULL,
    key         VARCHAR NOT NULL,
    type        VARCHAR NOT NULL,          -- text | number | date | bool
    value       JSON,                      -- typed value; the newest row per (asset, key) wins
    set_by      VARCHAR NOT NULL,
    set_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE notes (
    id          VARCHAR PRIMARY KEY,
    asset_id    VARCHAR NOT NULL,
    body        VARCHAR NOT NULL,
    author      VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE catalog (
    sku                    VARCHAR NOT NULL,
    title                  VARCHAR,
    handle                 VARCHAR,
    shopify_product_id     VARCHAR,
    woocommerce_product_id VARCHAR,
    extra                  JSON,
    imported_at            TIMESTAMPTZ NOT NULL DEFAULT now()   -- newest row per sku wins
);

CREATE TABLE events (
    id          VARCHAR PRIMARY KEY,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor       VARCHAR NOT NULL,
    action      VARCHAR NOT NULL,          -- 'ingest', 'collection.add', 'run.finish', 'review.approve' ...
    target_kind VARCHAR,
    target_id   VARCHAR,
    details     JSON
);
