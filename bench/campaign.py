"""Benchmark: a 100k-recipient campaign with recommendations in the template, sent by two real
Celery worker processes through Django's SMTP backend to a local aiosmtpd server.

Prints: ledger freeze time, messages per second rendered and handed to SMTP (wall clock from
start to the campaign's `sent`), peak memory (VmHWM) of each worker, the SMTP server and this
process, and a render-only rate for context. Workers run as in production: DEBUG off, default
sending settings (CAMPAIGN_SMTP_CONNECTIONS, CAMPAIGN_SMTP_PIPELINE, CAMPAIGN_TASK_SECONDS can
be overridden from the environment) except batches of 500.

Needs PostgreSQL (BENCH_DATABASE_URL, default .../clm_campaigns_bench: two workers writing at
once need a real database) and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/3).
Generated customers/products/orders are kept in that database between runs.

    OMP_NUM_THREADS=1 .venv/bin/python bench/campaign.py [--recipients 100000] [--workers 2]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _pg import database_ensure  # noqa: E402 - bench/ is sys.path[0] when a bench runs

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clm_campaigns_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
QUEUE = f"campaigns-bench-{os.getpid()}"

HTML = """<h1>Hello {{ customer.first_name }}</h1><p>{{ offer }} Code: <strong>{{ discount_code }}</strong></p>
<table>{% for p in recommendations %}<tr><td><a href="{{ p.url }}"><img src="{{ p.image_url }}" width="120" alt=""></a></td>
<td><a href="{{ p.url }}">{{ p.title }}</a><br>{{ p.price }} GBP</td></tr>{% endfor %}</table>
<p><a href="https://shop.example.com/sale">All offers</a> | <a href="{{ landing_url }}">Your page</a> | <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>"""
TEXT = """Hello {{ customer.first_name }},
{{ offer }} Code: {{ discount_code }}
{% for p in recommendations %}* {{ p.title }} ({{ p.price }} GBP): {{ p.url }}
{% endfor %}Unsubscribe: {{ unsubscribe_url }}"""


def smtp_server(port: int, counter, ready) -> None:
    """A counting aiosmtpd server in its own process (its CPU does not share our GIL)."""
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def generate(n: int) -> None:
    """Customers, products and orders (for real popularity), made once and kept."""
    from decimal import Decimal

    from django.utils import timezone

    from customers.models import Customer, Order, OrderLine, Product

    have = Customer.objects.count()
    if have >= n:
        return
    rng = random.Random(7)
    started = time.perf_counter()
    Customer.objects.bulk_create([
        Customer(external_id=f"B{i:07d}", email=f"b{i}@example.com", name=f"Bench Customer{i}", country=rng.choice(["United Kingdom", "France", "Germany"]),
                 email_consent=True, email_consent_source="import") for i in range(have, n)
    ], batch_size=10000)
    if not Product.objects.exists():
        Product.objects.bulk_create([Product(sku=f"BP{i:04d}", title=f"Bench product {i}", price=Decimal("9.99"), category="Home",
                                             image_url=f"https://cdn.example.com/{i}.jpg", url=f"https://shop.example.com/p/{i}") for i in range(300)])
    if Order.objects.filter(external_id__startswith="BO").exists():
        print(f"generated {n - have} customers in {time.perf_counter() - started:.1f} s")
        return
    products = list(Product.objects.values_list("pk", flat=True))
    customers = list(Customer.objects.values_list("pk", flat=True)[:20000])
    now = timezone.now()
    orders = Order.objects.bulk_create([Order(external_id=f"BO{i:07d}", customer_id=rng.choice(customers), placed_at=now) for i in range(20000)], batch_size=10000)
    OrderLine.objects.bulk_create([
        OrderLine(order=o, line_no=1, product_id=products[min(int(rng.expovariate(0.05)), len(products) - 1)], quantity=1, unit_price=Decimal("9.99")) for o in orders
    ], batch_size=10000)
    print(f"generated {n - have} customers, 20000 orders in {time.perf_counter() - started:.1f} s")


def start_workers(count: int, port: int) -> list[subprocess.Popen]:
    env = dict(os.environ, CAMPAIGN_QUEUE=QUEUE, CAMPAIGN_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
               EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port), CAMPAIGN_BATCH_SIZE="500", CAMPAIGN_SEND_CONCURRENCY=str(count),
               SITE_URL="https://shop.example.com", LOG_LEVEL="WARNING")
    return [
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "clmsite", "worker", "-Q", QUEUE, "--pool=solo", "--without-gossip",
                          "--without-mingle", "--without-heartbeat", "-n", f"bench{i}-{os.getpid()}@%h", "--loglevel=WARNING"],
                         cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i in range(count)
    ]


def render_only_rate(campaign, sample: int = 2000) -> float:
    from campaigns.models import Delivery
    from campaigns.rendering import email_build, message_render

    rows = list(Delivery.objects.filter(campaign=campaign, is_holdout=False).select_related("customer", "variant")[:sample])
    started = time.perf_counter()
    for d in rows:
        email_build(message_render(campaign=campaign, variant=d.variant, customer=d.customer, delivery_id=d.pk), to=d.customer.email, from_email="shop@example.com").message().as_bytes()
    return len(rows) / (time.perf_counter() - started)


def campaign_send(campaign, *, workers: int) -> dict:
    """Start the campaign and wait for `sent`, with `workers` real Celery workers sending to a counting SMTP server.

    Needs Django set up on PostgreSQL with REDIS_URL as the broker (settings.CAMPAIGN_QUEUE is set to this bench's queue).
    """
    from django.conf import settings

    from campaigns.models import Campaign
    from campaigns.services import lifecycle

    settings.CAMPAIGN_QUEUE, settings.CAMPAIGN_SEND_CONCURRENCY = QUEUE, workers
    port, counter, ready = free_port(), multiprocessing.Value("l", 0), multiprocessing.Event()
    server = multiprocessing.Process(target=smtp_server, args=(port, counter, ready), daemon=True)
    server.start()
    ready.wait(10)
    procs = start_workers(workers, port)
    time.sleep(8)  # let the workers connect to the broker
    try:
        started = time.perf_counter()
        lifecycle.campaign_start(campaign_id=campaign.pk)
        frozen = time.perf_counter() - started
        while Campaign.objects.get(pk=campaign.pk).status != Campaign.Status.SENT:
            time.sleep(0.5)
            if any(w.poll() is not None for w in procs):
                raise SystemExit("a worker died")
        elapsed = time.perf_counter() - started
        memory = [vm_hwm_mb(w.pid) for w in procs]
        smtp_mb = vm_hwm_mb(server.pid)
    finally:
        for w in procs:
            w.terminate()
            w.wait(timeout=30)
        server.terminate()
    return {"recipients": campaign.deliveries.filter(is_holdout=False).count(), "ledger_rows": campaign.deliveries.count(),
            "received": counter.value, "seconds": elapsed, "ledger_seconds": frozen, "worker_mb": memory, "smtp_mb": smtp_mb}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    # Production-like: DEBUG off (DEBUG keeps every SQL statement in memory and costs ~8% here).
    os.environ.update(DATABASE_URL=DB_URL, REDIS_URL=REDIS_URL, DJANGO_SETTINGS_MODULE="clmsite.settings", OMP_NUM_THREADS="1",
                      DEBUG="0", SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50))
    database_ensure(DB_URL)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    generate(args.recipients)

    from campaigns.models import Campaign, Delivery
    from campaigns.services import lifecycle

    Delivery.objects.filter(campaign__slug__startswith="bench-").delete()  # ledger rows protect their variants
    Campaign.objects.filter(slug__startswith="bench-").delete()
    campaign = lifecycle.campaign_create(
        name="Bench", slug=f"bench-{os.getpid()}", holdout_share="0.1", recommendations_count=4, discount_prefix="BENCH", offer_text="15% off",
        variants=[{"name": "A", "share": 50, "subject": "{{ customer.first_name }}, picked for you", "html_body": HTML, "text_body": TEXT},
                  {"name": "B", "share": 50, "subject": "New in for {{ customer.first_name }}", "html_body": HTML, "text_body": TEXT}],
    )
    sent = campaign_send(campaign, workers=args.workers)
    recipients, elapsed, frozen, received = sent["recipients"], sent["seconds"], sent["ledger_seconds"], sent["received"]
    print(f"ledger: {sent['ledger_rows']} rows ({recipients} to send) frozen in {frozen:.1f} s")
    print(f"SMTP server received {received} messages for {recipients} recipients (one each: {received == recipients})")
    print(f"sent {received} messages to the SMTP server in {elapsed:.1f} s "
          f"(ledger included): {received / elapsed:.0f} messages/s with {args.workers} workers; "
          f"sending only: {received / (elapsed - frozen):.0f} messages/s")
    print("peak memory (VmHWM): workers " + ", ".join(f"{m:.0f} MB" for m in sent["worker_mb"]) + f"; SMTP server {sent['smtp_mb']:.0f} MB; "
          f"this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"render only (one process, no SMTP, no DB writes): {render_only_rate(campaign):.0f} messages/s")
    print(f"machine: {os.cpu_count()} cores shared with other jobs, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")


if __name__ == "__main__":
    main()
