"""The product catalogue and its review highlights as knowledge passages: one passage of facts
per product (title, item number, price, availability, category, description) and, when it has
reviews, one of what customers say (mean rating, count, a few short sentences picked from the
best and the worst reviews). The passages are written as plain sentences so that BM25, the dense
encoder, the extractive answer and the groundedness check treat them like article paragraphs."""
from __future__ import annotations

from dataclasses import dataclass, field

from mlcore.ml.assistant.text import sentences

HIGHLIGHT_CHARS = (25, 180)  # a review sentence shorter or longer than this says too little or too much


@dataclass(frozen=True)
class ProductFacts:
    sku: str
    title: str
    price: float | None = None
    currency: str = "GBP"
    active: bool = True
    stock: int | None = None  # a stock count when the shop's file has one, else availability follows `active`
    category: str = ""
    description: str = ""
    review_count: int = 0
    rating_mean: float | None = None
    reviews: list[tuple[int | None, str]] = field(default_factory=list)  # (stars, text), any order


def product_name(title: str) -> str:
    """Catalogue titles are upper case in the Online Retail file; passages read better capitalised."""
    return title.capitalize() if title.isupper() else title


def _availability(facts: ProductFacts, name: str) -> str:
    if not facts.active:
        return f"The {name} is no longer sold, so it is out of stock."
    if facts.stock is not None:
        return f"The {name} is in stock ({facts.stock} available)." if facts.stock > 0 else f"The {name} is out of stock at the moment."
    return f"The {name} is in stock and can be ordered now."


def facts_passage(facts: ProductFacts) -> str:
    name = product_name(facts.title)
    parts = [f"The {name} (item {facts.sku})" + (f" costs {facts.price:.2f} {facts.currency}." if facts.price is not None else ".")]
    parts.append(_availability(facts, name))
    if facts.category:
        parts.append(f"It is in the {facts.category} category.")
    if facts.description and facts.description.strip().lower() != facts.title.strip().lower():
        parts.append(facts.description.strip()[:400])
    return " ".join(parts)


def review_highlights(reviews: list[tuple[int | None, str]], *, k: int = 2) -> list[str]:
    """Up to k short quoted sentences: the first from the best-rated reviews, the next from the worst."""
    rated = [(stars, text) for stars, text in reviews if text and text.strip()]
    if not rated:
        return []
    best = sorted(rated, key=lambda r: -(r[0] or 0))
    worst = sorted(rated, key=lambda r: r[0] or 0)
    picked: list[str] = []
    for _stars, text in _interleave(best, worst):
        sentence = next((s for s in sentences(text) if HIGHLIGHT_CHARS[0] <= len(s) <= HIGHLIGHT_CHARS[1]), None)
        if sentence and sentence not in picked:
            picked.append(sentence)
        if len(picked) == k:
            break
    return picked


def _interleave(first: list, second: list) -> list:
    out = []
    for a, b in zip(first, second, strict=True):
        out.extend([a, b])
    return out


def reviews_passage(facts: ProductFacts) -> str | None:
    if not facts.review_count:
        return None
    name = product_name(facts.title)
    mean = f" rate it {facts.rating_mean:.1f} of 5 on average" if facts.rating_mean is not None else " have reviewed it"
    head = f"Customers{mean} in {facts.review_count} review{'s' if facts.review_count != 1 else ''} of the {name}."
    quotes = review_highlights(facts.reviews)
    return head + "".join(f' A customer wrote: "{q.rstrip(".!?")}".' for q in quotes)


def product_passages(facts: ProductFacts) -> list[str]:
    """The passages of one product: its facts, then its review highlights when it has reviews."""
    return [p for p in (facts_passage(facts), reviews_passage(facts)) if p]
