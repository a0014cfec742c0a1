"""What customers say: the review summaries of the demo shop (figures and examples for docs/campaigns.md).

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python bench/review_summaries.py [--min-reviews 10] [--show 2]

Needs the demo database (var/clm.sqlite3 after `make demo`, or import_demo_data + train_sentiment
+ score_reviews). Refreshes the stored summaries there (what `manage.py summarize_reviews` does),
then re-runs the pure summariser on the same frames to count the claims the check dropped, and
prints the `--show` most-reviewed products' summaries with two supporting reviews per claim.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clmsite.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--min-reviews", type=int, default=10)
    parser.add_argument("--show", type=int, default=2)
    args = parser.parse_args()
    import django

    django.setup()
    from customers.models import Product, Review
    from mlcore.feedback.services.summaries import review_frames, review_summaries_refresh
    from mlcore.ml.feedback.summaries import SummaryConfig, summarize_reviews
    from mlcore.models import ReviewSummary

    started = time.monotonic()
    result = review_summaries_refresh(min_reviews=args.min_reviews)
    took = time.monotonic() - started
    reviews, aspects = review_frames()
    counts = reviews["product_id"].value_counts()
    eligible = counts[counts >= args.min_reviews].index
    claims = dropped = 0
    for product_id in eligible:
        mine = reviews[reviews["product_id"] == product_id]
        summary = summarize_reviews(mine, aspects[aspects["review_id"].isin(mine["review_id"])], SummaryConfig(min_reviews=args.min_reviews))
        claims, dropped = claims + len(summary.claims), dropped + len(summary.dropped)
    print(f"{len(eligible)} products with >= {args.min_reviews} reviews with text; {result['summaries']} summaries stored in {took:.1f} s; "
          f"{claims} claims kept, {dropped} dropped by the check; loadavg {os.getloadavg()}")
    for summary in ReviewSummary.objects.order_by("-review_count")[: args.show]:
        product = Product.objects.get(pk=summary.product_id)
        print(f"\n## {product.title} ({product.sku}), {summary.review_count} reviews\n{summary.text}")
        for claim in summary.claims:
            verb = "praise" if claim["polarity"] == "positive" else "criticise"
            print(f"- {len(claim['review_ids'])} {verb} the {claim['aspect']}; quote from review {claim['quote_review_id']}; two of the supporting reviews:")
            others = [claim["quote_review_id"]] + [i for i in claim["review_ids"] if i != claim["quote_review_id"]][:1]
            for review in Review.objects.filter(pk__in=others).order_by("pk"):
                print(f"    review {review.pk} ({review.rating}/5): {review.text[:240]}{'...' if len(review.text) > 240 else ''}")


if __name__ == "__main__":
    main()
