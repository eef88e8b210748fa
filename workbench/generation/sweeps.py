"""Sweeps: expand recipe × variables × references × engines/models × seeds into planned runs.

Nothing is sent while planning. :func:`build_plan` resolves references, renders every prompt (so a template
error surfaces before any money is spent), resolves each engine's model, computes the canonical request hash
and the estimated cost of every run, and looks the hashes up in the ledger: a run whose identical request
already succeeded will be answered from that run's outputs (``cached_from``) unless ``force`` is set, and
costs nothing. The result is a :class:`SweepPlan` that a CLI or UI shows (count, estimated cost, cache
hits) before :class:`~workbench.generation.runner.Runner` executes it.

Axes and their order (the product is taken in this order, so runs of one reference stay together):
``reference`` → each variable (declared order) → ``engine``/``model`` → ``size`` → ``seed``.

``size`` is the resolution axis: one size or several (a list, or text like ``"1K, 2K"`` read by
:func:`~workbench.generation.sweep_input.parse_sizes`); a recipe gives it as ``size``, ``sizes`` or
``resolution`` in its defaults. Each engine checks every size against its model's capabilities while the
plan is built (an :class:`~workbench.errors.InvalidSpec` naming what the model takes), and estimates each
size from its price table, so :attr:`SweepPlan.cost_by_size` shows what each resolution will cost.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from ..errors import InvalidSpec, NotFound
from ..ids import new_id, request_hash
from ..ledger import queries as q
from ..plugins.engine import EngineRequest, ReferenceImage
from .engines import EnginePool
from .recipes import Recipe, get_recipe
from .sweep_input import parse_sizes
from .templates import RenderBudget, render, validate

if TYPE_CHECKING:
    from ..library.service import Library
    from ..project import Project

__all__ = ["PlannedRun", "Reference", "SweepArgs", "SweepPlan", "build_plan", "missing_keys", "parse_engine_spec"]


@dataclass(frozen=True)
class Reference:
    """One reference version handed to a run (ledger facts only; bytes are read from the store at send time)."""

    version_id: str
    sha256: str
    mime: str | None = None
    width: int | None = None
    height: int | None = None
    asset_name: str | None = None
    sku: str | None = None
    title: str | None = None


@dataclass
class PlannedRun:
    """One engine request of a sweep, fully rendered, with its hash and estimated cost."""

    id: str
    sweep_id: str | None
    engine: str
    model: str | None
    prompt: str
    negative_prompt: str | None
    template: str
    variables: dict[str, Any]
    seed: int | None
    params: dict[str, Any]
    references: list[Reference]
    request_hash: str
    estimated_cost_usd: float
    recipe_id: str | None = None
    recipe_name: str | None = None
    recipe_version: int | None = None
    cached_from: str | None = None  # a succeeded run with the same hash (filled when planning)
    status: str = "planned"

    def engine_request(self, reference_bytes: Mapping[str, bytes] | None = None) -> EngineRequest:
        """The :class:`EngineRequest` for this run; bytes come from ``reference_bytes`` (sha → data)."""
        refs = tuple(
            ReferenceImage(sha256=r.sha256, data=(reference_bytes or {}).get(r.sha256, b""),
                           mime=r.mime or "image/png", version_id=r.version_id, width=r.width, height=r.height)
            for r in self.references
        )
        return EngineRequest(
            prompt=self.prompt, references=refs, negative_prompt=self.negative_prompt, model=self.model,
            aspect=self.params.get("aspect"), size=self.params.get("size"), n=int(self.params.get("n") or 1),
            seed=self.seed, strength=self.params.get("strength"), extras=dict(self.params.get("extras") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (references by version id)."""
        return {
            "id": self.id, "sweep_id": self.sweep_id, "engine": self.engine, "model": self.model,
            "prompt": self.prompt, "negative_prompt": self.negative_prompt, "variables": self.variables,
            "seed": self.seed, "params": self.params,
            "reference_versions": [r.version_id for r in self.references],
            "request_hash": self.request_hash, "estimated_cost_usd": self.estimated_cost_usd,
            "recipe": f"{self.recipe_name}@{self.recipe_version}" if self.recipe_name else None,
            "cached_from": self.cached_from, "status": self.status,
        }


