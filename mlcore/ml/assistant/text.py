"""Tokens and sentences of English and Chinese support text, shared by BM25, grounding and
extractive answers: English words lower-cased with a light plural/verb-ending strip and stop
words removed; Chinese as single characters plus character bigrams (no segmenter needed)."""
from __future__ import annotations

import re

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[a-z0-9£$€]+(?:[.,][0-9]+)?", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？；])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
STOP = frozenset(
    "a an the and or of to in on at for from by with is are was be been it its this that these those i you we my your our me us "
    "do does did can could will would should have has had if as so but what when where which who how why there here "
    "please any all am get got just about into than then them they their he she his her".split()
)
_CJK_STOP = frozenset("的了吗呢吧啊我你您是在和有就也都要这那个")


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    """Content tokens: stemmed English words; Chinese characters and their bigrams."""
    out: list[str] = []
    text = re.sub(r"n['’]t\b", " not", text or "", flags=re.IGNORECASE)  # negations count: "can't" must not match "can"
    for piece in _TOKEN.findall(text):
        if re.match(rf"[{_CJK}]", piece):
            chars = [c for c in piece if c not in _CJK_STOP]
            out.extend(chars)
            out.extend(piece[i: i + 2] for i in range(len(piece) - 1))
        else:
            word = piece.lower()
            if word not in STOP and len(word) > 1:
                out.append(_stem(word))
    return out


def sentences(text: str) -> list[str]:
    """Sentences of a paragraph or answer, split after . ! ? and their Chinese forms."""
    parts = []
    for line in (text or "").splitlines():
        parts.extend(s.strip() for s in _SENTENCE_END.split(line) if s and s.strip())
    return parts


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text or "")}


def terms(text: str) -> set[str]:
    """Content terms without the Chinese bigrams: what "shares the question's words" counts."""
    return {t for t in tokens(text) if not (len(t) == 2 and re.match(rf"[{_CJK}]{{2}}", t))}
