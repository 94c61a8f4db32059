"""The full access matrix: every role x open type x grade x status x action x surface.

The expected value of each cell comes from the small rule tables below, written independently
of auth.policy (they never call it), so a change in either shows up as a mismatch here.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from types import MappingProxyType

import pytest

from auth.policy import Action, Actor, Surface, decide, listing_scope

ORG = uuid.UUID("00000000-0000-0000-0000-00000000a001")  # owns the dataset
OTHER_ORG = uuid.UUID("00000000-0000-0000-0000-00000000a002")  # another agency
ENTERPRISE = uuid.UUID("00000000-0000-0000-0000-00000000e001")  # an applicant company
DATASET_ID = uuid.UUID("00000000-0000-0000-0000-0000000000d1")
OTHER_DATASET_ID = uuid.UUID("00000000-0000-0000-0000-0000000000d2")


@dataclass(frozen=True)
class Entry:
    id: uuid.UUID
    owner_org_id: uuid.UUID
    status: str
    open_type: str
    grade: str | None
    grade_confirmed: bool


@dataclass(frozen=True)
class Org:
    id: uuid.UUID


def _user(**kw: object) -> Actor:
    return Actor(user_id=uuid.uuid4(), **kw)  # type: ignore[arg-type]


ROLES: dict[str, Actor] = {
    "anonymous": Actor(),
    "enterprise": _user(
        org_roles=MappingProxyType({ENTERPRISE: "member"}),
        granted_dataset_ids=frozenset({OTHER_DATASET_ID}),  # a grant, but on another dataset
    ),
    "grantee": _user(
        org_roles=MappingProxyType({ENTERPRISE: "admin"}),
        granted_dataset_ids=frozenset({DATASET_ID}),
    ),
    "member": _user(org_roles=MappingProxyType({ORG: "member"})),
    "editor": _user(org_roles=MappingProxyType({ORG: "editor"})),
    "admin": _user(org_roles=MappingProxyType({ORG: "admin"})),
    "officer": _user(security_officer_orgs=frozenset({ORG})),
    "other_admin": _user(
        org_roles=MappingProxyType({OTHER_ORG: "admin"}), security_officer_orgs=frozenset({OTHER_ORG})
    ),
    "regulator": _user(platform_roles=frozenset({"regulator"})),
    "operator": _user(platform_roles=frozenset({"operator"})),
    "sysadmin": _user(is_sysadmin=True),
}

OPEN_TYPES = ("unconditional", "conditional", "closed")
GRADES = ("core", "important", "general_4", "general_3", "general_2", "general_1", None)
STATUSES = ("draft", "submitted", "published", "withdrawn")
CONFIRMED = (True, False)
SURFACES = tuple(Surface)
ACTIONS = tuple(Action)

# ---- the rules, as tables -------------------------------------------------------------------

EVERYONE = frozenset(ROLES)
INSIDERS = frozenset({"member", "editor", "admin", "officer"})
SIGNED_IN = EVERYONE - {"anonymous"}

# Who may know an entry exists, by status; everyone else gets a 404.
SEES = {
    "draft": INSIDERS | {"sysadmin"},
    "submitted": INSIDERS | {"sysadmin"},
    "withdrawn": INSIDERS | {"sysadmin", "regulator"},
    "published": EVERYONE,
}
# Most open type a (confirmed) grade allows; a missing grade allows nothing.
GRADE_CAP = {
    "core": "closed",
    "important": "closed",
    "general_4": "closed",
    "general_3": "conditional",
    "general_2": "unconditional",
    "general_1": "unconditional",
    None: "closed",
}
# (declared open type, grade cap) -> what outsiders actually get
EFFECTIVE = {
    ("unconditional", "unconditional"): "unconditional",
    ("unconditional", "conditional"): "conditional",
    ("unconditional", "closed"): "closed",
    ("conditional", "unconditional"): "conditional",
    ("conditional", "conditional"): "conditional",
    ("conditional", "closed"): "closed",
    ("closed", "unconditional"): "closed",
    ("closed", "conditional"): "closed",
    ("closed", "closed"): "closed",
}
# Outsiders who get files, previews and rows of a published entry, by effective open type.
OUTSIDER_FILES = {
    "unconditional": EVERYONE - INSIDERS,
    "conditional": frozenset({"grantee"}),
    "closed": frozenset(),
}
# Who may do each write or workflow action on a visible entry (before extra conditions).
DATASET_ROLE_RULES = {
    Action.DATASET_UPDATE: frozenset({"editor", "admin", "sysadmin"}),
    Action.DATASET_DELETE: frozenset({"admin", "sysadmin"}),
    Action.DATASET_WITHDRAW: frozenset({"admin", "sysadmin"}),
    Action.DATASET_PUBLISH: frozenset({"admin"}),
    Action.GRADE_CONFIRM: frozenset({"admin", "officer"}),
    Action.APPLICATION_REVIEW: frozenset({"editor", "admin"}),
    Action.APPLICATION_CREATE: SIGNED_IN - INSIDERS,
}
# Actions on the owning organization, and on the platform as a whole.
ORG_RULES = {
    Action.DATASET_CREATE: frozenset({"editor", "admin", "sysadmin"}),
    Action.ORG_MANAGE: frozenset({"admin", "sysadmin"}),
}
PLATFORM_RULES = {
    Action.ORG_CREATE: frozenset({"sysadmin"}),
    Action.AUDIT_READ: frozenset({"regulator", "sysadmin"}),
    Action.APPLICATION_CHECK: frozenset({"operator", "sysadmin"}),
    Action.LEDGER_EXPORT: frozenset({"regulator", "operator", "sysadmin"}),
}
RANK = {"closed": 0, "conditional": 1, "unconditional": 2}


def expected(role: str, action: Action, e: Entry) -> tuple[bool, bool]:
    """(allowed, concealed) for one cell, from the tables above."""
    if action in PLATFORM_RULES:
        return role in PLATFORM_RULES[action], False
    if action in ORG_RULES:
        return role in ORG_RULES[action], False
    if role not in SEES[e.status]:
        return False, True
    effective = EFFECTIVE[(e.open_type, GRADE_CAP[e.grade])] if e.grade_confirmed else "closed"
    if action in (Action.DATASET_VIEW, Action.DATASET_LIST):
        return True, False
    if action in (Action.RESOURCE_DOWNLOAD, Action.RESOURCE_PREVIEW, Action.RESOURCE_QUERY):
        if role in INSIDERS:
            return True, False
        return e.status == "published" and role in OUTSIDER_FILES[effective], False
    ok = role in DATASET_ROLE_RULES[action]
    if action == Action.DATASET_PUBLISH:
        # an absent grade cannot have been confirmed, whatever the flag says
        confirmed = e.grade_confirmed and e.grade is not None
        ok = ok and confirmed and RANK[e.open_type] <= RANK[GRADE_CAP[e.grade]]
    elif action == Action.GRADE_CONFIRM:
        ok = ok and e.grade is not None
    elif action == Action.APPLICATION_CREATE:
        ok = ok and e.status == "published" and effective == "conditional"
    return ok, False


ENTRIES = [
    Entry(DATASET_ID, ORG, status, open_type, grade, confirmed)
    for status, open_type, grade, confirmed in itertools.product(STATUSES, OPEN_TYPES, GRADES, CONFIRMED)
]


def _target(action: Action, e: Entry) -> Entry | Org | None:
    if action in PLATFORM_RULES:
        return None
    if action in ORG_RULES:
        return Org(e.owner_org_id)
    return e


def test_rule_tables_cover_every_action() -> None:
    """Each action has exactly one rule in the test tables, so no cell goes unchecked."""
    covered = (
        set(DATASET_ROLE_RULES)
        | set(ORG_RULES)
        | set(PLATFORM_RULES)
        | {
            Action.DATASET_VIEW,
            Action.DATASET_LIST,
            Action.RESOURCE_DOWNLOAD,
            Action.RESOURCE_PREVIEW,
            Action.RESOURCE_QUERY,
        }
    )
    assert covered == set(Action)
    assert len(ENTRIES) == 4 * 3 * 7 * 2


@pytest.mark.parametrize("role", sorted(ROLES))
def test_matrix(role: str) -> None:
    """Every cell of the matrix for one role, on every surface, matches the rule tables."""
    actor = ROLES[role]
    wrong: list[str] = []
    cells = 0
    for e, action in itertools.product(ENTRIES, ACTIONS):
        want = expected(role, action, e)
        target = _target(action, e)
        for surface in SURFACES:
            got = decide(actor, action, target, surface=surface)
            cells += 1
            if (got.allowed, got.conceal) != want:
                wrong.append(
                    f"{role} {action} {surface} status={e.status} open={e.open_type} grade={e.grade} "
                    f"confirmed={e.grade_confirmed}: got allowed={got.allowed} conceal={got.conceal} "
                    f"({got.reason}), want allowed={want[0]} conceal={want[1]}"
                )
            if not got.allowed:
                assert got.reason, "every refusal carries a reason"
    assert cells == len(ENTRIES) * len(ACTIONS) * len(SURFACES)
    assert not wrong, f"{len(wrong)} cells differ, first ones:\n" + "\n".join(wrong[:25])


def test_matrix_is_not_trivial() -> None:
    """The matrix exercises both outcomes for the interesting cells (guards a vacuous table)."""
    published_cond = Entry(DATASET_ID, ORG, "published", "conditional", "general_3", True)
    assert expected("grantee", Action.RESOURCE_DOWNLOAD, published_cond) == (True, False)
    assert expected("enterprise", Action.RESOURCE_DOWNLOAD, published_cond) == (False, False)
    closed = Entry(DATASET_ID, ORG, "published", "closed", "core", True)
    for role in ("sysadmin", "regulator", "grantee", "anonymous", "other_admin"):
        assert expected(role, Action.RESOURCE_PREVIEW, closed) == (False, False)
        assert expected(role, Action.DATASET_VIEW, closed) == (True, False)
    draft = Entry(DATASET_ID, ORG, "draft", "unconditional", "general_1", True)
    assert expected("regulator", Action.DATASET_VIEW, draft) == (False, True)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_listing_scope_agrees_with_decide(role: str) -> None:
    """The query filter for lists and search admits exactly the entries dataset.list allows."""
    actor = ROLES[role]
    scope = listing_scope(actor)
    foreign = [
        Entry(DATASET_ID, OTHER_ORG, e.status, e.open_type, e.grade, e.grade_confirmed) for e in ENTRIES
    ]
    for e in ENTRIES + foreign:
        assert scope.admits(e) == decide(actor, Action.DATASET_LIST, e).allowed, (role, e)
