"""``workbench users`` and the login rules of ``workbench serve`` (no server is started)."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.errors import ProjectError
from workbench.ui.auth import UsersFile
from workbench.ui.server import build_server, is_loopback


def _run(capsys, monkeypatch, argv, stdin=""):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr()


def test_users_add_list_remove(project_dir, capsys, monkeypatch):
    code, _ = _run(capsys, monkeypatch, ["users", "add", "alice", "--role", "approver", "-p", str(project_dir),
                                         "--json"], "s3cret-pass\n")
    assert code in (0, None)
    assert UsersFile(project_dir / "users.toml").verify("alice", "s3cret-pass").role == "approver"
    code, out = _run(capsys, monkeypatch, ["users", "list", "-p", str(project_dir), "--json"])
    assert json.loads(out.out) == [{"name": "alice", "role": "approver"}]
    assert "s3cret" not in (project_dir / "users.toml").read_text()
    code, out = _run(capsys, monkeypatch, ["users", "add", "bob", "--role", "boss", "-p", str(project_dir)],
                     "long-enough\n")
    assert code == 2 and "unknown role" in out.err
    code, out = _run(capsys, monkeypatch, ["users", "remove", "alice", "-p", str(project_dir), "--json"])
    assert json.loads(out.out)["removed"] is True


def test_serve_and_users_have_help(capsys, monkeypatch):
    for argv in (["serve", "--help"], ["users", "add", "--help"]):
        code, out = _run(capsys, monkeypatch, argv)
        assert code in (0, None) and "--project" in out.out


def test_login_is_required_beyond_loopback(project_dir):
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and not is_loopback("0.0.0.0")
    with pytest.raises(ProjectError, match="no users"):
        build_server(project_dir, address="0.0.0.0", port=0)
    with pytest.raises(ProjectError, match="--auth"):
        build_server(project_dir, address="127.0.0.1", port=0, auth=True)
