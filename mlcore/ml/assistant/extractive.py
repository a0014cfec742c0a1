"""The extractive answer: the sentences of the retrieved passages that best cover the question,
in passage order, trimmed to a few sentences. Every sentence is copied from a passage, so this
path is grounded by construction and is what the customer sees when a generated answer is not."""
from __future__ import annotations

from dataclasses import dataclass

from mlcore.ml.assistant.text import sentences, tokens


@dataclass(frozen=True)
class Extract:
    text: str
    passage_indexes: list[int]


def extract_answer(question: str, passages: list[str], *, language: str = "", max_sentences: int = 3, max_passages: int = 2) -> Extract:
    asked = set(tokens(question))
    scored = []
    for p_index, passage in enumerate(passages[:max_passages]):
        for s_index, sentence in enumerate(sentences(passage)):
            overlap = len(asked & set(tokens(sentence)))
            # the retrieval order counts: the first passage's sentences win ties
            scored.append((overlap - 0.5 * p_index - 0.01 * s_index, p_index, s_index, sentence))
    if not scored:
        return Extract(text="", passage_indexes=[])
    # later passages contribute only sentences that share as many question words as the best one
    overlap = {(row[1], row[2]): row[0] + 0.5 * row[1] + 0.01 * row[2] for row in scored}
    top = max(overlap.values())
    scored = [row for row in scored if row[1] == 0 or overlap[(row[1], row[2])] >= max(1, top)]
    best = sorted(scored, reverse=True)[:max_sentences]
    chosen = sorted(best, key=lambda row: (row[1], row[2]))
    chinese = language == "zh" or (not language and any("\u3400" <= ch <= "\ufaff" for ch in question))
    joiner = "" if chinese else " "
    return Extract(text=joiner.join(row[3] for row in chosen), passage_indexes=sorted({row[1] for row in chosen}))
