"""The shipped demo ledger (示例数据): it validates, covers the vocabularies, and its files parse."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import re
from collections import Counter
from typing import Any

import pytest
from pydantic import ValidationError

from catalog import vocab
from catalog.demo import (
    DEMO_DIR,
    DemoSpec,
    demo_file,
    generate,
    is_credit_code,
    load_demo_spec,
    parse_demo_spec,
)
from catalog.enums import Grade, OpenType, OrgType, UpdateFrequency

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_LIKE = re.compile(r"^\d{17}[\dX]$")
MOBILE_LIKE = re.compile(r"^1[3-9]\d{9}$")


def resident_id_ok(value: str) -> bool:
    """GB 11643 check digit, written here independently of the generator."""
    total = sum(int(c) * w for c, w in zip(value[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17]


def org_code_ok(code: str) -> bool:
    """GB 11714 check character of the 9-character organization code inside a credit code."""
    total = sum(int(c) * w for c, w in zip(code[:8], (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return code[8] == ("X" if check == 10 else "0" if check == 11 else str(check))


@pytest.fixture(scope="module")
def spec() -> DemoSpec:
    return load_demo_spec()


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return json.loads((DEMO_DIR / "catalog.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def tables(spec: DemoSpec) -> dict[str, list[list[str]]]:
    out = {}
    for ds in spec.datasets:
        for res in ds.resources:
            text = demo_file(res.file).read_text(encoding=res.encoding)
            out[res.file] = list(csv.reader(io.StringIO(text, newline="")))
    return out


def test_spec_has_the_promised_breadth(spec: DemoSpec) -> None:
    assert 30 <= len(spec.datasets) <= 40
    assert len({d.domain for d in spec.datasets}) >= 10
    assert {d.grade for d in spec.datasets} == set(Grade)
    assert {d.open_type for d in spec.datasets} == set(OpenType)
    assert len({d.update_frequency for d in spec.datasets}) >= 5
    assert {d.update_frequency for d in spec.datasets} <= set(UpdateFrequency)
    assert {o.org_type for o in spec.organizations} == set(OrgType)
    kinds = Counter(o.org_type for o in spec.organizations)
    assert kinds[OrgType.AGENCY] >= 8 and kinds[OrgType.ENTERPRISE] >= 2
    titles = {o.title for o in spec.organizations}
    assert {
        "浙江省大数据发展管理局",
        "杭州市数据资源管理局",
        "宁波市交通运输局",
        "浙江大数据交易中心有限公司",
    } <= titles
    for ds in spec.datasets:
        assert 1 <= len(ds.resources) <= 2
        assert sum(bool(re.search(r"[\u4e00-\u9fff]", t)) for t in ds.tags) * 2 >= len(ds.tags), ds.name
        assert ds.spatial.startswith("33")


def test_grade_rule_holds(spec: DemoSpec) -> None:
    for ds in spec.datasets:
        if ds.grade in (Grade.CORE, Grade.IMPORTANT, Grade.GENERAL_4):
            assert ds.open_type is OpenType.CLOSED, ds.name
        elif ds.grade is Grade.GENERAL_3:
            assert ds.open_type is not OpenType.UNCONDITIONAL, ds.name


def test_city_agencies_link_to_their_provincial_parent(spec: DemoSpec) -> None:
    children = [o for o in spec.organizations if o.parent]
    assert len(children) >= 3
    for org in children:
        parent = spec.organization(org.parent or "")
        assert parent is not None and parent.region_code == "330000"
        assert vocab.require_term("regions", org.region_code).parent == "330000"


def test_credit_codes_are_valid_and_well_formed(spec: DemoSpec) -> None:
    for org in spec.organizations:
        code = org.credit_code
        assert is_credit_code(code) and org_code_ok(code[8:17]), org.name
        assert code[:2] == ("11" if org.org_type is OrgType.AGENCY else "91"), org.name
        assert code[2:4] == "33"
    try:
        from quality.validators import is_credit_code as quality_check
    except ImportError:  # pragma: no cover - quality is built alongside
        return
    assert all(quality_check(o.credit_code) for o in spec.organizations)


def test_credit_check_rejects_a_changed_character(spec: DemoSpec) -> None:
    code = spec.organizations[0].credit_code
    wrong = code[:17] + ("1" if code[17] != "1" else "2")
    assert not is_credit_code(wrong)


def test_users_cover_every_demo_role(spec: DemoSpec) -> None:
    org_type = {o.name: o.org_type for o in spec.organizations}

    def holds(user: Any, kind: OrgType, role: str | None = None) -> bool:
        return any(org_type[m.organization] is kind and role in (None, m.role) for m in user.memberships)

    users = spec.users
    assert any(
        holds(u, OrgType.AGENCY, "admin") and any(m.security_officer for m in u.memberships) for u in users
    )
    assert any(holds(u, OrgType.AGENCY, "editor") for u in users)
    assert any(holds(u, OrgType.ENTERPRISE) for u in users)
    assert any(holds(u, OrgType.BROKER) for u in users)
    assert any("regulator" in u.platform_roles for u in users)
    assert any("operator" in u.platform_roles and holds(u, OrgType.EXCHANGE_OPERATOR) for u in users)
    assert any(u.sysadmin for u in users)
    assert all(u.email.endswith("@example.org") for u in users)


def test_everything_is_marked_as_demo_data(spec: DemoSpec) -> None:
    assert all("示例数据" in d.notes for d in spec.datasets)
    assert all("示例数据" in o.description for o in spec.organizations)


def test_every_file_parses_in_its_declared_encoding(
    spec: DemoSpec, tables: dict[str, list[list[str]]]
) -> None:
    on_disk = {f"files/{p.name}" for p in (DEMO_DIR / "files").iterdir()}
    assert on_disk == set(tables), "every shipped file is named by exactly one resource"
    for path, rows in tables.items():
        header, body = rows[0], rows[1:]
        assert 20 <= len(body) <= 300, (path, len(body))
        assert len(set(header)) == len(header) and all(h.strip() for h in header), path
        assert any(re.search(r"[\u4e00-\u9fff]", h) for h in header), path
        assert all(len(r) == len(header) for r in body), path


def test_one_file_is_gbk_and_says_so(spec: DemoSpec) -> None:
    gbk = [(d, r) for d in spec.datasets for r in d.resources if r.encoding.lower() in ("gbk", "gb18030")]
    assert len(gbk) == 1
    _, res = gbk[0]
    assert "GBK" in res.description
    data = demo_file(res.file).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert "港区" in data.decode("gbk")


def looks_like_resident_id(value: str) -> bool:
    """An 18-character value with a real birth date and a right check digit (credit codes are not)."""
    if not ID_LIKE.match(value):
        return False
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2024 and resident_id_ok(value)


def test_sensitive_columns_only_in_restricted_datasets(
    spec: DemoSpec, tables: dict[str, list[list[str]]]
) -> None:
    sensitive: dict[str, OpenType] = {}
    for ds in spec.datasets:
        for res in ds.resources:
            header, *rows = tables[res.file]
            cells = [c for r in rows for c in r]
            if any(looks_like_resident_id(c) or MOBILE_LIKE.match(c) for c in cells):
                assert ds.open_type is not OpenType.UNCONDITIONAL, ds.name
                sensitive[ds.name] = ds.open_type
            for i, column in enumerate(header):
                if column == "身份证号":
                    assert all(looks_like_resident_id(r[i]) for r in rows), (ds.name, column)
                if "手机" in column:
                    assert all(MOBILE_LIKE.match(r[i]) for r in rows), (ds.name, column)
    conditional = [name for name, open_type in sensitive.items() if open_type is OpenType.CONDITIONAL]
    assert len(conditional) >= 3, conditional
    assert len(sensitive) > len(conditional), "closed datasets carry personal data too"


def test_identifiers_keep_leading_zeros(tables: dict[str, list[list[str]]]) -> None:
    routes = tables["files/nb-bus-routes-routes.csv"]
    codes = [r[0] for r in routes[1:]]
    assert "0001" in codes and all(len(c) == 4 for c in codes)


def test_demo_folder_is_small() -> None:
    total = sum(p.stat().st_size for p in DEMO_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert total < 2 * 1024 * 1024


def test_generator_reproduces_the_shipped_files(raw: dict[str, Any]) -> None:
    spec, files = generate.build()
    assert generate.render_spec(spec) == (DEMO_DIR / "catalog.json").read_text("utf-8")
    for path, data in files.items():
        assert (DEMO_DIR / path).read_bytes() == data, f"{path} differs: run python -m catalog.demo.generate"
    assert json.loads(generate.render_spec(spec)) == raw


def _broken(raw: dict[str, Any], change: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw)
    change(data)
    return data


def _dataset(data: dict[str, Any], grade: str) -> dict[str, Any]:
    return next(d for d in data["datasets"] if d["grade"] == grade)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: _dataset(d, "general_3").update(open_type="unconditional"), "allows at most conditional"),
        (lambda d: _dataset(d, "core").update(open_type="conditional"), "allows at most closed"),
        (lambda d: _dataset(d, "general_1").update(grade="secret"), "grade"),
        (lambda d: d["organizations"][0].update(credit_code="11330000MB0000000X"), "统一社会信用代码"),
        (lambda d: d["datasets"][0].update(organization="nobody"), "unknown organization nobody"),
        (lambda d: d["datasets"][0].update(domain="weather-and-stuff"), "vocabulary domains"),
        (lambda d: d["datasets"][0].update(industry="G99"), "vocabulary industries"),
        (lambda d: d["datasets"][0].update(spatial="110101"), "vocabulary regions"),
        (lambda d: d["datasets"][0]["resources"][0].update(file="files/missing.csv"), "does not exist"),
        (lambda d: d["datasets"][1].update(name=d["datasets"][0]["name"]), "duplicate dataset"),
        (lambda d: d["users"][0]["memberships"][0].update(role="owner"), "role"),
        (lambda d: d["organizations"].reverse(), "listed after it"),
        (lambda d: d["datasets"][0].update(notes="真实数据"), "示例数据"),
    ],
)
def test_validation_rejects_broken_specs(raw: dict[str, Any], change: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        parse_demo_spec(_broken(raw, change))


def test_demo_file_stays_inside_the_files_folder() -> None:
    with pytest.raises(ValueError, match="outside"):
        demo_file("../catalog.json")
    with pytest.raises(FileNotFoundError):
        demo_file("files/missing.csv")
