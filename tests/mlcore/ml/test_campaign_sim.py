import numpy as np
import pandas as pd
import pytest

from mlcore.ml.campaign_sim import SimCampaign, qini_table, simulate_bandit, simulate_campaign, true_effect
from mlcore.ml.synthetic import SyntheticConfig, generate_order_lines


@pytest.fixture(scope="module")
def lines():
    return generate_order_lines(SyntheticConfig(n_customers=3000, n_products=80, horizon_days=400, seed=4))


def _send(lines) -> str:
    return str((lines["placed_at"].max() - pd.Timedelta(days=60)).date())


def test_simulated_campaign_keeps_real_baselines_and_plants_the_known_effect(lines):
    # given a send 60 days before the data ends, when simulated, then the holdout's outcome is the real one, the mailed differ only as tau allows, and true uplift follows tau
    frame = simulate_campaign(lines, SimCampaign(_send(lines), window_days=30, seed=1))
    holdout, mailed = frame[frame["treated"] == 0], frame[frame["treated"] == 1]
    assert (holdout["converted"] == holdout["y0"]).all()
    assert 0.45 < frame["treated"].mean() < 0.55
    gained = mailed[(mailed["converted"] == 1) & (mailed["y0"] == 0)]
    lost = mailed[(mailed["converted"] == 0) & (mailed["y0"] == 1)]
    assert (gained["tau"] > 0).all() and (lost["tau"] < 0).all() and len(gained) > 0
    assert np.allclose(frame["true_uplift"], np.where(frame["tau"] >= 0, frame["tau"] * (1 - frame["y0"]), frame["tau"] * frame["y0"]))
    assert frame.equals(simulate_campaign(lines, SimCampaign(_send(lines), window_days=30, seed=1)))  # seeded


def test_true_effect_puts_off_recent_frequent_buyers():
    # given three kinds of customer, then lapsing regulars gain most and recent frequent buyers are put off
    features = pd.DataFrame({"recency_days": [90, 5, 300], "frequency": [4, 8, 1]})
    tau = true_effect(features)
    assert tau[0] == pytest.approx(0.25) and tau[1] < 0 and 0 < tau[2] < 0.05


def test_qini_table_ranks_the_oracle_above_random(lines):
    # given a simulated campaign, when the known uplift and a random score are compared, then the oracle scores higher (paired median difference > 0) and each interval holds its estimate
    frame = simulate_campaign(lines, SimCampaign(_send(lines), window_days=30, seed=2))
    t, y = frame["treated"].to_numpy(), frame["converted"].to_numpy()
    rows = {r["score"]: r for r in qini_table({"oracle": frame["true_uplift"].to_numpy(), "random": np.random.default_rng(0).random(len(frame))}, t, y, reps=50, reference="oracle")}
    assert rows["oracle"]["qini"] > rows["random"]["qini"] and rows["random"]["reference_minus_this"][1] > 0
    assert all(r["low"] <= r["qini"] <= r["high"] for r in rows.values())


def test_bandit_simulation_moves_traffic_to_the_better_click_rate():
    # given B clicking at 6% against A's 2%, when five waves run, then the first is even and the last mostly B
    waves = simulate_bandit({"A": 0.02, "B": 0.06}, recipients=10000, wave_count=5, first_share=0.2, min_sample=300, seed=3)
    assert waves[0]["counts"] == {"A": 1000, "B": 1000}
    assert waves[-1]["counts"]["B"] / waves[-1]["size"] > 0.9
