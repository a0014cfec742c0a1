import pickle

import numpy as np
import pandas as pd
import pytest

from mlcore.ml.feedback import ensembles
from mlcore.ml.feedback.baselines import LinearSentiment, MajoritySentiment, sentiment_metrics
from mlcore.ml.feedback.candidates import baseline_name, linear_candidates, stacked_candidate
from mlcore.ml.feedback.ensembles import (
    EncoderStackedSentiment,
    EnsembleConfig,
    NBSVMConfig,
    NBSVMSentiment,
    StackedConfig,
    TfidfEnsembleSentiment,
    TfidfSpec,
    log_count_ratio,
)
from mlcore.ml.feedback.labels import binary_targets
from mlcore.ml.feedback.selection import model_select, paired_bootstrap_gain
from tests.mlcore.feedback_support import NEGATIVE_TEXTS, POSITIVE_TEXTS

TEXTS = POSITIVE_TEXTS + NEGATIVE_TEXTS
TARGETS = np.array([1] * len(POSITIVE_TEXTS) + [0] * len(NEGATIVE_TEXTS))
SMALL = TfidfSpec(ngram_range=(1, 2), min_df=1)
UNSEEN = ["I love it, great and perfect.", "Terrible and cheap, returned it."]


def _keyword_encoder(texts):
    good, bad = ("love", "great", "perfect"), ("terrible", "awful", "cheap")
    rows = np.array([[sum(w in t.lower() for w in good), sum(w in t.lower() for w in bad), 0.1] for t in texts], dtype=float)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _frame(n_copies=4):
    texts = [f"{t} ({i})" for i in range(n_copies) for t in TEXTS]
    return pd.DataFrame({"text": texts, "label": ["positive" if y else "negative" for _ in range(n_copies) for y in TARGETS]})


def test_log_count_ratio_is_positive_for_positive_words():
    # given a word only in positive texts and one only in negative texts, when the NB ratio is computed, then their signs differ
    from scipy import sparse

    counts = sparse.csr_matrix(np.array([[1, 0, 1], [2, 0, 1], [0, 1, 1]]))
    ratio = log_count_ratio(counts, np.array([1, 1, 0]))
    assert ratio[0] > 0 > ratio[1] and abs(ratio[2]) < abs(ratio[0])


@pytest.mark.parametrize("model", [
    NBSVMSentiment(NBSVMConfig(features=(SMALL, TfidfSpec(analyzer="char_wb", ngram_range=(2, 4), min_df=1)))),
    TfidfEnsembleSentiment(EnsembleConfig(members=(SMALL, TfidfSpec(analyzer="char", ngram_range=(1, 3), min_df=1)), C=(4.0, 4.0))),
    EncoderStackedSentiment(StackedConfig(features=SMALL), encoder=_keyword_encoder),
])
def test_stronger_models_learn_tiny_data_and_survive_pickling(model):
    # given tiny labelled reviews, when a model is fitted and pickled, then it separates unseen texts and loads back the same
    model.fit(TEXTS, TARGETS)
    p = model.predict_proba(UNSEEN)
    assert p[0] > 0.5 > p[1]
    assert sentiment_metrics(TARGETS, model.predict_proba(TEXTS))["macro_f1"] == 1.0
    again = pickle.loads(pickle.dumps(model))  # noqa: S301 (our own bytes)
    if isinstance(model, EncoderStackedSentiment):
        assert again.encoder is None  # the encoder is not pickled: rebuilt from its name and path
        again.encoder = _keyword_encoder
    assert np.allclose(again.predict_proba(UNSEEN), p)
    assert model.predict_proba([]).shape == (0,)


def test_stacked_model_rebuilds_its_encoder_after_loading(monkeypatch):
    # given a pickled stacked model, when it predicts, then the encoder is built from the recorded name and path
    built = []
    monkeypatch.setattr(ensembles, "build_encoder", lambda name, path="": built.append((name, path)) or _keyword_encoder)
    model = EncoderStackedSentiment(StackedConfig(features=SMALL, encoder="minilm", encoder_path="/models/minilm"), encoder=_keyword_encoder)
    again = pickle.loads(pickle.dumps(model.fit(TEXTS, TARGETS)))  # noqa: S301 (our own bytes)
    assert again.predict_proba(UNSEEN)[0] > 0.5 and built == [("minilm", "/models/minilm")]


def test_models_refuse_one_class():
    for model in (NBSVMSentiment(), TfidfEnsembleSentiment(), EncoderStackedSentiment(encoder=_keyword_encoder)):
        with pytest.raises(ValueError, match="both positive and negative"):
            model.fit(TEXTS[:3], np.ones(3))


def test_candidates_put_the_baseline_first_and_differ_by_language():
    assert list(linear_candidates("en"))[0] == baseline_name("en") == "tfidf_linear"
    assert list(linear_candidates("zh"))[0] == baseline_name("zh") == "char_ngram_linear"
    assert "snownlp" in linear_candidates("zh") and "snownlp" not in linear_candidates("zh", with_snownlp=False)
    assert stacked_candidate("zh", encoder=_keyword_encoder)().config.encoder == "e5"


