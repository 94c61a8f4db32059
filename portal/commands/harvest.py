"""`dataledger harvest`: register, list and run harvest sources (CKAN, DCAT RDF, DCAT-US)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

NAME = "harvest"
app = typer.Typer(help="Harvest other portals (CKAN, DCAT RDF, DCAT-US data.json).", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Name of the source (lowercase letters, digits, - and _).")],
    url: Annotated[str, typer.Option("--url", help="CKAN site URL, RDF catalog URL or data.json URL.")],
    organization: Annotated[
        str, typer.Option("--org", help="Organization that owns the harvested datasets.")
    ],
    kind: Annotated[str, typer.Option("--kind", help="ckan, dcat_rdf or dcat_us.")] = "ckan",
    title: Annotated[str, typer.Option("--title", help="Display title.")] = "",
    mapping: Annotated[
        str, typer.Option("--mapping", help="Mapping as JSON (defaults, fields, publish).")
    ] = "{}",
    schedule: Annotated[str, typer.Option("--schedule", help='"every 24h" or a cron expression.')] = "",
) -> None:
    """Register a harvest source."""
    from pydantic import ValidationError
    from sqlmodel import Session

    from catalog.errors import CatalogError
    from catalog.harvest import service
    from catalog.harvest.schemas import HarvestSourceCreate
    from portal.runtime import open_runtime

    try:
        data = HarvestSourceCreate(
            name=name,
            url=url,
            organization=organization,
            kind=kind,  # type: ignore[arg-type]
            title=title,
            mapping=json.loads(mapping),
            schedule=schedule,
        )
    except (ValidationError, ValueError) as exc:
        _fail(str(exc))
        return
    with open_runtime(migrate=True) as rt, Session(rt.engine) as session:
        try:
            source = service.create_source(session, actor_id=None, data=data)
            session.commit()
        except CatalogError as exc:
            _fail(str(exc))
            return
        typer.echo(f"added harvest source {source.name} ({source.kind}) / 已添加采集源", err=True)


@app.command("list")
def list_sources() -> None:
    """List harvest sources (tab-separated: name, kind, url, last run, harvested until)."""
    from sqlmodel import Session

    from catalog.harvest import service
    from portal.runtime import open_runtime

    with open_runtime(migrate=True) as rt, Session(rt.engine) as session:
        for s in service.list_sources(session):
            last = s.last_run_at.isoformat() if s.last_run_at else "-"
            typer.echo(f"{s.name}\t{s.kind}\t{s.url}\t{last}\t{s.harvested_until or '-'}")


@app.command("run")
def run(
    source: Annotated[str, typer.Argument(help="Name of the source to harvest.")],
    full: Annotated[
        bool, typer.Option("--full", help="Compare the whole remote list (withdraws deletions).")
    ] = False,
    restart: Annotated[bool, typer.Option("--restart", help="Do not resume an interrupted run.")] = False,
    page_size: Annotated[int, typer.Option("--page-size", help="Datasets per page.", min=1, max=1000)] = 100,
) -> None:
    """Harvest one source now, with a progress bar; prints the job's counts as JSON on stdout."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlmodel import Session

    from catalog.errors import CatalogError
    from catalog.harvest import runner, service
    from catalog.harvest.models import HarvestJob
    from portal.runtime import open_runtime

    with open_runtime(migrate=True) as rt:
        with Session(rt.engine) as session:
            try:
                service.require_source(session, source)
            except CatalogError as exc:
                _fail(str(exc))
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task(f"harvest {source}", total=None)

            def show(p: runner.Progress) -> None:
                bar.update(
                    task,
                    completed=p.done,
                    total=p.total,
                    description=f"harvest {source}: +{p.created} ~{p.updated} ={p.unchanged} !{p.failed}",
                )

            job_id = runner.run_harvest(
                rt.engine, source, full=full, resume=not restart, page_size=page_size, progress=show
            )
        with Session(rt.engine) as session:
            job = session.get(HarvestJob, job_id)
            assert job is not None
            summary = {
                "job": str(job.id),
                "status": job.status,
                "created": job.created,
                "updated": job.updated,
                "unchanged": job.unchanged,
                "withdrawn": job.withdrawn,
                "failed": job.failed,
            }
            if job.report.get("error"):
                summary["error"] = job.report["error"]
    typer.echo(json.dumps(summary, ensure_ascii=False))
    if summary["status"] != "finished":
        raise typer.Exit(1)
