"""deploy/: the namespace cluster script parses and passes shellcheck (it needs root, so CI does
not run it), and its equality check passes equal runs and catches unequal ones."""
from __future__ import annotations

import json
import shutil
import subprocess
from email.message import EmailMessage

import pytest

from deploy import compare_runs
from tests.conftest import ROOT

SCRIPT = ROOT / "deploy" / "netns-cluster.sh"


def test_cluster_script_parses_with_bash_n():
    # given the script, when bash parses it without running it, then it has no syntax error
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_cluster_script_passes_shellcheck():
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def _dump(path, *, churn=0.25, rec_sku="B", holdout_of_c3=True):
    data = {
        "versions": {},
        "scores": {"c1": [0.1, 0.9, 1.5, 120.0], "c2": [churn, 0.7, 0.5, None]},
        "recommendations": {"c1": [[1, "A", 0.9], [2, rec_sku, 0.8]]},
        "segments": {"c1": "Champions", "c2": "At risk"},
        "ledger": {"c1": ["c1@example.com", False, "sent"], "c2": ["c2@example.com", False, "sent"],
                   "c3": ["c3@example.com", holdout_of_c3, "holdout"]},
    }
    path.write_text(json.dumps(data))
    return path


def _mail(folder, recipients):
    folder.mkdir(parents=True)
    chunks = []
    for to in recipients:
        message = EmailMessage()
        message["To"], message["From"], message["Subject"] = to, "shop@example.com", "hi"
        message.set_content("line\n" + "-" * 40)
        chunks.append(message.as_bytes() + b"\n" + b"-" * 79 + b"\n")  # as Django's file backend writes them
    (folder / "20261202-000000-1.log").write_bytes(b"".join(chunks))
    return folder


def test_equal_runs_with_one_message_per_recipient_pass(tmp_path, capsys):
    # given two equal dumps and one message per selected recipient, when compared, then the check passes
    a, b = _dump(tmp_path / "a.json"), _dump(tmp_path / "b.json")
    mail = _mail(tmp_path / "mail-b", ["c1@example.com", "c2@example.com"])
    assert compare_runs.main([str(a), str(b), "--mail-b", str(mail)]) == 0
    assert "EQUALITY CHECK: PASSED" in capsys.readouterr().out


def test_a_score_beyond_the_tolerance_fails_and_within_it_passes(tmp_path):
    a, b = _dump(tmp_path / "a.json"), _dump(tmp_path / "b.json", churn=0.25 + 1e-6)
    assert compare_runs.main([str(a), str(b)]) == 1
    assert compare_runs.main([str(a), str(b), "--tolerance", "1e-5"]) == 0


def test_another_recommended_product_or_holdout_draw_fails(tmp_path):
    a = _dump(tmp_path / "a.json")
    assert compare_runs.main([str(a), str(_dump(tmp_path / "b.json", rec_sku="C"))]) == 1
    assert compare_runs.main([str(a), str(_dump(tmp_path / "c.json", holdout_of_c3=False))]) == 1


def test_a_duplicate_a_missing_or_a_holdout_message_fails(tmp_path, capsys):
    a = _dump(tmp_path / "a.json")
    twice = _mail(tmp_path / "twice", ["c1@example.com", "c2@example.com", "C1@example.com"])
    missing = _mail(tmp_path / "missing", ["c1@example.com"])
    holdout = _mail(tmp_path / "holdout", ["c1@example.com", "c2@example.com", "c3@example.com"])
    for folder in (twice, missing, holdout):
        assert compare_runs.main([str(a), str(a), "--mail-b", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "1 recipients got more than one message" in out
    assert "1 selected recipients got none" in out
    assert "1 messages to addresses not selected" in out
