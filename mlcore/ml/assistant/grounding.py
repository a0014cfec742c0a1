"""The groundedness check an answer must pass before a customer sees it: every sentence must be
supported by one sentence of a retrieved passage. A sentence is supported when at least
`min_overlap` of its content tokens (negations included) occur in one passage sentence and every
number it states (prices, days, percentages) appears in that same sentence, so an invented
"refund within 2 days", "20% off" or "standard delivery costs £7.95" (the express price) fails
even when its words look like policy. Lexical, deterministic and cheap: it runs on every reply.
"""
from __future__ import annotations

from dataclasses import dataclass

from mlcore.ml.assistant.text import numbers, sentences, tokens


@dataclass(frozen=True)
class SentenceSupport:
    sentence: str
    passage_index: int | None  # the passage that supports it, None when unsupported
    overlap: float


@dataclass(frozen=True)
class Groundedness:
    sentences: list[SentenceSupport]

    @property
    def supported_share(self) -> float:
        return sum(s.passage_index is not None for s in self.sentences) / len(self.sentences) if self.sentences else 0.0

    @property
    def grounded(self) -> bool:
        return bool(self.sentences) and all(s.passage_index is not None for s in self.sentences)

    @property
    def cited(self) -> list[int]:
        return sorted({s.passage_index for s in self.sentences if s.passage_index is not None})


def sentence_support(sentence: str, passages: list[str], *, min_overlap: float = 0.8) -> SentenceSupport:
    words = set(tokens(sentence))
    stated = numbers(sentence)
    best, best_overlap = None, 0.0
    for i, passage in enumerate(passages):
        for source in sentences(passage):
            if stated - numbers(source):
                continue
            overlap = len(words & set(tokens(source))) / len(words) if words else 0.0
            if overlap > best_overlap:
                best, best_overlap = i, overlap
    return SentenceSupport(sentence=sentence, passage_index=best if best_overlap >= min_overlap else None, overlap=best_overlap)


def check_groundedness(answer: str, passages: list[str], *, min_overlap: float = 0.8) -> Groundedness:
    return Groundedness(sentences=[sentence_support(s, passages, min_overlap=min_overlap) for s in sentences(answer)])
