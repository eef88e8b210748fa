"""The served dashboard against a hostile web (issue 15 items 4, 5, 11): DNS rebinding, cross-origin requests,
login guessing, stale cookies, CSRF on the login form and Panel's module-importing components route.

A real ``workbench serve --auth`` process on a loopback port, spoken to with plain HTTP."""

from __future__ import annotations

import re
import sys

import httpx
import pytest

import workbench
from tests.browser.conftest import _free_port, serving
from workbench.ui.auth import UsersFile

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("websec")
    project = root / "project"
    workbench.init(project)
    users = UsersFile(project / "users.toml")
    users.add("alice", PASSWORD, "approver")
    users.add("bob", PASSWORD, "viewer")
    port = _free_port()
    cmd = [sys.executable, "-m", "workbench", "serve", "--project", str(project), "--port", str(port), "--auth",
           "--host", "dashboard.internal"]
    import os

    env = {**os.environ, "WORKBENCH_USER": "server"}
    with serving(cmd, port, root / "serve.log", env=env, cwd=root):
        yield f"http://127.0.0.1:{port}", port, users


def _login(base: str, name: str, password: str, client: httpx.Client | None = None) -> httpx.Response:
    c = client or httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    form = c.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text[:300]
    return c.post("/login", data={"username": name, "password": password, "csrf": token.group(1)})


def test_rebinding_hosts_and_foreign_origins_are_refused(served):
    base, port, _ = served
    with httpx.Client(base_url=base, timeout=30) as c:
        assert c.get("/login").status_code == 200
        assert c.get("/login", headers={"Host": f"evil.example:{port}"}).status_code == 421
        assert c.get("/api/me", headers={"Host": f"attacker.test:{port}"}).status_code == 421
        assert c.get("/login", headers={"Host": f"localhost:{port}"}).status_code == 200
        assert c.get("/login", headers={"Host": f"dashboard.internal:{port}"}).status_code == 200  # --host
        assert c.get("/login", headers={"Host": "127.0.0.1:1"}).status_code == 421  # another port
        refused = c.post("/api/actions/approve", json={"version_id": "x"},
                         headers={"Origin": "http://evil.example"})
        assert refused.status_code == 403
        ws = c.get("/app/ws", headers={"Origin": "http://evil.example", "Upgrade": "websocket",
                                        "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                                        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        assert ws.status_code == 403


def test_every_answer_carries_the_security_headers(served):
    base, _, _ = served
    with httpx.Client(base_url=base, timeout=30) as c:
        for path in ("/login", "/", "/api/me"):
            r = c.get(path)
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
            assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"


def test_components_route_imports_nothing_new(served):
    base, _, _ = served
    with httpx.Client(base_url=base, timeout=30) as c:
        assert c.get("/components/antigravity/X/__css__/a.css").status_code == 404
        assert c.get("/components/os/path/__css__/x").status_code == 404


def test_login_needs_the_forms_csrf_token(served):
    base, _, _ = served
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as c:
        r = c.post("/login", data={"username": "alice", "password": PASSWORD})
        assert r.status_code == 403 and "user" not in c.cookies
        assert _login(base, "alice", PASSWORD, c).status_code == 302 and "user" in c.cookies


def test_guessing_is_throttled_before_any_password_is_checked(served):
    base, _, _ = served
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as c:
        codes = [_login(base, "bob", f"guess-{i}", c).status_code for i in range(7)]
        assert codes[:5] == [302] * 5 and codes[5:] == [429, 429], codes
        right = _login(base, "bob", PASSWORD, c)  # even the right password waits out the window
        assert right.status_code == 429 and int(right.headers["retry-after"]) > 0


def test_logout_and_a_password_change_revoke_cookies(served):
    base, _, users = served
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as c:
        assert _login(base, "alice", PASSWORD, c).status_code == 302
        old = c.cookies["user"]
        assert c.get("/api/me").json()["name"] == "alice"
        c.get("/logout")
        stale = httpx.get(f"{base}/api/me", cookies={"user": old}, timeout=30)
        assert stale.status_code == 401
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as c:
        assert _login(base, "alice", PASSWORD, c).status_code == 302
        old = c.cookies["user"]
        users.add("alice", PASSWORD + "!", "approver")  # a new password
        assert httpx.get(f"{base}/api/me", cookies={"user": old}, timeout=30).status_code == 401
        users.add("alice", PASSWORD, "approver")


def test_comment_size_is_limited(tmp_path):
    from workbench.errors import InvalidSpec
    from workbench.review.comments import MAX_COMMENT

    wb = workbench.init(tmp_path / "p")
    (tmp_path / "r").mkdir()
    from tests.ui.helpers import draw_png

    (tmp_path / "r" / "mug_SKU-1001.png").write_bytes(draw_png((200, 0, 0)))
    wb.ingest([tmp_path / "r"])
    version = wb.library.resolve_versions("SKU-1001")[0]["id"]
    with pytest.raises(InvalidSpec, match="at most"):
        wb.review.comment(version, "x" * (MAX_COMMENT + 1))
    assert wb.review.comment(version, "fine")["body"] == "fine"


