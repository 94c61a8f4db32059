"""Readable checks of the access policy's key rules (the full matrix is in test_policy_matrix)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from types import MappingProxyType

import pytest

from auth.errors import AuthError
from auth.policy import (
    ANONYMOUS,
    AccessDenied,
    Action,
    Actor,
    Decision,
    NotVisible,
    Surface,
    authorize,
    decide,
    effective_open_type,
    grade_allows_open_type,
    max_open_type,
    may,
)

ORG = uuid.uuid4()
OTHER = uuid.uuid4()


@dataclass(frozen=True)
class Ds:
    id: uuid.UUID
    owner_org_id: uuid.UUID
    status: str = "published"
    open_type: str = "unconditional"
    grade: str | None = "general_1"
    grade_confirmed: bool = True


@dataclass(frozen=True)
class Org:
    id: uuid.UUID


def ds(**kw: object) -> Ds:
    return Ds(id=uuid.uuid4(), owner_org_id=ORG, **kw)  # type: ignore[arg-type]


def user(**kw: object) -> Actor:
    return Actor(user_id=uuid.uuid4(), **kw)  # type: ignore[arg-type]


def in_org(role: str, org: uuid.UUID = ORG) -> Actor:
    return user(org_roles=MappingProxyType({org: role}))


SYSADMIN = user(is_sysadmin=True)
REGULATOR = user(platform_roles=frozenset({"regulator"}))


@pytest.mark.parametrize(
    ("grade", "cap", "allowed"),
    [
        ("core", "closed", {"closed"}),
        ("important", "closed", {"closed"}),
        ("general_4", "closed", {"closed"}),
        ("general_3", "conditional", {"closed", "conditional"}),
        ("general_2", "unconditional", {"closed", "conditional", "unconditional"}),
        ("general_1", "unconditional", {"closed", "conditional", "unconditional"}),
        (None, "closed", {"closed"}),
        ("bogus", "closed", {"closed"}),
    ],
)
def test_grade_caps_the_open_type(grade: str | None, cap: str, allowed: set[str]) -> None:
    """Core, important and general_4 stay closed; general_3 at most conditional; 1/2 anything."""
    assert max_open_type(grade) == cap
    for open_type in ("unconditional", "conditional", "closed"):
        assert grade_allows_open_type(grade, open_type) is (open_type in allowed)
    assert grade_allows_open_type("general_1", "nonsense") is False


def test_anonymous_reads_and_downloads_unconditional_data() -> None:
    d = ds()
    for action in (Action.DATASET_VIEW, Action.DATASET_LIST, Action.RESOURCE_DOWNLOAD, Action.RESOURCE_QUERY):
        assert decide(ANONYMOUS, action, d).allowed, action
    assert not decide(ANONYMOUS, Action.DATASET_UPDATE, d).allowed


def test_conditional_needs_a_grant_on_that_very_dataset() -> None:
    d = ds(open_type="conditional", grade="general_3")
    stranger = user()
    holder = user(granted_dataset_ids=frozenset({d.id}))
    holder_elsewhere = user(granted_dataset_ids=frozenset({uuid.uuid4()}))
    assert decide(ANONYMOUS, Action.DATASET_VIEW, d).allowed  # metadata is public
    assert decide(holder, Action.RESOURCE_DOWNLOAD, d).allowed
    assert decide(holder, Action.RESOURCE_PREVIEW, d).allowed
    for who in (ANONYMOUS, stranger, holder_elsewhere, REGULATOR, SYSADMIN):
        got = decide(who, Action.RESOURCE_DOWNLOAD, d)
        assert not got.allowed and not got.conceal
        assert "有条件开放" in got.reason
    assert decide(in_org("member"), Action.RESOURCE_QUERY, d).allowed


def test_closed_data_never_leaves_the_owning_org() -> None:
    """不予开放: metadata is public, files/previews/rows are not, not even for sysadmin or a grantee."""
    d = ds(open_type="closed", grade="core")
    outsiders = [
        ANONYMOUS,
        user(),
        user(granted_dataset_ids=frozenset({d.id})),
        REGULATOR,
        SYSADMIN,
        in_org("admin", OTHER),
    ]
    for who in outsiders:
        assert decide(who, Action.DATASET_VIEW, d).allowed
        for action in (Action.RESOURCE_DOWNLOAD, Action.RESOURCE_PREVIEW, Action.RESOURCE_QUERY):
            got = decide(who, action, d)
            assert not got.allowed and not got.conceal, (who, action)
    for role in ("member", "editor", "admin"):
        assert decide(in_org(role), Action.RESOURCE_DOWNLOAD, d).allowed
    assert decide(user(security_officer_orgs=frozenset({ORG})), Action.RESOURCE_PREVIEW, d).allowed


def test_drafts_are_concealed_from_outsiders() -> None:
    for status in ("draft", "submitted"):
        d = ds(status=status)
        for who in (
            ANONYMOUS,
            REGULATOR,
            in_org("admin", OTHER),
            user(granted_dataset_ids=frozenset({d.id})),
        ):
            got = decide(who, Action.DATASET_VIEW, d)
            assert not got.allowed and got.conceal
            # a concealed entry is concealed for every action, so nothing leaks its existence
            assert decide(who, Action.RESOURCE_DOWNLOAD, d).conceal
            assert decide(who, Action.DATASET_UPDATE, d).conceal
        assert decide(in_org("member"), Action.DATASET_VIEW, d).allowed
        assert decide(SYSADMIN, Action.DATASET_VIEW, d).allowed
        assert not decide(SYSADMIN, Action.RESOURCE_DOWNLOAD, d).allowed


def test_withdrawn_is_for_owner_sysadmin_and_regulator() -> None:
    d = ds(status="withdrawn")
    assert decide(REGULATOR, Action.DATASET_VIEW, d).allowed
    assert decide(SYSADMIN, Action.DATASET_LIST, d).allowed
    assert decide(in_org("member"), Action.DATASET_VIEW, d).allowed
    assert decide(user(), Action.DATASET_VIEW, d).conceal
    assert decide(ANONYMOUS, Action.DATASET_LIST, d).conceal
    got = decide(REGULATOR, Action.RESOURCE_DOWNLOAD, d)
    assert not got.allowed and not got.conceal


def test_members_read_but_do_not_write() -> None:
    d = ds(status="draft")
    member, editor, admin = in_org("member"), in_org("editor"), in_org("admin")
    assert decide(member, Action.DATASET_VIEW, d).allowed
    assert not decide(member, Action.DATASET_UPDATE, d).allowed
    assert decide(editor, Action.DATASET_UPDATE, d).allowed
    assert not decide(editor, Action.DATASET_DELETE, d).allowed
    assert decide(admin, Action.DATASET_DELETE, d).allowed
    assert not decide(member, Action.DATASET_CREATE, Org(ORG)).allowed
    assert decide(editor, Action.DATASET_CREATE, Org(ORG)).allowed
    assert not decide(editor, Action.DATASET_CREATE, Org(OTHER)).allowed


def test_other_org_admin_cannot_write_a_published_entry() -> None:
    got = decide(in_org("admin", OTHER), Action.DATASET_UPDATE, ds())
    assert not got.allowed and not got.conceal


def test_grade_confirmation_by_admin_or_security_officer_of_the_owner() -> None:
    d = ds(status="draft", grade="important", grade_confirmed=False)
    assert decide(in_org("admin"), Action.GRADE_CONFIRM, d).allowed
    assert decide(user(security_officer_orgs=frozenset({ORG})), Action.GRADE_CONFIRM, d).allowed
    assert not decide(in_org("editor"), Action.GRADE_CONFIRM, d).allowed
    assert not decide(SYSADMIN, Action.GRADE_CONFIRM, d).allowed
    assert decide(user(security_officer_orgs=frozenset({OTHER})), Action.GRADE_CONFIRM, d).conceal
    assert not decide(in_org("admin"), Action.GRADE_CONFIRM, replace(d, grade=None)).allowed


def test_publishing_requires_a_confirmed_grade_that_allows_the_open_type() -> None:
    admin = in_org("admin")
    assert not decide(admin, Action.DATASET_PUBLISH, ds(status="submitted", grade_confirmed=False)).allowed
    assert decide(admin, Action.DATASET_PUBLISH, ds(status="submitted")).allowed
    too_open = ds(status="submitted", grade="general_3", open_type="unconditional")
    got = decide(admin, Action.DATASET_PUBLISH, too_open)
    assert not got.allowed and "general_3" in got.reason
    assert decide(admin, Action.DATASET_PUBLISH, replace(too_open, open_type="conditional")).allowed
    assert decide(admin, Action.DATASET_PUBLISH, ds(status="submitted", grade="core", open_type="closed"))
    assert not decide(in_org("editor"), Action.DATASET_PUBLISH, ds(status="submitted")).allowed


def test_inconsistent_published_entry_fails_closed() -> None:
    """A published entry whose grade forbids its open type gives outsiders only what the grade allows."""
    d = ds(open_type="unconditional", grade="general_3")
    assert effective_open_type(d) == "conditional"
    assert not decide(ANONYMOUS, Action.RESOURCE_DOWNLOAD, d).allowed
    assert decide(user(granted_dataset_ids=frozenset({d.id})), Action.RESOURCE_DOWNLOAD, d).allowed
    unconfirmed = ds(grade_confirmed=False)
    assert effective_open_type(unconfirmed) == "closed"
    assert not decide(ANONYMOUS, Action.RESOURCE_DOWNLOAD, unconfirmed).allowed
    assert effective_open_type(ds(open_type="weird")) == "closed"


def test_application_rules() -> None:
    cond = ds(open_type="conditional", grade="general_3")
    assert decide(user(), Action.APPLICATION_CREATE, cond).allowed
    assert not decide(ANONYMOUS, Action.APPLICATION_CREATE, cond).allowed
    assert not decide(in_org("member"), Action.APPLICATION_CREATE, cond).allowed
    assert not decide(user(), Action.APPLICATION_CREATE, ds()).allowed  # nothing to apply for
    assert not decide(user(), Action.APPLICATION_CREATE, ds(open_type="closed", grade="core")).allowed
    assert decide(in_org("editor"), Action.APPLICATION_REVIEW, cond).allowed
    assert not decide(in_org("member"), Action.APPLICATION_REVIEW, cond).allowed
    assert not decide(in_org("admin", OTHER), Action.APPLICATION_REVIEW, cond).allowed
    operator = user(platform_roles=frozenset({"operator"}))
    assert decide(operator, Action.APPLICATION_CHECK).allowed
    assert not decide(REGULATOR, Action.APPLICATION_CHECK).allowed


def test_platform_actions() -> None:
    assert decide(REGULATOR, Action.AUDIT_READ).allowed
    assert decide(SYSADMIN, Action.AUDIT_READ).allowed
    assert not decide(in_org("admin"), Action.AUDIT_READ).allowed
    assert decide(SYSADMIN, Action.ORG_CREATE).allowed
    assert not decide(REGULATOR, Action.ORG_CREATE).allowed
    assert decide(in_org("admin"), Action.ORG_MANAGE, Org(ORG)).allowed
    assert not decide(in_org("admin"), Action.ORG_MANAGE, Org(OTHER)).allowed


def test_roles_without_a_signed_in_user_count_for_nothing() -> None:
    """An actor with no user id is anonymous, whatever flags it carries."""
    ghost = Actor(
        user_id=None,
        is_sysadmin=True,
        platform_roles=frozenset({"regulator", "operator"}),
        org_roles=MappingProxyType({ORG: "admin"}),
        security_officer_orgs=frozenset({ORG}),
    )
    assert not decide(ghost, Action.AUDIT_READ).allowed
    assert decide(ghost, Action.DATASET_VIEW, ds(status="draft")).conceal
    assert not decide(ghost, Action.DATASET_CREATE, Org(ORG)).allowed


def test_authorize_raises_the_right_error() -> None:
    with pytest.raises(NotVisible) as hidden:
        authorize(ANONYMOUS, Action.DATASET_VIEW, ds(status="draft"), surface=Surface.CKAN)
    assert hidden.value.surface == "ckan" and hidden.value.action == "dataset.view"
    assert isinstance(hidden.value, AuthError)
    with pytest.raises(AccessDenied) as denied:
        authorize(ANONYMOUS, "resource.download", ds(open_type="closed", grade="core"))
    assert "不予开放" in denied.value.reason
    assert not isinstance(denied.value, NotVisible)
    authorize(ANONYMOUS, Action.DATASET_VIEW, ds())  # no error
    assert may(ANONYMOUS, Action.RESOURCE_PREVIEW, ds())


def test_surface_never_changes_the_answer() -> None:
    d = ds(open_type="conditional", grade="general_3")
    answers = {decide(user(), Action.RESOURCE_DOWNLOAD, d, surface=s) for s in Surface}
    assert len({(a.allowed, a.conceal) for a in answers}) == 1


def test_bad_targets_are_programming_errors() -> None:
    with pytest.raises(TypeError):
        decide(ANONYMOUS, Action.DATASET_VIEW, None)
    with pytest.raises(TypeError):
        decide(ANONYMOUS, Action.DATASET_VIEW, Org(ORG))
    with pytest.raises(ValueError):
        decide(ANONYMOUS, "dataset.fly", ds())
    assert isinstance(decide(ANONYMOUS, Action.DATASET_VIEW, ds()), Decision)
