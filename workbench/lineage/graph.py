"""The lineage graph of a version, as the UIs draw it::

    {"root": "ver_…", "nodes": {id: {"kind": "version"|"run"|"recipe"|"asset", …}},
     "edges": [{"from": id, "to": id, "kind": "parent"|"version_of"|"generated_by"|"recipe"|"reference"|
                "product_pixels"}],
     "truncated": bool}

It walks version → parent chain → run (prompt, engine, model, params, seed) → recipe + version →
reference versions → their assets, recursively; a product-locked output's version also points at the
reference whose pixels its product is (``product_pixels``, from the ``generation.product_lock`` event). The root's whole asset history is read in one filtered
scan, and runs and references are fetched a level at a time (by primary-key index for a few ids, by one
semi-join scan for many), so a 1,000-version chain costs a handful of queries, not a thousand, in any
size of ledger. A team ledger walks the whole ancestry in one recursive query run by PostgreSQL itself
(:mod:`workbench.ledger.server`; DuckDB over the attached tables would copy them per level), and the same
walk below then builds the graph from those rows.
"""

from __future__ import annotations

from typing import Any

from ..errors import NotFound
from ..ledger import queries as q
from ..ledger.server import server_rows, server_schema
from ..ledger.values import json_value

__all__ = ["graph"]

_CHUNK = 2000
_RUN_COLS = ("recipe_id", "recipe_name", "recipe_version", "template", "variables", "prompt", "negative_prompt",
             "engine", "model", "model_version", "params", "seed", "reference_versions", "status", "cost_usd",
             "author", "created_at")
_VERSION_COLS = ("v.id, v.asset_id, v.number, v.parent_id, v.sha256, v.message, v.author, v.source, v.run_id, "
                 "v.output_id, v.created_at, a.name AS asset_name, a.sku, a.role")


def _fetch_asset_versions(con: Any, version_id: str) -> list[dict[str, Any]]:
    """Every version of ``version_id``'s asset (a parent chain mostly stays inside one asset)."""
    return q.rows(con, f"SELECT {_VERSION_COLS} FROM versions v JOIN assets a ON a.id = v.asset_id "
                          "WHERE v.asset_id = (SELECT asset_id FROM versions WHERE id = ?)", [version_id])


def _by_ids(con: Any, table: str, query: str, ids: set[str]) -> list[dict[str, Any]]:
    """Rows of ``query`` whose ``{where}`` selects ``table.id IN ids``, by the cheaper of two plans.

    A few ids in a big table: a literal ``IN (?, ?, …)`` list, which DuckDB answers from the primary-key
    index (chunks stay under its index-scan limit). Many ids relative to the table: a semi-join on the
    unnested list, one scan — random index fetches would cost more than reading the table.
    """
    ordered = sorted(ids)
    size = q.row(con, "SELECT estimated_size AS n FROM duckdb_tables() WHERE table_name = ?", [table])
    if len(ordered) * 200 > int((size or {}).get("n") or 0):
        return q.rows(con, query.format(where="id IN (SELECT unnest(?))"), [ordered])
    out: list[dict[str, Any]] = []
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start:start + _CHUNK]
        out += q.rows(con, query.format(where=f"id IN ({', '.join('?' for _ in chunk)})"), chunk)
    return out


def _fetch_versions(con: Any, ids: set[str]) -> list[dict[str, Any]]:
    """The versions ``ids`` (references, cross-asset parents) with their asset's name, SKU and role."""
    return _by_ids(con, "versions", "WITH v AS MATERIALIZED (SELECT * FROM versions WHERE {where}) "
                                    f"SELECT {_VERSION_COLS} FROM v JOIN assets a ON a.id = v.asset_id", ids)


