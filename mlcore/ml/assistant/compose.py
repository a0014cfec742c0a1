"""Composing a reply from retrieved passages: the strict prompt for the language model, and the
decision between its answer and the extractive one. The model's text is shown only when it passes
the groundedness check and the promise check; otherwise the customer gets the extract. Small
models err on policy questions, so nothing they write is shown unchecked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from mlcore.ml.assistant.extractive import extract_answer
from mlcore.ml.assistant.grounding import check_groundedness
from mlcore.ml.assistant.guardrails import unsupported_promises
from mlcore.ml.assistant.text import sentences

SYSTEM_PROMPT = {
    "en": (
        "You are the customer service assistant of a gift shop. Answer the customer's question using ONLY the "
        "facts in the passages. Copy the passages' wording. Do not add facts, numbers, dates, refunds or discounts "
        "that the passages do not state. Answer in at most two short sentences."
    ),
    "zh": "你是一家礼品店的客服助手。只能根据给出的资料回答顾客的问题，尽量使用资料中的原话。不要添加资料中没有的事实、数字、日期、退款或优惠。最多回答两句话。",
}


@dataclass(frozen=True)
class Composed:
    text: str
    method: str  # "llm" or "extractive"
    passage_indexes: list[int]  # the passages the shown answer rests on (its citations)
    supported_share: float  # of the shown answer's sentences
    llm_text: str  # what the model wrote (kept for evaluation and the log), "" when not asked
    llm_supported_share: float | None


def prompt_messages(question: str, passages: list[str], language: str) -> list[dict]:
    numbered = "\n".join(f"[{i + 1}] {p}" for i, p in enumerate(passages))
    label = ("资料", "问题") if language == "zh" else ("Passages", "Question")
    return [
        {"role": "system", "content": SYSTEM_PROMPT.get(language, SYSTEM_PROMPT["en"])},
        {"role": "user", "content": f"{label[0]}:\n{numbered}\n\n{label[1]}: {question}"},
    ]


_MARKER = re.compile(r"^\s*(\[\d+\]|\d+[.)]|[-*•])\s*")
_JUNK = re.compile(r"\n\s*\n|\[(question|ques|passage|answer)|the answer is:|question:", re.IGNORECASE)


def clean_generation(text: str) -> str:
    """The model's answer without list markers ("[1]", "2.") and without what follows a blank line
    or an echoed "Question:"; a last sentence cut off by the token limit is dropped."""
    text = _JUNK.split(text or "", maxsplit=1)[0]
    lines = [_MARKER.sub("", line).strip() for line in text.splitlines()]
    text = " ".join(line for line in lines if line)
    parts = sentences(text)
    if parts and not re.search(r"[.!?。！？]$", parts[-1]):
        parts = parts[:-1]
    joiner = "" if any("\u3400" <= ch <= "\ufaff" for ch in text) else " "
    return joiner.join(parts)


def prompt_passages(passages: list[str], *, keep: int = 2, max_chars: int = 360) -> list[str]:
    """The passages the prompt shows: the best `keep`, each cut to whole sentences within
    `max_chars` (a shorter prompt is most of the CPU latency of a small model)."""
    out = []
    for passage in passages[:keep]:
        kept = ""
        for sentence in sentences(passage):
            if kept and len(kept) + len(sentence) + 1 > max_chars:
                break
            kept = f"{kept} {sentence}".strip() if kept and not _cjk(sentence) else kept + sentence
        out.append(kept)
    return out


def _cjk(text: str) -> bool:
    return bool(text) and "\u3400" <= text[0] <= "\ufaff"


def _settled(text: str) -> str:
    """The generated text up to its last space or Chinese sentence end: "costs 9." may yet become "costs 9.95"."""
    if text.endswith((" ", "\n", "。", "！", "？")):
        return text
    cut = max([text.rfind(" "), text.rfind("\n")] + [text.rfind(c) for c in "。！？"])
    return text[: cut + 1] if cut >= 0 else ""


def doomed_stop(passages: list[str], *, max_sentences: int = 2):
    """text_so_far -> True once the answer must fail anyway (a finished sentence unsupported or
    promising beyond the passages) or has its `max_sentences`: greedy decoding stops there."""
    def stop(text: str) -> bool:
        done = sentences(clean_generation(_settled(text)))
        if not done:
            return False
        if len(done) >= max_sentences or not check_groundedness(done[-1], passages).grounded:
            return True
        return bool(unsupported_promises(done[-1], passages))

    return stop


def compose_answer(
    question: str, passages: list[str], language: str, llm=None, *, max_tokens: int = 64, encoder=None, early_stop: bool = True
) -> Composed:
    """The model's answer when it is grounded and promises nothing beyond the passages, else the extract."""
    extract = extract_answer(question, passages, language=language, encoder=encoder)
    extract_share = check_groundedness(extract.text, passages).supported_share
    if llm is None or not passages:
        return Composed(extract.text, "extractive", extract.passage_indexes, extract_share, "", None)
    stop = doomed_stop(passages) if early_stop else None
    try:
        raw = llm.complete(prompt_messages(question, prompt_passages(passages), language), max_tokens=max_tokens, stop=stop)
        generated = clean_generation(raw)
    except Exception:  # the model is a boundary (a remote server may be down): the extract still answers
        generated = ""
    check = check_groundedness(generated, passages)
    if generated and check.grounded and not unsupported_promises(generated, passages):
        return Composed(generated, "llm", check.cited, check.supported_share, generated, check.supported_share)
    return Composed(extract.text, "extractive", extract.passage_indexes, extract_share, generated, check.supported_share if generated else 0.0)
