"""The one access policy: may this actor do this action on this thing, on every surface.

Pure: decides on plain attributes (duck-typed datasets and organizations), reads no database
and imports nothing from catalog. The caller loads the actor (roles, memberships, grants) and
the target, asks `decide` or `authorize`, and turns a concealed refusal into 404, any other
refusal into 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol

from auth.errors import AuthError

# --- vocabularies (same string values as catalog/enums.py, which auth must not import) ----------

DRAFT, SUBMITTED, PUBLISHED, WITHDRAWN = "draft", "submitted", "published", "withdrawn"
UNCONDITIONAL, CONDITIONAL, CLOSED = "unconditional", "conditional", "closed"
REGULATOR, OPERATOR = "regulator", "operator"
ADMIN, EDITOR, MEMBER = "admin", "editor", "member"

# Open types from the most open to the most restricted.
_OPENNESS = {UNCONDITIONAL: 2, CONDITIONAL: 1, CLOSED: 0}

# The most open type each grade allows (GB/T 43697-2024 grading; provincial open-data rules).
_MAX_OPEN_TYPE: Mapping[str, str] = MappingProxyType(
    {
        "core": CLOSED,
        "important": CLOSED,
        "general_4": CLOSED,
        "general_3": CONDITIONAL,
        "general_2": UNCONDITIONAL,
        "general_1": UNCONDITIONAL,
    }
)


class Action(StrEnum):
    """Everything the policy rules on; each surface maps its operations onto these."""

    DATASET_VIEW = "dataset.view"  # metadata of one entry
    DATASET_LIST = "dataset.list"  # appears in search, lists, exports, package_list, DCAT
    RESOURCE_DOWNLOAD = "resource.download"
    RESOURCE_PREVIEW = "resource.preview"
    RESOURCE_QUERY = "resource.query"  # data API, datastore_search
    DATASET_CREATE = "dataset.create"  # target: the organization
    DATASET_UPDATE = "dataset.update"  # edit, submit for publication
    DATASET_DELETE = "dataset.delete"
    DATASET_PUBLISH = "dataset.publish"
    DATASET_WITHDRAW = "dataset.withdraw"
    GRADE_CONFIRM = "grade.confirm"
    APPLICATION_CREATE = "application.create"  # apply for a 有条件开放 dataset
    APPLICATION_CHECK = "application.check"  # 形式审查 by the data authority (platform)
    APPLICATION_REVIEW = "application.review"  # decision by the owning organization
    AUDIT_READ = "audit.read"
    ORG_MANAGE = "org.manage"  # members and roles; target: the organization
    ORG_CREATE = "org.create"
    LEDGER_EXPORT = "ledger.export"  # the full 一本账, unpublished entries included


class Surface(StrEnum):
    """Where a request came from; recorded for audit, never changes a decision."""

    API_V1 = "api_v1"
    CKAN = "ckan"
    DCAT = "dcat"
    PAGES = "pages"
    SEARCH = "search"
    PREVIEW = "preview"
    DOWNLOAD = "download"
    DATAAPI = "dataapi"


DATASET_ACTIONS: frozenset[Action] = frozenset(
    {
        Action.DATASET_VIEW,
        Action.DATASET_LIST,
        Action.RESOURCE_DOWNLOAD,
        Action.RESOURCE_PREVIEW,
        Action.RESOURCE_QUERY,
        Action.DATASET_UPDATE,
        Action.DATASET_DELETE,
        Action.DATASET_PUBLISH,
        Action.DATASET_WITHDRAW,
        Action.GRADE_CONFIRM,
        Action.APPLICATION_CREATE,
        Action.APPLICATION_REVIEW,
    }
)
ORG_ACTIONS: frozenset[Action] = frozenset({Action.DATASET_CREATE, Action.ORG_MANAGE})
PLATFORM_ACTIONS: frozenset[Action] = frozenset(
    {Action.APPLICATION_CHECK, Action.AUDIT_READ, Action.ORG_CREATE, Action.LEDGER_EXPORT}
)
FILE_ACTIONS: frozenset[Action] = frozenset(
    {Action.RESOURCE_DOWNLOAD, Action.RESOURCE_PREVIEW, Action.RESOURCE_QUERY}
)


# --- actor and targets ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking, with everything the policy needs already loaded by the caller."""

    user_id: uuid.UUID | None = None
    is_sysadmin: bool = False
    platform_roles: frozenset[str] = frozenset()
    org_roles: Mapping[uuid.UUID, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    security_officer_orgs: frozenset[uuid.UUID] = frozenset()
    # Datasets of active, non-suspended grants, valid now (auth.grants.granted_dataset_ids).
    granted_dataset_ids: frozenset[uuid.UUID] = frozenset()

    @property
    def is_anonymous(self) -> bool:
        """True when nobody is signed in."""
        return self.user_id is None

    @property
    def is_regulator(self) -> bool:
        """True for a signed-in 监管方."""
        return self.user_id is not None and REGULATOR in self.platform_roles

    @property
    def is_operator(self) -> bool:
        """True for a signed-in 平台运营方 (the data authority that runs the portal)."""
        return self.user_id is not None and OPERATOR in self.platform_roles

    def role_in(self, org_id: uuid.UUID | None) -> str | None:
        """The actor's role in one organization (admin, editor, member) or None."""
        if self.user_id is None or org_id is None:
            return None
        return self.org_roles.get(org_id)

    def is_insider(self, org_id: uuid.UUID | None) -> bool:
        """True for any member or data-security officer of the organization."""
        if self.user_id is None or org_id is None:
            return False
        return org_id in self.org_roles or org_id in self.security_officer_orgs


ANONYMOUS = Actor()


class DatasetLike(Protocol):
    """What the policy reads of a catalog entry."""

    id: uuid.UUID
    owner_org_id: uuid.UUID
    status: str
    open_type: str
    grade: str | None
    grade_confirmed: bool


class OrganizationLike(Protocol):
    """What the policy reads of an organization."""

    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: conceal=True means answer as if the thing did not exist (404), else 403."""

    allowed: bool
    reason: str
    conceal: bool = False

    def __bool__(self) -> bool:
        return self.allowed


# --- errors -----------------------------------------------------------------------------------


class AccessDenied(AuthError):
    """The actor may see the thing but may not do this to it (403)."""

    def __init__(self, action: str, reason: str, surface: str | None = None) -> None:
        super().__init__(f"无权操作 / access denied ({action}): {reason}")
        self.action = action
        self.reason = reason
        self.surface = surface


class NotVisible(AuthError):
    """The actor may not even know the thing exists (404)."""

    def __init__(self, action: str, reason: str, surface: str | None = None) -> None:
        super().__init__(f"资源不存在 / not found ({action})")
        self.action = action
        self.reason = reason
        self.surface = surface


# --- grades -----------------------------------------------------------------------------------


def max_open_type(grade: str | None) -> str:
    """The most open type a grade allows; an unknown or missing grade allows only closed."""
    if grade is None:
        return CLOSED
    return _MAX_OPEN_TYPE.get(str(grade), CLOSED)


def grade_allows_open_type(grade: str | None, open_type: str) -> bool:
    """True when a dataset of this grade may be published with this open type."""
    wanted = _OPENNESS.get(str(open_type))
    if wanted is None:
        return False
    return wanted <= _OPENNESS[max_open_type(grade)]


def effective_open_type(dataset: DatasetLike) -> str:
    """The open type outsiders actually get: the declared one, capped by the confirmed grade."""
    declared = str(dataset.open_type)
    if declared not in _OPENNESS:
        return CLOSED
    if not dataset.grade_confirmed:
        return CLOSED  # fail closed: a grade nobody confirmed cannot open anything
    cap = max_open_type(dataset.grade)
    return declared if _OPENNESS[declared] <= _OPENNESS[cap] else cap


# --- decisions --------------------------------------------------------------------------------

_OK = "allowed / 允许"


def _allow(reason: str = _OK) -> Decision:
    return Decision(True, reason)


def _deny(reason: str) -> Decision:
    return Decision(False, reason)


def _hide(reason: str) -> Decision:
    return Decision(False, reason, conceal=True)


def can_review_applications(actor: Actor, org_id: uuid.UUID) -> bool:
    """True for an admin or editor of the organization that owns the requested data."""
    return actor.role_in(org_id) in (ADMIN, EDITOR)


def _visible(actor: Actor, dataset: DatasetLike) -> Decision:
    status = str(dataset.status)
    if status == PUBLISHED:
        return _allow()
    if actor.is_insider(dataset.owner_org_id) or (actor.user_id is not None and actor.is_sysadmin):
        return _allow()
    if status == WITHDRAWN:
        if actor.is_regulator:
            return _allow()
        return _hide("withdrawn entries are visible only to the owning organization and the regulator")
    if status in (DRAFT, SUBMITTED):
        return _hide(f"{status} entries are visible only to the owning organization")
    return _hide(f"unknown status {status!r}")


def _files(actor: Actor, dataset: DatasetLike) -> Decision:
    if actor.is_insider(dataset.owner_org_id):
        return _allow("member of the owning organization / 所属单位成员")
    if str(dataset.status) != PUBLISHED:
        return _deny("files of an unpublished entry are for the owning organization only / 未发布")
    if str(dataset.open_type) == CLOSED:
        return _deny("不予开放: no files, previews or rows outside the owning organization")
    if not dataset.grade_confirmed:
        return _deny("grade not confirmed: files stay closed / 分级未确认")
    kind = effective_open_type(dataset)
    if kind == UNCONDITIONAL:
        return _allow("无条件开放 / open to everyone")
    if kind == CONDITIONAL:
        if actor.user_id is not None and dataset.id in actor.granted_dataset_ids:
            return _allow("approved grant / 已获授权")
        return _deny("有条件开放: an approved, active grant on this dataset is required")
    return _deny(f"grade {dataset.grade} allows no open access / 分级不允许开放")


def _dataset_decision(actor: Actor, action: Action, dataset: DatasetLike) -> Decision:
    seen = _visible(actor, dataset)
    if not seen.allowed:
        return seen
    if action in (Action.DATASET_VIEW, Action.DATASET_LIST):
        return seen
    if action in FILE_ACTIONS:
        return _files(actor, dataset)

    org = dataset.owner_org_id
    role = actor.role_in(org)
    signed_in = actor.user_id is not None
    sysadmin = signed_in and actor.is_sysadmin
    if action == Action.DATASET_UPDATE:
        if role in (ADMIN, EDITOR) or sysadmin:
            return _allow()
        return _deny("only editors and admins of the owning organization write its entries")
    if action in (Action.DATASET_DELETE, Action.DATASET_WITHDRAW):
        if role == ADMIN or sysadmin:
            return _allow()
        return _deny("only an admin of the owning organization may delete or withdraw an entry")
    if action == Action.DATASET_PUBLISH:
        if role != ADMIN:
            return _deny("only an admin of the owning organization may publish / 仅所属单位管理员可发布")
        if dataset.grade is None or not dataset.grade_confirmed:
            return _deny("the grade must be confirmed before publishing / 发布前须确认分级")
        if not grade_allows_open_type(dataset.grade, str(dataset.open_type)):
            return _deny(
                f"grade {dataset.grade} allows at most {max_open_type(dataset.grade)}, "
                f"not {dataset.open_type} / 分级不允许该开放属性"
            )
        return _allow()
    if action == Action.GRADE_CONFIRM:
        if not (role == ADMIN or (signed_in and org in actor.security_officer_orgs)):
            return _deny("grades are confirmed by an org admin or its data-security officer")
        if dataset.grade is None:
            return _deny("the entry has no grade to confirm / 尚未分级")
        return _allow()
    if action == Action.APPLICATION_CREATE:
        if not signed_in:
            return _deny("sign in to apply / 请先登录")
        if actor.is_insider(org):
            return _deny("members of the owning organization need no application")
        if str(dataset.status) != PUBLISHED:
            return _deny("only published entries can be applied for")
        kind = effective_open_type(dataset)
        if kind == CONDITIONAL:
            return _allow()
        if kind == UNCONDITIONAL:
            return _deny("无条件开放: no application needed")
        return _deny("不予开放 entries cannot be applied for")
    if action == Action.APPLICATION_REVIEW:
        if can_review_applications(actor, org):
            return _allow()
        return _deny("applications are reviewed by admins and editors of the owning organization")
    raise ValueError(f"not a dataset action: {action}")  # pragma: no cover - guarded by caller


def _org_decision(actor: Actor, action: Action, org: OrganizationLike) -> Decision:
    role = actor.role_in(org.id)
    sysadmin = actor.user_id is not None and actor.is_sysadmin
    if action == Action.DATASET_CREATE:
        if role in (ADMIN, EDITOR) or sysadmin:
            return _allow()
        return _deny("only editors and admins of the organization create its entries")
    if action == Action.ORG_MANAGE:
        if role == ADMIN or sysadmin:
            return _allow()
        return _deny("only an admin of the organization manages its members")
    raise ValueError(f"not an organization action: {action}")  # pragma: no cover


def _platform_decision(actor: Actor, action: Action) -> Decision:
    sysadmin = actor.user_id is not None and actor.is_sysadmin
    if action == Action.ORG_CREATE:
        return _allow() if sysadmin else _deny("only a sysadmin creates organizations")
    if action == Action.AUDIT_READ:
        if sysadmin or actor.is_regulator:
            return _allow()
        return _deny("the audit log is for the regulator and sysadmins / 审计日志仅监管方可查")
    if action == Action.APPLICATION_CHECK:
        if sysadmin or actor.is_operator:
            return _allow()
        return _deny("形式审查 is done by the data authority (platform operator)")
    if action == Action.LEDGER_EXPORT:
        if sysadmin or actor.is_regulator or actor.is_operator:
            return _allow()
        return _deny("the full ledger is exported by the regulator, operator or sysadmin")
    raise ValueError(f"not a platform action: {action}")  # pragma: no cover


def decide(
    actor: Actor,
    action: Action | str,
    target: DatasetLike | OrganizationLike | None = None,
    *,
    surface: Surface | str | None = None,
) -> Decision:
    """Rule on one action; `surface` is accepted for the caller's audit and never changes the result."""
    del surface  # the same rules hold on every surface, by design
    action = Action(action)
    if action in PLATFORM_ACTIONS:
        return _platform_decision(actor, action)
    if target is None:
        raise TypeError(f"{action} needs a target")
    if action in ORG_ACTIONS:
        return _org_decision(actor, action, target)
    if not hasattr(target, "owner_org_id"):
        raise TypeError(f"{action} needs a dataset-like target, got {type(target).__name__}")
    return _dataset_decision(actor, action, target)  # type: ignore[arg-type]


def authorize(
    actor: Actor,
    action: Action | str,
    target: DatasetLike | OrganizationLike | None = None,
    *,
    surface: Surface | str | None = None,
) -> None:
    """Raise NotVisible (404) or AccessDenied (403) unless the actor may do this."""
    decision = decide(actor, action, target, surface=surface)
    if decision.allowed:
        return
    name = str(Action(action))
    where = str(surface) if surface is not None else None
    if decision.conceal:
        raise NotVisible(name, decision.reason, where)
    raise AccessDenied(name, decision.reason, where)


@dataclass(frozen=True, slots=True)
class ListingScope:
    """Which entries an actor may list, as a filter a database query can apply."""

    statuses: frozenset[str]  # statuses visible whatever the owning organization
    org_ids: frozenset[uuid.UUID]  # organizations whose entries are visible in every status

    def admits(self, dataset: DatasetLike) -> bool:
        """True when the entry belongs in the actor's lists (same answer as dataset.list)."""
        return str(dataset.status) in self.statuses or dataset.owner_org_id in self.org_ids


def listing_scope(actor: Actor) -> ListingScope:
    """The dataset.list rule as a filter: `status IN statuses OR owner_org_id IN org_ids`."""
    if actor.user_id is None:
        return ListingScope(frozenset({PUBLISHED}), frozenset())
    orgs = frozenset(actor.org_roles) | actor.security_officer_orgs
    if actor.is_sysadmin:
        return ListingScope(frozenset({DRAFT, SUBMITTED, PUBLISHED, WITHDRAWN}), orgs)
    if actor.is_regulator:
        return ListingScope(frozenset({PUBLISHED, WITHDRAWN}), orgs)
    return ListingScope(frozenset({PUBLISHED}), orgs)


def may(actor: Actor, action: Action | str, target: DatasetLike | OrganizationLike | None = None) -> bool:
    """Shorthand for decide(...).allowed, for filters and templates."""
    return decide(actor, action, target).allowed
