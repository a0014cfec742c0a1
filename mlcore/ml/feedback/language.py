"""Language detection for reviews: the share of CJK characters decides Chinese vs English.

The shop's reviews come in two languages only, so a full language-ID model is not needed: a
text whose letters are at least `threshold` CJK ideographs is Chinese ("zh"), else English
("en"). Digits, punctuation and spaces are ignored; a text without letters counts as English.
"""
from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")


def cjk_share(text: str) -> float:
    letters = _LETTER.findall(text or "")
    if not letters:
        return 0.0
    return sum(1 for ch in letters if _CJK.match(ch)) / len(letters)


def detect_language(text: str, threshold: float = 0.3) -> str:
    return "zh" if cjk_share(text) >= threshold else "en"


def detect_languages(texts: list[str], threshold: float = 0.3) -> list[str]:
    return [detect_language(text, threshold) for text in texts]
