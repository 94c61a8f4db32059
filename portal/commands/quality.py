"""`dataledger quality`: run the checks of a dataset now, or serve as the background worker."""

from __future__ import annotations

import time
from typing import Annotated

import typer

NAME = "quality"
app = typer.Typer(help="Quality checks (great-expectations) of uploaded tables.", no_args_is_help=True)


@app.command("run")
def run(dataset: Annotated[str, typer.Argument(help="Name of the dataset to check.")]) -> None:
    """Check every file of a dataset again (queued or not), with a progress bar."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlmodel import Session

    from catalog import pipeline, service
    from catalog.errors import CatalogError
    from portal.runtime import open_runtime

    with open_runtime(migrate=True) as rt:
        with Session(rt.engine) as session:
            try:
                found = service.require_dataset(session, dataset)
            except CatalogError as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from exc
            jobs = [
                pipeline.enqueue(session, service.require_version(session, r))
                for r in service.list_resources(session, found)
                if r.latest_version
            ]
            session.commit()
            job_ids = [j.id for j in jobs]
        if not job_ids:
            typer.echo(f"{dataset} has no uploaded files to check", err=True)
            return
        failed = 0
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, transient=False) as bar:
            for n, job_id in enumerate(job_ids, 1):
                task = bar.add_task(f"file {n}/{len(job_ids)}", total=1.0)
                job = pipeline.run_job(
                    rt.engine,
                    rt.storage,
                    job_id,
                    workdir=rt.settings.portal.var_dir / "work",
                    progress=lambda f, msg, t=task: bar.update(t, completed=f, description=msg),
                )
                bar.update(task, completed=1.0, description=f"file {n}: {job.state}")
                if job.state != "done":
                    failed += 1
                    typer.echo(f"error: {job.error}", err=True)
        with Session(rt.engine) as session:
            found = service.require_dataset(session, dataset)
            typer.echo(f"{found.name}: quality score {found.quality_score}", err=True)
        if failed:
            raise typer.Exit(1)


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run the queued jobs, then exit.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between looks at the queue.")] = 2.0,
    parent: Annotated[
        int | None, typer.Option(help="Exit when this process (the server that started us) is gone.")
    ] = None,
) -> None:
    """Take queued quality jobs and run them, one at a time, until stopped."""
    import os

    from catalog import pipeline
    from portal.runtime import open_runtime
    from portal.scheduler import Every, run_periodic

    with open_runtime() as rt:
        workdir = rt.settings.portal.var_dir / "work"
        periodic = Every(60.0)  # grant expiry, report reminders and suspensions, order expiry
        while True:
            if parent is not None and os.getppid() != parent:
                typer.echo("quality worker: the server is gone; stopping", err=True)
                return
            if periodic.due():
                done = run_periodic(rt.engine, rt.settings)
                if done.errors:
                    typer.echo(f"periodic jobs: {done.summary()}", err=True)
            job_id = pipeline.claim_next(rt.engine)
            if job_id is None:
                if once:
                    return
                time.sleep(poll)
                continue
            job = pipeline.run_job(rt.engine, rt.storage, job_id, workdir=workdir)
            typer.echo(f"quality job {job.id}: {job.state}{' ' + job.error if job.error else ''}", err=True)
