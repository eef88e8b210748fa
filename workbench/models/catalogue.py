"""The model catalogue as data: per engine, each model's lifecycle, capabilities and dated price tables.

The facts live in ``workbench/models/data/<engine>.json`` (shipped as package data), one file per engine,
so that updating a price or a shutdown date is a data edit with its source beside it, not a code change.
Every file has the same shape::

    {"engine": "gemini", "checked": "2026-12-02", "default": "<model id>",
     "sources": {"<key>": {"url": ..., "read": "YYYY-MM-DD", "says": ..., "via": ...}},
     "models": {"<id>": {"name", "kind": "image"|"text", "released", "deprecated", "shutdown", "replacement",
                         "lifecycle_sources": [<key>...], "note", "capabilities": {...} | "<shared key>" | null,
                         "prices": [{"effective": "YYYY-MM-DD", "rates": {...} | "<shared key>",
                                     "output_tokens_per_image" | "output_tokens": ..., ...}]}},
     "shared": {"capabilities": {...}, "rates": {...}, "output_tokens": {...}},   # optional, referenced by key
     "pixels_1k": {"<key>": {"scale": {"1K": 1, ...}, "sizes": {"1:1": [1024, 1024], ...}}}}  # optional

A rate is ``{"usd_per_mtok": 30.0, "source": "<key>"}`` (USD per million tokens of one token class) or
``{"usd_per_image": 0.04, "source": "<key>"}``; every rate names the source it was read from, and the source
carries its URL and the date it was read. :func:`load_catalogue` resolves the keys and returns a
:class:`Catalogue` of frozen :class:`ModelInfo` objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import InvalidSpec

__all__ = ["TOKEN_CLASSES", "Capabilities", "Catalogue", "ModelInfo", "PriceTable", "Rate", "Source",
           "load_catalogue"]

#: The token classes a rate may price (USD per million tokens each).
TOKEN_CLASSES = ("text_input", "cached_text_input", "image_input", "cached_image_input", "text_output",
                 "image_output")


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidSpec(f"model catalogue: {value!r} is not a YYYY-MM-DD date") from exc


@dataclass(frozen=True)
class Source:
    """Where a fact was read: the page, the day it was read, what it says, and through whom if not first-hand."""

    key: str
    url: str
    read: date | None
    says: str = ""
    via: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = {"url": self.url, "read": self.read.isoformat() if self.read else None, "says": self.says}
        if self.via:
            out["via"] = self.via
        return out


@dataclass(frozen=True)
class Rate:
    """The price of one token class (``usd_per_mtok``) or of one output image (``usd_per_image``)."""

    name: str
    source: Source
    usd_per_mtok: float | None = None
    usd_per_image: float | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the source's URL and read date inline."""
        out: dict[str, Any] = {"source": self.source.url,
                               "read": self.source.read.isoformat() if self.source.read else None}
        if self.usd_per_mtok is not None:
            out["usd_per_mtok"] = self.usd_per_mtok
        if self.usd_per_image is not None:
            out["usd_per_image"] = self.usd_per_image
        if self.note:
            out["note"] = self.note
        if self.source.via:
            out["via"] = self.source.via
        return out


@dataclass(frozen=True)
class PriceTable:
    """The rates in force from ``effective`` on, and the token counts used to estimate before a run."""

    effective: date
    rates: Mapping[str, Rate]
    #: Output tokens of one image per size tier ("512", "1K", ...), where the provider publishes them.
    output_tokens_per_image: Mapping[str, int] = field(default_factory=dict)
    #: Or a formula over pixels: {"model": "power", "base_tokens", "base_pixels", "exponent", ...}.
    output_tokens_model: Mapping[str, Any] | None = None
    #: Input tokens one reference image costs.
    input_tokens_per_image: int | None = None
    estimate_basis: str | None = None

    @property
    def per_token(self) -> bool:
        """Whether this table prices tokens (else images)."""
        return any(r.usd_per_mtok is not None for r in self.rates.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"effective": self.effective.isoformat(),
                               "rates": {k: r.to_dict() for k, r in self.rates.items()}}
        if self.output_tokens_per_image:
            out["output_tokens_per_image"] = dict(self.output_tokens_per_image)
        if self.output_tokens_model:
            out["output_tokens_model"] = dict(self.output_tokens_model)
        if self.input_tokens_per_image is not None:
            out["input_tokens_per_image"] = self.input_tokens_per_image
        if self.estimate_basis:
            out["estimate_basis"] = self.estimate_basis
        return out


