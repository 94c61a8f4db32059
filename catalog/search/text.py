"""Text normalization for the search index: the same tokens for documents and queries.

Traditional Chinese is folded to Simplified (OpenCC t2s), everything goes through NFKC and
lowercase. Runs of CJK characters become single characters, overlapping bigrams and jieba
search-mode words, so any one- or two-character query finds its run; other words are split on
anything that is not a letter or digit and get a light plural stemmer. Every token consists of
letters and digits only, so SQLite's unicode61 tokenizer and PostgreSQL's ``simple`` parser read
the space-separated token string the same way.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

HL_START = "\x02"
HL_END = "\x03"
"""Highlight markers around matched words; the page escapes the text, then turns them into <mark>."""

_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions B-G
)
_IS_CJK = re.compile(f"[{_CJK}]")
# Pieces are CJK runs, digit runs and runs of other letters: "pm2.5" -> pm 2 5, "covid19" -> covid 19.
# Keeping every token a plain word or a plain number matters: PostgreSQL's parser would read a
# token such as "5e74ab" as a float plus a word and index it differently from SQLite's FTS5.
_PIECE = re.compile(f"([{_CJK}]+)|(\\d+)|([^\\W\\d_{_CJK}]+)")

# Single characters that carry no meaning alone; dropped from queries, never from documents.
_CJK_STOP = frozenset("的了和与及或在是之等其对于为以并将把被也就都而")
# English words that a query ignores unless they are all it has ("roads and bridges", "x OR y").
_EN_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "is",
        "it",
        "not",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
    ]
)
_MAX_TOKEN = 64
_HIGHLIGHT_SCAN = 4000  # characters of a text that highlighting looks at

_lock = threading.Lock()
_converter: Any = None
_jieba: Any = None


def _t2s() -> Any:
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                from opencc import OpenCC

                _converter = OpenCC("t2s")
    return _converter


def _segmenter() -> Any:
    """The jieba module, initialised once, quietly, from its bundled dictionary."""
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


@lru_cache(maxsize=1)
def _traditional_chars() -> dict[int, str]:
    """OpenCC's own one-to-one Traditional -> Simplified character table, for str.translate."""
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    table: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        trad, _, simp = line.partition("\t")
        simp = simp.split(" ")[0]
        if len(trad) == 1 and len(simp) == 1 and trad != simp:
            table[ord(trad)] = simp
    return table


def _to_simplified(folded: str) -> str:
    # OpenCC is pure Python and slow; text without a single Traditional character skips it.
    if not _IS_CJK.search(folded) or folded.translate(_traditional_chars()) == folded:
        return folded
    return _t2s().convert(folded)


def normalize(text: str) -> str:
    """Fold text for matching: NFKC, lowercase, Traditional -> Simplified Chinese."""
    if not text:
        return ""
    return _to_simplified(unicodedata.normalize("NFKC", text).lower())


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """A light English plural stemmer (after Harman's S-stemmer); other words pass unchanged."""
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def _bigrams(run: str) -> Iterator[str]:
    for i in range(len(run) - 1):
        yield run[i : i + 2]


def _document_cjk(run: str) -> Iterator[str]:
    yield from run
    yield from _bigrams(run)
    if len(run) > 2:
        for word in _segmenter().cut_for_search(run):
            if len(word) > 2:
                yield word


def _pieces(folded: str) -> Iterator[tuple[bool, str]]:
    """Yield (is_cjk, piece) for each CJK run, digit run or letter run of normalized text."""
    for m in _PIECE.finditer(folded):
        yield m.lastindex == 1, m.group()


def document_tokens(*texts: str | Iterable[str] | None) -> str:
    """The space-separated token string that the index stores for the given texts."""
    out: list[str] = []
    for text in _flatten(texts):
        for is_cjk, piece in _pieces(normalize(text)):
            if is_cjk:
                out.extend(_document_cjk(piece))
            elif len(piece) <= _MAX_TOKEN:
                out.append(stem(piece))
    return " ".join(out)


def _flatten(texts: Iterable[Any]) -> Iterator[str]:
    for text in texts:
        if text is None:
            continue
        if isinstance(text, str):
            yield text
        else:
            yield from _flatten(text)


@dataclass(frozen=True)
class ParsedQuery:
    """What a query text asks for: tokens that must all match, and words to highlight."""

    tokens: tuple[str, ...]
    cjk_words: tuple[str, ...]
    stems: frozenset[str]

    @property
    def empty(self) -> bool:
        """True when the text held nothing searchable."""
        return not self.tokens


