"""Classification vocabularies of the ledger (domains, GB/T 4754 industries, regions, enum labels).

The facts live in the JSON files beside this module; the loaders are cached and return fresh lists.
`synonyms` and `lookup` map the Chinese labels that provincial portals actually write (开放方式
"普遍开放", 更新频率 "每天", 所属领域 "城乡建设" ...) to our codes, so that an importer can classify
what it harvests. A period we have no value for is rounded up to the next longer one (每半年 ->
yearly, 每 2 日 -> weekly, 每两年 -> irregular), so that a freshness check never expects more than
the portal promised.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from catalog.errors import CatalogError

__all__ = [
    "VOCABULARIES",
    "Term",
    "UnknownTerm",
    "UnknownVocabulary",
    "children",
    "domains",
    "frequencies",
    "get_term",
    "grades",
    "industries",
    "label",
    "lookup",
    "lookup_all",
    "open_types",
    "org_types",
    "regions",
    "require_term",
    "share_types",
    "synonyms",
    "terms",
]

_HERE = Path(__file__).resolve().parent

VOCABULARIES: tuple[str, ...] = (
    "domains",
    "industries",
    "regions",
    "frequencies",
    "open_types",
    "share_types",
    "grades",
    "org_types",
)

Lang = Literal["zh", "en"]

# Values portals write when they mean "nothing here"; lookups answer None for them.
_EMPTY = frozenset({"", "暂无", "无", "none", "null", "nan", "-", "/", "未分类"})
_SPLIT = re.compile(r"[,，、;；/|]+")
_SPACE = re.compile(r"\s+")
_EVERY_N = re.compile(r"^每(\d+)(日|天|周|月|个月|年)$")
_SUFFIXES = ("畲族自治县", "自治县", "省", "市", "区", "县")


class UnknownVocabulary(CatalogError):
    """No vocabulary has that name."""


class UnknownTerm(CatalogError):
    """The vocabulary has no term with that code."""


@dataclass(frozen=True, slots=True)
class Term:
    """One entry of a vocabulary: a stable ascii code, Chinese and English labels, a parent code."""

    code: str
    zh: str
    en: str
    parent: str | None = None

    def label(self, lang: str = "zh") -> str:
        """The label in `lang` ("zh" or "en"); other languages fall back to Chinese."""
        return self.en if lang.lower().startswith("en") else self.zh


def _check(vocab: str) -> None:
    if vocab not in VOCABULARIES:
        raise UnknownVocabulary(f"未知词表 / unknown vocabulary: {vocab!r}")


@cache
def _terms(vocab: str) -> tuple[Term, ...]:
    _check(vocab)
    raw = json.loads((_HERE / f"{vocab}.json").read_text(encoding="utf-8"))
    return tuple(Term(code=t["code"], zh=t["zh"], en=t["en"], parent=t.get("parent")) for t in raw)


@cache
def _by_code(vocab: str) -> dict[str, Term]:
    return {t.code: t for t in _terms(vocab)}


def terms(vocab: str) -> list[Term]:
    """All terms of a vocabulary in their published order."""
    return list(_terms(vocab))


def domains() -> list[Term]:
    """数据领域 / 主题分类: the theme taxonomy of provincial open-data portals."""
    return terms("domains")


def industries() -> list[Term]:
    """GB/T 4754-2017 门类 (codes "A".."T") and 大类 (codes like "G54", parent "G")."""
    return terms("industries")


def regions() -> list[Term]:
    """Administrative divisions of 浙江省 (330000): its 11 cities and their districts and counties."""
    return terms("regions")


def frequencies() -> list[Term]:
    """更新频率 labels for catalog.enums.UpdateFrequency."""
    return terms("frequencies")


def open_types() -> list[Term]:
    """开放属性 labels for catalog.enums.OpenType."""
    return terms("open_types")


def share_types() -> list[Term]:
    """共享属性 labels for catalog.enums.ShareType."""
    return terms("share_types")


def grades() -> list[Term]:
    """数据分级 labels for catalog.enums.Grade."""
    return terms("grades")


def org_types() -> list[Term]:
    """机构类型 labels for catalog.enums.OrgType."""
    return terms("org_types")


def get_term(vocab: str, code: str) -> Term | None:
    """The term with this code, or None."""
    return _by_code(vocab).get(code)


def require_term(vocab: str, code: str) -> Term:
    """The term with this code; raises UnknownTerm."""
    term = get_term(vocab, code)
    if term is None:
        raise UnknownTerm(f"词表 {vocab} 中没有代码 {code!r} / no code {code!r} in vocabulary {vocab}")
    return term


def label(vocab: str, code: str, lang: str = "zh") -> str:
    """The zh or en label of a code; raises UnknownTerm."""
    return require_term(vocab, code).label(lang)


def children(vocab: str, code: str | None) -> list[Term]:
    """Terms whose parent is `code` (None: the top level)."""
    _check(vocab)
    return [t for t in _terms(vocab) if t.parent == code]


@cache
def _synonyms_file() -> dict[str, dict[str, str]]:
    return json.loads((_HERE / "synonyms.json").read_text(encoding="utf-8"))


@cache
def _synonyms(vocab: str) -> dict[str, str]:
    _check(vocab)
    table: dict[str, str] = {}
    for t in _terms(vocab):
        # 教育, 房地产业, 国际组织 name both a 门类 and its only 大类: the broader one wins.
        table.setdefault(t.zh, t.code)
    if vocab == "regions":
        short = [(_strip_suffix(t.zh), t.code) for t in _terms(vocab)]
        counts: dict[str, int] = {}
        for name, _ in short:
            counts[name] = counts.get(name, 0) + 1
        for name, code in short:
            if len(name) >= 2 and counts[name] == 1 and name not in table:
                table[name] = code
    table.update(_synonyms_file().get(vocab, {}))
    return table


def synonyms(vocab: str) -> dict[str, str]:
    """Chinese labels as portals write them (incl. our own zh labels) mapped to codes of `vocab`."""
    return dict(_synonyms(vocab))


def _strip_suffix(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _norm(text: str) -> str:
    # NFKC folds full-width brackets and digits, so "一般数据（4级）" meets "一般数据(4级)".
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).lower()


@cache
def _index(vocab: str) -> dict[str, str]:
    index = {_norm(t.code): t.code for t in _terms(vocab)}
    index.update({_norm(t.en): t.code for t in _terms(vocab)})
    index.update({_norm(k): v for k, v in _synonyms(vocab).items()})
    return index


def _every_n(n: int, unit: str) -> str:
    days = n * {"日": 1, "天": 1, "周": 7, "月": 30, "个月": 30, "年": 365}[unit]
    # Round up to the next declared period: a freshness check must not expect more than promised.
    for limit, code in ((1, "daily"), (7, "weekly"), (31, "monthly"), (92, "quarterly"), (366, "yearly")):
        if days <= limit:
            return code
    return "irregular"


def lookup(vocab: str, text: str | None) -> str | None:
    """The code that a portal's label (or a code, or an English label) stands for, or None."""
    _check(vocab)
    if text is None:
        return None
    key = _norm(str(text))
    if key in _EMPTY:
        return None
    found = _index(vocab).get(key)
    if found is not None:
        return found
    if vocab == "industries" and key.isdigit() and len(key) == 2:
        section = next((t.parent for t in _terms(vocab) if t.code[1:] == key), None)
        return None if section is None else section + key
    if vocab == "frequencies":
        m = _EVERY_N.match(key)
        if m and int(m.group(1)) > 0:
            return _every_n(int(m.group(1)), m.group(2))
    return None


def lookup_all(vocab: str, text: str | list[str] | None) -> list[str]:
    """Codes for a multi-valued field ("城乡建设,城乡建设", "信息产业、教育文化"); unknown parts dropped."""
    if text is None:
        return []
    parts = [str(p) for p in text] if isinstance(text, list) else [str(text)]
    codes: list[str] = []
    for part in parts:
        whole = lookup(vocab, part)
        found = [whole] if whole is not None else [lookup(vocab, p) for p in _SPLIT.split(part)]
        for code in found:
            if code is not None and code not in codes:
                codes.append(code)
    return codes
