"""Campaign copy drafted by the packaged language model: how many drafts pass the guardrails,
why the others were refused (figures for docs/campaigns.md).

    nice -n 10 env OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 .venv/bin/python bench/copy_drafts.py [--n 40]

Needs the demo database (`make demo`, or at least import_demo_data, segment_customers and
create_demo_campaign) in var/clm.sqlite3; works on a copy of it (var/bench/copy_drafts.sqlite3)
so the demo keeps no bench drafts. Adds two campaigns beside the demo one (a win-back audience
and a country audience) so prompts differ by audience, sets the brand voice below, drafts n
pieces of copy (or as many as --budget-s allows) through the real service (copy_draft_generate, the shared LLM client: the
packaged SmolLM2-135M GGUF unless LLM_BASE_URL / LLM_MODEL_PATH say otherwise) and prints the
pass rate with a Wilson 95% interval, the refusal reasons and examples. Writes var/bench/copy_drafts.json.

No A/B of drafted against hand-written copy: the demo's campaigns are simulated sends with no
customer who reads text, so any "click rate" of a text would be a number this script made up.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clmsite.settings")
VOICE = {
    "tone": "warm, plain and brief", "max_discount_percent": 10, "subject_max_chars": 70, "body_max_chars": 500,
    "banned_words": "cheap\nfree\nhurry\nclick here", "banned_claims": "lowest price\nguaranteed\nbest in the world\nlimited time only",
}
EXTRA_CAMPAIGNS = [
    ("We miss you", "bench-win-back", [{"key": "last_order_before", "params": {"date": "2011-09-01"}}], "10% off to welcome you back."),
    ("New in for Germany", "bench-germany", [{"key": "country", "params": {"countries": ["Germany"]}}], ""),
]


def _django(db: Path) -> None:
    source = ROOT / "var" / "clm.sqlite3"
    if not source.exists():
        sys.exit("var/clm.sqlite3 not found: run `make demo` first")
    db.parent.mkdir(parents=True, exist_ok=True)
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):  # an old WAL would replay onto the copy
        stale.unlink(missing_ok=True)
    shutil.copyfile(source, db)
    os.environ["SQLITE_PATH"] = str(db)
    import django

    django.setup()


def _campaigns() -> list[int]:
    from campaigns.models import Campaign
    from campaigns.services.lifecycle import campaign_create

    demo = Campaign.objects.get(slug="demo-picked-for-you")
    variant = demo.variants.order_by("name").first()
    spec = {"name": "A", "share": 100, "subject": variant.subject, "html_body": variant.html_body, "text_body": variant.text_body}
    ids = [demo.pk]
    for name, slug, rules, offer in EXTRA_CAMPAIGNS:
        found = Campaign.objects.filter(slug=slug).first()
        ids.append(found.pk if found else campaign_create(name=name, slug=slug, audience_rules=rules, offer_text=offer, variants=[spec]).pk)
    return ids


class OutOfTime(Exception):
    pass


def _stop_after(deadline: float) -> None:
    print(".", end="", flush=True)
    if time.monotonic() > deadline:
        raise OutOfTime


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 0.0
    p, d = k / n, 1 + z * z / n
    centre, half = (p + z * z / (2 * n)) / d, z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return centre - half, centre + half


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40, help="drafts in all, spread over the campaigns")
    parser.add_argument("--budget-s", type=float, default=1800, help="stop drafting after this long (each campaign gets its share); the report says so")
    args = parser.parse_args()
    _django(ROOT / "var" / "bench" / "copy_drafts.sqlite3")
    from campaigns.copywriting.brief import brand_voice_get
    from campaigns.copywriting.models import BrandVoice, CopyDraft
    from campaigns.copywriting.services import copy_draft_generate, copy_llm, llm_name

    brand_voice_get()
    BrandVoice.objects.filter(pk=1).update(**VOICE)
    campaign_ids = _campaigns()
    started = time.monotonic()
    llm = copy_llm()
    load_s = time.monotonic() - started
    per = [args.n // len(campaign_ids) + (i < args.n % len(campaign_ids)) for i in range(len(campaign_ids))]
    started = time.monotonic()
    for i, (campaign_id, n) in enumerate(zip(campaign_ids, per, strict=True)):
        deadline = started + args.budget_s * (i + 1) / len(campaign_ids)
        try:
            copy_draft_generate(campaign_id=campaign_id, n=n, llm=llm, on_draft=lambda draft, deadline=deadline: _stop_after(deadline))
        except OutOfTime:
            print(f"campaign {campaign_id}: time budget reached, fewer drafts than asked", flush=True)
    gen_s = time.monotonic() - started
    drafts = list(CopyDraft.objects.filter(campaign_id__in=campaign_ids).order_by("id").values("campaign__slug", "kind", "text", "status", "refusal_reasons"))
    report(drafts, llm_name(llm), load_s, gen_s, asked=args.n)


def report(drafts: list[dict], model: str, load_s: float, gen_s: float, asked: int) -> None:
    n, passed = len(drafts), sum(d["status"] == "proposed" for d in drafts)
    low, high = wilson(passed, n)
    rules = Counter(reason.split(":")[0] for d in drafts for reason in d["refusal_reasons"])
    by_kind = {k: f"{sum(d['status'] == 'proposed' for d in drafts if d['kind'] == k)}/{sum(d['kind'] == k for d in drafts)}" for k in ("subject", "body")}
    out = {
        "model": model, "asked": asked, "drafts": n, "passed": passed, "pass_rate": round(passed / n, 3) if n else None, "wilson95": [round(low, 3), round(high, 3)],
        "by_kind": by_kind, "refusals_by_rule": dict(rules.most_common()), "model_load_s": round(load_s, 1),
        "generation_s": round(gen_s, 1), "s_per_draft": round(gen_s / n, 2) if n else None, "load": os.getloadavg(), "drafts_detail": drafts,
    }
    path = ROOT / "var" / "bench" / "copy_drafts.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"model {model}: {passed}/{n} drafts passed ({out['pass_rate']}, 95% CI {low:.2f}-{high:.2f}); by kind {by_kind}")
    print(f"refusals by rule: {dict(rules.most_common())}; load {load_s:.0f} s, {gen_s:.0f} s for {n} drafts; loadavg {os.getloadavg()}")
    for d in drafts:
        mark = "PASS" if d["status"] == "proposed" else "REFUSED " + " | ".join(d["refusal_reasons"])
        print(f"- [{d['campaign__slug']} {d['kind']}] {d['text']!r}\n    {mark}")


if __name__ == "__main__":
    main()
