"""CLI command group: faces — ``workbench serve`` (the Panel dashboard) and ``workbench users`` (its logins).

``workbench serve`` binds 127.0.0.1:5006 by default and needs no login there; bound anywhere else (or with
``--auth``) it requires a login checked against ``DIR/users.toml`` (or ``--users FILE``). Add users with
``workbench users add NAME --role viewer|editor|approver``; the password is read from stdin when it is not a
terminal (one line), else prompted twice.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import JsonOpt, ProjectOpt, console, emit

__all__ = ["register"]

UsersOpt = Annotated[
    Path | None,
    typer.Option("--users", help="Users file (default DIR/users.toml).", show_default=False),
]


def _users_path(project: Path | None, users: Path | None) -> Path:
    if users is not None:
        return users
    from ..project import resolve_project_dir

    return resolve_project_dir(project) / "users.toml"


def serve(
    project: ProjectOpt = None,
    address: Annotated[str, typer.Option("--address", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to bind.")] = 5006,
    users: UsersOpt = None,
    show: Annotated[bool, typer.Option("--show/--no-show", help="Open a browser tab.")] = False,
    auth: Annotated[bool, typer.Option("--auth", help="Require login even on loopback.")] = False,
    host: Annotated[list[str] | None, typer.Option("--host", help="Another host name the dashboard answers to "
                                                                  "(behind a proxy, a LAN name); repeatable. Any "
                                                                  "other Host or Origin is refused.")] = None,
) -> None:
    """Serve the dashboard (Library, Studio, Review, Export, Reports), offline, no CDN."""
    from ..project import resolve_project_dir
    from ..ui.server import serve as run

    console.print(f"Serving the dashboard at http://{address}:{port}/ (Ctrl+C to stop)", highlight=False)
    run(resolve_project_dir(project), address=address, port=port, users_file=users, auth=auth, show=show,
        hosts=list(host or []))


users_app = typer.Typer(help="Dashboard logins: users with roles viewer, editor or approver.",
                        no_args_is_help=True)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option("--role", help="viewer, editor or approver.")] = "viewer",
    project: ProjectOpt = None,
    users: UsersOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add or replace a user; the password comes from stdin (one line) or a prompt."""
    from ..ui.auth import UsersFile

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    user = UsersFile(_users_path(project, users)).add(name, password, role)
    emit({"name": user.name, "role": user.role}, as_json,
         lambda d: console.print(f"user {d['name']} ({d['role']}) saved", highlight=False))


@users_app.command("list")
def users_list(project: ProjectOpt = None, users: UsersOpt = None, as_json: JsonOpt = False) -> None:
    """List users and roles."""
    from ..ui.auth import UsersFile

    rows = [{"name": u.name, "role": u.role} for u in UsersFile(_users_path(project, users)).list()]
    emit(rows, as_json, lambda d: print("\n".join(f"{r['name']}\t{r['role']}" for r in d)))


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="User name.")],
    project: ProjectOpt = None,
    users: UsersOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a user."""
    from ..ui.auth import UsersFile

    removed = UsersFile(_users_path(project, users)).remove(name)
    emit({"name": name, "removed": removed}, as_json,
         lambda d: console.print(f"user {d['name']} {'removed' if d['removed'] else 'not found'}"))


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
