"""Articles cut into retrievable chunks: one chunk per paragraph, long paragraphs split at
sentence ends to at most `max_chars`, each chunk prefixed by the article title so that a
passage keeps its subject ("Refunds: ...") when it is retrieved alone."""
from __future__ import annotations

from dataclasses import dataclass

from mlcore.ml.assistant.text import sentences


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    text: str  # the passage as shown and cited (without the title)
    indexed_text: str  # what retrieval sees: title + passage


def chunk_article(title: str, body: str, *, max_chars: int = 500) -> list[Chunk]:
    pieces: list[str] = []
    for paragraph in (p.strip() for p in (body or "").split("\n\n")):
        if not paragraph:
            continue
        current = ""
        for sentence in sentences(paragraph):
            if current and len(current) + len(sentence) + 1 > max_chars:
                pieces.append(current)
                current = ""
            current = f"{current} {sentence}".strip() if current and not _is_cjk(sentence) else current + sentence
        if current:
            pieces.append(current)
    return [Chunk(ordinal=i, text=p, indexed_text=f"{title}: {p}") for i, p in enumerate(pieces)]


def _is_cjk(text: str) -> bool:
    return bool(text) and "\u3400" <= text[0] <= "\ufaff"
