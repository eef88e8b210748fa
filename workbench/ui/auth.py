"""Dashboard users and roles: a small TOML users file with salted scrypt hashes.

The file (``DIR/users.toml`` by default, or ``workbench serve --users FILE``) looks like::

    [users.alice]
    role = "approver"
    algo = "scrypt"          # hashlib.scrypt, n=2**14, r=8, p=1, 32-byte key
    salt = "9f1c..."         # 16 random bytes, hex, one per user
    hash = "4be2..."

Roles are ordered: ``viewer`` < ``editor`` < ``approver``. Each dashboard action names the lowest role that
may do it (:data:`ACTION_ROLES`); :func:`require` raises for anyone below. The Panel state objects and the
JSON endpoints call :func:`require` on the server with the session's user, so a hidden button is a
convenience, never the protection. Passwords are compared in constant time and never stored or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from ..errors import InvalidSpec, PermissionDenied, ProjectError

__all__ = [
    "ACTION_ROLES",
    "ROLES",
    "User",
    "UsersFile",
    "allowed",
    "hash_password",
    "require",
    "verify_password",
]

ROLES: tuple[str, ...] = ("viewer", "editor", "approver")

#: The lowest role allowed to perform each dashboard action.
ACTION_ROLES: dict[str, str] = {
    "view": "viewer",
    "comment": "viewer",
    "ingest": "editor",
    "generate": "editor",
    "mark": "editor",
    "commit": "editor",
    "tag": "editor",
    "collection": "editor",
    "submit": "editor",
    "approve": "approver",
    "request_changes": "approver",
    "export": "approver",
}

_NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class User:
    """A signed-in person (or the local user when no login is required) and their role.

    ``session`` is the user's server-side session version: a cookie names the version it was issued
    for, and signing out or a new password bumps it, which revokes every cookie issued before.
    """

    name: str
    role: str
    session: int = field(default=0, compare=False)

    def can(self, action: str) -> bool:
        """True when this user's role allows ``action``."""
        return allowed(self.role, action)


def allowed(role: str, action: str) -> bool:
    """True when ``role`` is at or above the lowest role for ``action``."""
    needed = ACTION_ROLES.get(action)
    if needed is None or role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


def require(user: User, action: str) -> None:
    """Raise :class:`~workbench.errors.PermissionDenied` unless ``user`` may perform ``action``."""
    if not allowed(user.role, action):
        needed = ACTION_ROLES.get(action, "?")
        raise PermissionDenied(
            f"{user.name} ({user.role}) may not {action.replace('_', ' ')}: it needs the {needed} role"
        )


def hash_password(password: str, salt: bytes | None = None) -> tuple[str, str]:
    """Return ``(salt_hex, hash_hex)`` for ``password`` with scrypt and a fresh (or given) salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return salt.hex(), digest.hex()


def verify_password(password: str, salt_hex: str, hash_hex: str) -> bool:
    """Constant-time check of ``password`` against a stored salt and hash."""
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    _, digest = hash_password(password, salt)
    return hmac.compare_digest(digest, hash_hex)


class UsersFile:
    """The users file: add, list, remove and verify users. Re-read on every call so edits apply live."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()

    def _load(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ProjectError(f"cannot read the users file {self.path}: {exc}") from exc
        users = data.get("users", {})
        return {str(k): dict(v) for k, v in users.items() if isinstance(v, dict)}

    def _save(self, users: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(tomli_w.dumps({"users": users}).encode("utf-8"))
        os.replace(tmp, self.path)

    def add(self, name: str, password: str, role: str) -> User:
        """Create or replace ``name`` with a new password and role."""
        if not _NAME_RE.match(name):
            raise InvalidSpec(f"bad user name {name!r}: use letters, digits, . _ @ - (max 64)")
        if role not in ROLES:
            raise InvalidSpec(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise InvalidSpec("password too short: use at least 8 characters")
        salt, digest = hash_password(password)
        users = self._load()
        session = int(users.get(name, {}).get("session", 0)) + 1  # a new password revokes the old cookies
        users[name] = {"role": role, "algo": "scrypt", "salt": salt, "hash": digest, "session": session}
        self._save(users)
        return User(name, role, session)

    def revoke_sessions(self, name: str) -> None:
        """Bump ``name``'s session version: every cookie issued before stops working (sign-out)."""
        users = self._load()
        if name in users:
            users[name]["session"] = int(users[name].get("session", 0)) + 1
            self._save(users)

    def remove(self, name: str) -> bool:
        """Remove ``name``; True when it existed."""
        users = self._load()
        if users.pop(name, None) is None:
            return False
        self._save(users)
        return True

    def list(self) -> list[User]:
        """All users, sorted by name (no secrets)."""
        return [User(n, str(u.get("role", "viewer")), int(u.get("session", 0))) for n, u in sorted(self._load().items())]

    def get(self, name: str) -> User | None:
        """The user called ``name``, or None."""
        entry = self._load().get(name)
        return User(name, str(entry.get("role", "viewer")), int(entry.get("session", 0))) if entry else None

    def verify(self, name: str, password: str) -> User | None:
        """The user when ``password`` is right, else None (same work either way, to not leak names)."""
        entry = self._load().get(name)
        if entry is None:
            hash_password(password, b"\0" * 16)
            return None
        if not verify_password(password, str(entry.get("salt", "")), str(entry.get("hash", ""))):
            return None
        return User(name, str(entry.get("role", "viewer")), int(entry.get("session", 0)))
