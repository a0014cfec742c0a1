"""Demo transcripts of the support assistant, one per language, printed as Markdown (for
docs/assistant.md): a signed customer's order status, a returns question with its citation, a
complaint handed over and answered by staff. Runs the real services with the configured models
(dense retrieval, the packaged LLM, the sentiment fallback) on a throw-away SQLite database.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python bench/assistant_transcript.py
"""
from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clmsite.settings")

SCRIPTS = {
    "en": ["Hello, where is my order 590001?", "How long do I have to send something back?", "Can I return order 590001?",
           "Is the red retrospot cake stand in stock, and what does it cost?", "What do customers say about the Dresses #1078?",
           "The teapot arrived cracked and this is the second time, I want to complain!"],
    "zh": ["你好，我的订单590002到哪了？", "退货期限是多久？", "我要投诉，杯子碎了，而且快递太慢了！"],
}
STAFF = {"en": "Sorry about the teapot, Mrs Demo. A replacement left our warehouse today; you do not need to send the broken one back.",
         "zh": "很抱歉杯子碎了。我们今天已为您补发新的杯子，破损的杯子无需寄回。"}


def _shop_slice(n_customers: int, seed: int = 16) -> Path:
    """The Online Retail lines of 17850 and n_customers - 1 other customers drawn at random, as a file."""
    import pandas as pd

    lines = pd.read_csv(ROOT / "data" / "online_retail.csv.gz", dtype={"CustomerID": str, "StockCode": str, "InvoiceNo": str})
    ids = lines["CustomerID"].dropna().drop_duplicates()
    keep = set(ids[ids != "17850.0"].sample(n_customers - 1, random_state=seed)) | {"17850.0"}
    path = ROOT / "var" / "bench" / "transcript_shop.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines[lines["CustomerID"].isin(keep)].to_csv(path, index=False)
    return path


def _demo_shop(n_customers: int) -> None:
    """Import the slice and run the demo's pipelines on it, as `make demo` does on the whole file."""
    import pandas as pd
    from django.core.management import call_command
    from django.utils import timezone

    from customers.models import Product, Review

    call_command("import_orders", str(_shop_slice(n_customers)), "--preset", "online_retail", "--synthetic-emails", "--no-progress")
    for name, arguments in (("segment_customers", ["--snapshot-at", "2011-12-10"]), ("train_models", []), ("score_customers", [])):
        call_command(name, *arguments)
    reviews = pd.read_csv(ROOT / "data" / "womens_clothing_reviews.csv.gz").dropna(subset=["Review Text"])
    rows = reviews[reviews["Clothing ID"] == 1078]
    dress = Product.objects.create(sku="CLOTH-1078", title="Dresses #1078", category="Dresses")
    Review.objects.bulk_create([Review(product=dress, rating=int(r["Rating"]), text=r["Review Text"], language="en", created_at=timezone.now())
                                for _, r in rows.iterrows()])


def main() -> None:
    import argparse

    import django
    from django.test.utils import setup_databases, setup_test_environment

    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=150, help="at least ~150: the churn model needs churned and retained customers")
    args = parser.parse_args()
    django.setup()
    setup_test_environment()
    setup_databases(verbosity=0, interactive=False)
    from django.db import transaction
    from django.test.utils import override_settings
    from django.utils import timezone

    from campaigns.assistant.models import Ticket
    from campaigns.assistant.services.catalogue import catalogue_reindex
    from campaigns.assistant.services.conversations import conversation_start, message_reply
    from campaigns.assistant.services.handover import ticket_reply
    from campaigns.assistant.services.intents import intent_model_train
    from campaigns.assistant.services.knowledge import knowledge_load_file
    from customers.models import Customer, Order, OrderLine, Product

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", CELERY_TASK_ALWAYS_EAGER=True):
        _demo_shop(args.customers)
        print(f"intent models: {intent_model_train()}", file=sys.stderr)
        with transaction.atomic():
            knowledge_load_file()
        while catalogue_reindex(batch=1000)["left"]:
            pass
        # the 2011 orders are outside any return window: two recent ones, made after the pipelines ran
        customer = Customer.objects.get(external_id="17850")
        mug, _ = Product.objects.get_or_create(sku="85123A", defaults={"title": "WHITE HANGING HEART T-LIGHT HOLDER", "price": 2.55})
        for number, days in (("590001", 4), ("590002", 6)):
            order = Order.objects.create(external_id=number, customer=customer, placed_at=timezone.now() - dt.timedelta(days=days), total=15.30)
            OrderLine.objects.create(order=order, line_no=1, product=mug, quantity=6, unit_price=2.55)
        for language, lines in SCRIPTS.items():
            conversation = conversation_start(customer_id=customer.pk, language=language)
            print(f"\n### {'English' if language == 'en' else 'Chinese'} (signed link of customer 17850)\n")
            for text in lines:
                reply = message_reply(conversation_id=conversation.pk, text=text)
                cites = "; ".join(c["title"] for c in reply.citations)
                print(f"**Customer:** {text}  ")
                print(f"**Assistant** ({reply.method}, intent {reply.intent}{', sources: ' + cites if cites else ''}): {reply.text.replace(chr(10), ' / ')}\n")
            ticket = Ticket.objects.filter(conversation=conversation).first()
            if ticket:
                print(f"*Ticket {ticket.pk} ({ticket.reason}) in the admin, context:* `{ticket.customer_context}`\n")
                done = ticket_reply(ticket_id=ticket.pk, text=STAFF[language], user_id=None)
                print(f"**Staff (admin reply, emailed: {done.reply_emailed}):** {STAFF[language]}\n")


if __name__ == "__main__":
    main()
