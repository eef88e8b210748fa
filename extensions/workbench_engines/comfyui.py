"""The ``comfyui`` engine: run an API-format workflow on a self-hosted ComfyUI server (no key).

Flow for one request: upload each reference (``POST /upload/image``, named by its sha256 so a re-upload
is a no-op), fill the workflow once per variation, ``POST /prompt`` each (``n`` prompts, each with a
``prompt_id`` chosen here, so a prompt whose answer was lost can still be withdrawn), poll
``GET /history/{prompt_id}`` until it finishes (bounded by ``timeout_s``; poll interval ``poll_s``, default
0.5 s), then fetch every saved image with ``GET /view``. Routes and answers follow ComfyUI's ``server.py``.

**Which workflow.** The request's ``extras["workflow"]`` (a dict in API format, or a path to a JSON file),
else the settings' ``[engines.comfyui] workflow = "path.json"``, else the packaged img2img default
(``comfyui_default_workflow.json``: checkpoint → LoadImage → VAEEncode → KSampler → VAEDecode → SaveImage).
When a sweep is planned, :meth:`ComfyUIEngine.pinned_extras` replaces it by its canonical JSON and adds
``workflow_sha256``: the workflow is part of the request hash (edit the file, and the next sweep is a cache
miss), it is stored with the run (``runs.params.extras``), shown by lineage, and ``reproduce`` re-runs
that very workflow even after the file changed.

**How request values fill it** (document your own workflow with these):

1. *Placeholders.* A string input that is exactly ``"{{name}}"`` is replaced by the typed value (an int
   seed stays an int); inside longer strings the text is substituted. Names: ``prompt``,
   ``negative_prompt``, ``seed``, ``image`` (first reference's uploaded name), ``image_1`` … ``image_N``,
   ``width``, ``height`` (from ``size``/``aspect``, multiples of 8, long side 1024), ``strength`` and
   ``denoise`` (request strength, default ``0.6``), ``steps`` (20), ``cfg`` (7.0), ``checkpoint``
   (settings ``checkpoint``), ``n``, ``workflow_sha256``, plus any scalar in ``extras``. An unknown
   placeholder is an error.
2. *Titles.* A node whose ``_meta.title`` is ``positive`` / ``negative`` (case-insensitive) gets the prompt /
   negative prompt as its ``text`` input, when that input holds no placeholder.
3. *Seeds without a placeholder.* If the workflow has no ``{{seed}}`` and the request has a seed, every
   integer ``seed``/``noise_seed`` input gets it.
4. *Images only through placeholders.* References go only where ``{{image}}``/``{{image_N}}`` stand; a
   ``LoadImage`` with a fixed file name (a mask, a logo) stays fixed. A request with references for a
   workflow without an image placeholder, or one without references for a workflow with one, is refused.

**Seeds of the ``n`` variations.** Variation ``i`` of a request with seed ``s`` runs with ComfyUI seed
``s * n + i``: with ``n = 1`` the seed is ``s`` itself, and within a sweep (one ``n``) two different seeds
never share a ComfyUI seed (``--seed 1 --seed 2 --n 2`` runs 2, 3, 4, 5). Without a seed, ``s`` is a stable
32-bit number from the request's hash. The seeds sent are in the usage (``raw["seeds"]``).

**Errors.** A workflow with no saving node, or a 400 ``prompt_no_outputs``, or a prompt that finished
without saving an image, is :class:`~workbench.errors.InvalidSpec` (never retried). A 400 with
``node_errors`` and an execution that ended in ``execution_error`` or ``execution_interrupted`` are a
:class:`NodeError` (a ``ProviderError``, not retried) carrying ComfyUI's ``node_id``, ``node_type`` and
message. A prompt unfinished at the deadline is ``ProviderUnavailable`` (retried by the runner).

**Credentials.** ComfyUI takes none; behind an authenticating proxy, set ``COMFYUI_TOKEN`` (credentials
file or environment, :mod:`workbench.secrets`) and every request carries it as a bearer token. Plain ``http``
goes only to loopback or to ``allow_insecure_hosts`` (:mod:`workbench.http`).

**Nothing left behind.** Whenever the engine stops waiting for prompts it queued (its deadline, the runner's
timeout, a cancelled sweep, an error while queueing the others), it first takes them off the server:
``POST /queue {"delete": [ids]}`` for those still pending and ``POST /interrupt {"prompt_id": id}`` for one
that is running (the server interrupts only if that prompt is the running one), bounded by a few seconds,
so a retry never piles a second copy behind the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from workbench.errors import BadResponse, ConnectorError, InvalidSpec, ProviderError, ProviderUnavailable
from workbench.http import Response
from workbench.ids import canonical_json
from workbench.plugins.engine import Engine, EngineConfig, EngineRequest, EngineResult, GeneratedImage, Usage

from .comfyui_pool import BackendPool, display_url, parse_base_urls
from .comfyui_workflow import (
    check_workflow,
    default_workflow,
    fill_workflow,
    image_placeholders,
    load_workflow,
    pin_workflow,
)

__all__ = ["ComfyUIEngine", "NodeError", "default_workflow", "fill_workflow", "variation_seed"]

_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
#: Seconds the clean-up of abandoned prompts may take (it never hides the error that led to it).
WITHDRAW_S = 5.0


class NodeError(ProviderError):
    """ComfyUI refused or failed a prompt at a node: ``node_id``, ``node_type``, ``node_message`` (the
    validation or exception message) and ``interrupted`` (the prompt was interrupted at that node)."""

    def __init__(self, message: str, *, node_id: str | None = None, node_type: str | None = None,
                 node_message: str | None = None, interrupted: bool = False, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.node_id = node_id
        self.node_type = node_type
        self.node_message = node_message
        self.interrupted = interrupted


def variation_seed(seed: int, n: int, index: int) -> int:
    """The ComfyUI seed of variation ``index`` of ``n`` for a request with ``seed`` (``seed * n + index``)."""
    return int(seed) * max(1, int(n)) + int(index)


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

    def __init__(self, config: EngineConfig | None = None, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(config, client)
        self._pool: BackendPool | None = None

    async def send(self, method: str, url: str, *, secrets: Iterable[str] = (),
                   client: httpx.AsyncClient | None = None, **kwargs: Any) -> Response:
        """:meth:`Engine.send`, with ``Authorization: Bearer …`` when the credential ``COMFYUI_TOKEN`` is set
        (a ComfyUI behind an authenticating proxy; ComfyUI itself takes none, so it is optional)."""
        if self.has_secret("COMFYUI_TOKEN"):
            token = self.secret("COMFYUI_TOKEN")
            kwargs["headers"] = {**dict(kwargs.get("headers") or {}), "Authorization": f"Bearer {token}"}
            secrets = (*secrets, token)
        return await super().send(method, url, secrets=secrets, client=client, **kwargs)

    def workflow_for(self, request: EngineRequest) -> dict[str, Any]:
        """The unfilled workflow a request runs (extras, settings, or the packaged default)."""
        source = request.extras.get("workflow") or self.config.get("workflow")
        return load_workflow(source) if source else default_workflow()

    def pinned_extras(self, request: EngineRequest) -> Mapping[str, Any]:
        """The request's extras with its workflow made explicit: ``workflow`` (canonical JSON, wherever it was
        read from) and ``workflow_sha256``. A workflow that cannot run (no saving node, references without an
        ``{{image}}`` placeholder or the reverse) is refused here, so a sweep fails at planning, before any call."""
        workflow = self._checked_workflow(request)
        canonical, digest = pin_workflow(workflow)
        return {**request.extras, "workflow": canonical, "workflow_sha256": digest}

    def base_seed(self, request: EngineRequest) -> int:
        """The request's seed, or a stable 32-bit one from its hash (a repeat asks the same thing)."""
        if request.seed is not None:
            return int(request.seed)
        digest = hashlib.sha256(canonical_json(request.fingerprint(self.name)).encode()).digest()
        return int.from_bytes(digest[:4], "big")

    def values_for(self, request: EngineRequest, names: list[str], index: int) -> dict[str, Any]:
        """Placeholder values of variation ``index`` given the uploaded reference ``names``."""
        w, h = _dims(request)
        strength = request.strength if request.strength is not None else 0.6
        values: dict[str, Any] = {k: v for k, v in request.extras.items()
                                  if isinstance(v, (str, int, float, bool)) and k != "workflow"}
        values.update({
            "prompt": request.prompt, "negative_prompt": request.negative_prompt or "",
            "seed": variation_seed(self.base_seed(request), request.n, index),
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

    def _checked_workflow(self, request: EngineRequest) -> dict[str, Any]:
        workflow = self.workflow_for(request)
        check_workflow(workflow)
        wanted = image_placeholders(workflow)
        if wanted and not request.references:
            raise InvalidSpec(f"comfyui: this workflow loads a reference image ({{{{{sorted(wanted)[0]}}}}}) but the "
                              "request has none; set [engines.comfyui] workflow to a text-to-image workflow")
        if request.references and not wanted:
            raise InvalidSpec(f"comfyui: the request has {len(request.references)} reference(s) but the workflow "
                              "has no {{image}} placeholder to load them; put \"{{image}}\" in the LoadImage node "
                              "that should receive the reference (a LoadImage with a fixed file stays fixed)")
        return workflow

    async def generate(self, request: EngineRequest) -> EngineResult:
        """Upload references, queue ``n`` prompts, wait for them, download their images."""
        if request.n < 1:
            raise InvalidSpec("n must be at least 1")
        workflow = self._checked_workflow(request)
        timeout = float(self.config.get("timeout_s", 600.0) or 600.0)
        pool = self.backends()
        client = self.client or httpx.AsyncClient(timeout=timeout)
        try:
            if len(pool.urls) == 1:
                return await self.run_on(client, pool.urls[0], request, workflow, timeout)
            return await self._pooled(client, pool, request, workflow, timeout)
        finally:
            if self.client is None:
                await client.aclose()

    @classmethod
    def default_concurrency(cls, config: EngineConfig) -> int | None:
        """One request in flight per server (a ComfyUI runs one prompt at a time): the number of servers."""
        try:
            return len(parse_base_urls(config.get("base_urls"), config.base_url))
        except InvalidSpec:
            return None  # said when a request is sent

    def backends(self) -> BackendPool:
        """The servers this engine sends to: ``base_urls`` (a pool), else ``base_url`` (one server)."""
        if self._pool is None:
            urls = parse_base_urls(self.config.get("base_urls"), self.config.base_url)
            self._pool = BackendPool(urls, down_s=float(self.config.get("down_s", 30.0) or 30.0))
        return self._pool

    async def _pooled(self, client: httpx.AsyncClient, pool: BackendPool, request: EngineRequest,
                      workflow: dict[str, Any], timeout: float) -> EngineResult:
        async def probe(method: str, url: str) -> Response:
            return await self.send(method, url, client=client)

        tried: set[str] = set()
        moved: list[str] = []
        while True:
            try:
                base = await pool.pick(probe, tried, request.n)
            except ProviderUnavailable as exc:
                if not moved:
                    raise
                raise ProviderUnavailable(f"{exc}; moved from: {'; '.join(moved)}", provider=self.name) from exc
            tried.add(base)
            try:
                result = await self.run_on(client, base, request, workflow, timeout)
            except ProviderUnavailable as exc:
                if await pool.alive(probe, base):
                    raise  # the server is up: its own failure, for the runner's retry
                moved.append(f"{display_url(base)} went down ({exc})")
                continue  # what was queued there was withdrawn as far as a dead server allows
            finally:
                pool.release(base, request.n)
            if moved:
                result.usage.raw["moved_from"] = moved
            return result

    async def run_on(self, client: httpx.AsyncClient, base: str, request: EngineRequest,
                     workflow: dict[str, Any], timeout: float) -> EngineResult:
        """The whole request on the server at ``base``: upload, queue, wait, download (withdrawing what it
        stops waiting for)."""
        started = time.perf_counter()
        names = [await self._upload(client, base, ref.sha256, ref.data, ref.mime) for ref in request.references]
        values = [self.values_for(request, names, i) for i in range(request.n)]
        filled = [fill_workflow(workflow, v) for v in values]  # a fill error sends nothing
        client_id = uuid.uuid4().hex
        queued: list[str] = []
        try:
            for wf in filled:
                pid = str(uuid.uuid4())
                queued.append(pid)  # before sending: a /prompt whose answer is lost may still have queued it
                got = await self._queue(client, base, wf, client_id, pid)
                queued[-1] = got
            deadline = time.monotonic() + timeout
            results = await asyncio.gather(*(self._wait(client, base, pid, deadline) for pid in queued),
                                           return_exceptions=True)
        except BaseException:
            await self._withdraw_shielded(client, base, queued)
            raise
        stuck = [pid for pid, r in zip(queued, results, strict=True) if isinstance(r, ProviderUnavailable)]
        await self._withdraw_shielded(client, base, stuck)
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, (ConnectorError, InvalidSpec)):
                raise r  # a bug or a cancellation, not a provider outcome
        errors = [r for r in results if isinstance(r, BaseException)]
        done = [r for r in results if not isinstance(r, BaseException)]
        if not done:
            raise errors[0]
        images = [await self._view(client, base, ref) for refs in done for ref in refs]
        usage = Usage(cost_usd=self.cost(len(images), len(request.references)),
                      latency_s=time.perf_counter() - started, request_id=",".join(queued),
                      model_version=self.model_for(request), served_by=display_url(base),
                      raw={"prompt_ids": queued, "uploaded": names, "seeds": [v["seed"] for v in values],
                           "workflow_sha256": pin_workflow(workflow)[1]})
        return EngineResult(images=images, usage=usage, failures=[str(e) for e in errors])

    async def _withdraw_shielded(self, client: httpx.AsyncClient, base: str, pids: list[str]) -> None:
        if not pids:
            return
        task = asyncio.ensure_future(self.withdraw(client, base, pids))
        with contextlib.suppress(asyncio.CancelledError):  # a second cancel must not cut the clean-up short
            await asyncio.shield(task)

    async def withdraw(self, client: httpx.AsyncClient, base: str, pids: list[str]) -> None:
        """Take ``pids`` off the server: delete them from the queue, then interrupt any that is running.
        Best effort, bounded by :data:`WITHDRAW_S`; never raises."""
        with contextlib.suppress(Exception, TimeoutError):
            async with asyncio.timeout(WITHDRAW_S):
                await self.send("POST", f"{base}/queue", client=client, json={"delete": list(pids)})
                for pid in pids:
                    await self.send("POST", f"{base}/interrupt", client=client, json={"prompt_id": pid})

    async def _upload(self, client: httpx.AsyncClient, base: str, sha: str, data: bytes, mime: str) -> str:
        filename = f"wb_{sha.removeprefix('sha256:')[:24]}.{_EXT.get(mime, 'png')}"
        resp = await self.send("POST", f"{base}/upload/image", client=client,
                               files={"image": (filename, data, mime or "image/png")},
                               data={"type": "input", "overwrite": "true"})
        body = self._ok(resp, "upload")
        name = str(body.get("name") or filename)
        sub = str(body.get("subfolder") or "")
        return f"{sub}/{name}" if sub else name

    async def _queue(self, client: httpx.AsyncClient, base: str, workflow: dict, client_id: str, pid: str) -> str:
        resp = await self.send("POST", f"{base}/prompt", client=client,
                               json={"prompt": workflow, "client_id": client_id, "prompt_id": pid})
        body = self._ok(resp, "prompt")
        got = body.get("prompt_id")
        if not got:
            raise BadResponse("comfyui: /prompt answered without a prompt_id", provider=self.name)
        return str(got)

    async def _wait(self, client: httpx.AsyncClient, base: str, pid: str, deadline: float) -> list[dict]:
        poll = float(self.config.get("poll_s", 0.5) or 0.5)
        while True:
            body = self._ok(await self.send("GET", f"{base}/history/{pid}", client=client), "history")
            entry = body.get(pid)
            if isinstance(entry, dict) and _finished(entry):
                return _outputs(entry, pid)
            if time.monotonic() + poll > deadline:
                raise ProviderUnavailable(f"comfyui: prompt {pid} did not finish before the timeout "
                                          "(withdrawn from the server's queue)", provider=self.name)
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
        raise _execution_error(status.get("messages") or [], pid)
    refs: list[dict] = []
    outputs = entry.get("outputs") or {}
    for node_id in sorted(outputs, key=lambda k: (len(str(k)), str(k))):
        for img in (outputs[node_id] or {}).get("images") or []:
            if isinstance(img, dict) and img.get("filename") and img.get("type", "output") == "output":
                refs.append(img)
    if not refs:
        raise InvalidSpec(f"comfyui: prompt {pid} finished without saving an image (its output nodes "
                          f"{', '.join(map(str, outputs)) or 'none'} wrote only temporary previews); "
                          "add a SaveImage node")
    return refs


def _execution_error(messages: list[Any], pid: str) -> ProviderError:
    for msg in messages:
        if not (isinstance(msg, list) and len(msg) == 2 and isinstance(msg[1], dict)):
            continue
        kind, info = msg
        node_id, node_type = info.get("node_id"), info.get("node_type")
        if kind == "execution_interrupted":
            return NodeError(f"comfyui: prompt {pid} was interrupted at node {node_id} ({node_type})",
                             node_id=node_id, node_type=node_type, node_message="interrupted", interrupted=True,
                             provider="comfyui")
        if kind == "execution_error":
            message = f"{info.get('exception_type', 'error')}: {info.get('exception_message', '')}".strip()
            return NodeError(f"comfyui: prompt {pid} failed at node {node_id} ({node_type}): {message}",
                             node_id=node_id, node_type=node_type, node_message=message, provider="comfyui")
    return ProviderError(f"comfyui: prompt {pid} failed (the server gave no execution_error message)",
                         provider="comfyui")


def _error(resp: Response) -> ConnectorError | InvalidSpec:
    try:
        body = resp.json()
    except BadResponse:
        body = None
    if resp.status in (401, 403):
        said = resp.content[:200].decode("utf-8", "replace").strip()
        return resp.error(f"{said or 'refused'} (the server wants a credential: set COMFYUI_TOKEN, sent as a "
                          "bearer token)")
    if not isinstance(body, dict):
        return resp.error(resp.content[:300].decode("utf-8", "replace") if resp.content else None)
    err = body.get("error")
    if isinstance(err, dict) and err.get("type") == "prompt_no_outputs":
        return InvalidSpec(f"comfyui: the server refused the workflow: {err.get('message')} (add a SaveImage "
                           "node)")
    parts = []
    if isinstance(err, dict):
        parts.append(": ".join(str(x) for x in (err.get("type"), err.get("message"), err.get("details")) if x))
    elif err:
        parts.append(str(err))
    first: tuple[str, str | None, str] | None = None
    for node_id, node in (body.get("node_errors") or {}).items():
        for e in (node or {}).get("errors") or []:
            text = f"{e.get('type')}: {e.get('message')}" + (f": {e.get('details')}" if e.get("details") else "")
            parts.append(f"node {node_id} ({node.get('class_type')}): {text}")
            first = first or (str(node_id), node.get("class_type"), text)
    message = "; ".join(p for p in parts if p) or f"HTTP {resp.status}"
    if first is not None and 400 <= resp.status < 500:
        return NodeError(f"comfyui: HTTP {resp.status}: {message}", node_id=first[0], node_type=first[1],
                         node_message=first[2], status=resp.status, provider="comfyui")
    return resp.error(message)
