"""A strict fake ComfyUI server: upload, prompt, queue, interrupt, history, view (every route also under ``/api``).

Routes and answers follow ComfyUI's ``server.py`` and ``execution.py``. ``make_comfyui_app(config)`` validates
like the real server: ``POST /prompt`` without ``prompt`` → 400 ``no_prompt``; a node with an unknown
``class_type`` → 400 ``invalid_prompt``; no output node → 400 ``prompt_no_outputs``; a link to a missing node, a
``LoadImage`` of a file never uploaded (``value_not_in_list``), a non-numeric ``seed``/``steps``/``cfg``/``denoise``
(``invalid_input_type``, e.g. an unfilled ``{{seed}}``) or an unknown checkpoint → 400
``prompt_outputs_failed_validation`` with ``node_errors``. A client-chosen ``prompt_id`` is kept.

**One worker, one queue**, as the real server: prompts run one at a time in the order queued, each for
``FakeConfig.exec_s``. ``GET /prompt`` → ``{"exec_info": {"queue_remaining": pending + running}}``;
``GET /queue`` → ``queue_running`` / ``queue_pending`` items ``[number, prompt_id, prompt, extra_data,
outputs]``; ``POST /queue {"delete": [ids]}`` drops pending prompts (a running one is not touched) and
``{"clear": true}`` all pending; ``POST /interrupt {"prompt_id": id}`` interrupts that prompt only if it is the
running one, ``{}`` whatever runs; an interrupted prompt ends with status ``error`` and an
``execution_interrupted`` message naming the node, as the real one. ``GET /history/{id}`` is ``{}`` until the
prompt has finished, then lists one real PNG per ``SaveImage`` node (drawn from the positive prompt, the loaded
image and the filled workflow, so the same workflow and seed give the same picture and another seed another
one); ``PreviewImage`` outputs are ``type: temp``. ``GET /view`` refuses ``..`` or a leading ``/`` in
``filename`` (400) and answers 404 for unknown files. ``POST /upload/image`` de-duplicates identical content and
renames a different file with the same name ``name (1).ext`` unless ``overwrite`` is true.

State on ``app.state``: ``requests`` (``path`` + ``json`` of each ``/prompt``), ``uploads`` (name → bytes),
``jobs`` (prompt id → job), ``executed`` (ids of prompts that ran to the end, in order), ``deleted``,
``interrupted``, ``control`` (``path`` + ``json`` of each ``/queue`` and ``/interrupt``), ``events`` (queueing,
deleting and interrupting in the order they happened), ``worker``, ``stats``, ``gate``.
``/prompt`` and ``/view`` go through the fault gate; script actions honoured: 400 429 500 503 malformed oversized
hang exec_error (the prompt runs and fails at its sampler) never_finish (the prompt runs until interrupted).
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from PIL import Image
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import FakeConfig, Fault, FaultGate, fake_image, gated, oversized_response

__all__ = ["CHECKPOINTS", "NODE_CLASSES", "make_comfyui_app"]

NODE_CLASSES = {"CheckpointLoaderSimple", "CLIPTextEncode", "LoadImage", "ImageScaleToTotalPixels", "ImageScale",
                "VAEEncode", "VAEDecode", "KSampler", "KSamplerAdvanced", "SaveImage", "PreviewImage",
                "EmptyLatentImage", "LoraLoader", "CLIPSetLastLayer", "ImageBlur", "ImageInvert", "SaveLatent"}
OUTPUT_NODES = {"SaveImage", "PreviewImage", "SaveLatent"}
CHECKPOINTS = {"sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors", "flux1-dev-fp8.safetensors"}
_NUMERIC = {"seed": int, "noise_seed": int, "steps": int, "cfg": float, "denoise": float, "width": int,
            "height": int, "batch_size": int, "megapixels": float}


def _bad(type_: str, message: str, details: str = "", node_errors: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message, "details": details, "extra_info": {}},
                         "node_errors": node_errors or {}}, status_code=400)


class _Worker:
    """The fake's single worker: a FIFO of pending jobs and at most one running, simulated lazily in real time."""

    def __init__(self, exec_s: float, finish: Callable[[dict[str, Any], str], None]) -> None:
        self.exec_s = exec_s
        self.pending: list[dict[str, Any]] = []
        self.running: dict[str, Any] | None = None
        self.free_at = 0.0
        self.finish = finish

    def advance(self) -> None:
        now = time.monotonic()
        while True:
            if self.running is None:
                if not self.pending:
                    return
                job = self.pending.pop(0)
                job["started_at"] = max(self.free_at, job["queued_at"])
                self.running = job
            job = self.running
            end = job["started_at"] + (float("inf") if job["kind"] == "never_finish" else self.exec_s)
            if end > now:
                return
            self.running, self.free_at = None, end
            self.finish(job, "error" if job["kind"] == "exec_error" else "success")

    def remaining(self) -> int:
        self.advance()
        return len(self.pending) + (self.running is not None)

    def delete(self, ids: list[str]) -> list[str]:
        self.advance()
        gone = [j["pid"] for j in self.pending if j["pid"] in ids]
        self.pending = [j for j in self.pending if j["pid"] not in ids]
        return gone

    def interrupt(self, pid: str | None) -> str | None:
        self.advance()
        job = self.running
        if job is None or (pid is not None and job["pid"] != pid):
            return None
        self.running, self.free_at = None, time.monotonic()
        self.finish(job, "interrupted")
        return str(job["pid"])


