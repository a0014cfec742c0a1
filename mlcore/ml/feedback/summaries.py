"""What customers say about a product, in a paragraph: extractive, every claim linked to the
reviews that support it, and checked before it is shown.

`summarize_reviews` takes a product's reviews (review_id, text, language) and their stored
aspect sentiment (review_id, aspect, score, label; mlcore's ReviewAspect) and makes up to
`max_claims` claims per side: "N reviews praise the fit" (or criticise), with the supporting
review ids and one quoted sentence from the strongest of them. Nothing is generated: the counts
are counted and the quote is copied. `summary_check` re-verifies a summary against the same
reviews the way the support assistant's answers are checked (mlcore.ml.assistant.grounding):
the quote must be supported by the quoted review, every linked review must carry the aspect
with that polarity, and the stated count must be the number of linked reviews. A claim that
fails is dropped, with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from mlcore.ml.assistant.grounding import check_groundedness
from mlcore.ml.feedback.topics import aspect_mentions, split_sentences

METHOD = "extractive-aspects-v1"
VERBS = {"positive": "praise", "negative": "criticise"}


@dataclass(frozen=True)
class SummaryConfig:
    min_reviews: int = 10
    min_support: int = 3
    max_claims: int = 2  # per side
    quote_chars: tuple[int, int] = (20, 180)


@dataclass(frozen=True)
class Claim:
    polarity: str  # positive (praise) / negative (criticism)
    aspect: str
    review_ids: tuple[int, ...]
    quote: str
    quote_review_id: int

    @property
    def sentence(self) -> str:
        return f"{len(self.review_ids)} {VERBS[self.polarity]} the {self.aspect} (“{self.quote}”)"


@dataclass(frozen=True)
class ReviewSummaryDraft:
    review_count: int
    claims: tuple[Claim, ...]
    dropped: tuple[str, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        ordered = [c.sentence for c in self.claims if c.polarity == "positive"] + [c.sentence for c in self.claims if c.polarity == "negative"]
        return f"Of {self.review_count} reviews, " + "; ".join(ordered) + "." if self.claims else ""


def _quote(review_id: int, text: str, language: str, aspect: str, config: SummaryConfig) -> str | None:
    hits = aspect_mentions([text], [language or "en"])
    joined = hits.loc[hits["aspect"] == aspect, "text"]
    if joined.empty:
        return None
    low, high = config.quote_chars
    fitting = [s for s in split_sentences(joined.iloc[0]) if low <= len(s) <= high]
    return min(fitting, key=len) if fitting else None


def _claim(side: pd.DataFrame, reviews: pd.DataFrame, aspect: str, polarity: str, config: SummaryConfig, used: set[str]) -> Claim | None:
    rows = side[side["aspect"] == aspect].sort_values("score", ascending=polarity == "negative", kind="stable")
    by_id = reviews.set_index("review_id")
    for review_id in rows["review_id"]:
        quote = _quote(int(review_id), by_id.at[review_id, "text"], by_id.at[review_id, "language"], aspect, config)
        if quote and quote not in used:
            used.add(quote)
            ids = tuple(sorted(int(i) for i in rows["review_id"]))
            return Claim(polarity=polarity, aspect=aspect, review_ids=ids, quote=quote, quote_review_id=int(review_id))
    return None


def summarize_reviews(reviews: pd.DataFrame, aspects: pd.DataFrame, config: SummaryConfig = SummaryConfig()) -> ReviewSummaryDraft | None:
    """The checked summary of one product's reviews, or None below `min_reviews` reviews with text."""
    reviews = reviews[reviews["text"].fillna("").str.strip() != ""]
    if len(reviews) < config.min_reviews:
        return None
    aspects = aspects[aspects["review_id"].isin(reviews["review_id"])]
    claims, used = [], set()
    for polarity in ("positive", "negative"):
        side = aspects[aspects["label"] == polarity]
        counts = side.groupby("aspect")["review_id"].nunique().sort_values(ascending=False, kind="stable")
        for aspect in [a for a, n in counts.items() if n >= config.min_support][: config.max_claims]:
            if claim := _claim(side, reviews, aspect, polarity, config, used):
                claims.append(claim)
    return summary_check(ReviewSummaryDraft(review_count=len(reviews), claims=tuple(claims)), reviews, aspects)


def claim_problems(claim: Claim, reviews: pd.DataFrame, aspects: pd.DataFrame) -> list[str]:
    """Why a claim is not supported by these reviews (empty: supported)."""
    texts = dict(zip(reviews["review_id"], reviews["text"], strict=True))
    problems = []
    if claim.quote_review_id not in claim.review_ids or claim.quote_review_id not in texts:
        problems.append(f"quote from review {claim.quote_review_id}, not one of the linked reviews")
    elif not check_groundedness(claim.quote, [texts[claim.quote_review_id]], min_overlap=1.0).grounded:
        problems.append(f"quote not found in review {claim.quote_review_id}")
    labelled = aspects[(aspects["aspect"] == claim.aspect) & (aspects["label"] == claim.polarity)]
    unsupported = sorted(set(claim.review_ids) - set(labelled["review_id"]))
    if unsupported:
        problems.append(f"reviews {unsupported[:5]} do not {VERBS[claim.polarity]} the {claim.aspect}")
    return problems


def summary_check(summary: ReviewSummaryDraft, reviews: pd.DataFrame, aspects: pd.DataFrame) -> ReviewSummaryDraft:
    """The summary with every unsupported claim dropped (the reasons kept in `dropped`)."""
    kept, dropped = [], list(summary.dropped)
    for claim in summary.claims:
        problems = claim_problems(claim, reviews, aspects)
        if problems:
            dropped.append(f"{claim.polarity} {claim.aspect}: {'; '.join(problems)}")
        else:
            kept.append(claim)
    return ReviewSummaryDraft(review_count=summary.review_count, claims=tuple(kept), dropped=tuple(dropped))
