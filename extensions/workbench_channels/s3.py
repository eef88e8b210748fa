"""S3 (or any fsspec bucket): objects keyed by SKU and preset, with lineage in the object metadata.

``[channels.s3] url = "s3://bucket/prefix"`` names the destination; ``endpoint_url`` points at an
S3-compatible server (MinIO, moto in tests), ``region`` sets the region. Keys are
``<prefix>/<sku>/<preset>/<asset>.<ext>``; each object carries metadata ``sha256``, ``lineage-id``,
``version-id``, ``ai-generated``, ``digital-source-type`` and its content type.

Idempotent by content: an object whose ``sha256`` metadata (or, for a single-part upload, whose ETag =
MD5) matches the item is already there; a changed rendition overwrites the same key. Other fsspec
protocols (``gs://``, ``memory://``) work too; where object metadata is not supported a small
``.meta.json`` sits next to the object. Credentials: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``
(for ``s3://``, from the environment or the user's credentials file) when set; otherwise
``[channels.s3] profile`` (a named AWS profile), otherwise botocore's default chain (``AWS_PROFILE``,
``~/.aws`` files, SSO, an instance or task role). No credentials at all is a :class:`NeedsKey` error.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar

import fsspec

from workbench._urls import check_url
from workbench.errors import ExportError, NeedsKey, ProviderUnavailable
from workbench.export.plan import slug
from workbench.plugins.channel import Channel, ChannelConfig, Delivery, ExportItem

__all__ = ["S3Channel"]


_NO_CREDENTIALS = ("s3: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, name a profile "
                   "in [channels.s3] profile (or AWS_PROFILE), or run where an IAM role is available")


def _raise_if_no_credentials(exc: BaseException) -> None:
    """Turn botocore's "no credentials anywhere" into a :class:`NeedsKey` that says where they may come from."""
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
            raise NeedsKey(_NO_CREDENTIALS, provider="s3") from exc
        seen = seen.__cause__ or seen.__context__


