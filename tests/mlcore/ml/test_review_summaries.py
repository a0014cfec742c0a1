"""What customers say, in a paragraph: claims counted from the stored aspect labels, quotes
copied from a supporting review, and the check that drops any claim the reviews do not support."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from mlcore.ml.feedback.summaries import SummaryConfig, claim_problems, summarize_reviews, summary_check

TEXTS = {
    1: "Fits perfectly and the fit is flattering. Lovely dress.",
    2: "The fit is great on my frame. Would buy again.",
    3: "Great fit, true to my usual shape. Happy.",
    4: "The fabric is thin and see-through. Sent it back.",
    5: "Poor quality, the stitching came apart after one wash.",
    6: "The material feels cheap and thin for the price.",
    7: "Nice colour.",
    8: "",
}
ASPECTS = [(1, "fit", 0.9, "positive"), (2, "fit", 0.7, "positive"), (3, "fit", 0.8, "positive"), (4, "quality", -0.8, "negative"),
           (5, "quality", -0.9, "negative"), (6, "quality", -0.6, "negative"), (6, "price", -0.4, "negative"), (7, "colour", 0.6, "positive")]
CONFIG = SummaryConfig(min_reviews=5, min_support=3)


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    reviews = pd.DataFrame({"review_id": list(TEXTS), "text": list(TEXTS.values()), "language": "en"})
    return reviews, pd.DataFrame(ASPECTS, columns=["review_id", "aspect", "score", "label"])


def test_praise_and_criticism_are_counted_and_quoted_from_supporting_reviews():
    # given 7 reviews with text, 3 praising the fit and 3 criticising the quality, when summarised, then one claim each, linked to those reviews
    reviews, aspects = frames()
    summary = summarize_reviews(reviews, aspects, CONFIG)
    assert summary.review_count == 7 and summary.dropped == ()
    praise, criticism = summary.claims
    assert (praise.aspect, praise.polarity, praise.review_ids) == ("fit", "positive", (1, 2, 3))
    assert (criticism.aspect, criticism.polarity, criticism.review_ids) == ("quality", "negative", (4, 5, 6))
    assert praise.quote in TEXTS[praise.quote_review_id] and criticism.quote in TEXTS[criticism.quote_review_id]
    assert criticism.quote_review_id == 5  # the most negative
    assert summary.text.startswith("Of 7 reviews, 3 praise the fit (“") and "3 criticise the quality" in summary.text


def test_aspects_below_the_support_threshold_and_small_products_get_no_claim():
    # given price (1 review) and colour (1 review) below min_support, then no claim; given too few reviews, then no summary
    reviews, aspects = frames()
    assert {c.aspect for c in summarize_reviews(reviews, aspects, CONFIG).claims} == {"fit", "quality"}
    assert summarize_reviews(reviews.head(4), aspects, CONFIG) is None


def test_the_check_drops_a_claim_whose_quote_is_not_in_its_review():
    # given a claim whose quote was altered ("never" added), when checked, then it is dropped with the reason
    reviews, aspects = frames()
    summary = summarize_reviews(reviews, aspects, CONFIG)
    tampered = replace(summary, claims=(replace(summary.claims[0], quote="The fit is never flattering on anyone."), summary.claims[1]))
    checked = summary_check(tampered, reviews, aspects)
    assert [c.aspect for c in checked.claims] == ["quality"]
    assert checked.dropped and "quote not found in review" in checked.dropped[0]


def test_the_check_drops_a_claim_linked_to_reviews_that_do_not_support_it():
    # given a praise claim that also links review 4 (which criticises quality, says nothing of fit), when checked, then it is refused
    reviews, aspects = frames()
    claim = replace(summarize_reviews(reviews, aspects, CONFIG).claims[0], review_ids=(1, 2, 3, 4))
    assert claim_problems(claim, reviews, aspects) == ["reviews [4] do not praise the fit"]