@dataclass
class SweepPlan:
    """Planned runs of one sweep: ``count``, ``estimated_cost_usd`` (new paid calls only) and cache hits.

    ``spec`` is the sweep as the user gave it (stored on the ``sweeps`` row); ``resumed`` is True when the
    plan was rebuilt from an interrupted sweep's unfinished runs.
    """

    id: str
    spec: dict[str, Any]
    runs: list[PlannedRun] = field(default_factory=list)
    name: str | None = None
    force: bool = False
    resumed: bool = False
    #: What will go wrong if the plan runs as it is (an engine without its key), one sentence each.
    warnings: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Number of planned runs."""
        return len(self.runs)

    @property
    def cache_hits(self) -> int:
        """Runs that will be answered from an identical earlier run (0 when ``force``)."""
        return 0 if self.force else sum(1 for r in self.runs if r.cached_from)

    @property
    def estimated_cost_usd(self) -> float:
        """Estimated USD of the calls that will actually be sent."""
        return round(sum(r.estimated_cost_usd for r in self.runs if self.force or not r.cached_from), 6)

    @property
    def cost_by_size(self) -> dict[str, dict[str, Any]]:
        """Per size (``"default"`` when none was given): runs, runs that will be sent, and their estimated USD."""
        out: dict[str, dict[str, Any]] = {}
        for run in self.runs:
            row = out.setdefault(str(run.params.get("size") or "default"),
                                 {"runs": 0, "sent": 0, "estimated_cost_usd": 0.0})
            row["runs"] += 1
            if self.force or not run.cached_from:
                row["sent"] += 1
                row["estimated_cost_usd"] = round(row["estimated_cost_usd"] + run.estimated_cost_usd, 6)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plan: sweep id, count, estimated cost (in total and per size), cache hits and every run."""
        return {"sweep_id": self.id, "name": self.name, "count": self.count,
                "estimated_cost_usd": self.estimated_cost_usd, "cost_by_size": self.cost_by_size,
                "cache_hits": self.cache_hits,
                "force": self.force, "resumed": self.resumed, "spec": self.spec, "warnings": list(self.warnings),
                "runs": [r.to_dict() for r in self.runs]}


def parse_engine_spec(spec: str) -> tuple[str, str | None]:
    """``"gemini"`` → ``("gemini", None)``; ``"gemini:gemini-2.5-flash-image"`` → engine and model."""
    name, _, model = spec.partition(":")
    name = name.strip()
    if not name:
        raise InvalidSpec(f"bad engine {spec!r}")
    return name, (model.strip() or None)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


_REF_SQL = (
    "SELECT v.id, v.sha256, b.mime, b.width, b.height, a.name, a.sku, a.title FROM versions v "
    "JOIN assets a ON a.id = v.asset_id LEFT JOIN blobs b ON b.sha256 = v.sha256 WHERE v.id = ?"
)


def resolve_reference_set(project: Project, library: Library, ref: str | Sequence[str]) -> list[Reference]:
    """Resolve one reference axis value (a ref string, or a group of refs used together) to versions."""
    refs = [ref] if isinstance(ref, str) else list(ref)
    version_ids: list[str] = []
    for one in refs:
        found = [str(v["id"]) for v in library.resolve_versions(one)]
        if not found:
            raise NotFound(f"no versions found for reference {one!r}")
        version_ids.extend(v for v in found if v not in version_ids)
    out = []
    with project.ledger.connect() as con:
        for vid in version_ids:
            row = con.execute(_REF_SQL, [vid]).fetchone()
            if row is None:
                raise NotFound(f"unknown version {vid!r}")
            title = row[7]
            cat = q.catalog_row(con, row[6])
            if cat and cat["title"]:
                title = cat["title"]
            out.append(Reference(row[0], row[1], row[2], row[3], row[4], row[5], row[6], title))
    return out


def references_by_sku(project: Project, skus: Sequence[str]) -> dict[str, list[Reference]]:
    """The reference set of each SKU in one query: the latest version of every live reference asset of the SKU
    (matched case-insensitively), oldest asset first. SKUs without references are absent."""
    wanted = sorted({s.lower() for s in skus if s})
    if not wanted:
        return {}
    with project.ledger.connect() as con:
        rows = q.rows(con, "SELECT lower(a.sku) AS key, v.id, v.sha256, b.mime, b.width, b.height, a.name, a.sku, "
                           "coalesce(c.title, a.title) AS title FROM assets a "
                           "JOIN (SELECT asset_id, arg_max(id, number) AS vid FROM versions GROUP BY asset_id) lv "
                           "ON lv.asset_id = a.id JOIN versions v ON v.id = lv.vid LEFT JOIN blobs b ON b.sha256 = v.sha256 "
                           "LEFT JOIN (SELECT lower(sku) AS k, arg_max(title, imported_at) AS title FROM catalog "
                           "GROUP BY lower(sku)) c ON c.k = lower(a.sku) "
                           "WHERE a.role = 'reference' AND a.retired_at IS NULL AND list_contains(?, lower(a.sku)) "
                           "ORDER BY a.created_at, a.id", [wanted])
    out: dict[str, list[Reference]] = {}
    for r in rows:
        out.setdefault(r["key"], []).append(Reference(r["id"], r["sha256"], r["mime"], r["width"], r["height"],
                                                      r["name"], r["sku"], r["title"]))
    return {sku: out[sku.lower()] for sku in skus if sku and sku.lower() in out}


