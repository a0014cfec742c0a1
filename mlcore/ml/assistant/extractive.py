"""The extractive answer: the sentences of the retrieved passages that best cover the question,
in passage order, trimmed to a few sentences. Sentences score by the question words they share
and, when an encoder is given, by their cosine similarity to the question (so "send something
back" finds the sentence about returns). Every sentence is copied from a passage, so this
path is grounded by construction and is what the customer sees when a generated answer is not."""
from __future__ import annotations

import re
from dataclasses import dataclass

from mlcore.ml.assistant.text import sentences, tokens

# what kind of answer a question wants, and what a sentence that gives it looks like: "how long"
# wants a duration, "how much" an amount (the sentence stating "within 30 days" must beat one
# that merely shares a word with the question)
ANSWER_TYPES = [
    (re.compile(r"\b(how long|how many (days|weeks|hours)|how soon|when (will|does|do|can)|until when|deadline|time limit)\b"
                r"|多久|几天|多长时间|期限|什么时候|多少天", re.IGNORECASE),
     re.compile(r"\d+\s*(working |business )?(days?|weeks?|hours?|months?)\b|\d+\s*(个)?(工作日|天|小时|周|个月)", re.IGNORECASE)),
    (re.compile(r"\b(how much|cost|price|fee|charge)\b|多少钱|价格|费用|运费", re.IGNORECASE),
     re.compile(r"\d+(\.\d+)?\s*(gbp|eur|usd|pounds?)\b|[£$€]\s*\d|\d+(\.\d+)?\s*(英镑|元|镑)|\bfree\b|免费", re.IGNORECASE)),
]
ANSWER_TYPE_BONUS = 2.0
MIN_RELATIVE = 0.4  # of the best sentence's score


def answer_type_bonus(question: str, sentence: str) -> float:
    """A bonus for a sentence that states the kind of thing the question asks for."""
    return sum(ANSWER_TYPE_BONUS for asks, gives in ANSWER_TYPES if asks.search(question) and gives.search(sentence))


def answer_type_order(question: str, passages: list[str]) -> list[int]:
    """Passage indexes, those that state what the question asks for ("how long": a duration) first,
    each group in retrieval order. Lexical retrieval ranks "如需退货..." (three times the word for
    return) above "...30天内退货" for "退货期限是多久？"; the answer is in the second."""
    return sorted(range(len(passages)), key=lambda i: (answer_type_bonus(question, passages[i]) == 0, i))


@dataclass(frozen=True)
class Extract:
    text: str
    passage_indexes: list[int]


def extract_answer(
    question: str, passages: list[str], *, language: str = "", max_sentences: int = 3, max_passages: int = 3, encoder=None
) -> Extract:
    asked = set(tokens(question))
    rows = [(p, i, sentence) for p, passage in enumerate(passages[:max_passages]) for i, sentence in enumerate(sentences(passage))]
    similarity = [0.0] * len(rows)
    if encoder is not None and rows:
        vectors = encoder([question] + [row[2] for row in rows])
        similarity = [float(v) for v in vectors[1:] @ vectors[0]]
    scored = []
    for (p_index, s_index, sentence), cosine in zip(rows, similarity, strict=True):
        overlap = len(asked & set(tokens(sentence))) + 3.0 * cosine + answer_type_bonus(question, sentence)
        # the retrieval order counts: the first passage's sentences win ties
        scored.append((overlap - 0.5 * p_index - 0.01 * s_index, p_index, s_index, sentence))
    if not scored:
        return Extract(text="", passage_indexes=[])
    # later passages contribute only sentences that share as many question words as the best one
    overlap = {(row[1], row[2]): row[0] + 0.5 * row[1] + 0.01 * row[2] for row in scored}
    top = max(overlap.values())
    scored = [row for row in scored if row[1] == 0 or overlap[(row[1], row[2])] >= max(1, top)]
    best = sorted(scored, reverse=True)[:max_sentences]
    # a sentence far weaker than the best one is padding ("To review a product..." after the returns rule): left out
    best = [row for row in best if overlap[(row[1], row[2])] >= MIN_RELATIVE * top]
    chosen = sorted(best, key=lambda row: (row[1], row[2]))
    chinese = language == "zh" or (not language and any("\u3400" <= ch <= "\ufaff" for ch in question))
    joiner = "" if chinese else " "
    return Extract(text=joiner.join(row[3] for row in chosen), passage_indexes=sorted({row[1] for row in chosen}))
