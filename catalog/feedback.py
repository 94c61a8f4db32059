"""Public feedback on the ledger: data requests (数据需求), error reports (纠错), complaints (投诉),
each answered by the responsible organization within a deadline, and the showcase of applications
built on open data (应用成果).

Authors and answerers are plain user ids (catalog does not import auth); who may answer is the
portal's decision (admins and editors of the organization, the platform operator for requests
addressed to nobody in particular).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, func, select

from catalog.errors import CatalogError, InvalidState, NotFound
from catalog.models import UTCDateTime, utcnow

DEFAULT_ANSWER_DAYS = 10
"""Calendar days an organization has to answer, unless the caller passes its own deadline."""


class FeedbackKind(StrEnum):
    """What the feedback is."""

    REQUEST = "request"  # 数据需求: please open this data
    ERROR = "error"  # 纠错: this dataset has a mistake
    COMPLAINT = "complaint"  # 投诉: about a dataset or its publisher


class FeedbackState(StrEnum):
    """Where the feedback stands."""

    OPEN = "open"
    ANSWERED = "answered"


class FeedbackNotFound(NotFound):
    """No feedback item has that id."""


class InvalidFeedback(CatalogError):
    """The feedback is missing something it needs; the message says what."""


class ShowcaseNotFound(NotFound):
    """No showcase entry has that id."""


class Feedback(SQLModel, table=True):
    """A data request, error report or complaint, and its answer."""

    __tablename__ = "feedback"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=16, index=True)
    dataset_id: uuid.UUID | None = Field(default=None, foreign_key="dataset.id", index=True)
    organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id", index=True)
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_type=sa.Text)
    author_id: uuid.UUID | None = Field(default=None, index=True)
    author_name: str = Field(default="", max_length=200)
    state: str = Field(default=FeedbackState.OPEN.value, max_length=16, index=True)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    answer: str = Field(default="", sa_type=sa.Text)
    answered_by: uuid.UUID | None = Field(default=None)
    answered_by_name: str = Field(default="", max_length=200)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    votes: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)

    def is_overdue(self, now: datetime | None = None) -> bool:
        """True when still open past its deadline."""
        moment = now or utcnow()
        due = self.due_at if self.due_at.tzinfo else self.due_at.replace(tzinfo=moment.tzinfo)
        return self.state == FeedbackState.OPEN.value and due < moment


class Showcase(SQLModel, table=True):
    """An application built on open data, linked to the datasets it uses (应用成果)."""

    __tablename__ = "showcase"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    url: str = Field(default="", max_length=2000)
    dataset_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    author_id: uuid.UUID | None = Field(default=None, index=True)
    author_name: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)

    @property
    def dataset_uuids(self) -> list[uuid.UUID]:
        """The linked datasets as UUIDs."""
        return [uuid.UUID(v) for v in self.dataset_ids]


def submit_feedback(
    session: Session,
    *,
    kind: str,
    title: str,
    body: str,
    author_id: uuid.UUID | None,
    author_name: str = "",
    dataset_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    answer_days: int = DEFAULT_ANSWER_DAYS,
    now: datetime | None = None,
) -> Feedback:
    """Record a request, error report or complaint with its answer deadline; flush only."""
    kind = FeedbackKind(kind).value
    title, body = title.strip(), body.strip()
    if not title:
        raise InvalidFeedback("a title is required / 请填写标题")
    if len(title) > 200:
        raise InvalidFeedback("the title is at most 200 characters / 标题最多 200 个字符")
    if kind != FeedbackKind.REQUEST.value and dataset_id is None:
        raise InvalidFeedback("error reports and complaints name a dataset / 纠错与投诉须指明数据集")
    if answer_days < 1:
        raise InvalidFeedback("the answer deadline is at least one day / 答复期限至少一天")
    moment = now or utcnow()
    item = Feedback(
        kind=kind,
        title=title,
        body=body,
        author_id=author_id,
        author_name=author_name,
        dataset_id=dataset_id,
        organization_id=organization_id,
        due_at=moment + timedelta(days=answer_days),
        created_at=moment,
    )
    session.add(item)
    session.flush()
    return item


def get_feedback(session: Session, item_id: uuid.UUID) -> Feedback | None:
    """A feedback item, or None."""
    return session.get(Feedback, item_id)


def require_feedback(session: Session, item_id: uuid.UUID) -> Feedback:
    """A feedback item; FeedbackNotFound otherwise."""
    item = get_feedback(session, item_id)
    if item is None:
        raise FeedbackNotFound(f"feedback not found: {item_id}")
    return item


def answer_feedback(
    session: Session,
    *,
    item: Feedback,
    answer: str,
    answered_by: uuid.UUID | None,
    answered_by_name: str = "",
    now: datetime | None = None,
) -> Feedback:
    """Answer an open item once; flush only."""
    if item.state != FeedbackState.OPEN.value:
        raise InvalidState("this item has already been answered / 已答复")
    if not answer.strip():
        raise InvalidFeedback("the answer is empty / 请填写答复内容")
    item.answer = answer.strip()
    item.answered_by = answered_by
    item.answered_by_name = answered_by_name
    item.answered_at = now or utcnow()
    item.state = FeedbackState.ANSWERED.value
    session.add(item)
    session.flush()
    return item


def vote(session: Session, *, item: Feedback) -> None:
    """Add one vote to a data request, atomically."""
    session.execute(sa.update(Feedback).where(col(Feedback.id) == item.id).values(votes=Feedback.votes + 1))


def list_feedback(
    session: Session,
    *,
    kind: str | None = None,
    dataset_id: uuid.UUID | None = None,
    organization_ids: Iterable[uuid.UUID] | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[Feedback]]:
    """Items matching the filters, newest first, with the total before paging."""
    stmt = select(Feedback)
    if kind is not None:
        stmt = stmt.where(Feedback.kind == kind)
    if dataset_id is not None:
        stmt = stmt.where(Feedback.dataset_id == dataset_id)
    if organization_ids is not None:
        stmt = stmt.where(col(Feedback.organization_id).in_(list(organization_ids)))
    if state is not None:
        stmt = stmt.where(Feedback.state == state)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(Feedback.created_at).desc()).offset(offset).limit(limit))
    return int(total), list(rows)


def overdue(session: Session, *, now: datetime | None = None) -> list[Feedback]:
    """Open items past their deadline, oldest deadline first."""
    moment = now or utcnow()
    stmt = select(Feedback).where(Feedback.state == FeedbackState.OPEN.value, col(Feedback.due_at) < moment)
    return list(session.exec(stmt.order_by(col(Feedback.due_at))))


def add_showcase(
    session: Session,
    *,
    title: str,
    description: str,
    url: str,
    dataset_ids: Iterable[uuid.UUID],
    author_id: uuid.UUID | None,
    author_name: str = "",
) -> Showcase:
    """Add an application to the showcase, linked to the open datasets it uses; flush only."""
    title = title.strip()
    if not title:
        raise InvalidFeedback("a title is required / 请填写标题")
    url = url.strip()
    if url and not url.lower().startswith(("https://", "http://")):
        raise InvalidFeedback("the link must start with http:// or https:// / 链接须以 http(s):// 开头")
    ids = list(dict.fromkeys(str(i) for i in dataset_ids))
    if not ids:
        raise InvalidFeedback("link at least one dataset / 请至少关联一个数据集")
    entry = Showcase(
        title=title,
        description=description.strip(),
        url=url,
        dataset_ids=ids,
        author_id=author_id,
        author_name=author_name,
    )
    session.add(entry)
    session.flush()
    return entry


def list_showcase(
    session: Session, *, dataset_id: uuid.UUID | None = None, limit: int = 50, offset: int = 0
) -> list[Showcase]:
    """Showcase entries, newest first (those linked to one dataset when asked)."""
    rows = session.exec(select(Showcase).order_by(col(Showcase.created_at).desc()))
    found: list[Any] = list(rows)
    if dataset_id is not None:
        found = [s for s in found if str(dataset_id) in (s.dataset_ids or [])]
    return found[offset : offset + limit]