@dataclass(frozen=True)
class Capabilities:
    """What a model accepts: sizes (tiers or a custom-size rule), aspect ratios, references, n, options."""

    sizes: Any  # list of tiers ("512", "1K"...), or {"standard": [...], "custom": True, "multiple": 16, ...}
    default_size: str | None
    aspect_ratios: tuple[str, ...] | None
    max_references: int | None
    max_n: int | None
    transparent_background: bool
    masks: bool
    options: Mapping[str, Any] = field(default_factory=dict)
    #: Pixel size of each aspect ratio at 1K and the per-tier scale (models that take tiers).
    pixels_1k: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    tier_scale: Mapping[str, float] = field(default_factory=dict)
    sources: tuple[Source, ...] = ()
    note: str | None = None

    @property
    def tiers(self) -> tuple[str, ...]:
        """Size tiers the model takes ("512", "1K", "2K", "4K"), or those a custom-size model maps."""
        if isinstance(self.sizes, list):
            return tuple(self.sizes)
        if isinstance(self.sizes, dict):
            return tuple(self.sizes.get("tiers") or ())
        return ()

    def pixels(self, aspect: str, tier: str) -> tuple[int, int] | None:
        """Output pixel size of ``aspect`` at ``tier``, where the catalogue knows it."""
        base = self.pixels_1k.get(aspect)
        scale = self.tier_scale.get(tier)
        if base is None or scale is None:
            return None
        return round(base[0] * scale), round(base[1] * scale)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {
            "sizes": self.sizes, "default_size": self.default_size,
            "aspect_ratios": list(self.aspect_ratios) if self.aspect_ratios is not None else None,
            "max_references": self.max_references, "max_n": self.max_n,
            "transparent_background": self.transparent_background, "masks": self.masks,
            "options": dict(self.options), "sources": [s.url for s in self.sources],
        }
        if self.pixels_1k:
            out["pixels"] = {tier: {a: list(self.pixels(a, tier) or ()) for a in self.pixels_1k}
                             for tier in self.tier_scale}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class ModelInfo:
    """One model of one engine: identity, lifecycle, capabilities and price tables."""

    engine: str
    id: str
    name: str
    kind: str
    released: date | None
    deprecated: date | None
    shutdown: date | None
    replacement: str | None
    lifecycle_sources: tuple[Source, ...]
    capabilities: Capabilities | None
    prices: tuple[PriceTable, ...]
    note: str | None = None

    def price_on(self, day: date | None = None) -> PriceTable | None:
        """The price table in force on ``day`` (default today): the latest one effective on or before it."""
        day = day or date.today()
        current = [p for p in self.prices if p.effective <= day]
        if current:
            return max(current, key=lambda p: p.effective)
        # a run dated before the first known table (clock skew, old data): the earliest table is the best guess
        return min(self.prices, key=lambda p: p.effective) if self.prices else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates ISO, sources as URLs)."""
        return {
            "engine": self.engine, "id": self.id, "name": self.name, "kind": self.kind,
            "released": self.released.isoformat() if self.released else None,
            "deprecated": self.deprecated.isoformat() if self.deprecated else None,
            "shutdown": self.shutdown.isoformat() if self.shutdown else None,
            "replacement": self.replacement,
            "lifecycle_sources": [s.to_dict() for s in self.lifecycle_sources],
            "note": self.note,
            "capabilities": self.capabilities.to_dict() if self.capabilities else None,
            "prices": [p.to_dict() for p in self.prices],
        }


@dataclass(frozen=True)
class EngineCatalogue:
    """The catalogue file of one engine."""

    engine: str
    provider: str
    checked: date | None
    default: str
    default_note: str | None
    models: Mapping[str, ModelInfo]
    sources: Mapping[str, Source]


class Catalogue:
    """Every engine's catalogue; look models up with :meth:`get`."""

    def __init__(self, engines: Mapping[str, EngineCatalogue]) -> None:
        self.engines = dict(engines)

    def get(self, engine: str, model: str) -> ModelInfo | None:
        """The model ``model`` of ``engine``, or None when the catalogue does not know it."""
        cat = self.engines.get(engine)
        return cat.models.get(model) if cat else None

    def default(self, engine: str) -> str:
        """The engine's default model (a live one; a test keeps it so)."""
        cat = self.engines.get(engine)
        if cat is None:
            raise InvalidSpec(f"model catalogue: no engine {engine!r}")
        return cat.default

    def models(self, engine: str | None = None) -> Iterator[ModelInfo]:
        """All models, or those of ``engine``, in file order."""
        for name, cat in self.engines.items():
            if engine is None or name == engine:
                yield from cat.models.values()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready catalogue."""
        return {name: {"provider": c.provider, "checked": c.checked.isoformat() if c.checked else None,
                       "default": c.default, "default_note": c.default_note,
                       "models": [m.to_dict() for m in c.models.values()]}
                for name, c in self.engines.items()}


def _source(sources: Mapping[str, Source], key: str, where: str) -> Source:
    try:
        return sources[key]
    except KeyError as exc:
        raise InvalidSpec(f"model catalogue: {where} names unknown source {key!r}") from exc


def _rates(raw: Mapping[str, Any], sources: Mapping[str, Source], where: str) -> dict[str, Rate]:
    out = {}
    for name, spec in raw.items():
        if name not in TOKEN_CLASSES and name != "image":
            raise InvalidSpec(f"model catalogue: {where} prices unknown token class {name!r}")
        if "usd_per_mtok" not in spec and "usd_per_image" not in spec:
            raise InvalidSpec(f"model catalogue: {where} rate {name!r} has no usd_per_mtok or usd_per_image")
        out[name] = Rate(name, _source(sources, str(spec.get("source")), f"{where} rate {name}"),
                         spec.get("usd_per_mtok"), spec.get("usd_per_image"), spec.get("note"))
    return out


def _shared(data: Mapping[str, Any], kind: str, value: Any, where: str) -> Any:
    """A ``"<key>"`` string refers to ``shared.<kind>.<key>``; anything else is the value itself."""
    if isinstance(value, str):
        try:
            return data["shared"][kind][value]
        except KeyError as exc:
            raise InvalidSpec(f"model catalogue: {where} refers to unknown shared {kind} {value!r}") from exc
    return value


def _parse(data: Mapping[str, Any]) -> EngineCatalogue:
    engine = str(data["engine"])
    sources = {k: Source(k, str(v["url"]), _day(v.get("read")), str(v.get("says") or ""), v.get("via"))
               for k, v in (data.get("sources") or {}).items()}
    pixel_sets = data.get("pixels_1k") or {}
    models: dict[str, ModelInfo] = {}
    for model_id, m in data["models"].items():
        where = f"{engine}/{model_id}"
        caps_raw = _shared(data, "capabilities", m.get("capabilities"), where)
        caps = None
        if caps_raw:
            pixels: dict[str, tuple[int, int]] = {}
            scale: dict[str, float] = {}
            if caps_raw.get("pixels_1k"):
                pset = pixel_sets.get(caps_raw["pixels_1k"])
                if pset is None:
                    raise InvalidSpec(f"model catalogue: {where} names unknown pixel set {caps_raw['pixels_1k']!r}")
                pixels = {a: (int(wh[0]), int(wh[1])) for a, wh in pset["sizes"].items()}
                scale = {t: float(s) for t, s in pset["scale"].items()}
            ratios = caps_raw.get("aspect_ratios")
            caps = Capabilities(
                sizes=caps_raw.get("sizes"), default_size=caps_raw.get("default_size"),
                aspect_ratios=tuple(ratios) if ratios is not None else None,
                max_references=caps_raw.get("max_references"), max_n=caps_raw.get("max_n"),
                transparent_background=bool(caps_raw.get("transparent_background")),
                masks=bool(caps_raw.get("masks")), options=dict(caps_raw.get("options") or {}),
                pixels_1k=pixels, tier_scale=scale,
                sources=tuple(_source(sources, k, where) for k in caps_raw.get("sources") or ()),
                note=caps_raw.get("note"))
        tables = []
        for p in m.get("prices") or ():
            rates = _rates(_shared(data, "rates", p.get("rates") or {}, where), sources, where)
            tokens_model = _shared(data, "output_tokens", p.get("output_tokens"), where) if p.get("output_tokens") \
                else None
            input_per_image = p.get("input_tokens_per_image")
            basis = p.get("estimate_basis")
            if tokens_model:
                input_per_image = input_per_image or tokens_model.get("input_tokens_per_image")
                basis = basis or tokens_model.get("estimate_basis")
            tables.append(PriceTable(
                effective=_day(p["effective"]) or date.min, rates=rates,
                output_tokens_per_image={str(k): int(v) for k, v in (p.get("output_tokens_per_image") or {}).items()},
                output_tokens_model=tokens_model, input_tokens_per_image=input_per_image, estimate_basis=basis))
        models[model_id] = ModelInfo(
            engine=engine, id=model_id, name=str(m.get("name") or model_id), kind=str(m.get("kind") or "image"),
            released=_day(m.get("released")), deprecated=_day(m.get("deprecated")), shutdown=_day(m.get("shutdown")),
            replacement=m.get("replacement"),
            lifecycle_sources=tuple(_source(sources, k, where) for k in m.get("lifecycle_sources") or ()),
            capabilities=caps, prices=tuple(tables), note=m.get("note"))
    default = str(data["default"])
    if default not in models:
        raise InvalidSpec(f"model catalogue: {engine}'s default {default!r} is not one of its models")
    return EngineCatalogue(engine, str(data.get("provider") or engine), _day(data.get("checked")), default,
                           data.get("default_note"), models, sources)


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The packaged catalogue (read once per process)."""
    engines = {}
    for entry in sorted(resources.files("workbench.models").joinpath("data").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            parsed = _parse(json.loads(entry.read_text(encoding="utf-8")))
            engines[parsed.engine] = parsed
    return Catalogue(engines)
