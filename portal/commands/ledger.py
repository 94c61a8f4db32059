"""`dataledger ledger`: import another portal's catalog into the ledger, export the ledger."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

NAME = "ledger"
app = typer.Typer(
    help="The one ledger (一本账): import other portals' catalogs, export XLSX/CSV.", no_args_is_help=True
)


@app.command("import")
def import_catalog(
    file: Annotated[
        Path,
        typer.Argument(help="Catalog export: .csv, .json, .jsonl or .xlsx.", exists=True, dir_okay=False),
    ],
    mapping: Annotated[
        str, typer.Option("--mapping", "-m", help="A shipped mapping name or a mapping .json file.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate every row, write nothing.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the rejected rows as CSV here.")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Rows per commit.")] = 500,
    show: Annotated[int, typer.Option("--show", min=0, help="Rejected rows to print.")] = 20,
) -> None:
    """Import a catalog by a declared field mapping, with a progress bar and a report of rejected rows."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table
    from sqlmodel import Session

    from catalog import importer
    from portal.runtime import open_runtime

    console = Console(stderr=True)
    try:
        chosen = importer.load_mapping(mapping)
    except importer.ImporterError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with open_runtime(migrate=True) as rt, Session(rt.engine, expire_on_commit=False) as session:
        with Progress(*columns, console=console, transient=False, disable=not sys.stderr.isatty()) as bar:
            task = bar.add_task("导入 import" if not dry_run else "校验 dry run", total=None)
            try:
                result = importer.import_file(
                    session,
                    file,
                    mapping=chosen,
                    actor_id=None,
                    dry_run=dry_run,
                    batch_size=batch_size,
                    commit=session.commit,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
            except importer.ImporterError as exc:
                session.rollback()
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from exc
        session.commit()
    verb = "would import" if dry_run else "imported"
    console.print(
        f"{file.name}: {result.rows} rows, {verb} {result.imported}, rejected {result.rejected}, "
        f"new agencies {result.organizations_created} / 共 {result.rows} 行，"
        f"{'可导入' if dry_run else '已导入'} {result.imported}，拒绝 {result.rejected}"
    )
    if result.rejections:
        reasons = Table("field: code", "rows", title="拒绝原因 / rejections by reason")
        for reason, n in result.reasons().items():
            reasons.add_row(reason, str(n))
        console.print(reasons)
        rows = Table(
            "行 row",
            "字段 field",
            "原因",
            "reason",
            title=f"first {min(show, result.rejected)} rejected rows",
        )
        for r in result.rejections[:show]:
            rows.add_row(str(r.row), r.field, r.reason_zh, r.reason_en)
        if show:
            console.print(rows)
    if report is not None:
        with report.open("w", encoding="utf-8-sig", newline="") as fh:
            result.write_csv(fh)
        console.print(f"rejection report written to {report}")


@app.command("export")
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.", dir_okay=False)],
    fmt: Annotated[str, typer.Option("--format", "-f", help="xlsx or csv.")] = "xlsx",
    organization: Annotated[
        str | None, typer.Option("--organization", help="Only this agency (name).")
    ] = None,
    published_only: Annotated[bool, typer.Option("--published-only", help="Only published entries.")] = False,
) -> None:
    """Export the whole ledger, or one agency's entries, to XLSX or CSV (UTF-8 with BOM)."""
    from sqlmodel import Session

    from catalog import ledger_views, service
    from catalog.errors import CatalogError
    from portal.runtime import open_runtime

    if fmt not in ("xlsx", "csv"):
        typer.echo("error: --format must be xlsx or csv", err=True)
        raise typer.Exit(2)
    with open_runtime(migrate=True) as rt, Session(rt.engine) as session:
        try:
            org_id = service.require_organization(session, organization).id if organization else None
        except CatalogError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        statuses = ["published"] if published_only else None
        with output.open("wb") as fh:
            if fmt == "xlsx":
                count = ledger_views.write_xlsx(session, fh, organization_id=org_id, statuses=statuses)
            else:
                ledger_views.write_csv(session, fh, organization_id=org_id, statuses=statuses)
                count = None
    typer.echo(f"wrote {output}" + (f" ({count} entries)" if count is not None else ""), err=True)