class _Queries:
    """Where the walk reads the ledger: queries a level at a time (the embedded DuckDB file)."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def start(self, version_id: str) -> tuple[str, list[dict[str, Any]]]:
        """The full id of ``version_id`` (a unique prefix names it) and the versions known to start with."""
        version_id = q.resolve_id(self.con, "version", version_id) or version_id
        return version_id, _fetch_asset_versions(self.con, version_id)

    def versions(self, ids: set[str]) -> list[dict[str, Any]]:
        """The versions ``ids`` that exist."""
        return _fetch_versions(self.con, ids)

    def runs(self, ids: set[str]) -> list[dict[str, Any]]:
        """The runs ``ids`` that exist (``id`` and :data:`_RUN_COLS`)."""
        return _by_ids(self.con, "runs", f"SELECT id, {', '.join(_RUN_COLS)} FROM runs WHERE {{where}}", ids)

    def states(self, ids: list[str]) -> dict[str, str]:
        """The review state of the versions ``ids`` that have one."""
        return {r["version_id"]: r["state"] for r in q.rows(
            self.con, "SELECT version_id, arg_max(to_state, created_at) AS state FROM reviews r "
                      "JOIN (SELECT unnest(?) AS vid) x ON x.vid = r.version_id GROUP BY version_id", [ids])}

    def locks(self, output_ids: list[str]) -> list[tuple[str, Any]]:
        """``(output id, details)`` of the ``generation.product_lock`` events of ``output_ids``."""
        return [(r["target_id"], r["details"]) for r in q.rows(
            self.con, "SELECT target_id, details FROM events WHERE action = 'generation.product_lock' "
                      "AND list_contains(?, target_id)", [output_ids])]


# Every ancestor of a version, through parents and its runs' reference versions, in one recursive query; per
# version its asset, run, newest review state and product-lock events. UNION (not UNION ALL) stops at versions
# already walked, so a cycle ends. By index: versions and runs by id, reviews_version_at, events_target (080).
_SERVER_WALK = """
WITH RECURSIVE walk(id) AS (
    SELECT $1::varchar
    UNION
    SELECT n.id FROM walk w
    JOIN {s}.versions v ON v.id = w.id
    LEFT JOIN {s}.runs r ON r.id = v.run_id
    CROSS JOIN LATERAL (
        SELECT v.parent_id
        UNION ALL
        SELECT json_array_elements_text(CASE WHEN json_typeof(r.reference_versions) = 'array'
                                             THEN r.reference_versions END)
    ) n(id)
    WHERE n.id IS NOT NULL
)
SELECT v.id, v.asset_id, v.number, v.parent_id, v.sha256, v.message, v.author, v.source, v.run_id,
       v.output_id, v.created_at, a.name AS asset_name, a.sku, a.role, r.id AS r_id,
       r.recipe_id AS r_recipe_id, r.recipe_name AS r_recipe_name, r.recipe_version AS r_recipe_version,
       r.template AS r_template, r.variables AS r_variables, r.prompt AS r_prompt,
       r.negative_prompt AS r_negative_prompt, r.engine AS r_engine, r.model AS r_model,
       r.model_version AS r_model_version, r.params AS r_params, r.seed AS r_seed,
       r.reference_versions AS r_reference_versions, r.status AS r_status, r.cost_usd AS r_cost_usd,
       r.author AS r_author, r.created_at AS r_created_at,
       (SELECT w.to_state FROM {s}.reviews w WHERE w.version_id = v.id
        ORDER BY w.created_at DESC, w.id DESC LIMIT 1) AS review_state,
       (SELECT json_agg(e.details ORDER BY e.created_at, e.id) FROM {s}.events e
        WHERE e.target_id = v.output_id AND e.action = 'generation.product_lock') AS product_locks
