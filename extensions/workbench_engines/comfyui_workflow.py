"""ComfyUI workflows as data: load, check, pin (canonical JSON + hash) and fill an API-format workflow.

A workflow is a dict ``{node_id: {"class_type": ..., "inputs": {...}, "_meta": {"title": ...}}}`` as ComfyUI's
"Save (API Format)" writes it. What a request does to it is documented in :mod:`workbench_engines.comfyui`;
this module holds the rules without any HTTP:

- :func:`check_workflow` refuses, before anything is sent, what the server would refuse or what cannot give a
  result: a node without ``inputs``/``class_type`` (not API format) and a workflow with no node that saves an
  image (a ``class_type`` containing ``Save``, e.g. ``SaveImage``; ``PreviewImage`` only writes temp files that
  are not kept, and the real server answers a workflow without an output node with 400 ``prompt_no_outputs``).
- :func:`pin_workflow` is the canonical form the request hash and the ledger keep: the same JSON whatever the
  key order or whitespace of the file, plus ``sha256:…`` of it, so editing the workflow file is a cache miss
  and every run says which workflow ran.
- :func:`fill_workflow` substitutes placeholders, titles and seeds into a copy.
"""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from workbench.errors import InvalidSpec
from workbench.ids import canonical_json, request_hash

__all__ = ["check_workflow", "default_workflow", "fill_workflow", "image_placeholders", "load_workflow",
           "pin_workflow"]

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_IMAGE_NAME = re.compile(r"image(_[0-9]+)?")


def default_workflow() -> dict[str, Any]:
    """The packaged img2img workflow (API format)."""
    text = resources.files("workbench_engines").joinpath("comfyui_default_workflow.json").read_text("utf-8")
    return json.loads(text)


def load_workflow(value: Any) -> dict[str, Any]:
    """A workflow from a dict (copied) or a path to a JSON file; :class:`InvalidSpec` when unreadable."""
    if isinstance(value, dict):
        return copy.deepcopy(value)
    path = Path(str(value)).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidSpec(f"comfyui: workflow file {path} cannot be read as JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidSpec(f"comfyui: workflow file {path} is not an API-format workflow (a JSON object)")
    return data


def check_workflow(workflow: dict[str, Any]) -> None:
    """Raise :class:`InvalidSpec` for a workflow that is not API format or has no node that saves an image."""
    if not workflow:
        raise InvalidSpec("comfyui: the workflow is empty")
    for node_id, node in workflow.items():
        if not isinstance(node, dict) or not isinstance(node.get("inputs"), dict) or not node.get("class_type"):
            raise InvalidSpec(f"comfyui workflow node {node_id!r} has no class_type/inputs: not API format "
                              "(export it with 'Save (API Format)')")
    savers = [nid for nid, node in workflow.items() if "save" in str(node["class_type"]).lower()]
    if not savers:
        kinds = sorted({str(n["class_type"]) for n in workflow.values()})
        raise InvalidSpec("comfyui: the workflow has no output node that saves an image (add a SaveImage node; "
                          f"PreviewImage results are temporary and not returned); its nodes: {', '.join(kinds)}")


def pin_workflow(workflow: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The canonical form of ``workflow`` (sorted keys, as canonical JSON parses back) and its ``sha256:…``."""
    text = canonical_json(workflow)
    return json.loads(text), request_hash(workflow)


def _placeholders(value: Any) -> set[str]:
    return set(PLACEHOLDER.findall(json.dumps(value)))


def image_placeholders(workflow: dict[str, Any]) -> set[str]:
    """The reference placeholders the workflow uses: ``image``, ``image_1`` … ``image_N``."""
    return {name for name in _placeholders(workflow) if _IMAGE_NAME.fullmatch(name)}


def fill_workflow(workflow: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Return a filled copy of an API-format ``workflow`` (see :mod:`workbench_engines.comfyui` for the rules).

    A ``LoadImage`` whose ``image`` holds no placeholder is left as it is: only ``{{image}}``/``{{image_N}}``
    receive references.
    """
    wf = copy.deepcopy(workflow)
    seed_placeholder = "seed" in _placeholders(wf)

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            whole = PLACEHOLDER.fullmatch(value.strip())
            if whole:
                name = whole.group(1)
                if name not in values:
                    raise InvalidSpec(f"comfyui workflow placeholder {{{{{name}}}}} has no value "
                                      f"(known: {', '.join(sorted(values))})")
                return values[name]

            def sub(m: re.Match[str]) -> str:
                if m.group(1) not in values:
                    raise InvalidSpec(f"comfyui workflow placeholder {{{{{m.group(1)}}}}} has no value")
                return str(values[m.group(1)])
            return PLACEHOLDER.sub(sub, value)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    for node_id, node in wf.items():
        if not isinstance(node, dict) or not isinstance(node.get("inputs"), dict):
            raise InvalidSpec(f"comfyui workflow node {node_id!r} has no inputs: not API format "
                              "(export it with 'Save (API Format)')")
        inputs = node["inputs"]
        title = str((node.get("_meta") or {}).get("title", "")).strip().lower()
        text = inputs.get("text")
        if title in ("positive", "negative") and isinstance(text, str) and not PLACEHOLDER.search(text):
            inputs["text"] = values["prompt"] if title == "positive" else values["negative_prompt"]
        if not seed_placeholder and values.get("seed_given"):
            for key in ("seed", "noise_seed"):
                if isinstance(inputs.get(key), int) and not isinstance(inputs.get(key), bool):
                    inputs[key] = values["seed"]
        node["inputs"] = fill(inputs)
    return wf
