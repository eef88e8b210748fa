"""The ``comfyui`` engine: run an API-format workflow on a self-hosted ComfyUI server (no key).

Flow for one request: upload each reference (``POST /upload/image``, named by its sha256 so a re-upload
is a no-op), fill the workflow, ``POST /prompt`` once per variation (``n`` prompts, seeds ``seed + i``),
poll ``GET /history/{prompt_id}`` until the prompt finishes (bounded by ``timeout_s``; poll interval
``poll_s``, default 0.5 s), then fetch every output image with ``GET /view``.

**Which workflow.** The request's ``extras["workflow"]`` (a dict in API format, or a path to a JSON file),
else the settings' ``[engines.comfyui] workflow = "path.json"``, else the packaged img2img default
(``comfyui_default_workflow.json``: checkpoint → LoadImage → VAEEncode → KSampler → VAEDecode → SaveImage).

**How request values fill it** (document your own workflow with these):

1. *Placeholders.* A string input that is exactly ``"{{name}}"`` is replaced by the typed value (an int
   seed stays an int); inside longer strings the text is substituted. Names: ``prompt``,
   ``negative_prompt``, ``seed``, ``image`` (first reference's uploaded name), ``image_1`` … ``image_N``,
   ``width``, ``height`` (from ``size``/``aspect``, multiples of 8, long side 1024), ``strength`` and
   ``denoise`` (request strength, default ``0.6``), ``steps`` (20), ``cfg`` (7.0), ``checkpoint``
   (settings ``checkpoint``), ``n``, plus any scalar in ``extras``. An unknown placeholder is an error.
2. *Titles.* A node whose ``_meta.title`` is ``positive`` / ``negative`` (case-insensitive) gets the prompt /
   negative prompt as its ``text`` input, when that input holds no placeholder.
3. *Seeds and images without placeholders.* If the workflow has no ``{{seed}}`` and the request has a seed,
   every integer ``seed``/``noise_seed`` input gets it; ``LoadImage`` nodes without a placeholder get the
   references in order.

Errors: a 400 from ``/prompt`` is a ``ProviderError`` carrying the validation messages (``node_errors``);
an execution that ends with ``status_str == "error"`` is a ``ProviderError`` with the node's
``exception_message``; a prompt still unfinished at the deadline is ``ProviderUnavailable``.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import re
import time
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from workbench.errors import BadResponse, ConnectorError, InvalidSpec, ProviderError, ProviderUnavailable
from workbench.http import Response
from workbench.ids import canonical_json
from workbench.plugins.engine import Engine, EngineRequest, EngineResult, GeneratedImage, Usage

__all__ = ["ComfyUIEngine", "default_workflow", "fill_workflow"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def default_workflow() -> dict[str, Any]:
    """The packaged img2img workflow (API format)."""
    text = resources.files("workbench_engines").joinpath("comfyui_default_workflow.json").read_text("utf-8")
    return json.loads(text)


def _load_workflow(value: Any) -> dict[str, Any]:
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


def _has_placeholder(node_map: dict[str, Any], name: str) -> bool:
    return f"{{{{{name}}}}}" in json.dumps(node_map).replace(" ", "")


def fill_workflow(workflow: dict[str, Any], values: dict[str, Any], references: list[str]) -> dict[str, Any]:
    """Return a filled copy of an API-format ``workflow`` (see the module docstring for the rules)."""
    wf = copy.deepcopy(workflow)
    seed_placeholder = _has_placeholder(wf, "seed")

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            whole = _PLACEHOLDER.fullmatch(value.strip())
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
            return _PLACEHOLDER.sub(sub, value)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    refs = iter(references)
    for node_id, node in wf.items():
        if not isinstance(node, dict) or not isinstance(node.get("inputs"), dict):
            raise InvalidSpec(f"comfyui workflow node {node_id!r} has no inputs: not API format "
                              "(export it with 'Save (API Format)')")
        inputs = node["inputs"]
        title = str((node.get("_meta") or {}).get("title", "")).strip().lower()
        text = inputs.get("text")
        if title in ("positive", "negative") and isinstance(text, str) and not _PLACEHOLDER.search(text):
            inputs["text"] = values["prompt"] if title == "positive" else values["negative_prompt"]
        if not seed_placeholder and values.get("seed_given"):
            for key in ("seed", "noise_seed"):
                if isinstance(inputs.get(key), int):
                    inputs[key] = values["seed"]
        image = inputs.get("image")
        if node.get("class_type") == "LoadImage" and isinstance(image, str) and not _PLACEHOLDER.search(image):
            inputs["image"] = next(refs, image)
        node["inputs"] = fill(inputs)
    return wf


def _dims(request: EngineRequest) -> tuple[int, int]:
    if request.size and "x" in request.size:
        try:
            w, h = (int(v) for v in request.size.lower().split("x"))
            return w // 8 * 8, h // 8 * 8
        except ValueError as exc:
            raise InvalidSpec(f"comfyui: size {request.size!r} is not WIDTHxHEIGHT") from exc
    if request.aspect:
        try:
            a, b = (float(v) for v in request.aspect.split(":"))
        except ValueError as exc:
            raise InvalidSpec(f"comfyui: aspect {request.aspect!r} is not W:H") from exc
        if a >= b:
            return 1024, max(64, round(1024 * b / a / 8) * 8)
        return max(64, round(1024 * a / b / 8) * 8), 1024
    return 1024, 1024


class ComfyUIEngine(Engine):
    """A ComfyUI server running a workflow; see the module docstring for the fill convention."""

    name = "comfyui"
    default_model = "comfyui-workflow"
    deterministic = False

    def workflow_for(self, request: EngineRequest) -> dict[str, Any]:
        """The unfilled workflow a request runs (extras, settings, or the packaged default)."""
        source = request.extras.get("workflow") or self.config.get("workflow")
        return _load_workflow(source) if source else default_workflow()

    def values_for(self, request: EngineRequest, names: list[str], index: int) -> dict[str, Any]:
        """Placeholder values of variation ``index`` given the uploaded reference ``names``."""
        if request.seed is not None:
            seed = int(request.seed) + index
        else:  # a stable seed from the request, so a repeat of the same request asks the same thing
            digest = hashlib.sha256(canonical_json(request.fingerprint(self.name)).encode()).digest()
            seed = int.from_bytes(digest[:6], "big") + index
        w, h = _dims(request)
        strength = request.strength if request.strength is not None else 0.6
        values: dict[str, Any] = {k: v for k, v in request.extras.items()
                                  if isinstance(v, (str, int, float, bool)) and k != "workflow"}
        values.update({
            "prompt": request.prompt, "negative_prompt": request.negative_prompt or "", "seed": seed,
            "seed_given": request.seed is not None, "width": w, "height": h, "strength": strength,
            "denoise": strength, "n": request.n,
            "steps": int(request.extras.get("steps", self.config.get("steps", 20))),
            "cfg": float(request.extras.get("cfg", self.config.get("cfg", 7.0))),
            "checkpoint": str(self.config.get("checkpoint", "sd_xl_base_1.0.safetensors")),
        })
        if names:
            values["image"] = names[0]
        for i, name in enumerate(names, 1):
            values[f"image_{i}"] = name
        return values

    async def generate(self, request: EngineRequest) -> EngineResult:
        """Upload references, queue ``n`` prompts, wait for them, download their images."""
        if request.n < 1:
            raise InvalidSpec("n must be at least 1")
        workflow = self.workflow_for(request)
        if _has_placeholder(workflow, "image") and not request.references:
            raise InvalidSpec("comfyui: this workflow loads a reference image ({{image}}) but the request has "
                              "none; set [engines.comfyui] workflow to a text-to-image workflow")
        base = self.config.base_url
        started = time.perf_counter()
        timeout = float(self.config.get("timeout_s", 600.0) or 600.0)
        client = self.client or httpx.AsyncClient(timeout=timeout)
        try:
            names = [await self._upload(client, base, ref.sha256, ref.data, ref.mime) for ref in request.references]
            client_id = uuid.uuid4().hex
            prompt_ids = []
            for i in range(request.n):
                filled = fill_workflow(workflow, self.values_for(request, names, i), names)
                prompt_ids.append(await self._queue(client, base, filled, client_id))
            deadline = time.monotonic() + timeout
            outputs = await asyncio.gather(*(self._wait(client, base, pid, deadline) for pid in prompt_ids))
            images = [await self._view(client, base, ref) for refs in outputs for ref in refs]
        finally:
            if self.client is None:
                await client.aclose()
        if not images:
            raise BadResponse("comfyui: the workflow finished without any output image (is there a SaveImage "
                              "node?)", provider=self.name)
        usage = Usage(cost_usd=self.cost(len(images), len(request.references)),
                      latency_s=time.perf_counter() - started, request_id=",".join(prompt_ids),
                      model_version=self.model_for(request),
                      raw={"prompt_ids": prompt_ids, "uploaded": names})
        return EngineResult(images=images, usage=usage)

    async def _upload(self, client: httpx.AsyncClient, base: str, sha: str, data: bytes, mime: str) -> str:
        filename = f"wb_{sha.removeprefix('sha256:')[:24]}.{_EXT.get(mime, 'png')}"
        resp = await self.send("POST", f"{base}/upload/image", client=client,
                          files={"image": (filename, data, mime or "image/png")},
                          data={"type": "input", "overwrite": "true"})
        body = self._ok(resp, "upload")
        name = str(body.get("name") or filename)
        sub = str(body.get("subfolder") or "")
        return f"{sub}/{name}" if sub else name

    async def _queue(self, client: httpx.AsyncClient, base: str, workflow: dict, client_id: str) -> str:
        resp = await self.send("POST", f"{base}/prompt", client=client,
                          json={"prompt": workflow, "client_id": client_id})
        body = self._ok(resp, "prompt")
        pid = body.get("prompt_id")
        if not pid:
            raise BadResponse("comfyui: /prompt answered without a prompt_id", provider=self.name)
        return str(pid)

    async def _wait(self, client: httpx.AsyncClient, base: str, pid: str, deadline: float) -> list[dict]:
        poll = float(self.config.get("poll_s", 0.5) or 0.5)
        while True:
            body = self._ok(await self.send("GET", f"{base}/history/{pid}", client=client), "history")
            entry = body.get(pid)
            if isinstance(entry, dict) and _finished(entry):
                return _outputs(entry, pid)
            if time.monotonic() + poll > deadline:
                raise ProviderUnavailable(f"comfyui: prompt {pid} did not finish before the timeout",
                                          provider=self.name)
            await asyncio.sleep(poll)

    async def _view(self, client: httpx.AsyncClient, base: str, ref: dict) -> GeneratedImage:
        params = {"filename": ref.get("filename", ""), "subfolder": ref.get("subfolder", ""),
                  "type": ref.get("type", "output")}
        resp = await self.send("GET", f"{base}/view", client=client, params=params)
        if not resp.ok:
            raise _error(resp)
        if not resp.content:
            raise BadResponse(f"comfyui: /view returned no bytes for {params['filename']}", provider=self.name)
        mime = resp.headers.get("content-type", "image/png").split(";")[0]
        return GeneratedImage(data=resp.content, mime=mime if mime.startswith("image/") else "image/png")

    def _ok(self, resp: Response, what: str) -> dict[str, Any]:
        if not resp.ok:
            raise _error(resp)
        body = resp.json()
        if not isinstance(body, dict):
            raise BadResponse(f"comfyui: /{what} answered with a non-object", provider=self.name)
        return body


def _finished(entry: dict) -> bool:
    status = entry.get("status") or {}
    return bool(status.get("completed")) or status.get("status_str") in ("success", "error") or (
        not status and bool(entry.get("outputs")))


def _outputs(entry: dict, pid: str) -> list[dict]:
    status = entry.get("status") or {}
    if status.get("status_str") == "error":
        detail = "execution failed"
        for msg in status.get("messages") or []:
            if isinstance(msg, list) and len(msg) == 2 and msg[0] == "execution_error" and isinstance(msg[1], dict):
                info = msg[1]
                detail = (f"node {info.get('node_id')} ({info.get('node_type')}): "
                          f"{info.get('exception_type', 'error')}: {info.get('exception_message', '')}".strip())
        raise ProviderError(f"comfyui: prompt {pid} failed: {detail}", provider="comfyui")
    refs: list[dict] = []
    outputs = entry.get("outputs") or {}
    for node_id in sorted(outputs, key=lambda k: (len(str(k)), str(k))):
        for img in (outputs[node_id] or {}).get("images") or []:
            if isinstance(img, dict) and img.get("filename") and img.get("type", "output") == "output":
                refs.append(img)
    return refs


def _error(resp: Response) -> ConnectorError:
    message = f"HTTP {resp.status}"
    try:
        body = resp.json()
    except BadResponse:
        body = None
    if isinstance(body, dict):
        err = body.get("error")
        parts = []
        if isinstance(err, dict):
            parts.append(": ".join(str(x) for x in (err.get("type"), err.get("message"), err.get("details")) if x))
        elif err:
            parts.append(str(err))
        for node_id, node in (body.get("node_errors") or {}).items():
            for e in (node or {}).get("errors") or []:
                parts.append(f"node {node_id} ({node.get('class_type')}): {e.get('type')}: {e.get('message')}"
                             + (f": {e.get('details')}" if e.get("details") else ""))
        message = "; ".join(p for p in parts if p) or message
    elif resp.content:
        message = resp.content[:300].decode("utf-8", "replace")
    return resp.error(message)