class S3Channel(Channel):
    """Objects in an S3-compatible bucket (any fsspec URL)."""

    name: ClassVar[str] = "s3"
    kind: ClassVar[str] = "storage"
    secret_names: ClassVar[tuple[str, ...]] = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    max_workers: ClassVar[int] = 8

    def __init__(self, config: ChannelConfig | None = None, client: Any = None) -> None:
        super().__init__(config, client)
        self._fs: Any = None

    def url(self) -> str:
        """The destination URL, without a trailing slash."""
        url = str(self.config.get("url") or "")
        if not url:
            raise ExportError("set [channels.s3] url = \"s3://bucket/prefix\"")
        return url.rstrip("/")

    def destination(self) -> str:
        """The bucket URL (plus endpoint for non-AWS servers); never credentials."""
        endpoint = self.config.get("endpoint_url")
        url = str(self.config.get("url") or "").rstrip("/")
        return f"{url} @ {endpoint}" if endpoint else url

    def check_credentials(self) -> None:
        """``s3://`` needs credentials: both AWS variables, or one of the places botocore looks (NeedsKey if none)."""
        if not str(self.config.get("url") or "").startswith("s3://"):
            return
        if self.has_secret("AWS_ACCESS_KEY_ID") or self.has_secret("AWS_SECRET_ACCESS_KEY"):
            super().check_credentials()  # one of the pair set: name the other
            return
        import botocore.session

        profile = self.config.get("profile")
        try:
            found = botocore.session.Session(profile=str(profile) if profile else None).get_credentials()
        except Exception as exc:  # e.g. ProfileNotFound
            raise NeedsKey(f"s3: cannot read AWS profile {profile!r}: {type(exc).__name__}", provider="s3") from exc
        if found is None:
            raise NeedsKey(_NO_CREDENTIALS, provider="s3")

    def ready(self) -> bool:
        """Whether credentials can be found (the environment, a profile, or the default chain)."""
        try:
            self.check_credentials()
        except NeedsKey:
            return False
        return True

    @property
    def fs(self) -> Any:
        """The fsspec filesystem (built once)."""
        if self._fs is None:
            protocol = self.url().split("://", 1)[0] if "://" in self.url() else "file"
            opts: dict[str, Any] = {}
            if protocol == "s3":
                client_kwargs: dict[str, Any] = {}
                if self.config.get("endpoint_url"):
                    # botocore signs and sends to it directly (a session token travels in a header): the same
                    # base-URL rules as every HTTP plugin (no metadata/link-local, https but for loopback)
                    policy = self.http_policy()
                    client_kwargs["endpoint_url"] = check_url(str(self.config.get("endpoint_url")), provider="s3",
                                                              allow_insecure_hosts=policy.allow_insecure_hosts,
                                                              setting="endpoint_url")
                if self.config.get("region"):
                    client_kwargs["region_name"] = str(self.config.get("region"))
                opts = {"client_kwargs": client_kwargs, "skip_instance_cache": True}
                if self.has_secret("AWS_ACCESS_KEY_ID") or self.has_secret("AWS_SECRET_ACCESS_KEY"):
                    opts.update(key=self.secret("AWS_ACCESS_KEY_ID"), secret=self.secret("AWS_SECRET_ACCESS_KEY"))
                elif self.config.get("profile"):
                    opts["profile"] = str(self.config.get("profile"))
                # otherwise botocore's own chain: AWS_PROFILE, ~/.aws files, SSO, an instance or task role
            self._fs = fsspec.filesystem(protocol, **opts)
        return self._fs

    def key(self, item: ExportItem) -> str:
        """``<url>/<sku>/<preset>/<asset>.<ext>``."""
        return f"{self.url()}/{slug(item.sku or '_no-sku')}/{slug(item.preset)}/{slug(item.asset_name)}.{item.ext}"

    def path_of(self, item: ExportItem) -> str:
        """The object key (the core keeps it unique per asset)."""
        return self.key(item)

    def _metadata(self, item: ExportItem) -> dict[str, str]:
        prov = item.provenance
        return {"sha256": item.sha256, "lineage-id": str(prov.get("lineage_id") or ""),
                "version-id": item.version_id, "rendition-id": str(item.rendition_id or ""),
                "ai-generated": "true" if prov.get("ai_generated") else "false",
                "ai-edited": "true" if prov.get("ai_edited") else "false",
                "digital-source-type": str(prov.get("digital_source_type") or "")}

    def _remote_sha(self, key: str) -> str | None:
        try:
            if self.url().startswith("s3://"):
                meta = self.fs.metadata(key, refresh=True)
                if meta.get("sha256"):
                    return str(meta["sha256"])
                return None
            with self.fs.open(key + ".meta.json", "rb") as fh:
                return json.loads(fh.read()).get("sha256")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ProviderUnavailable(f"s3: cannot read {key}: {type(exc).__name__}", provider="s3") from exc
        except Exception as exc:
            _raise_if_no_credentials(exc)
            raise

    def locate(self, item: ExportItem) -> Delivery | None:
        """Present when the object's ``sha256`` metadata matches."""
        key = self.key(item)
        return Delivery(key, key) if self._remote_sha(key) == item.sha256 else None

    def deliver(self, item: ExportItem) -> Delivery:
        """Put the object with its metadata (skipping the upload when identical bytes are there)."""
        key = self.key(item)
        data = item.data()
        try:
            if self._remote_sha(key) != item.sha256:
                if self.url().startswith("s3://"):
                    out = self.fs.pipe_file(key, data, Metadata=self._metadata(item), ContentType=item.mime)
                    etag = str((out or {}).get("ETag", "")).strip('"')
                    if etag and "-" not in etag and etag != hashlib.md5(data).hexdigest():
                        raise ExportError(f"s3: ETag mismatch for {key}: the object is corrupt")
                else:
                    self.fs.pipe_file(key, data)
                    self.fs.pipe_file(key + ".meta.json", json.dumps(self._metadata(item)).encode())
        except (OSError, ValueError) as exc:
            raise ProviderUnavailable(f"s3: cannot write {key}: {type(exc).__name__}: {exc}"[:300],
                                      provider="s3") from exc
        except Exception as exc:
            _raise_if_no_credentials(exc)
            raise
        prior = item.previous
        replaced = prior.remote_id if prior and prior.remote_id and prior.sha256 != item.sha256 else None
        return Delivery(key, key, replaced_remote_id=replaced)