def test_selection_keeps_the_best_on_the_validation_fold_and_ties_go_to_the_first():
    # given a learning model and the majority floor, when selected on a validation fold, then the learner wins; two equal ones: the first
    train = _frame()
    chosen = model_select({"majority": MajoritySentiment, "linear": lambda: LinearSentiment()}, train)
    assert chosen.name == "linear" and chosen.n_fit + chosen.n_validation == len(train)
    assert chosen.validation["linear"]["macro_f1"] > chosen.validation["majority"]["macro_f1"]
    tie = model_select({"first": lambda: LinearSentiment(), "second": lambda: LinearSentiment()}, train)
    assert tie.name == "first"
    with pytest.raises(ValueError):
        model_select({}, train)


def test_paired_bootstrap_gain_is_zero_for_the_same_model_and_positive_for_a_better_one():
    rng = np.random.default_rng(1)
    targets = rng.integers(0, 2, 400)
    good = np.where(rng.random(400) < 0.9, targets, 1 - targets).astype(float)
    poor = np.where(rng.random(400) < 0.6, targets, 1 - targets).astype(float)
    assert paired_bootstrap_gain(targets, good, good, n_resamples=50) == {"gain": 0.0, "low": 0.0, "high": 0.0}
    gain = paired_bootstrap_gain(targets, good, poor, metric="accuracy", n_resamples=200)
    assert 0 < gain["low"] < gain["gain"] < gain["high"]


def test_metrics_report_negative_recall_and_precision():
    m = sentiment_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.9, 0.2, 0.8]))
    assert (m["negative_recall"], m["negative_precision"]) == (0.5, 0.5)


def test_bootstrap_metric_matches_sklearn():
    from sklearn.metrics import f1_score

    from mlcore.ml.feedback.selection import _metric

    rng = np.random.default_rng(2)
    targets, predicted = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    assert _metric("macro_f1", targets, predicted) == pytest.approx(f1_score(targets, predicted, average="macro"))
    assert _metric("accuracy", targets, predicted) == pytest.approx(np.mean(targets == predicted))


def _stack(encoder=None, head="network"):
    members = {"words": lambda: LinearSentiment(), "nbsvm": lambda: NBSVMSentiment(NBSVMConfig(features=(SMALL,)))}
    config = ensembles.StackConfig(folds=3, hidden=8, encoder="minilm" if encoder else "", head=head)
    return ensembles.StackedSentiment(members, config, encoder=encoder)


@pytest.mark.parametrize(("with_encoder", "head"), [(False, "network"), (True, "network"), (True, "logistic")])
def test_stacked_model_learns_from_out_of_fold_members_and_survives_pickling(with_encoder, head):
    # given labelled reviews, when the stack is fitted (without an encoder, with a network or a logistic head) and pickled, then it separates unseen texts the same after loading
    frame = _frame(6)
    texts, targets = frame["text"].tolist(), binary_targets(frame["label"])
    model = _stack(_keyword_encoder if with_encoder else None, head).fit(texts, targets)
    p = model.predict_proba(UNSEEN)
    assert p[0] > 0.5 > p[1]
    assert model.names == ["words", "nbsvm"] + ([f"encoder_{head}"] if with_encoder else [])
    assert model.member_probabilities(UNSEEN).shape == (2, len(model.names))
    again = pickle.loads(pickle.dumps(model))  # noqa: S301 (our own bytes)
    assert again.factories is None and again.encoder is None
    again.encoder = _keyword_encoder
    assert np.allclose(again.predict_proba(UNSEEN), p) and model.predict_proba([]).shape == (0,)


def test_stacked_model_puts_its_decision_point_where_the_out_of_fold_macro_f1_is_best():
    # given the meta's out-of-fold predictions, when the decision point is chosen, then it is the grid point of the best macro-F1, nearest 0.5 on ties
    targets = np.array([1, 1, 1, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.65, 0.3])  # 0.5 calls the 0.65 negative positive; 0.66-0.70 separates all
    assert ensembles.best_threshold(targets, p, (0.2, 0.9, 0.01)) == 0.66
    assert ensembles.best_threshold(np.array([1, 0]), np.array([0.9, 0.1]), (0.2, 0.9, 0.01)) == 0.5


def test_stacked_model_refuses_too_few_of_a_label():
    with pytest.raises(ValueError, match="both positive and negative"):
        _stack().fit(TEXTS[:3], np.ones(3))
    with pytest.raises(ValueError, match="at least 2 reviews of each label"):
        _stack().fit(TEXTS[:4], np.array([1, 1, 1, 0]))


def test_memo_encoder_embeds_each_distinct_text_once_and_builds_the_encoder_on_first_use(monkeypatch):
    # given a memo over a counting encoder, when overlapping lists are embedded, then each text is embedded once and rows keep their order
    seen = []
    monkeypatch.setattr(ensembles, "build_encoder", lambda name, path="": lambda texts: seen.extend(texts) or _keyword_encoder(texts))
    memo = ensembles.MemoEncoder("minilm", "/models/minilm")
    assert memo([]).shape[0] == 0 and seen == []
    first = memo(UNSEEN + UNSEEN[:1])
    again = memo(list(reversed(UNSEEN)) + ["I hate it, awful."])
    assert sorted(seen) == sorted(UNSEEN + ["I hate it, awful."])
    assert np.allclose(first, _keyword_encoder(UNSEEN + UNSEEN[:1])) and np.allclose(again[:2], first[1::-1])
