"""`dataledger storage`: check objects against the ledger (fsck) and sweep abandoned uploads."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from catalog.fsck import FsckReport

NAME = "storage"
app = typer.Typer(help="Object storage: consistency checks and the staging sweeper.", no_args_is_help=True)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _as_json(report: FsckReport, fixed: Any) -> str:
    return json.dumps(
        {
            "objects_checked": report.objects_checked,
            "versions_checked": report.versions_checked,
            "orphan_objects": [{"key": o.key, "size": o.size} for o in report.orphan_objects],
            "missing_objects": [
                {
                    "version_id": str(m.version_id),
                    "resource_id": str(m.resource_id),
                    "version": m.version,
                    "key": m.key,
                    "kind": m.kind,
                }
                for m in report.missing_objects
            ],
            "stale_staging": [{"key": o.key, "size": o.size} for o in report.stale_staging],
            "fixed": None if fixed is None else vars(fixed),
        },
        ensure_ascii=False,
        indent=2,
    )


@app.command("fsck")
def fsck(
    fix: Annotated[
        bool,
        typer.Option(
            "--fix", help="Delete orphan objects, mark versions with lost files 'missing', sweep staging."
        ),
    ] = False,
    min_orphan_age: Annotated[
        int,
        typer.Option(help="Only objects older than this many seconds count as orphans (uploads in flight)."),
    ] = 3600,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """List objects without metadata, metadata without objects and stale staging uploads.

    Exits 1 when problems are found and --fix was not given.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
    from sqlmodel import Session

    from catalog import fsck as checker
    from portal.runtime import open_runtime

    err = Console(stderr=True)
    out = Console(highlight=False, soft_wrap=True)
    labels = {
        "objects": "listing objects / 扫描对象",
        "versions": "checking versions / 核对版本",
        "staging": "staging uploads / 暂存区",
        "repair": "repairing / 修复",
    }
    with open_runtime() as rt, Session(rt.engine) as session:
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err, transient=True, disable=as_json) as bar:
            tasks: dict[str, Any] = {}

            def progress(phase: str, done: int, total: int | None) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(labels.get(phase, phase), total=total)
                bar.update(tasks[phase], completed=done, total=total)

            report = checker.check(
                session,
                rt.storage,
                staging_max_age_seconds=rt.settings.storage.staging_max_age_seconds,
                min_orphan_age_seconds=min_orphan_age,
                progress=progress,
            )
            fixed = None
            if fix and report.problems:
                fixed = checker.repair(session, rt.storage, report, progress=progress)
                session.commit()
    if as_json:
        typer.echo(_as_json(report, fixed))
    else:
        for info in report.orphan_objects:
            out.print(f"orphan object   {info.key}  ({_size(info.size)}, {info.modified_at:%Y-%m-%d %H:%M})")
        for lost in report.missing_objects:
            what = "missing file " if lost.kind == "file" else "missing table"
            out.print(f"{what}   resource {lost.resource_id} v{lost.version}: {lost.key}")
        for info in report.stale_staging:
            out.print(f"stale staging   {info.key}  ({_size(info.size)}, {info.modified_at:%Y-%m-%d %H:%M})")
        out.print(
            f"checked {report.objects_checked} objects and {report.versions_checked} versions: "
            f"{len(report.orphan_objects)} orphan objects, {len(report.missing_objects)} missing objects, "
            f"{len(report.stale_staging)} stale staging uploads"
        )
        if fixed is not None:
            out.print(
                f"fixed: deleted {fixed.deleted_objects} orphan objects, marked {fixed.marked_missing} "
                f"versions missing, unset {fixed.cleared_tables} lost tables, "
                f"swept {fixed.swept_staging} staging uploads"
            )
        elif report.problems:
            err.print("[yellow]problems found; run with --fix to repair / 发现问题，可加 --fix 修复[/yellow]")
        else:
            out.print("storage is consistent / 存储一致")
    if report.problems and not fix:
        raise typer.Exit(1)


@app.command("sweep")
def sweep(
    older_than: Annotated[
        int | None,
        typer.Option(help="Age in seconds (default: DATALEDGER_STAGING_MAX_AGE_SECONDS)."),
    ] = None,
) -> None:
    """Delete abandoned staging uploads (and stray temp files) older than the given age."""
    from catalog import fsck as checker
    from portal.runtime import open_runtime

    with open_runtime() as rt:
        age = older_than if older_than is not None else rt.settings.storage.staging_max_age_seconds
        removed = checker.sweep(rt.storage, older_than_seconds=age)
    typer.echo(f"swept {removed} staging uploads older than {age} s")
