import numpy as np
import pandas as pd
import pytest

from mlcore.ml.feedback.labels import (
    LabelConfig,
    binary_targets,
    label_from_probability,
    ratings_to_labels,
    review_texts,
)
from mlcore.ml.feedback.language import cjk_share, detect_language


def test_ratings_map_to_labels_with_three_left_out_by_default():
    # given ratings 1..5 and a missing one, when mapped by default, then 4-5 positive, 1-2 negative, 3 and None dropped
    labels = ratings_to_labels(pd.Series([1, 2, 3, 4, 5, None]))
    assert labels.tolist()[:5] == ["negative", "negative", pd.NA, "positive", "positive"]
    assert pd.isna(labels.iloc[5])


def test_ratings_map_with_configured_thresholds_and_neutral_kept():
    # given thresholds 5/3 and neutral kept, when mapped, then 4 is neutral and 3 negative
    labels = ratings_to_labels(pd.Series([3, 4, 5]), LabelConfig(positive_min=5, negative_max=3, keep_neutral=True))
    assert labels.tolist() == ["negative", "neutral", "positive"]


def test_label_config_refuses_overlapping_thresholds():
    # given negative_max >= positive_min, when the config is made, then it refuses naming both values
    with pytest.raises(ValueError, match="negative_max < positive_min"):
        LabelConfig(positive_min=3, negative_max=3)


def test_binary_targets_refuse_neutral_labels():
    # given a neutral label, when turned into 0/1 targets, then the error names it
    assert binary_targets(pd.Series(["positive", "negative"])).tolist() == [1, 0]
    with pytest.raises(ValueError, match="neutral"):
        binary_targets(pd.Series(["positive", "neutral"]))


def test_review_texts_join_title_and_body_and_strip_boms():
    # given titles/bodies with blanks and a BOM, when joined, then "Title. Body" or whichever exists
    out = review_texts(pd.Series(["Nice", None, ""]), pd.Series(["Fits well", "\ufeff好", None]))
    assert out.tolist() == ["Nice. Fits well", "好", ""]


def test_probability_labels_have_a_neutral_band():
    # given probabilities around 0.5, when labelled with band 0.2, then the middle is neutral
    assert label_from_probability(np.array([0.1, 0.45, 0.55, 0.9]), 0.2).tolist() == ["negative", "neutral", "neutral", "positive"]


def test_language_detection_by_cjk_share():
    # given English, Chinese, mixed and empty texts, when detected, then Chinese needs a CJK share >= 0.3
    assert detect_language("Lovely dress, fits well") == "en"
    assert detect_language("质量很好，物流很快") == "zh"
    assert cjk_share("iPhone 手机很好用") == pytest.approx(5 / 11)
    assert detect_language("iPhone 手机很好用") == "zh"
    assert detect_language("Great phone, 好") == "en"
    assert detect_language("!!! 123") == "en"


def test_scoring_language_keeps_the_recorded_code_and_detects_other_scripts():
    # given recorded codes and texts in other scripts when resolved then codes are kept and non-Latin scripts are undetermined
    from mlcore.ml.feedback.language import scoring_language

    assert scoring_language("Muito bom", "pt-BR") == "pt"
    assert scoring_language("Очень хорошо", None) == "und"
    assert scoring_language("Very good", "") == "en"
    assert scoring_language("质量很好", None) == "zh"
