"""`dataledger audit`: verify the hash chain, export records as CSV, list anomaly signals."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

NAME = "audit"
app = typer.Typer(help="The tamper-evident audit log (审计日志).", no_args_is_help=True)


def _when(value: str | None, option: str) -> datetime | None:
    """An ISO date or date-time; a naive one is taken as UTC."""
    if value is None:
        return None
    from auth.models import as_utc

    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        typer.echo(f"error: {option} must be an ISO date or date-time, not {value!r}", err=True)
        raise typer.Exit(2) from exc


@app.command("verify")
def verify(
    head_id: Annotated[
        int | None, typer.Option("--head-id", help="A published head id, to detect removed newest records.")
    ] = None,
    head_hash: Annotated[str | None, typer.Option("--head-hash", help="The published head's hash.")] = None,
) -> None:
    """Walk the whole chain; exit 1 and name the first broken record if it does not verify."""
    from sqlmodel import Session

    from auth import audit
    from portal.runtime import open_runtime

    expected = (head_id, head_hash) if head_id is not None and head_hash else None
    with open_runtime() as rt, Session(rt.engine) as session:
        broken = audit.verify_chain(session, expected_head=expected)
        top = audit.head(session)
    if broken is not None:
        typer.echo(f"audit chain BROKEN at record {broken.record_id}: {broken.reason}", err=True)
        typer.echo(f"审计链校验失败：记录 {broken.record_id} / first broken record: {broken.record_id}")
        raise typer.Exit(1)
    if top is None:
        typer.echo("audit chain verifies: no records yet / 审计链为空")
        return
    typer.echo(f"audit chain verifies: {top[0]} records, head {top[1]} / 审计链完整")


@app.command("export")
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV file to write ('-' for stdout).")],
    since: Annotated[str | None, typer.Option("--since", help="From this ISO date/time (inclusive).")] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Up to this ISO date/time (exclusive).")
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this user (name or id).")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Only this action, or a prefix ending in '.'.")
    ] = None,
    bom: Annotated[bool, typer.Option("--bom", help="Start with a UTF-8 BOM so Excel reads it.")] = False,
) -> None:
    """Write audit records (oldest first) as CSV, streamed in batches."""
    import uuid
    from collections.abc import Iterator

    from sqlmodel import Session

    from auth import audit
    from auth.models import AuditEvent
    from auth.users import get_user_by_name
    from portal.runtime import open_runtime

    start, end = _when(since, "--since"), _when(until, "--until")
    with open_runtime() as rt, Session(rt.engine) as session:
        actor_id: uuid.UUID | None = None
        if actor:
            try:
                actor_id = uuid.UUID(actor)
            except ValueError:
                user = get_user_by_name(session, actor)
                if user is None:
                    typer.echo(f"error: no such user: {actor}", err=True)
                    raise typer.Exit(1) from None
                actor_id = user.id
        rows = (
            e
            for e in audit.stream(session, since=start, until=end)
            if (actor_id is None or e.actor_id == actor_id)
            and (
                action is None
                or (e.action.startswith(action) if action.endswith(".") else e.action == action)
            )
        )
        count = 0

        def counted() -> Iterator[AuditEvent]:
            nonlocal count
            for event in rows:
                count += 1
                yield event

        if str(output) == "-":
            for line in audit.export_csv(counted(), excel_bom=bom):
                sys.stdout.write(line)
        else:
            with output.open("w", encoding="utf-8", newline="") as sink:
                for line in audit.export_csv(counted(), excel_bom=bom):
                    sink.write(line)
    typer.echo(f"exported {count} audit records to {output}", err=True)


@app.command("anomalies")
def anomalies(
    hours: Annotated[int, typer.Option("--hours", help="Look at the last so many hours.")] = 24,
    baseline_days: Annotated[int, typer.Option("--baseline-days", help="Days of usual volume.")] = 30,
    min_downloads: Annotated[int, typer.Option("--min-downloads", help="Smallest spike reported.")] = 50,
    min_denials: Annotated[int, typer.Option("--min-denials", help="Denials that count as repeated.")] = 10,
) -> None:
    """List download spikes, repeated denials and uses of revoked tokens (tab-separated on stdout)."""
    from datetime import timedelta

    from sqlmodel import Session

    from auth import audit
    from portal.runtime import open_runtime

    with open_runtime() as rt, Session(rt.engine) as session:
        found = audit.anomalies(
            session,
            window=timedelta(hours=hours),
            baseline_days=baseline_days,
            min_downloads=min_downloads,
            min_denials=min_denials,
        )
    for a in found:
        first = a.first_at.isoformat() if a.first_at else ""
        last = a.last_at.isoformat() if a.last_at else ""
        typer.echo(f"{a.kind}\t{a.actor_name or a.actor_id or '-'}\t{a.count}\t{first}\t{last}")
    typer.echo(f"{len(found)} anomalies in the last {hours} h / 异常信号 {len(found)} 条", err=True)
