import json

import numpy as np
import pytest

from mlcore.ml.recommendations import ranker, ranker_train
from mlcore.ml.recommendations.model import RecommenderConfig, fit_recommender
from mlcore.ml.recommendations.ranker_data import PairSet, build_pairs, export_pairs, load_pairs, tokenise_pairs
from tests.mlcore.ml.shop_frames import shop_embeddings, shop_lines, shop_products

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tokenizer():
    return ranker.load_tokenizer(ranker_train.default_model_path())


def toy_pairs(n: int = 64) -> PairSet:
    """Separable pairs: a candidate about mugs is bought, one about bags is not."""
    texts = np.array(["red mug; blue mug", "white mug with handle", "canvas shopping bag"])
    labels = np.tile([1.0, 0.0], n // 2).astype(np.float32)
    return PairSet(texts=texts, first=np.zeros(n, dtype=np.int64), second=np.where(labels == 1, 1, 2), labels=labels, groups=np.arange(n) // 2,
                   base=np.zeros(n, dtype=np.float32))


def test_pairs_are_tokenised_once_into_cls_history_sep_candidate_sep(tokenizer):
    # given two pairs, when tokenised, then each row is [CLS] history [SEP] candidate [SEP] within max_len
    pairs = toy_pairs(2)
    ids, mask = tokenise_pairs(tokenizer, pairs.texts, pairs.first, pairs.second, 16)
    assert ids.shape == (2, 16) and ids[0, 0] == tokenizer.cls_token_id
    assert (ids[0] == tokenizer.sep_token_id).sum() == 2
    assert mask.sum(axis=1).max() <= 16


def test_tiny_ranker_loss_falls_on_the_cpu(tokenizer):
    # given separable pairs and a tiny random cross-encoder, when trained 40 CPU steps, then the loss falls
    pairs = toy_pairs()
    ids, mask = tokenise_pairs(tokenizer, pairs.texts, pairs.first, pairs.second, 24)
    model = ranker.tiny_model(tokenizer.vocab_size, seed=1)
    config = ranker.RankerConfig(max_len=24, batch_size=16, steps=40, learning_rate=2e-3, device="cpu", threads=1, warmup_fraction=0.05)
    result = ranker.train(model, ids, mask, pairs.labels, config)
    assert np.mean(result["losses"][-5:]) < np.mean(result["losses"][:5])
    scores = ranker.score(model, ids[:2], mask[:2], device="cpu")
    assert scores[0] > scores[1]


def test_export_round_trip_and_bad_file_named(tmp_path):
    # given exported pairs, when loaded, then arrays match; a file missing arrays is refused by name
    pairs = toy_pairs(4)
    loaded = load_pairs(export_pairs(pairs, tmp_path / "pairs.npz"))
    assert loaded.texts.tolist() == pairs.texts.tolist() and loaded.labels.tolist() == pairs.labels.tolist()
    np.savez(tmp_path / "bad.npz", texts=pairs.texts)
    with pytest.raises(ValueError, match="bad.npz.*labels"):
        load_pairs(tmp_path / "bad.npz")


def test_training_entry_runs_from_an_export_file_alone(tmp_path):
    # given an export file, when the Django-free entry runs a tiny model, then the model and metrics land in --out
    export = export_pairs(toy_pairs(40), tmp_path / "pairs.npz")
    metrics = ranker_train.main(["--data", str(export), "--out", str(tmp_path / "out"), "--tiny", "--steps", "5", "--batch-size", "8", "--max-len", "24", "--device", "cpu", "--threads", "1"])
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["pairs"] == 40 and saved["device"] == "cpu" and len(saved["losses"]) == 5
    assert (tmp_path / "out" / "config.json").exists()


def test_build_pairs_keeps_positives_and_samples_negatives_from_candidates():
    # given a fitted shop and a label window, when pairs are built, then each customer has positives and negatives
    model = fit_recommender(shop_lines(), shop_products(), shop_embeddings(), config=RecommenderConfig(exclude_recent_days=0))
    truth = {row: {0, 1} for row in range(len(model.data.user_ids))}
    pairs = build_pairs(model, truth, candidates=6, negatives_per_positive=1)
    for group in np.unique(pairs.groups):
        labels = pairs.labels[pairs.groups == group]
        assert labels.sum() >= 1 and (labels == 0).sum() >= 1 and (labels == 0).sum() <= labels.sum()


@pytest.mark.gpu
def test_ranker_trains_in_bf16_on_the_gpu(tokenizer):
    # given CUDA, when the tiny ranker trains on the GPU, then it runs under autocast and reports its throughput
    if not torch.cuda.is_available():
        pytest.skip("CUDA is absent")
    pairs = toy_pairs()
    ids, mask = tokenise_pairs(tokenizer, pairs.texts, pairs.first, pairs.second, 24)
    result = ranker.train(ranker.tiny_model(tokenizer.vocab_size), ids, mask, pairs.labels, ranker.RankerConfig(max_len=24, batch_size=16, steps=10, device="cuda"))
    assert result["device"] == "cuda" and result["pairs_per_second"] > 0


def test_frozen_layers_stay_fixed_while_the_rest_learns(tokenizer):
    # given a tiny ranker with the embeddings and its lowest layer frozen, when trained, then those weights are unchanged and the head moved
    pairs = toy_pairs()
    ids, mask = tokenise_pairs(tokenizer, pairs.texts, pairs.first, pairs.second, 24)
    model = ranker.tiny_model(tokenizer.vocab_size, seed=2)
    embeddings = model.bert.embeddings.word_embeddings.weight.detach().clone()
    lowest = model.bert.encoder.layer[0].attention.self.query.weight.detach().clone()
    head = model.classifier.weight.detach().clone()
    config = ranker.RankerConfig(max_len=24, batch_size=16, steps=5, learning_rate=1e-3, device="cpu", threads=1, freeze_layers=1)
    result = ranker.train(model, ids, mask, pairs.labels, config)
    assert result["trainable_parameters"] < sum(p.numel() for p in model.parameters())
    assert torch.equal(model.bert.embeddings.word_embeddings.weight, embeddings) and torch.equal(model.bert.encoder.layer[0].attention.self.query.weight, lowest)
    assert not torch.equal(model.classifier.weight, head)
