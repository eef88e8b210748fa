"""A strict fake ComfyUI server: upload, queue, history, view (every route also under ``/api``).

``make_comfyui_app(config)`` validates like the real server: ``POST /prompt`` without ``prompt`` → 400
``no_prompt``; a node with an unknown ``class_type`` → 400 ``invalid_prompt``; no output node → 400
``prompt_no_outputs``; a link to a missing node, a ``LoadImage`` of a file never uploaded
(``value_not_in_list``), a non-numeric ``seed``/``steps``/``cfg``/``denoise`` (``invalid_input_type``, e.g.
an unfilled ``{{seed}}``) or an unknown checkpoint → 400 ``prompt_outputs_failed_validation`` with
``node_errors``. ``GET /history/{id}`` is ``{}`` until the prompt has "run" for ``FakeConfig.exec_s``, then
lists one real PNG per ``SaveImage`` node (drawn from the positive prompt and the loaded image).
``GET /view`` refuses ``..`` or a leading ``/`` in ``filename`` (400) and answers 404 for unknown files.
``POST /upload/image`` de-duplicates identical content and renames a different file with the same name
``name (1).ext`` unless ``overwrite`` is true.

State on ``app.state``: ``requests`` (``path`` + ``json`` of each ``/prompt``), ``uploads`` (name → bytes),
``jobs``, ``stats``, ``gate``. ``/prompt`` and ``/view`` go through the fault gate; script actions
honoured: 400 429 500 503 malformed oversized hang exec_error (the prompt runs and fails) never_finish.
"""

from __future__ import annotations

import io
import json
import time
import uuid
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
                "EmptyLatentImage", "LoraLoader", "CLIPSetLastLayer"}
OUTPUT_NODES = {"SaveImage", "PreviewImage"}
CHECKPOINTS = {"sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors", "flux1-dev-fp8.safetensors"}
_NUMERIC = {"seed": int, "noise_seed": int, "steps": int, "cfg": float, "denoise": float, "width": int,
            "height": int, "batch_size": int, "megapixels": float}


def _bad(type_: str, message: str, details: str = "", node_errors: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message, "details": details, "extra_info": {}},
                         "node_errors": node_errors or {}}, status_code=400)


def make_comfyui_app(config: FakeConfig | None = None) -> Starlette:
    """A Starlette app faking a ComfyUI server; see the module docstring."""
    cfg = config or FakeConfig()
    gate = FaultGate(cfg)
    uploads: dict[str, bytes] = {}
    outputs: dict[str, bytes] = {}
    jobs: dict[str, dict[str, Any]] = {}
    received: list[dict[str, Any]] = []
    counter = [0]

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
        kind = fault.kind if fault else ""
        job: dict[str, Any] = {"done_at": time.monotonic() + cfg.exec_s if kind != "never_finish" else float("inf"),
                               "workflow": wf, "client_id": body.get("client_id"), "outputs": {}, "error": None}
        if kind == "exec_error":
            sampler = next((nid for nid, n in wf.items() if n["class_type"].startswith("KSampler")), outs[0])
            job["error"] = {"prompt_id": pid, "node_id": sampler, "node_type": wf[sampler]["class_type"],
                            "exception_message": "CUDA out of memory. Tried to allocate 2.00 GiB",
                            "exception_type": "torch.OutOfMemoryError", "traceback": []}
        else:
            text = " ".join(str(n["inputs"].get("text", "")) for n in wf.values()
                            if n["class_type"] == "CLIPTextEncode" and
                            str((n.get("_meta") or {}).get("title", "")).lower() != "negative")
            ref = next((uploads.get(n["inputs"].get("image")) for n in wf.values() if n["class_type"] == "LoadImage"),
                       None)
            for nid in outs:
                counter[0] += 1
                prefix = str(wf[nid]["inputs"].get("filename_prefix", "ComfyUI"))
                fname = f"{prefix}_{counter[0]:05d}_.png"
                side = max(8, round(1024 * cfg.image_scale))
                outputs[fname] = fake_image(text, side, side, reference=ref, index=counter[0])
                job["outputs"][nid] = {"images": [{"filename": fname, "subfolder": "", "type": "output"}]}
            gate.bill(len(outs))
        jobs[pid] = job
        return JSONResponse({"prompt_id": pid, "number": len(jobs), "node_errors": {}})

    async def history(request: Request) -> Response:
        pid = request.path_params["prompt_id"]
        job = jobs.get(pid)
        if job is None or time.monotonic() < job["done_at"]:
            return JSONResponse({})
        ok = job["error"] is None
        messages: list[list[Any]] = [["execution_start", {"prompt_id": pid, "timestamp": 0}]]
        messages.append(["execution_success", {"prompt_id": pid, "timestamp": 1}] if ok
                        else ["execution_error", job["error"]])
        return JSONResponse({pid: {
            "prompt": [0, pid, job["workflow"], {"client_id": job["client_id"]}, list(job["outputs"])],
            "outputs": job["outputs"] if ok else {},
            "status": {"status_str": "success" if ok else "error", "completed": ok, "messages": messages},
            "meta": {}}})

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
                   Route(f"{prefix}/history/{{prompt_id}}", history, methods=["GET"]),
                   Route(f"{prefix}/view", gated(gate, view), methods=["GET"])]
    app = Starlette(routes=routes)
    app.state.config = cfg
    app.state.gate = gate
    app.state.stats = gate.stats
    app.state.requests = received
    app.state.uploads = uploads
    app.state.jobs = jobs
    return app


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

