"""Google Sheets: append one row per exported rendition (``spreadsheets.values.append``).

Auth, simplest first:

- ``GOOGLE_OAUTH_ACCESS_TOKEN``: a pre-minted OAuth2 access token (e.g. from
  ``gcloud auth print-access-token``), used as ``Authorization: Bearer``;
- ``GOOGLE_APPLICATION_CREDENTIALS``: a service-account JSON file. The channel signs a JWT (RS256, scope
  ``spreadsheets``) with the key in the file and exchanges it at the token endpoint (the file's
  ``token_uri``, or settings ``token_url``) for an access token, once per export. Needs the
  ``cryptography`` package. Share the sheet with the service account's e-mail.

Row: time, SKU, asset, preset, version, review state, URL, lineage id, AI flag. Rows are appended
(``USER_ENTERED``, ``INSERT_ROWS``); a changed rendition appends a new row rather than editing the old.
Settings ``[channels.sheets]``: ``base_url`` (``https://sheets.googleapis.com``), ``spreadsheet_id``,
``range`` (``Sheet1!A1``), ``token_url``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from workbench.errors import NeedsKey, PluginError, ProviderError
from workbench.plugins.channel import Delivery, ExportItem

from ._tool import ToolChannel

__all__ = ["SheetsChannel"]

SCOPE = "https://www.googleapis.com/auth/spreadsheets"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SheetsChannel(ToolChannel):
    """One appended row per exported rendition."""

    name: ClassVar[str] = "sheets"
    secret_names: ClassVar[tuple[str, ...]] = ("GOOGLE_OAUTH_ACCESS_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS")
    replaces: ClassVar[bool] = False
    max_workers: ClassVar[int] = 1  # appends keep the export's order
    rate_per_s: ClassVar[float] = 1.0  # 60 write requests/min per user

    _token: str | None = None
    _token_lock = threading.Lock()

    def ready(self) -> bool:
        """Either credential is enough."""
        return any(self.has_secret(n) for n in self.secret_names)

    def check_credentials(self) -> None:
        """Raise :class:`NeedsKey` naming both variables when neither is set."""
        if not self.ready():
            raise NeedsKey("GOOGLE_OAUTH_ACCESS_TOKEN or GOOGLE_APPLICATION_CREDENTIALS is not set for the sheets "
                           "channel: export a token, or the path of a service-account JSON file")

    def access_token(self) -> str:
        """The bearer token: the pre-minted one, or one minted from the service account (cached)."""
        if self.has_secret("GOOGLE_OAUTH_ACCESS_TOKEN"):
            return self.secret("GOOGLE_OAUTH_ACCESS_TOKEN")
        with self._token_lock:
            if self._token is None:
                self._token = self._mint(Path(self.secret("GOOGLE_APPLICATION_CREDENTIALS")))
            return self._token

    def _mint(self, path: Path) -> str:
        try:
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding, rsa
        except ModuleNotFoundError as exc:
            raise PluginError("the sheets channel needs 'cryptography' to sign service-account tokens: "
                              "pip install cryptography (or set GOOGLE_OAUTH_ACCESS_TOKEN)") from exc
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
        except (OSError, ValueError, KeyError) as exc:
            raise NeedsKey(f"GOOGLE_APPLICATION_CREDENTIALS does not point at a readable service-account "
                           f"JSON file ({type(exc).__name__})") from exc
        if not isinstance(key, rsa.RSAPrivateKey):  # Google service accounts sign with RS256
            raise NeedsKey("GOOGLE_APPLICATION_CREDENTIALS: the service account's private_key is not an RSA key")
        token_url = str(self.config.get("token_url") or info.get("token_uri") or "https://oauth2.googleapis.com/token")
        now = int(time.time())
        header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        claims = _b64(json.dumps({"iss": info["client_email"], "scope": SCOPE, "aud": token_url,
                                  "iat": now, "exp": now + 3600}).encode())
        signature = key.sign(f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
        assertion = f"{header}.{claims}.{_b64(signature)}"
        body = self.request("POST", token_url, provider="google-oauth",
                            data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                             "assertion": assertion}).json()
        if not body.get("access_token"):
            raise ProviderError("google-oauth: no access_token in the token response", provider="google-oauth")
        return str(body["access_token"])

    def row(self, item: ExportItem) -> list[Any]:
        """The appended row."""
        return [dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), item.sku or "", item.asset_name,
                item.preset, item.version_id, item.state, self.public_url(item) or "",
                item.provenance.get("lineage_id") or "", "yes" if item.provenance.get("ai_generated") else "no"]

    def deliver(self, item: ExportItem) -> Delivery:
        """Append the row; the remote id is the updated range."""
        base = self.config.base_url or "https://sheets.googleapis.com"
        sheet = self._check(self.config.get("spreadsheet_id"), "spreadsheet_id")
        rng = quote(str(self.config.get("range", "Sheet1!A1")), safe="")
        out = self.call("POST", f"{base}/v4/spreadsheets/{sheet}/values/{rng}:append",
                        headers={"Authorization": f"Bearer {self.access_token()}"},
                      params={"valueInputOption": "USER_ENTERED", "insertDataOption": "INSERT_ROWS"},
                      json={"majorDimension": "ROWS", "values": [self.row(item)]}).json()
        return Delivery(str((out.get("updates") or {}).get("updatedRange")), self.public_url(item))
