"""Users file: scrypt hashes with per-user salts, roles, verification."""

from __future__ import annotations

import tomllib

import pytest

from workbench.errors import InvalidSpec, PermissionDenied
from workbench.ui.auth import User, UsersFile, allowed, require


def test_add_verify_and_hash_storage(tmp_path):
    users = UsersFile(tmp_path / "users.toml")
    users.add("alice", "correct horse", "approver")
    users.add("bob", "correct horse", "viewer")
    data = tomllib.loads((tmp_path / "users.toml").read_text())
    assert "correct horse" not in (tmp_path / "users.toml").read_text()
    assert data["users"]["alice"]["salt"] != data["users"]["bob"]["salt"]
    assert data["users"]["alice"]["hash"] != data["users"]["bob"]["hash"]
    assert (tmp_path / "users.toml").stat().st_mode & 0o077 == 0
    assert users.verify("alice", "correct horse") == User("alice", "approver")
    assert users.verify("alice", "wrong password") is None
    assert users.verify("nobody", "correct horse") is None
    assert [u.name for u in users.list()] == ["alice", "bob"]
    assert users.remove("bob") and users.get("bob") is None


def test_bad_input_is_refused(tmp_path):
    users = UsersFile(tmp_path / "users.toml")
    with pytest.raises(InvalidSpec):
        users.add("alice", "long enough", "admin")
    with pytest.raises(InvalidSpec):
        users.add("a l<i>ce", "long enough", "viewer")
    with pytest.raises(InvalidSpec):
        users.add("alice", "short", "viewer")


def test_roles_are_ordered():
    assert allowed("approver", "approve") and allowed("approver", "generate")
    assert allowed("editor", "generate") and not allowed("editor", "approve")
    assert allowed("viewer", "view") and not allowed("viewer", "ingest")
    assert not allowed("viewer", "no-such-action")
    with pytest.raises(PermissionDenied, match="needs the approver role"):
        require(User("vic", "viewer"), "approve")


def test_open_session_follows_role_changes_in_the_users_file(tmp_path, library_wb):
    """Demotion or removal takes effect on the next server-side check of an already open page."""
    from workbench.ui.panel.session import SessionState
    from workbench.ui.panel.state import StudioState

    users = UsersFile(tmp_path / "users.toml")
    ed = users.add("ed", "correct horse battery", "editor")
    session = SessionState(library_wb, ed, lookup=users.get)
    session.require("generate")
    users.add("ed", "correct horse battery", "viewer")  # an admin demotes ed while the page is open
    with pytest.raises(PermissionDenied, match="viewer"):
        session.require("generate")
    assert StudioState(session).start_run() is None and "viewer" in session.status
    users.remove("ed")
    with pytest.raises(PermissionDenied, match="no longer a user"):
        session.require("view")
