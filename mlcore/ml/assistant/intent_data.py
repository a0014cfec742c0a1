"""Reading the intent training and evaluation sets from their files (paths in, lists out):
Bitext customer-service utterances mapped to the assistant's intents; product questions of the
Amazon product-QA file as the product_question class Bitext lacks; the hand-corrected Chinese
labels of JDDC customer turns, joined with the turn text read from ../shared (never copied)."""
from __future__ import annotations

import csv
import gzip
import random
from pathlib import Path

from mlcore.ml.assistant.intents import BITEXT_TO_INTENT


def bitext_split(path: Path | str) -> tuple[list[str], list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["intent"] in BITEXT_TO_INTENT]
    return [r["utterance"] for r in rows], [BITEXT_TO_INTENT[r["intent"]] for r in rows]


def product_questions(path: Path | str, *, n: int, seed: int = 0) -> list[str]:
    """n product questions (short ones, as customers type them in a chat), a seeded sample."""
    import ast

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        questions = [ast.literal_eval(line)["question"] for line in handle]
    short = sorted({q for q in questions if 15 <= len(q) <= 120})
    return random.Random(seed).sample(short, min(n, len(short)))


def jddc_labelled(labels_path: Path | str, chat_path: Path | str) -> tuple[list[str], list[str], list[int]]:
    """(texts, labels, line numbers) of the labelled JDDC customer turns."""
    lines = Path(chat_path).read_text(encoding="utf-8").splitlines()
    texts, labels, numbers = [], [], []
    for row in Path(labels_path).read_text(encoding="utf-8").splitlines():
        if row.startswith("#") or row.startswith("line\t") or not row.strip():
            continue
        number, label = row.split("\t")
        texts.append(lines[int(number) - 1].split("\t")[6].strip())
        labels.append(label)
        numbers.append(int(number))
    return texts, labels, numbers


def held_out_split(n: int, *, share: float = 0.33, seed: int = 16) -> tuple[list[int], list[int]]:
    """Seeded train / held-out index lists."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    cut = int(round(n * share))
    return sorted(order[cut:]), sorted(order[:cut])