FROM walk JOIN {s}.versions v ON v.id = walk.id JOIN {s}.assets a ON a.id = v.asset_id
LEFT JOIN {s}.runs r ON r.id = v.run_id
"""


class _ServerWalk:
    """Where the walk reads a team ledger: one recursive query run by PostgreSQL, then memory."""

    def __init__(self, con: Any, schema: str) -> None:
        self.con, self.schema = con, schema
        self.found: dict[str, dict[str, Any]] = {}
        self.run_rows: dict[str, dict[str, Any]] = {}

    def _walk(self, version_id: str) -> None:
        self.found = {r["id"]: r for r in server_rows(self.con, self.schema, _SERVER_WALK, [version_id])}
        for r in self.found.values():
            if r["r_id"] is not None:
                self.run_rows[r["r_id"]] = {"id": r["r_id"], **{k: r["r_" + k] for k in _RUN_COLS}}

    def start(self, version_id: str) -> tuple[str, list[dict[str, Any]]]:
        """As :meth:`_Queries.start`: the walk from the exact id, or from the id a unique prefix names."""
        self._walk(version_id)
        if version_id not in self.found:
            full = q.resolve_id(self.con, "version", version_id)
            if full is not None and full != version_id:
                version_id = full
                self._walk(version_id)
        return version_id, list(self.found.values())

    def versions(self, ids: set[str]) -> list[dict[str, Any]]:
        """As :meth:`_Queries.versions` (every ancestor is walked already)."""
        return [self.found[v] for v in ids if v in self.found]

    def runs(self, ids: set[str]) -> list[dict[str, Any]]:
        """As :meth:`_Queries.runs`."""
        return [dict(self.run_rows[r]) for r in sorted(ids) if r in self.run_rows]

    def states(self, ids: list[str]) -> dict[str, str]:
        """As :meth:`_Queries.states`."""
        return {v: self.found[v]["review_state"] for v in ids
                if v in self.found and self.found[v]["review_state"] is not None}

    def locks(self, output_ids: list[str]) -> list[tuple[str, Any]]:
        """As :meth:`_Queries.locks`."""
        wanted = set(output_ids)
        return [(r["output_id"], details) for r in self.found.values() if r["output_id"] in wanted
                for details in json_value(r["product_locks"]) or []]


def graph(con: Any, version_id: str, *, max_nodes: int = 20_000) -> dict[str, Any]:
    """The lineage graph of ``version_id`` (see the module docstring); :class:`NotFound` when unknown."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, str]] = []
    cache: dict[str, dict[str, Any]] = {}
    schema = server_schema(con)
    source: _Queries | _ServerWalk = _Queries(con) if schema is None else _ServerWalk(con, schema)
    version_id, known = source.start(version_id)
    pending, done_runs = {version_id}, set()
    for row in known:
        cache[row["id"]] = row
    while pending and len(nodes) < max_nodes:
        missing = {v for v in pending if v not in cache}
        if missing:
            for row in source.versions(missing):
                cache[row["id"]] = row
        if version_id not in cache:
            raise NotFound(f"unknown version {version_id!r}")
        runs_needed: set[str] = set()
        next_pending: set[str] = set()
        stack = [v for v in pending if v in cache]
        while stack:
            vid = stack.pop()
            if vid in nodes:
                continue
            v = cache[vid]
            nodes[vid] = {"kind": "version", **{k: v[k] for k in (
                "asset_id", "asset_name", "number", "author", "message", "source", "sha256", "created_at")}}
            if v["asset_id"] not in nodes:
                nodes[v["asset_id"]] = {"kind": "asset", "name": v["asset_name"], "sku": v["sku"],
                                        "role": v["role"]}
            edges.append({"from": vid, "to": v["asset_id"], "kind": "version_of"})
            if v["parent_id"]:
                edges.append({"from": vid, "to": v["parent_id"], "kind": "parent"})
                if v["parent_id"] in cache:
                    stack.append(v["parent_id"])
                else:
                    next_pending.add(v["parent_id"])
            if v["run_id"]:
                edges.append({"from": vid, "to": v["run_id"], "kind": "generated_by"})
                if v["run_id"] not in done_runs:
                    runs_needed.add(v["run_id"])
        if runs_needed:
            next_pending |= _add_runs(source, runs_needed, nodes, edges)
            done_runs |= runs_needed
        pending = {v for v in next_pending if v not in nodes}
    if len(nodes) > 0:
        _add_states(source, nodes)
        _add_product_locks(source, cache, nodes, edges)
    return {"root": version_id, "nodes": nodes, "edges": edges, "truncated": bool(pending)}


def _add_runs(source: _Queries | _ServerWalk, run_ids: set[str], nodes: dict[str, Any],
              edges: list[dict[str, str]]) -> set[str]:
    runs = source.runs(run_ids)
    refs: set[str] = set()
    found: set[str] = set()
    for run in runs:
        run_id = run.pop("id")
        found.add(run_id)
        for key in ("variables", "params", "reference_versions"):
            run[key] = json_value(run[key])
        nodes[run_id] = {"kind": "run", **run}
        if run["recipe_id"]:
            nodes.setdefault(run["recipe_id"], {"kind": "recipe", "name": run["recipe_name"],
                                                "version": run["recipe_version"]})
            edges.append({"from": run_id, "to": run["recipe_id"], "kind": "recipe"})
        for ref in run["reference_versions"] or []:
            edges.append({"from": run_id, "to": ref, "kind": "reference"})
            refs.add(ref)
    for missing in run_ids - found:
        nodes[missing] = {"kind": "run", "missing": True}
    return refs


def _add_product_locks(source: _Queries | _ServerWalk, cache: dict[str, dict[str, Any]], nodes: dict[str, Any],
                       edges: list[dict[str, str]]) -> None:
    """A ``product_pixels`` edge from each version whose output was product-locked to the reference version
    its product's pixels were composited from (the ``generation.product_lock`` event)."""
    by_output = {cache[v]["output_id"]: v for v, n in nodes.items()
                 if n["kind"] == "version" and v in cache and cache[v].get("output_id")}
    if not by_output:
        return
    for target_id, details in source.locks(list(by_output)):
        info = json_value(details) or {}
        if info.get("locked") and info.get("reference_version_id"):
            edges.append({"from": by_output[target_id], "to": info["reference_version_id"],
                          "kind": "product_pixels", "method": str(info.get("method") or "")})


def _add_states(source: _Queries | _ServerWalk, nodes: dict[str, Any]) -> None:
    ids = [k for k, n in nodes.items() if n["kind"] == "version"]
    for n in nodes.values():
        if n["kind"] == "version":
            n["state"] = "draft"
    for vid, state in source.states(ids).items():
        nodes[vid]["state"] = state
