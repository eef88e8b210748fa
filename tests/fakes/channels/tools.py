"""Strict fakes of the project tools: Airtable, Asana, monday.com, Google Sheets (+ its token endpoint).

One Starlette app serves all four under their real paths:

- Airtable ``/v0/{base}/{table}[/{record}]``: Bearer PAT; PATCH only known fields; attachment values
  must be ``{"id"}`` of an existing attachment or ``{"url", "filename"}`` (422 otherwise);
- Asana ``/api/1.0/tasks/{gid}[/stories]``: Bearer; bodies wrapped in ``{"data": {...}}``;
- monday ``/v2``: raw ``Authorization`` token (a "Bearer " prefix is refused here to keep clients
  honest), ``API-Version`` header required, ``value`` must be a JSON-encoded string; errors as HTTP 200;
- Sheets ``/v4/spreadsheets/{id}/values/{range}:append``: Bearer token minted by ``/token`` (a JWT-bearer
  grant whose RS256 signature is verified with the service account's public key) or the fixed
  ``access_token``; ``valueInputOption`` required.
``faults`` maps a tool name to a list of HTTP statuses to return first (429 carries ``Retry-After``).
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["FakeTools", "service_account"]


def service_account(token_uri: str) -> tuple[dict[str, Any], Any]:
    """A fresh service-account JSON dict and its public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    info = {"type": "service_account", "client_email": "bot@atelier-test.iam.gserviceaccount.com",
            "private_key": pem, "private_key_id": "k1", "token_uri": token_uri}
    return info, key.public_key()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeTools:
    """State + app for the four tools."""

    def __init__(self) -> None:
        self.airtable_token = "patAIRTABLEsecret.000000"
        self.asana_token = "2/ASANAsecret0000/1111"
        self.monday_token = "eyMONDAYsecret000000"
        self.sheets_token = "ya29.SHEETSfixedtoken00"
        self.public_key: Any = None
        self.minted: list[str] = []
        self.fields = {"SKU", "Status", "Images", "Notes"}
        self.records: dict[str, dict[str, Any]] = {}
        self.stories: dict[str, list[str]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.columns: dict[tuple[str, str, str], Any] = {}
        self.rows: list[list[Any]] = []
        self.faults: dict[str, list[int]] = {}
        self._ids = itertools.count(1)
        self.app = Starlette(routes=[
            Route("/v0/{base}/{table}", self.airtable_list, methods=["GET"]),
            Route("/v0/{base}/{table}/{record}", self.airtable_record, methods=["GET", "PATCH"]),
            Route("/api/1.0/tasks/{gid}/stories", self.asana_story, methods=["POST"]),
            Route("/api/1.0/tasks/{gid}", self.asana_task, methods=["PUT"]),
            Route("/v2", self.monday, methods=["POST"]),
            Route("/token", self.token, methods=["POST"]),
            Route("/v4/spreadsheets/{sheet}/values/{rest:path}", self.sheets_append, methods=["POST"]),
        ])

    def add_record(self, sku: str, attachments: list[dict[str, Any]] | None = None) -> str:
        """An Airtable record for ``sku``; returns its id."""
        rid = f"rec{next(self._ids):014d}"
        self.records[rid] = {"id": rid, "fields": {"SKU": sku, "Images": attachments or []}}
        return rid

    def _fault(self, tool: str) -> Response | None:
        queue = self.faults.get(tool) or []
        if queue:
            status = queue.pop(0)
            # Airtable's 429 carries no Retry-After (clients must wait 30 s); the others send one
            retry = {"Retry-After": "0.05"} if status == 429 and tool != "airtable" else {}
            return JSONResponse({"errors": [{"error": "RATE_LIMIT_REACHED", "message": "injected"}]},
                                status_code=status, headers=retry)
        return None

    @staticmethod
    def _bearer(request: Request, token: str) -> bool:
        return request.headers.get("authorization") == f"Bearer {token}"

    # -- Airtable -------------------------------------------------------------------------------------
    async def airtable_list(self, request: Request) -> Response:
        if (f := self._fault("airtable")) is not None:
            return f
        if not self._bearer(request, self.airtable_token):
            return JSONResponse({"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}},
                                status_code=401)
        formula = request.query_params.get("filterByFormula", "")
        out = [r for r in self.records.values() if f"{{SKU}}='{r['fields']['SKU']}'" == formula]
        return JSONResponse({"records": out[: int(request.query_params.get("maxRecords", 100))]})

    async def airtable_record(self, request: Request) -> Response:
        if (f := self._fault("airtable")) is not None:
            return f
        if not self._bearer(request, self.airtable_token):
            return JSONResponse({"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}},
                                status_code=401)
        rec = self.records.get(request.path_params["record"])
        if rec is None:
            return JSONResponse({"error": "NOT_FOUND"}, status_code=404)
        if request.method == "GET":
            return JSONResponse(rec)
        body = json.loads(await request.body())
        fields = body.get("fields")
        if not isinstance(fields, dict):
            return JSONResponse({"error": {"type": "INVALID_REQUEST_UNKNOWN", "message": "fields required"}},
                                status_code=422)
        for name, value in fields.items():
            if name not in self.fields:
                return JSONResponse({"error": {"type": "UNKNOWN_FIELD_NAME", "message": f'Unknown field name: "{name}"'}},
                                    status_code=422)
            if name == "Images":
                existing = {a["id"]: a for a in rec["fields"].get("Images") or []}
                new = []
                for att in value:
                    if "id" in att and att["id"] in existing:
                        new.append(existing[att["id"]])
                    elif att.get("url", "").startswith("https://") and att.get("filename"):
                        new.append({"id": f"att{next(self._ids):014d}", "url": att["url"], "filename": att["filename"]})
                    else:
                        return JSONResponse({"error": {"type": "INVALID_VALUE_FOR_COLUMN",
                                                       "message": "Cannot parse attachment value"}}, status_code=422)
                value = new
            rec["fields"][name] = value
        return JSONResponse(rec)

    # -- Asana ----------------------------------------------------------------------------------------
    async def asana_story(self, request: Request) -> Response:
        if (f := self._fault("asana")) is not None:
            return f
        if not self._bearer(request, self.asana_token):
            return JSONResponse({"errors": [{"message": "Not Authorized"}]}, status_code=401)
        body = json.loads(await request.body())
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not (data.get("text") or data.get("html_text")):
            return JSONResponse({"errors": [{"message": "data: Missing input", "help": "wrap in data"}]},
                                status_code=400)
        gid = request.path_params["gid"]
        if gid not in self.tasks:
            return JSONResponse({"errors": [{"message": "task: Not a recognized ID: " + gid}]}, status_code=404)
        self.stories.setdefault(gid, []).append(data.get("text") or data.get("html_text"))
        return JSONResponse({"data": {"gid": f"{next(self._ids)}", "resource_type": "story",
                                      "text": data.get("text")}}, status_code=201)

    async def asana_task(self, request: Request) -> Response:
        if not self._bearer(request, self.asana_token):
            return JSONResponse({"errors": [{"message": "Not Authorized"}]}, status_code=401)
        body = json.loads(await request.body())
        gid = request.path_params["gid"]
        if gid not in self.tasks or not isinstance(body.get("data"), dict):
            return JSONResponse({"errors": [{"message": "bad request"}]}, status_code=400)
        self.tasks[gid].update(body["data"])
        return JSONResponse({"data": {"gid": gid, **self.tasks[gid]}})

    # -- monday ---------------------------------------------------------------------------------------
    async def monday(self, request: Request) -> Response:
        if (f := self._fault("monday")) is not None:
            return f
        if request.headers.get("authorization") != self.monday_token:
            return JSONResponse({"errors": [{"message": "Not Authenticated", "extensions": {
                "code": "UserUnauthorizedException"}}]}, status_code=401)
        if not request.headers.get("api-version"):
            return JSONResponse({"errors": [{"message": "API-Version header required"}]}, status_code=400)
        body = json.loads(await request.body())
        if self.faults.get("budget"):
            self.faults["budget"].pop(0)
            return JSONResponse({"errors": [{"message": "Complexity budget exhausted", "extensions": {
                "code": "COMPLEXITY_BUDGET_EXHAUSTED", "retry_in_seconds": 0.05}}]})
        v = body.get("variables") or {}
        if "change_column_value" not in body.get("query", ""):
            return JSONResponse({"errors": [{"message": "unsupported query"}]})
        try:
            value = json.loads(v["value"]) if isinstance(v.get("value"), str) else None
        except ValueError:
            value = None
        if value is None:
            return JSONResponse({"errors": [{"message": "invalid value", "extensions": {"code": "ColumnValueException"}}]})
        self.columns[(str(v["board"]), str(v["item"]), str(v["column"]))] = value
        return JSONResponse({"data": {"change_column_value": {"id": str(v["item"])}},
                             "account_id": 1})

    # -- Google ---------------------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        form = await request.form()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        try:
            header, claims, sig = str(form.get("assertion")).split(".")
            self.public_key.verify(_unb64(sig), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
            payload = json.loads(_unb64(claims))
        except (ValueError, InvalidSignature, AttributeError):
            return JSONResponse({"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
                                status_code=400)
        if payload.get("exp", 0) < time.time() or "spreadsheets" not in payload.get("scope", ""):
            return JSONResponse({"error": "invalid_grant", "error_description": "bad claims"}, status_code=400)
        token = f"ya29.minted{next(self._ids):08d}"
        self.minted.append(token)
        return JSONResponse({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    async def sheets_append(self, request: Request) -> Response:
        if (f := self._fault("sheets")) is not None:
            return f
        auth = request.headers.get("authorization", "")
        if auth not in [f"Bearer {t}" for t in [self.sheets_token, *self.minted]]:
            return JSONResponse({"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                           "status": "UNAUTHENTICATED"}}, status_code=401)
        rest = unquote(request.path_params["rest"])
        if not rest.endswith(":append"):
            return JSONResponse({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}, status_code=404)
        if request.query_params.get("valueInputOption") not in ("RAW", "USER_ENTERED"):
            return JSONResponse({"error": {"code": 400, "message": "valueInputOption is required",
                                           "status": "INVALID_ARGUMENT"}}, status_code=400)
        body = json.loads(await request.body())
        values = body.get("values")
        if not isinstance(values, list) or not values:
            return JSONResponse({"error": {"code": 400, "message": "values required", "status": "INVALID_ARGUMENT"}},
                                status_code=400)
        self.rows.extend(values)
        n = len(self.rows)
        sheet = rest[: -len(":append")].split("!")[0]
        return JSONResponse({"spreadsheetId": request.path_params["sheet"], "tableRange": f"{sheet}!A1:I{n - 1}",
                             "updates": {"updatedRange": f"{sheet}!A{n}:I{n}", "updatedRows": 1,
                                         "updatedColumns": len(values[0]), "updatedCells": len(values[0])}})