def _query_cjk(run: str) -> Iterator[tuple[list[str], str]]:
    """Yield (tokens that must match, word to highlight) for one CJK run of a query."""
    if len(run) <= 2:
        yield [run], run
        return
    words = list(_segmenter().cut(run, HMM=True))
    for word in words:
        if len(word) == 1:
            if word in _CJK_STOP:
                continue
            yield [word], word
        elif len(word) == 2:
            yield [word], word
        else:
            yield _long_word_tokens(word), word


def _long_word_tokens(word: str) -> list[str]:
    """Tokens for a query word of three or more characters.

    A compound that splits into two-character words (医疗卫生 -> 医疗 卫生) asks for those words
    anywhere; otherwise (深圳市, 运输局) every bigram must occur, which any occurrence satisfies
    whatever jieba did to the document.
    """
    parts = {w for w in _segmenter().cut_for_search(word) if len(w) == 2}
    pairs = [word[i : i + 2] for i in range(0, len(word), 2)]
    if all(pair in parts for pair in pairs):
        return pairs
    return list(_bigrams(word))


def parse_query(text: str) -> ParsedQuery:
    """Turn a user's query text into match tokens; query syntax characters are plain text here."""
    tokens: list[str] = []
    cjk_words: list[str] = []
    stems: set[str] = set()
    for is_cjk, piece in _pieces(normalize(text or "")):
        if is_cjk:
            for must, word in _query_cjk(piece):
                tokens.extend(must)
                cjk_words.append(word)
        elif len(piece) <= _MAX_TOKEN:
            s = stem(piece)
            tokens.append(s)
            stems.add(s)
    meaningful = [t for t in tokens if t not in _EN_STOP]
    if meaningful:
        tokens = meaningful
        stems -= _EN_STOP
    return ParsedQuery(tuple(dict.fromkeys(tokens)), tuple(dict.fromkeys(cjk_words)), frozenset(stems))


def query_tokens(text: str) -> str:
    """The space-separated tokens that a query text must all match."""
    return " ".join(parse_query(text).tokens)


@lru_cache(maxsize=1)
def _highlight_table() -> dict[int, str]:
    """One-to-one folding for highlighting: full-width forms, compatibility ideographs, t2s."""
    trad = _traditional_chars()
    table = dict(trad)
    for lo, hi in ((0xFF01, 0xFF5E), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)):
        for cp in range(lo, hi + 1):
            folded = unicodedata.normalize("NFKC", chr(cp)).lower()
            if len(folded) == 1 and folded != chr(cp):
                table[cp] = trad.get(ord(folded), folded)
    return table


def _fold_same_length(text: str) -> str:
    """Fold text one character to one character, so offsets in the result are offsets in text."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters lowercase to two characters
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return lowered.translate(_highlight_table())


def highlight(text: str, query: ParsedQuery, *, width: int = 160) -> str:
    """A snippet of ``text`` around the first match, matched words wrapped in HL_START/HL_END."""
    text = (text or "").replace(HL_START, "").replace(HL_END, "")
    text = " ".join(text.split())[:_HIGHLIGHT_SCAN]
    if not text:
        return ""
    spans = _match_spans(text, query) if not query.empty else []
    if not spans:
        return text if len(text) <= width else text[: width - 1] + "…"
    start = 0
    end = len(text)
    if len(text) > width:
        start = max(0, spans[0][0] - width // 4)
        end = min(len(text), start + width)
        start = max(0, min(start, end - width))
    out: list[str] = ["…"] if start > 0 else []
    pos = start
    for a, b in spans:
        if a < start or b > end:
            continue
        out.append(text[pos:a])
        out.append(HL_START + text[a:b] + HL_END)
        pos = b
    out.append(text[pos:end])
    if end < len(text):
        out.append("…")
    return "".join(out)


def _match_spans(text: str, query: ParsedQuery) -> list[tuple[int, int]]:
    folded = _fold_same_length(text)
    hits: list[tuple[int, int]] = []
    for word in query.cjk_words:
        found = [(m.start(), m.end()) for m in re.finditer(re.escape(word), folded)]
        if not found and len(word) > 2:
            for gram in _bigrams(word):
                found.extend((m.start(), m.end()) for m in re.finditer(re.escape(gram), folded))
        hits.extend(found)
    if query.stems:
        for m in _PIECE.finditer(folded):
            if m.lastindex != 1 and stem(m.group()) in query.stems:
                hits.append((m.start(), m.end()))
    if not hits:
        return []
    hits.sort()
    merged: list[list[int]] = []
    for a, b in hits:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]
