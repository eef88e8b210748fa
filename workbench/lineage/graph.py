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
size of ledger.
"""

from __future__ import annotations

from typing import Any

from ..errors import NotFound
from ..ledger import queries as q
from ..ledger.values import json_value

__all__ = ["graph"]

_CHUNK = 2000
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


def graph(con: Any, version_id: str, *, max_nodes: int = 20_000) -> dict[str, Any]:
    """The lineage graph of ``version_id`` (see the module docstring); :class:`NotFound` when unknown."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, str]] = []
    cache: dict[str, dict[str, Any]] = {}
    version_id = q.resolve_id(con, "version", version_id) or version_id  # a unique prefix names it
    pending, done_runs = {version_id}, set()
    for row in _fetch_asset_versions(con, version_id):
        cache[row["id"]] = row
    while pending and len(nodes) < max_nodes:
        missing = {v for v in pending if v not in cache}
        if missing:
            for row in _fetch_versions(con, missing):
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
            next_pending |= _add_runs(con, runs_needed, nodes, edges)
            done_runs |= runs_needed
        pending = {v for v in next_pending if v not in nodes}
    if len(nodes) > 0:
        _add_states(con, nodes)
        _add_product_locks(con, cache, nodes, edges)
    return {"root": version_id, "nodes": nodes, "edges": edges, "truncated": bool(pending)}


def _add_runs(con: Any, run_ids: set[str], nodes: dict[str, Any], edges: list[dict[str, str]]) -> set[str]:
    runs = _by_ids(con, "runs", "SELECT id, recipe_id, recipe_name, recipe_version, template, variables, prompt, "
                                "negative_prompt, engine, model, model_version, params, seed, reference_versions, status, cost_usd, author, "
                                "created_at FROM runs WHERE {where}", run_ids)
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


def _add_product_locks(con: Any, cache: dict[str, dict[str, Any]], nodes: dict[str, Any],
                       edges: list[dict[str, str]]) -> None:
    """A ``product_pixels`` edge from each version whose output was product-locked to the reference version
    its product's pixels were composited from (the ``generation.product_lock`` event)."""
    by_output = {cache[v]["output_id"]: v for v, n in nodes.items()
                 if n["kind"] == "version" and v in cache and cache[v].get("output_id")}
    if not by_output:
        return
    for row in q.rows(con, "SELECT target_id, details FROM events WHERE action = 'generation.product_lock' "
                           "AND list_contains(?, target_id)", [list(by_output)]):
        info = json_value(row["details"]) or {}
        if info.get("locked") and info.get("reference_version_id"):
            edges.append({"from": by_output[row["target_id"]], "to": info["reference_version_id"],
                          "kind": "product_pixels", "method": str(info.get("method") or "")})


def _add_states(con: Any, nodes: dict[str, Any]) -> None:
    ids = [k for k, n in nodes.items() if n["kind"] == "version"]
    for n in nodes.values():
        if n["kind"] == "version":
            n["state"] = "draft"
    for row in q.rows(con, "SELECT version_id, arg_max(to_state, created_at) AS state FROM reviews r "
                              "JOIN (SELECT unnest(?) AS vid) x ON x.vid = r.version_id GROUP BY version_id", [ids]):
        nodes[row["version_id"]]["state"] = row["state"]