def make_comfyui_app(config: FakeConfig | None = None, *, token: str | None = None) -> Starlette:
    """A Starlette app faking a ComfyUI server; see the module docstring. With ``token``, it stands for a
    ComfyUI behind an authenticating proxy: every route answers 401 without ``Authorization: Bearer <token>``."""
    cfg = config or FakeConfig()
    gate = FaultGate(cfg)
    uploads: dict[str, bytes] = {}
    outputs: dict[str, bytes] = {}
    jobs: dict[str, dict[str, Any]] = {}
    received: list[dict[str, Any]] = []
    control: list[dict[str, Any]] = []
    executed: list[str] = []
    deleted: list[str] = []
    interrupted: list[str] = []
    events: list[tuple[str, Any]] = []
    counter = [0]

    def finish(job: dict[str, Any], how: str) -> None:
        wf, pid = job["workflow"], job["pid"]
        outs = [nid for nid, node in wf.items() if node["class_type"] in OUTPUT_NODES]
        messages: list[list[Any]] = [["execution_start", {"prompt_id": pid, "timestamp": 0}]]
        sampler = next((nid for nid, n in wf.items() if n["class_type"].startswith("KSampler")), outs[0])
        if how == "interrupted":
            messages.append(["execution_interrupted", {"prompt_id": pid, "node_id": sampler,
                                                       "node_type": wf[sampler]["class_type"], "executed": [],
                                                       "timestamp": 1}])
            interrupted.append(pid)
        elif how == "error":
            messages.append(["execution_error", {
                "prompt_id": pid, "node_id": sampler, "node_type": wf[sampler]["class_type"], "executed": [],
                "exception_message": "CUDA out of memory. Tried to allocate 2.00 GiB",
                "exception_type": "torch.OutOfMemoryError", "traceback": [], "current_inputs": {},
                "current_outputs": []}])
        else:
            text = " ".join(str(n["inputs"].get("text", "")) for n in wf.values()
                            if n["class_type"] == "CLIPTextEncode" and
                            str((n.get("_meta") or {}).get("title", "")).lower() != "negative")
            ref = next((uploads.get(n["inputs"].get("image")) for n in wf.values() if n["class_type"] == "LoadImage"),
                       None)
            # the picture follows the filled workflow (prompt, seed, …), as a real sampler's would
            look = int(hashlib.sha256(json.dumps(wf, sort_keys=True).encode()).hexdigest()[:8], 16)
            for nid in outs:
                counter[0] += 1
                if wf[nid]["class_type"] == "SaveLatent":  # an output node that saves no image
                    job["outputs"][nid] = {"latents": [{"filename": f"ComfyUI_{counter[0]:05d}_.latent",
                                                        "subfolder": "latents", "type": "output"}]}
                    continue
                prefix = str(wf[nid]["inputs"].get("filename_prefix", "ComfyUI"))
                fname = f"{prefix}_{counter[0]:05d}_.png"
                side = max(8, round(1024 * cfg.image_scale))
                outputs[fname] = fake_image(text, side, side, reference=ref, index=look)
                kind = "output" if wf[nid]["class_type"] == "SaveImage" else "temp"
                job["outputs"][nid] = {"images": [{"filename": fname, "subfolder": "", "type": kind}]}
            messages.append(["execution_success", {"prompt_id": pid, "timestamp": 1}])
            executed.append(pid)
            gate.bill(len(outs))
        ok = how == "success"
        job["history"] = {
            "prompt": [job["number"], pid, wf, {"client_id": job["client_id"]}, outs],
            "outputs": job["outputs"] if ok else {},
            "status": {"status_str": "success" if ok else "error", "completed": ok, "messages": messages},
            "meta": {}}

    worker = _Worker(cfg.exec_s, finish)

    def item(job: dict[str, Any]) -> list[Any]:
        outs = [nid for nid, node in job["workflow"].items() if node["class_type"] in OUTPUT_NODES]
        return [job["number"], job["pid"], job["workflow"], {"client_id": job["client_id"]}, outs]

    async def upload(request: Request) -> Response:
        form = await request.form(max_part_size=100 * 1024 * 1024)
        up = form.get("image")
        if not isinstance(up, UploadFile) or not up.filename:
            return Response("no image file", status_code=400)
        name = up.filename
        sub = str(form.get("subfolder") or "")
        if ".." in name or name.startswith("/") or ".." in sub or sub.startswith("/"):
            return Response("invalid filename", status_code=400)
        data = await up.read()
        overwrite = str(form.get("overwrite", "")).lower() in ("true", "1")
        key = f"{sub}/{name}" if sub else name
        if key in uploads and uploads[key] != data and not overwrite:
            stem, dot, ext = name.rpartition(".")
            i = 1
            while True:
                name = f"{stem} ({i}).{ext}" if dot else f"{name} ({i})"
                key = f"{sub}/{name}" if sub else name
                if key not in uploads or uploads[key] == data:
                    break
                i += 1
        uploads[key] = data
        return JSONResponse({"name": name, "subfolder": sub, "type": str(form.get("type") or "input")})

    async def prompt(request: Request, fault: Fault | None) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _bad("invalid_prompt", "Invalid JSON body")
        received.append({"path": request.url.path, "json": body})
        if fault is not None:
            early = _fault_response(fault, request, cfg)
            if early is not None:
                return early
        wf = body.get("prompt") if isinstance(body, dict) else None
        if wf is None:
            return _bad("no_prompt", "No prompt provided", "No prompt provided")
        if not isinstance(wf, dict):
            return _bad("invalid_prompt", "Invalid prompt", "prompt must be an object")
        for node_id, node in wf.items():
            ct = node.get("class_type") if isinstance(node, dict) else None
            if ct is None:
                return _bad("invalid_prompt", "Cannot execute because a node is missing the class_type "
                                              "property.", f"Node ID '#{node_id}'")
            if ct not in NODE_CLASSES:
                return _bad("invalid_prompt", f"Cannot execute because node {ct} does not exist.",
                            f"Node ID '#{node_id}'")
        outs = [nid for nid, node in wf.items() if node["class_type"] in OUTPUT_NODES]
        if not outs:
            return _bad("prompt_no_outputs", "Prompt has no outputs")
        node_errors: dict[str, Any] = {}
        for node_id, node in wf.items():
            errs = _validate(node, wf, uploads)
            if errs:
                node_errors[node_id] = {"errors": errs, "dependent_outputs": outs, "class_type": node["class_type"]}
        if node_errors:
            return _bad("prompt_outputs_failed_validation", "Prompt outputs failed validation", "",
                        node_errors)
        pid = str(body.get("prompt_id") or uuid.uuid4())
        number = len(jobs)
        job: dict[str, Any] = {"pid": pid, "number": number, "queued_at": time.monotonic(), "workflow": wf,
                               "client_id": body.get("client_id"), "outputs": {}, "history": None,
                               "kind": fault.kind if fault else ""}
        jobs[pid] = job
        events.append(("prompt", pid))
        worker.advance()
        worker.pending.append(job)
        return JSONResponse({"prompt_id": pid, "number": number, "node_errors": {}})

    async def queue_info(request: Request) -> Response:
        return JSONResponse({"exec_info": {"queue_remaining": worker.remaining()}})

    async def queue_get(request: Request) -> Response:
        worker.advance()
        return JSONResponse({"queue_running": [item(worker.running)] if worker.running else [],
                             "queue_pending": [item(j) for j in worker.pending]})

    async def queue_post(request: Request) -> Response:
        body = await request.json()  # the real route has no guard: a bad body is a 500 there too
        control.append({"path": request.url.path, "json": body})
        if body.get("clear"):
            deleted.extend(worker.delete([j["pid"] for j in worker.pending]))
        if "delete" in body:
            events.append(("delete", [str(x) for x in body["delete"]]))
            deleted.extend(worker.delete([str(x) for x in body["delete"]]))
        return Response(status_code=200)

    async def interrupt(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        control.append({"path": request.url.path, "json": body})
        events.append(("interrupt", body.get("prompt_id") if isinstance(body, dict) else None))
        worker.interrupt(str(body["prompt_id"]) if isinstance(body, dict) and body.get("prompt_id") else None)
        return Response(status_code=200)

    async def history(request: Request) -> Response:
        pid = request.path_params["prompt_id"]
        worker.advance()
        job = jobs.get(pid)
        if job is None or job["history"] is None:
            return JSONResponse({})
        return JSONResponse({pid: job["history"]})

    async def view(request: Request, fault: Fault | None) -> Response:
        if fault is not None:
            early = _fault_response(fault, request, cfg)
            if early is not None:
                return early
        q = request.query_params
        name, sub, type_ = q.get("filename", ""), q.get("subfolder", ""), q.get("type", "output")
        if not name or ".." in name or name.startswith("/"):
            return Response("invalid filename", status_code=400)
        if ".." in sub or sub.startswith("/"):
            return Response("forbidden", status_code=403)
        store = outputs if type_ == "output" else uploads if type_ == "input" else {}
        key = f"{sub}/{name}" if sub else name
        if key not in store:
            return Response("not found", status_code=404)
        return Response(store[key], media_type="image/png",
                        headers={"content-disposition": f'filename="{name}"'})

    routes = []
    for prefix in ("", "/api"):
        routes += [Route(f"{prefix}/upload/image", upload, methods=["POST"]),
                   Route(f"{prefix}/prompt", gated(gate, prompt), methods=["POST"]),
                   Route(f"{prefix}/prompt", queue_info, methods=["GET"]),
                   Route(f"{prefix}/queue", queue_get, methods=["GET"]),
                   Route(f"{prefix}/queue", queue_post, methods=["POST"]),
                   Route(f"{prefix}/interrupt", interrupt, methods=["POST"]),
                   Route(f"{prefix}/history/{{prompt_id}}", history, methods=["GET"]),
                   Route(f"{prefix}/view", gated(gate, view), methods=["GET"])]
    app = Starlette(routes=routes)
    if token is not None:
        app.add_middleware(_BearerOnly, token=token)
    app.state.config = cfg
    app.state.gate = gate
    app.state.stats = gate.stats
    app.state.requests = received
    app.state.uploads = uploads
    app.state.jobs = jobs
    app.state.executed = executed
    app.state.deleted = deleted
    app.state.interrupted = interrupted
    app.state.control = control
    app.state.events = events  # ("prompt", id), ("delete", [ids]), ("interrupt", id or None), in order
    app.state.worker = worker
    return app


class _BearerOnly:
    """ASGI middleware: 401 for any HTTP request without ``Authorization: Bearer <token>``."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != self.expected:
            await Response("401 Unauthorized", status_code=401)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _validate(node: dict, wf: dict, uploads: dict[str, bytes]) -> list[dict[str, Any]]:
    errs: list[dict[str, Any]] = []
    inputs = node.get("inputs") or {}
    for key, value in inputs.items():
        if isinstance(value, list) and len(value) == 2 and isinstance(value[1], int):
            if str(value[0]) not in wf:
                errs.append({"type": "missing_input", "message": "Required input is missing",
                             "details": f"{key}: linked node {value[0]} does not exist", "extra_info": {}})
            continue
        kind = _NUMERIC.get(key)
        if kind is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                 or (kind is int and isinstance(value, float) and not value.is_integer())):
            errs.append({"type": "invalid_input_type", "message": "Failed to convert an input value to a "
                         f"{kind.__name__.upper()} value", "details": f"{key}, {value!r}", "extra_info": {}})
    ct = node["class_type"]
    if ct == "LoadImage":
        image = inputs.get("image")
        if image not in uploads:
            errs.append({"type": "value_not_in_list", "message": "Value not in list",
                         "details": f"image: '{image}' not in {sorted(uploads)[:20]}",
                         "extra_info": {"input_name": "image", "received_value": image}})
        else:
            try:
                with Image.open(io.BytesIO(uploads[image])) as im:
                    im.verify()
            except OSError:
                errs.append({"type": "invalid_image", "message": "Invalid image file", "details": str(image),
                             "extra_info": {}})
    if ct == "CheckpointLoaderSimple" and inputs.get("ckpt_name") not in CHECKPOINTS:
        errs.append({"type": "value_not_in_list", "message": "Value not in list",
                     "details": f"ckpt_name: '{inputs.get('ckpt_name')}' not in {sorted(CHECKPOINTS)}",
                     "extra_info": {"input_name": "ckpt_name"}})
    return errs


def _fault_response(fault: Fault, request: Request, cfg: FakeConfig) -> Response | None:
    kind = fault.kind
    if kind == "400":
        return _bad("invalid_prompt", "Invalid prompt", "scripted failure")
    if kind == "429":
        return Response("Too Many Requests", status_code=429,
                        headers={"retry-after": str(max(1, round(fault.retry_after or 1)))})
    if kind in ("500", "503"):
        return Response("Server error", status_code=int(kind))
    if kind == "malformed":
        return Response('{"prompt_id": ', media_type="application/json")
    if kind == "oversized":
        return oversized_response(request, cfg.oversize_bytes, b"", b"\0", b"", "image/png")
    if kind == "hang":
        return Response("Gateway timeout", status_code=504)
    return None  # exec_error, never_finish: accepted, they fail later