def _reference_variables(refs: list[Reference], catalog: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """Template variables a reference set provides: ``sku``, ``title``, ``handle``, ``reference``
    (``catalog``: the newest catalog row by lower-case SKU)."""
    out: dict[str, Any] = {}
    if refs:
        out["reference"] = refs[0].asset_name
    sku = next((r.sku for r in refs if r.sku), None)
    if sku:
        out["sku"] = sku
        cat = catalog.get(sku.lower())
        if cat:
            out.update({k: cat[k] for k in ("title", "handle") if cat[k]})
    if "title" not in out:
        title = next((r.title for r in refs if r.title), None)
        if title:
            out["title"] = title
    return {k: v for k, v in out.items() if v is not None}


class SweepArgs(TypedDict, total=False):
    """What a caller asks a sweep for; every face (CLI, widgets, dashboard, notebooks, batches) passes these.

    ``prompt`` (an inline template) or ``recipe`` (``NAME``/``NAME@N``, or a :class:`Recipe`); ``refs``: asset
    ids, version ids, asset names or SKUs, each one value of the reference axis (a tuple of refs = one set
    used together); ``engines``: names, optionally ``engine:model``; ``models`` crosses with engines given
    without one; ``seeds``; ``variables``: name → value or list of values (an axis); ``aspect``; ``size``: one
    size or several (a list, or ``"1K, 2K"``), an axis checked against each model and priced per size;
    ``n`` images per run; ``negative`` prompt; ``strength`` of an edit; engine ``extras``; the sweep's
    ``name``; ``force`` re-runs what the cache already holds; ``product_lock`` (or the recipe's default
    ``product_lock = true``) composites the reference product's own pixels into every output
    (:mod:`workbench.fidelity.lock`), part of the request's hash so locked and unlocked outputs never answer
    for each other.
    """

    prompt: str | None
    recipe: str | Recipe | None
    refs: Sequence[str | Sequence[str]]
    engines: Sequence[str] | str | None
    models: Sequence[str] | str | None
    seeds: Sequence[int | None] | int | None
    variables: Mapping[str, Any] | None
    aspect: str | None
    size: str | Sequence[str] | None
    n: int | None
    negative: str | None
    strength: float | None
    extras: Mapping[str, Any] | None
    name: str | None
    force: bool
    product_lock: bool | None


def build_plan(
    project: Project,
    library: Library,
    pool: EnginePool,
    *,
    reference_sets: Sequence[list[Reference]] | None = None,
    spec_extra: Mapping[str, Any] | None = None,
    **sweep: Unpack[SweepArgs],
) -> SweepPlan:
    """Expand a sweep into planned runs (see the module docstring). Nothing is sent or written.

    ``sweep``: see :class:`SweepArgs`. ``reference_sets`` gives the reference axis already resolved (a
    catalogue batch resolves a thousand SKUs in one query) instead of ``refs``; ``spec_extra`` is merged into
    the stored sweep spec.
    """
    prompt, recipe, refs = sweep.get("prompt"), sweep.get("recipe"), sweep.get("refs", ())
    engines, models, seeds = sweep.get("engines"), sweep.get("models"), sweep.get("seeds")
    variables, aspect, size, n = sweep.get("variables"), sweep.get("aspect"), sweep.get("size"), sweep.get("n")
    negative, strength, extras = sweep.get("negative"), sweep.get("strength"), sweep.get("extras")
    name, force = sweep.get("name"), bool(sweep.get("force", False))
    product_lock = sweep.get("product_lock")
    if (prompt is None) == (recipe is None):
        raise InvalidSpec("give exactly one of prompt= (an inline template) or recipe= (NAME or NAME@VERSION)")
    rec: Recipe | None = None
    if recipe is not None:
        rec = recipe if isinstance(recipe, Recipe) else get_recipe(project, recipe)
        template, neg_template = rec.template, negative if negative is not None else rec.negative
        declared, defaults = dict(rec.variables), dict(rec.defaults)
    else:
        template, neg_template, declared, defaults = str(prompt), negative, {}, {}
    validate(template)
    if neg_template:
        validate(neg_template)

    # variable axes: recipe defaults (a list default is an axis), overridden by the caller's values
    user_vars = dict(variables or {})
    merged: dict[str, list[Any]] = {}
    for key, value in declared.items():
        merged[key] = _as_list(value) if isinstance(value, (list, tuple)) else [value]
    for key, value in user_vars.items():
        axis = _as_list(value)
        if not axis:
            raise InvalidSpec(f"variable {key!r} has no values")
        merged[key] = axis
    var_names = list(merged)

    engine_specs = _as_list(engines) or _as_list(defaults.get("engines") or defaults.get("engine")) \
        or [pool.default_engine()]
    model_list = _as_list(models) or _as_list(defaults.get("models") or defaults.get("model"))
    pairs: list[tuple[str, str | None]] = []
    for spec in engine_specs:
        eng, model = parse_engine_spec(str(spec))
        pool.engine_class(eng)  # unknown engine → did-you-mean error before anything else
        for m in ([model] if model else (model_list or [None])):
            if (eng, m) not in pairs:
                pairs.append((eng, m))
    seed_list = _as_list(seeds) if seeds is not None else _as_list(defaults.get("seeds", defaults.get("seed")))
    seed_list = [None if s is None else int(s) for s in seed_list] or [None]
    count = int(n if n is not None else defaults.get("n", 1))
    if count < 1:
        raise InvalidSpec("n must be at least 1")
    given_size = size if size is not None else next(
        (defaults[k] for k in ("size", "sizes", "resolution") if defaults.get(k) is not None), None)
    size_list: list[str | None] = list(parse_sizes(given_size) or []) or [None]
    optional: dict[str, Any] = {
        "aspect": aspect if aspect is not None else defaults.get("aspect"),
        "size": size_list[0] if len(size_list) == 1 else None,
        "strength": strength if strength is not None else defaults.get("strength"),
        "extras": dict(extras if extras is not None else defaults.get("extras") or {}),
        "product_lock": bool(product_lock if product_lock is not None else defaults.get("product_lock")) or None,
    }
    params: dict[str, Any] = {k: v for k, v in optional.items() if v not in (None, {})} | {"n": count}

    if reference_sets is not None and refs:
        raise InvalidSpec("give refs= or reference_sets=, not both")
    ref_sets: list[list[Reference]] = (list(reference_sets) if reference_sets is not None else
                                       [resolve_reference_set(project, library, r) for r in refs]) or [[]]
    with project.ledger.connect() as con:
        catalog = {k.lower(): v for k, v in q.latest_catalog(con, {r.sku for rs in ref_sets for r in rs if r.sku}).items()}
    sweep_id = new_id("sweep")
    spec = {
        "prompt": prompt, "recipe": rec.ref if rec else None,
        "refs": [r if isinstance(r, str) else list(r) for r in refs] or [[x.version_id for x in rs] for rs in ref_sets if rs],
        "engines": [f"{e}:{m}" if m else e for e, m in pairs], "seeds": seed_list,
        **({"sizes": size_list} if len(size_list) > 1 else {}),
        "variables": {k: merged[k] for k in var_names}, "params": params, "negative": negative, "force": force,
        **dict(spec_extra or {}),
    }
    plan = SweepPlan(id=sweep_id, spec=spec, name=name, force=force)
    budget = RenderBudget.from_settings(project.settings)  # per template and for the whole sweep
    for ref_set in ref_sets:
        ref_vars = _reference_variables(ref_set, catalog)
        for combo in itertools.product(*(merged[k] for k in var_names)):
            # the reference's own facts (sku, title…) beat recipe defaults; the caller's values beat both
            values: dict[str, Any] = dict(zip(var_names, combo, strict=True))
            values.update({k: v for k, v in ref_vars.items() if k not in user_vars})
            rendered = render(template, values, budget)
            rendered_neg = render(neg_template, values, budget) if neg_template else None
            for (eng, model), run_size, seed in itertools.product(pairs, size_list, seed_list):
                engine = pool.for_planning(eng)
                run_params = dict(params) if run_size is None else {**params, "size": run_size}
                run = PlannedRun(
                    id=new_id("run"), sweep_id=sweep_id, engine=eng, model=model, prompt=rendered,
                    negative_prompt=rendered_neg, template=template, variables=dict(values), seed=seed,
                    params=run_params, references=list(ref_set), request_hash="", estimated_cost_usd=0.0,
                    recipe_id=rec.id if rec else None, recipe_name=rec.name if rec else None,
                    recipe_version=rec.version if rec else None,
                )
                # the hash covers the model the engine will really use, so a default-model change is a miss
                run.model = engine.model_for(run.engine_request()) or None
                pinned = dict(engine.pinned_extras(run.engine_request()))
                if pinned:  # engine-side inputs (a ComfyUI workflow) become part of the hash and the record
                    run.params["extras"] = pinned
                request = run.engine_request()
                fingerprint = request.fingerprint(eng)
                if run.params.get("product_lock"):
                    fingerprint = {**fingerprint, "product_lock": True}
                run.request_hash = request_hash(fingerprint)
                run.estimated_cost_usd = float(engine.estimate_cost(request))
                plan.runs.append(run)
    _attach_cache(project, plan)
    plan.warnings = missing_keys(plan, pool)
    return plan


def missing_keys(plan: SweepPlan, pool: EnginePool) -> list[str]:
    """One warning per engine whose credential is unset while some of its runs would really be sent."""
    sent: dict[str, int] = {}
    for run in plan.runs:
        if plan.force or not run.cached_from:
            sent[run.engine] = sent.get(run.engine, 0) + 1
    warnings = []
    for name, count in sent.items():
        reason = pool.for_planning(name).unavailable_reason()
        if reason:
            warnings.append(f"{name}: {reason}; its {count} run{'s' if count != 1 else ''} would fail "
                            "(add the key to the credentials file or the environment)")
    return warnings


def _attach_cache(project: Project, plan: SweepPlan) -> None:
    """Fill ``cached_from`` for runs whose identical request already succeeded with all its outputs."""
    hashes = sorted({r.request_hash for r in plan.runs})
    if not hashes:
        return
    with project.ledger.connect() as con:
        rows = con.execute(
            "SELECT r.request_hash, arg_max(r.id, r.finished_at) FROM runs r "
            "WHERE r.status = 'succeeded' AND r.cached_from IS NULL AND r.request_hash IN (SELECT unnest(?)) "
            "AND r.error_type IS DISTINCT FROM 'PartialResult' "
            "AND EXISTS (SELECT 1 FROM run_outputs o WHERE o.run_id = r.id) GROUP BY r.request_hash",
            [hashes]).fetchall()
    found = dict(rows)
    for run in plan.runs:
        run.cached_from = found.get(run.request_hash)


def plan_from_ledger(project: Project, sweep_id: str, *, force: bool = False) -> SweepPlan:
    """Rebuild the unfinished runs of sweep ``sweep_id`` (anything not succeeded) for a resume."""
    with project.ledger.connect() as con:
        sweep_id = q.resolve_id(con, "sweep", sweep_id) or sweep_id  # a unique prefix names it
        sweep = con.execute("SELECT id, name, spec FROM sweeps WHERE id = ?", [sweep_id]).fetchone()
        if sweep is None:
            raise NotFound(f"unknown sweep {sweep_id!r}")
        rows = con.execute(
            "SELECT id, engine, model, prompt, negative_prompt, template, variables, seed, params, reference_versions,"
            " reference_blobs, request_hash, estimated_cost_usd, recipe_id, recipe_name, recipe_version, status "
            "FROM runs WHERE sweep_id = ? AND status <> 'succeeded' ORDER BY id", [sweep_id]).fetchall()
        blob_facts = {}
        for row in rows:
            for sha in json.loads(row[10] or "[]"):
                if sha not in blob_facts:
                    blob_facts[sha] = con.execute("SELECT mime, width, height FROM blobs WHERE sha256 = ?",
                                                  [sha]).fetchone() or (None, None, None)
    plan = SweepPlan(id=sweep_id, spec=json.loads(sweep[2] or "{}"), name=sweep[1], force=force, resumed=True)
    for row in rows:
        versions, blobs = json.loads(row[9] or "[]"), json.loads(row[10] or "[]")
        refs = [Reference(v, s, *blob_facts.get(s, (None, None, None))) for v, s in zip(versions, blobs, strict=False)]
        plan.runs.append(PlannedRun(
            id=row[0], sweep_id=sweep_id, engine=row[1], model=row[2], prompt=row[3], negative_prompt=row[4],
            template=row[5] or row[3], variables=json.loads(row[6] or "{}"), seed=row[7],
            params=json.loads(row[8] or "{}"), references=refs, request_hash=row[11],
            estimated_cost_usd=float(row[12] or 0.0), recipe_id=row[13], recipe_name=row[14],
            recipe_version=row[15], status=row[16],
        ))
    _attach_cache(project, plan)
    return plan
