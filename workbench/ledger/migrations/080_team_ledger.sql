-- Team ledger (issue 14): the indexes PostgreSQL plans the team ledger's queries with. A team ledger sends
-- library search, history and lineage to the server as PostgreSQL SQL (workbench/ledger/server.py), and the
-- server answers them by index: the newest version of an asset, an asset's versions, a version's parent (the
-- lineage walk), its run, its newest review and mark, the tags, notes, fields and catalog rows search looks at.
-- The unique (asset_id, number) index also settles two machines committing to one asset at once: the loser's
-- insert fails and the commit retries with the next number.
--
-- Each statement is marked `-- team ledger only`: the embedded DuckDB file records this migration and skips
-- them. DuckDB does not use secondary indexes for these queries (it scans and joins), an ART index on a
-- million versions costs memory and write time, and the style keeps indexes off tables that may evolve.

-- team ledger only
CREATE UNIQUE INDEX IF NOT EXISTS versions_asset_number ON versions (asset_id, number);
-- team ledger only
CREATE INDEX IF NOT EXISTS versions_parent ON versions (parent_id);
-- team ledger only
CREATE INDEX IF NOT EXISTS versions_sha256 ON versions (sha256);
-- team ledger only
CREATE INDEX IF NOT EXISTS versions_run ON versions (run_id);
-- team ledger only
CREATE INDEX IF NOT EXISTS assets_created ON assets (created_at, id);
-- team ledger only
CREATE INDEX IF NOT EXISTS assets_name ON assets (name);
-- team ledger only
CREATE INDEX IF NOT EXISTS run_outputs_run ON run_outputs (run_id);
-- team ledger only
CREATE INDEX IF NOT EXISTS runs_sweep ON runs (sweep_id);
-- team ledger only
CREATE INDEX IF NOT EXISTS reviews_version_at ON reviews (version_id, created_at, id);
-- team ledger only
CREATE INDEX IF NOT EXISTS version_marks_version_at ON version_marks (version_id, created_at);
-- team ledger only
CREATE INDEX IF NOT EXISTS events_target ON events (target_id);
-- team ledger only
CREATE INDEX IF NOT EXISTS tags_target ON tags (target_id);
-- team ledger only
CREATE INDEX IF NOT EXISTS notes_asset ON notes (asset_id);
-- team ledger only
CREATE INDEX IF NOT EXISTS asset_fields_asset ON asset_fields (asset_id);
-- team ledger only
CREATE INDEX IF NOT EXISTS catalog_sku ON catalog (sku);
