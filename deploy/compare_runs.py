"""Equality check of deploy/netns-cluster.sh: run B (workers SIGKILLed and restarted) against run A.

    compare_runs.py A.json B.json --mail-a DIR --mail-b DIR [--tolerance 1e-9]

A.json and B.json are `cluster_ctl.py dump` outputs. Passes (exit 0) only when
- both runs scored the same customers and every stored churn probability, P(active), expected
  purchases (90 days) and expected 12-month value differ by at most --tolerance (absolute);
- every customer's recommendation list is the same products in the same ranks, scores within
  --tolerance; the segment memberships are the same;
- in each run's mail folders (the file e-mail backend, one folder per worker start) every
  selected recipient of the ledger got exactly one message, no holdout customer got one, and
  nothing went to anyone else.
Django-free: it reads the two dumps and the mail files only.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from email.parser import BytesHeaderParser
from pathlib import Path

SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what Django's file backend writes after each message
SCORE_FIELDS = ("churn_probability", "probability_active", "expected_purchases_90", "expected_value_12m")


def _max_diff(a, b) -> float:
    if a is None or b is None:
        return 0.0 if a is b else float("inf")
    return abs(float(a) - float(b))


def scores_compare(a: dict, b: dict, tolerance: float) -> list[str]:
    problems = []
    if a.keys() != b.keys():
        problems.append(f"scored customers differ: {len(a.keys() - b.keys())} only in A, {len(b.keys() - a.keys())} only in B")
    common = a.keys() & b.keys()
    for i, name in enumerate(SCORE_FIELDS):
        diffs = [_max_diff(a[c][i], b[c][i]) for c in common]
        worst, unequal = max(diffs, default=0.0), sum(d > 0 for d in diffs)
        print(f"  {name}: {len(common)} customers, {unequal} not bit-identical, max |A-B| = {worst:.3g}")
        if worst > tolerance:
            problems.append(f"{name}: max |A-B| {worst:.3g} > tolerance {tolerance:g}")
    return problems


def recommendations_compare(a: dict, b: dict, tolerance: float) -> list[str]:
    problems = []
    if a.keys() != b.keys():
        problems.append(f"customers with recommendations differ: {len(a.keys() ^ b.keys())}")
    common = sorted(a.keys() & b.keys())
    lists_differ = [c for c in common if [r[:2] for r in a[c]] != [r[:2] for r in b[c]]]
    worst = max((abs(x[2] - y[2]) for c in common for x, y in zip(a[c], b[c], strict=False)), default=0.0)
    rows = sum(len(a[c]) for c in common)
    print(f"  recommendations: {len(common)} customers, {rows} rows, {len(lists_differ)} lists with another product or order, max |score A-B| = {worst:.3g}")
    if lists_differ:
        problems.append(f"{len(lists_differ)} customers' lists differ (e.g. {lists_differ[:3]})")
    if worst > tolerance:
        problems.append(f"recommendation scores: max |A-B| {worst:.3g} > tolerance {tolerance:g}")
    return problems


def segments_compare(a: dict, b: dict) -> list[str]:
    moved = [c for c in a.keys() | b.keys() if a.get(c) != b.get(c)]
    print(f"  segments: {len(a)} memberships in A, {len(b)} in B, {len(moved)} customers in another segment")
    return [f"{len(moved)} customers' segments differ"] if moved else []


def mail_read(folders: list[Path]) -> tuple[Counter, int]:
    """Messages per recipient (lower-cased To) in every file of the folders, and the file count."""
    per_recipient: Counter = Counter()
    headers = BytesHeaderParser()
    files = [f for folder in folders for f in sorted(folder.glob("*.log"))]
    for path in files:
        for raw in path.read_bytes().split(SEPARATOR):
            if raw.strip():
                per_recipient[str(headers.parsebytes(raw)["To"]).lower()] += 1
    return per_recipient, len(files)


def mail_check(label: str, ledger: dict, folders: list[Path]) -> list[str]:
    per_recipient, files = mail_read(folders)
    selected = {e.lower() for e, holdout, _ in ledger.values() if not holdout}
    holdout = {e.lower() for e, held, _ in ledger.values() if held}
    twice = {r: n for r, n in per_recipient.items() if n > 1}
    missing, stray = selected - per_recipient.keys(), per_recipient.keys() - selected
    total = sum(per_recipient.values())
    print(f"  mail {label}: {total} messages in {files} files from {len(folders)} worker starts; {len(selected)} selected, {len(holdout)} holdout; "
          f"{len(twice)} recipients with more than one, {len(missing)} selected without one, {len(stray & holdout)} to holdout, {len(stray - holdout)} to others")
    problems = []
    if twice:
        problems.append(f"{label}: {len(twice)} recipients got more than one message (e.g. {sorted(twice.items())[:3]})")
    if missing:
        problems.append(f"{label}: {len(missing)} selected recipients got none (e.g. {sorted(missing)[:3]})")
    if stray:
        problems.append(f"{label}: {len(stray)} messages to addresses not selected (e.g. {sorted(stray)[:3]})")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--mail-a", type=Path, nargs="+", default=[])
    p.add_argument("--mail-b", type=Path, nargs="+", default=[])
    p.add_argument("--tolerance", type=float, default=1e-9)
    args = p.parse_args(argv)
    a, b = json.loads(args.a.read_text()), json.loads(args.b.read_text())
    print(f"comparing run A ({args.a.name}) with run B ({args.b.name}), absolute tolerance {args.tolerance:g}")
    problems = scores_compare(a["scores"], b["scores"], args.tolerance)
    problems += recommendations_compare(a["recommendations"], b["recommendations"], args.tolerance)
    problems += segments_compare(a["segments"], b["segments"])
    same_arms = {c: v[1] for c, v in a["ledger"].items()} == {c: v[1] for c, v in b["ledger"].items()}
    print(f"  ledger: {len(a['ledger'])} rows in A, {len(b['ledger'])} in B, holdout draw {'identical' if same_arms else 'DIFFERENT'}")
    problems += [] if same_arms else ["the campaign ledgers' holdout draws differ"]
    if args.mail_a:
        problems += mail_check("A", a["ledger"], args.mail_a)
    if args.mail_b:
        problems += mail_check("B", b["ledger"], args.mail_b)
    for problem in problems:
        print(f"  MISMATCH: {problem}")
    print("EQUALITY CHECK: PASSED" if not problems else f"EQUALITY CHECK: FAILED ({len(problems)} problems)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
