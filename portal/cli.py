"""The `dataledger` command line. Heavy imports stay inside the commands, so --help is instant."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

app = typer.Typer(
    name="dataledger",
    help="dataledger: 数据资源一本账 — provincial public data catalog and exchange.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")

# Each module under portal/commands defines `app` (a typer.Typer) and `NAME`; registered here.
SUBCOMMANDS = ("storage", "quality", "audit", "harvest", "ledger")


def _register_subcommands() -> None:
    import importlib

    for module_name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"portal.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"portal.commands.{module_name}":
                raise
            continue
        app.add_typer(module.app, name=module.NAME)


_register_subcommands()


def fail(message: str, code: int = 1) -> None:
    """Print an error on stderr and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to the configured database."""
    from portal.migrate import upgrade
    from portal.settings import get_settings

    upgrade(get_settings().portal.database_url)
    typer.echo("database is up to date", err=True)


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the migration changes.")],
) -> None:
    """Write a new migration from the models (for developers)."""
    from portal.migrate import autogenerate

    autogenerate(message)


@app.command()
def demo() -> None:
    """Load the demo catalog (idempotent: what exists is left alone)."""
    from portal.demo import load_demo
    from portal.runtime import open_runtime

    with open_runtime(migrate=True) as rt:
        result = load_demo(rt.engine, rt.storage, progress=sys.stderr.isatty())
    typer.echo(result.summary(), err=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes (one per CPU for the most throughput).")
    ] = 1,
) -> None:
    """Migrate, load the demo catalog into an empty ledger, and serve the portal."""
    import uvicorn

    from portal.app import create_app
    from portal.demo import load_demo
    from portal.runtime import open_runtime
    from portal.server import UVICORN_OPTIONS

    with open_runtime(migrate=True) as rt:
        if rt.settings.portal.load_demo:
            result = load_demo(rt.engine, rt.storage, progress=False, only_if_empty=True)
            typer.echo(result.summary(), err=True)
        settings = rt.settings
    # Several processes each build the app from the environment (portal.app:create_app as a factory).
    application = create_app(settings) if workers == 1 else "portal.app:create_app"
    worker = _start_quality_worker()
    try:
        uvicorn.run(
            application,
            host=host or settings.portal.host,
            port=port or settings.portal.port,
            log_level="info",
            proxy_headers=True,
            workers=workers,
            factory=workers > 1,
            **UVICORN_OPTIONS,  # stored files leave by sendfile (portal.server)
        )
    finally:
        worker.terminate()
        worker.wait(10)


def _start_quality_worker():  # type: ignore[no-untyped-def]
    """The background process that runs quality jobs, so great-expectations never loads in the server."""
    import os
    import subprocess

    return subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "quality", "worker", "--parent", str(os.getpid())]
    )


@users_app.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="User name (lowercase letters, digits, - and _).")],
    email: Annotated[str, typer.Option("--email", help="Email address.")],
    password: Annotated[str, typer.Option("--password", help="Password.")],
    sysadmin: Annotated[
        bool, typer.Option("--sysadmin", help="Make the user a system administrator.")
    ] = False,
    fullname: Annotated[str, typer.Option("--fullname", help="Display name.")] = "",
) -> None:
    """Create a user account."""
    from sqlmodel import Session

    from auth.errors import AuthError
    from auth.users import create_user
    from portal.runtime import open_runtime

    with open_runtime(migrate=True) as rt, Session(rt.engine) as session:
        try:
            user = create_user(
                session,
                name=name,
                email=email,
                password=password,
                fullname=fullname,
                sysadmin=sysadmin,
                password_min_length=rt.settings.auth.password_min_length,
            )
            session.commit()
        except AuthError as exc:
            fail(str(exc))
        typer.echo(f"created user {user.name}{' (sysadmin)' if sysadmin else ''}", err=True)


@users_app.command("member")
def users_member(
    name: Annotated[str, typer.Argument(help="User name.")],
    org: Annotated[str, typer.Option("--org", help="Organization name.")],
    role: Annotated[str, typer.Option("--role", help="admin, editor or member.")] = "member",
    security_officer: Annotated[
        bool,
        typer.Option("--security-officer", help="Make the user the organization's data-security officer."),
    ] = False,
) -> None:
    """Make a user a member of an organization (or change the role)."""
    from sqlmodel import Session

    from auth.errors import AuthError
    from auth.users import add_membership, get_user_by_name
    from catalog import service
    from catalog.errors import CatalogError
    from portal.runtime import open_runtime

    with open_runtime(migrate=True) as rt, Session(rt.engine) as session:
        user = get_user_by_name(session, name)
        if user is None:
            fail(f"no such user: {name}")
            return
        try:
            organization = service.require_organization(session, org)
            add_membership(
                session,
                user_id=user.id,
                organization_id=organization.id,
                role=role,
                security_officer=security_officer,
            )
            session.commit()
        except (AuthError, CatalogError) as exc:
            fail(str(exc))
        typer.echo(f"{name} is {role} of {org}", err=True)


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Argument(help="Name of the user the token acts for.")],
    token_name: Annotated[str, typer.Option("--name", help="A name to recognize the token by.")] = "cli",
    scope: Annotated[str, typer.Option("--scope", help="read, write or admin.")] = "write",
) -> None:
    """Create an API token and print it on stdout (it is shown only once)."""
    from sqlmodel import Session

    from auth.api_tokens import issue_api_token
    from auth.errors import AuthError
    from auth.users import get_user_by_name
    from portal.runtime import open_runtime

    with open_runtime(migrate=True) as rt, Session(rt.engine) as session:
        found = get_user_by_name(session, user)
        if found is None:
            fail(f"no such user: {user}")
            return
        try:
            _token, raw = issue_api_token(session, user_id=found.id, name=token_name, scope=scope)
            session.commit()
        except AuthError as exc:
            fail(str(exc))
    sys.stdout.write(raw + "\n")


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
