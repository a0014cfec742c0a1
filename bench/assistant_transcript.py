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
    "en": ["Hello, where is my order 581001?", "How long do I have to send something back?", "Can I return order 581001?",
           "The teapot arrived cracked and this is the second time, I want to complain!"],
    "zh": ["你好，我的订单581002到哪了？", "退货期限是多久？", "我要投诉，杯子碎了，而且快递太慢了！"],
}
STAFF = {"en": "Sorry about the teapot, Mrs Demo. A replacement left our warehouse today; you do not need to send the broken one back.",
         "zh": "很抱歉杯子碎了。我们今天已为您补发新的杯子，破损的杯子无需寄回。"}


def main() -> None:
    import django
    from django.test.utils import setup_databases, setup_test_environment

    django.setup()
    setup_test_environment()
    setup_databases(verbosity=0, interactive=False)
    from django.db import transaction
    from django.test.utils import override_settings
    from django.utils import timezone

    from campaigns.assistant.models import Ticket
    from campaigns.assistant.services.conversations import conversation_start, message_reply
    from campaigns.assistant.services.handover import ticket_reply
    from campaigns.assistant.services.knowledge import knowledge_load_file
    from customers.models import Customer, Order, OrderLine, Product

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        with transaction.atomic():
            knowledge_load_file()
        customer = Customer.objects.create(external_id="17850", name="Mrs Demo", email="demo@example.com", country="United Kingdom")
        mug = Product.objects.create(sku="85123A", title="WHITE HANGING HEART T-LIGHT HOLDER", price=2.55)
        for number, days in (("581001", 4), ("581002", 6)):
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
