-- Team ledger (issue 14): indexes in the order library search sorts by, so PostgreSQL reads one page of a
-- search from an index instead of sorting every live asset. The server form of the search
-- (workbench/library/search.py, _SERVER_ORDER) sorts text with COLLATE "C", because the DuckDB file compares
-- text byte by byte and both storages must page the same rows in the same order. An index serves an ORDER BY
-- only when its collation is the query's, and 080's assets_name / assets_created use the database's default
-- collation (often en_US.UTF-8), so these carry COLLATE "C". They are partial (WHERE retired_at IS NULL):
-- every search has that condition, and retired assets never need to be in the index.
--
-- "newest" sorts created_at DESC, id DESC: the planner walks assets_created_c backwards. "name" sorts
-- name, id: assets_name_c forwards. 080's assets_name stays (name = ? lookups use the default collation).
--
-- Each statement is marked `-- team ledger only, run by PostgreSQL`: the embedded DuckDB file records this
-- migration and skips them (DuckDB sorts a scan; it does not read an order from an index), and a team ledger
-- sends them to the server as its own SQL, because DuckDB's attached catalog refuses an index with a collation
-- ("not supported yet"). Unqualified table names are the ledger's schema there (workbench/ledger/migrations.py).

-- team ledger only, run by PostgreSQL
CREATE INDEX IF NOT EXISTS assets_created_c ON assets (created_at, id COLLATE "C") WHERE retired_at IS NULL;
-- team ledger only, run by PostgreSQL
CREATE INDEX IF NOT EXISTS assets_name_c ON assets (name COLLATE "C", id COLLATE "C") WHERE retired_at IS NULL;
