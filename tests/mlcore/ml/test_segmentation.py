import numpy as np
import pandas as pd
import pytest

from mlcore.ml.segments.clustering import SegmentationConfig, assign, fit_segments, match_previous, prepare_matrix
from mlcore.ml.segments.names import name_segments, rfm_scores, rfm_segments, slug

# (recency, frequency, monetary, aov, tenure, distinct products) of four kinds of customer
KINDS = {
    "best": (5, 20, 5000, 250, 700, 60),
    "lapsed_big": (300, 12, 3000, 250, 700, 40),
    "new": (7, 1, 40, 40, 7, 3),
    "gone": (350, 1, 30, 30, 360, 2),
}


def customers(n_per_kind: int = 60, seed: int = 0, shift: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for values in KINDS.values():
        base = np.array(values, dtype="float64") * shift
        rows.append(base * rng.lognormal(0, 0.15, size=(n_per_kind, len(base))))
    cols = ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days", "distinct_products"]
    frame = pd.DataFrame(np.vstack(rows), columns=cols)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="customer_id")
    return frame


def kind_of(frame: pd.DataFrame) -> np.ndarray:
    return np.repeat(np.arange(len(KINDS)), len(frame) // len(KINDS))


def test_k_is_chosen_by_silhouette_and_recovers_the_kinds():
    # given four well separated kinds, when k is chosen over 2..6, then k=4 and each kind is one cluster
    frame = customers()
    result = fit_segments(frame, SegmentationConfig(k_range=(2, 6)))
    assert result.k == 4
    assert max(result.silhouette_by_k, key=result.silhouette_by_k.get) == 4
    crosstab = pd.crosstab(kind_of(frame), result.labels)
    assert (crosstab.gt(0).sum(axis=1) == 1).all()
    assert result.silhouette > 0.5 and result.davies_bouldin < 1.0


def test_same_seed_gives_the_same_segments():
    # given the same data and seed, when fitted twice, then labels are identical
    frame = customers()
    a = fit_segments(frame, SegmentationConfig(k=4))
    b = fit_segments(frame, SegmentationConfig(k=4))
    assert np.array_equal(a.labels, b.labels)


def test_log_scaling_is_standardised_and_clips_negative_spend():
    # given a negative net spend, when scaled, then it counts as zero and every column has mean 0 and sd 1
    frame = customers()
    frame.iloc[0, 2] = -50.0
    x, scaler = prepare_matrix(frame, tuple(frame.columns))
    assert np.allclose(x.mean(axis=0), 0) and np.allclose(x.std(axis=0), 1)
    assert x[0, 2] == pytest.approx((0.0 - scaler.mean[2]) / scaler.std[2])


def test_names_follow_the_centroids():
    # given the four kinds, when named, then the best are Champions and the one-off recent buyers are New
    frame = customers()
    result = fit_segments(frame, SegmentationConfig(k=4))
    infos = {i.index: i for i in name_segments(frame, result.labels, result.k)}
    label_of = pd.Series(result.labels).groupby(kind_of(frame)).first()
    assert infos[label_of[0]].name == "Champions"
    assert infos[label_of[2]].name == "New"
    assert infos[label_of[3]].name in {"Lost", "Hibernating"}
    assert infos[label_of[1]].name in {"At risk", "Can't lose them"}
    assert len({i.name for i in infos.values()}) == 4
    assert sum(i.size for i in infos.values()) == len(frame)
    assert sum(i.revenue_share for i in infos.values()) == pytest.approx(1.0)
    champions = infos[label_of[0]]
    assert champions.key == "champions" and "60 customers (25% of customers" in champions.description


def test_identity_is_kept_across_runs_when_cluster_order_changes():
    # given a second run on drifted data with another seed, when matched to the first, then every kind keeps its name
    first_frame, second_frame = customers(seed=0), customers(seed=1, shift=1.1)
    first = fit_segments(first_frame, SegmentationConfig(k=4, seed=1))
    second = fit_segments(second_frame, SegmentationConfig(k=4, seed=7))
    first_names = {i.index: (i.key, i.name) for i in name_segments(first_frame, first.labels, 4)}
    matches = match_previous(second.centroids, first.centroids, second.scaler.std, 1.5)
    inherited = {new: first_names[old] for new, old in matches.items()}
    second_names = {i.index: i.name for i in name_segments(second_frame, second.labels, 4, inherited=inherited)}
    first_by_kind = pd.Series(first.labels).groupby(kind_of(first_frame)).first().map(lambda c: first_names[c][1])
    second_by_kind = pd.Series(second.labels).groupby(kind_of(second_frame)).first().map(second_names)
    assert len(matches) == 4
    assert list(first_by_kind) == list(second_by_kind)


def test_far_centroids_are_not_matched():
    # given a previous centroid far from every new one, when matched, then it is left unmatched
    new = np.array([[0.0, 0.0], [5.0, 5.0]])
    old = np.array([[0.1, 0.0], [40.0, 40.0]])
    assert match_previous(new, old, np.ones(2), max_distance=1.5) == {0: 0}


def test_assign_places_rows_at_the_nearest_centroid():
    # given a fitted model, when its own rows are assigned again, then they get the fitted labels
    frame = customers()
    result = fit_segments(frame, SegmentationConfig(k=4))
    assert np.array_equal(assign(frame, result.scaler, result.centroids), result.labels)


def test_missing_feature_is_named():
    # given a frame without monetary, when fitted, then the error names the column
    with pytest.raises(ValueError, match="monetary"):
        fit_segments(customers().drop(columns="monetary"))


def test_rfm_quintiles_and_baseline_map():
    # given ten customers ranked by recency, frequency and spend, when scored, then quintiles and the RF map apply
    frame = pd.DataFrame({
        "recency_days": np.arange(10) * 30.0, "frequency": np.arange(10, 0, -1) * 1.0,
        "monetary": np.arange(10, 0, -1) * 100.0, "tenure_days": np.full(10, 400.0),
    })
    scores = rfm_scores(frame)
    assert list(scores["R"]) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert list(scores["F"]) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    names = rfm_segments(frame)
    assert names.iloc[0] == "Champions" and names.iloc[4] == "Need attention" and names.iloc[9] == "Hibernating"
    assert slug("Can't lose them") == "can_t_lose_them"
