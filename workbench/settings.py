"""Project settings: ``DIR/workbench.toml``.

Settings hold what a team tunes per project: engine defaults and base URLs, the price table for cost
estimates, rendition presets, review rules, channel destinations and the traditional-production cost model
used by the savings report. Never secrets: credentials come from the environment (see
:mod:`workbench.secrets`).

A project's file only needs to say what differs from :data:`DEFAULTS`; values are deep-merged on load.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from .errors import ProjectError

__all__ = ["DEFAULTS", "SETTINGS_FILE", "Settings", "deep_merge"]

SETTINGS_FILE = "workbench.toml"

DEFAULTS: dict[str, Any] = {
    "project": {
        "name": "Atelier project",
        "author": "",  # default author when WORKBENCH_USER and the OS user are not wanted
        "sku_pattern": r"_(?P<sku>[A-Z]{2,}-\d{2,})",
        "thumbnail_size": 384,
        # "max_pixels" (the decompression-bomb guard of every decode: ingest, thumbnails, renders, engines) and
        # "decode_timeout_s" (the wall-clock bound of one decode) default to the one pair of constants in
        # workbench/imaging/decode.py (DecodeLimits.from_settings); not repeated here, and importing the
        # decoders just to read settings would slow every command
        "lock_timeout_s": 30.0,
        # a team project's shared ledger: "postgresql://user@host:5432/db?schema=name" (password from
        # PGPASSWORD or postgres_password in the credentials file); empty = the project's own ledger.duckdb
        "ledger": "",
        # where blobs live: empty = DIR/objects; any fsspec URL (s3://bucket/prefix) for a team
        "store": "",
    },
    "engines": {
        "default": "local",
        "local": {"model": "local-procedural-1"},
        "gemini": {
            # no "model": the engine's default is the model catalogue's (workbench/models/data/gemini.json)
            "base_url": "https://generativelanguage.googleapis.com",
            "concurrency": 4,
            "rpm": 60,
            "timeout_s": 120.0,
        },
        "openai": {
            # no "model": the engine's default is the model catalogue's (workbench/models/data/openai.json)
            "base_url": "https://api.openai.com/v1",
            "concurrency": 4,
            "rpm": 50,
            "timeout_s": 180.0,
        },
        "comfyui": {
            "base_url": "http://127.0.0.1:8188",
            "model": "comfyui-workflow",
            # no "concurrency": one prompt at a time per server, so the engine's default is its number of
            # servers (base_urls), see ComfyUIEngine.default_concurrency
            "rpm": 600,
            "timeout_s": 600.0,
        },
    },
    # USD per image for engines priced per image. Gemini and OpenAI are priced per token from the model
    # catalogue's dated rates (`workbench models`); a key named after a token class here (image_output = 25.0,
    # USD per 1M tokens) overrides that rate for the engine's models.
    "prices": {
        "local": {"per_image": 0.0},
        "comfyui": {"per_image": 0.0},
    },
    "generation": {
        "cost_cap_usd": 5.0,  # sweeps estimated above this need --yes / max_cost_usd
    },
    "review": {
        "approvers": [],  # empty: any user may approve
        "export_requires_approval": True,
        "allow_self_approval": True,
        "notify": [],  # project tools (airtable, asana, monday, sheets) fired on approve/publish
    },
    # A preset's width x height is its *preferred* size: a rendition the source cannot fill (beyond
    # max_upscale) renders at the largest size it can and passes with a warning carrying both sizes. What
    # fails and blocks export is the channel's own hard rules (workbench/review/channel_rules.py, each with
    # its source and date) and the preset's format, aspect, byte budget and optional min_width/min_height.
    "renditions": {
        "max_upscale": 1.25,
        "presets": {
            # Shopify recommends 2048 x 2048 and accepts up to 4472 px / 20 MP / 20 MB; zoom needs 800 x 800
            # (https://help.shopify.com/en/manual/products/product-media/product-media-types, checked 2026-12-02)
            "shopify_square": {"width": 2048, "height": 2048, "format": "JPEG", "max_bytes": 20_000_000,
                                "channel": "shopify", "quality": 90},
            # Amazon main: >= 1000 px longest side for zoom (1600+ recommended), <= 10,000 px, 10 MB, pure
            # white, product >= 85 % (https://sellercentral.amazon.com/help/hub/reference/external/G1881,
            # checked 2026-12-02); slot = "secondary" lifts the white/fill rules for lifestyle images
            "amazon_main": {"width": 2000, "height": 2000, "format": "JPEG", "max_bytes": 10_000_000,
                            "channel": "amazon", "background": "white", "min_fill": 0.85, "quality": 90},
            "pdp_portrait": {"width": 1600, "height": 2000, "format": "JPEG", "max_bytes": 5_000_000,
                             "channel": "web", "quality": 88},
            "hero_banner": {"width": 1920, "height": 600, "format": "JPEG", "max_bytes": 1_500_000,
                            "channel": "web", "quality": 85},
            "carousel": {"width": 1080, "height": 1350, "format": "JPEG", "max_bytes": 2_000_000,
                         "channel": "social", "quality": 88},
            "mobile_story": {"width": 1080, "height": 1920, "format": "JPEG", "max_bytes": 2_000_000,
                             "channel": "social", "quality": 88},
            "desktop_16x9": {"width": 1920, "height": 1080, "format": "WEBP", "max_bytes": 1_500_000,
                             "channel": "web", "quality": 85},
        },
    },
    # Where CPU-bound batch work runs (renditions, ingest decoding, the local engine): local processes, or a
    # Dask cluster when address names its scheduler ("tcp://host:8786"; needs the team extra).
    "executor": {
        "address": "",
        "workers": 1,  # local processes; 1 = in this process, 0 = one per core
        "connect_timeout_s": 20.0,
        "task_timeout_s": 3600.0,  # bound on one batch's wait for its results
    },
    # Product fidelity (workbench/fidelity/): thresholds of the rules every output is scored on against its
    # references, the gate (a failing version cannot be approved, or exported, without an override with a
    # reason), and overrides per recipe ([fidelity.recipes.NAME]) and per channel ([fidelity.channels.NAME]),
    # e.g. disable = {colour = "recolours on purpose"} or colour_target = "#1f2a44".
    "fidelity": {
        "gate": "approve",  # approve | export | off
        # auto-scoring: "sweep" scores a finished sweep's outputs on the [executor], "commit" each committed
        # version; a scoring failure is recorded (wb.fidelity.failures()) and never fails the sweep or commit
        "score": "off",  # off | sweep | commit
        "max_side": 1024,  # scoring works on copies no larger than this
        "presence_min_area": 0.005,
        "colour_max_delta_e": 3.0,  # CIEDE2000; 3 = an exact colourway
        "shape_min_iou": 0.85,
        "shape_max_aspect_change": 0.12,
        "detail_min_ssim": 0.6,
        "label_min_similarity": 0.85,
        "ocr": "rapidocr",  # rapidocr | tesseract | off
        "recipes": {},
        "channels": {},
    },
    "channels": {
        "folder": {"path": "exports/folder"},
        "zip": {"path": "exports/archive.zip"},
    },
    # The traditional production the savings report compares against.
    "cost_model": {
        "currency": "USD",
        "shoot_day_rate": 4500.0,
        "assets_per_shoot_day": 30,
        "retouch_cost_per_asset": 35.0,
        "retouch_rounds": 2,
        "turnaround_days": 14,
        "team_hourly_rate": 55.0,
        "review_minutes_per_asset": 6,
        "triage_seconds_per_output": 15,
    },
}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return a new dict: ``base`` with ``override`` merged in, recursively for nested tables."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class Settings:
    """The merged settings of one project, read from ``workbench.toml`` over :data:`DEFAULTS`."""

    def __init__(self, data: dict[str, Any], path: Path | None = None) -> None:
        self.data = data
        self.path = path

    @classmethod
    def load(cls, root: Path) -> Settings:
        """Load ``root/workbench.toml`` merged over the defaults; a syntax error names the file and line."""
        path = root / SETTINGS_FILE
        user: dict[str, Any] = {}
        if path.exists():
            try:
                user = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ProjectError(f"{path}: invalid TOML: {exc}") from exc
        return cls(deep_merge(DEFAULTS, user), path)

    def get(self, dotted: str, default: Any = None) -> Any:
        """Look up ``a.b.c`` in the merged settings, returning ``default`` when any part is missing."""
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    @staticmethod
    def write_initial(root: Path, name: str) -> Path:
        """Write a commented starter ``workbench.toml`` that overrides only the project name."""
        path = root / SETTINGS_FILE
        body = tomli_w.dumps({"project": {"name": name}})
        path.write_text(
            "# Atelier Workbench project settings. Only what differs from the built-in defaults needs to be\n"
            "# here; see `workbench settings` for the merged view. Never put secrets in this file.\n\n" + body,
            encoding="utf-8",
        )
        return path

    def update_file(self, changes: dict[str, Any]) -> None:
        """Merge ``changes`` into the project's own ``workbench.toml`` (not the defaults) and reload."""
        if self.path is None:
            raise ProjectError("settings are not backed by a file")
        own: dict[str, Any] = {}
        if self.path.exists():
            own = tomllib.loads(self.path.read_text(encoding="utf-8"))
        own = deep_merge(own, changes)
        self.path.write_text(tomli_w.dumps(own), encoding="utf-8")
        self.data = deep_merge(DEFAULTS, own)
