"""Language of a review for scoring: the language the import recorded, else a script check.

The import records a review's language (a column, the mapping's `language`, or the command's
--language); `scoring_language` keeps any such code, so a Portuguese review is scored by the
multilingual encoder, not the English model. Without one, a text whose letters are at least
`threshold` CJK ideographs is Chinese ("zh"), one mostly in another non-Latin script (Cyrillic,
Arabic, Hangul, kana, ...) is "und" (undetermined: the multilingual path), else English ("en").
Digits, punctuation and spaces are ignored; a text without letters counts as English.
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


_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
UNDETERMINED = "und"


def detect_language(text: str, threshold: float = 0.3) -> str:
    if cjk_share(text) >= threshold:
        return "zh"
    letters = _LETTER.findall(text or "")
    if letters and sum(1 for ch in letters if _LATIN.match(ch)) / len(letters) < 0.5:
        return UNDETERMINED
    return "en"


def scoring_language(text: str, given: str | None) -> str:
    """The recorded language code (lower case, region dropped: 'pt-BR' -> 'pt'), else detected."""
    code = (given or "").strip().lower().split("-")[0].split("_")[0]
    return code or detect_language(text)


def detect_languages(texts: list[str], threshold: float = 0.3) -> list[str]:
    return [detect_language(text, threshold) for text in texts]
