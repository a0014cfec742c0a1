"""Live endpoint latency of GET /api/v1/customers/{id}/recommendations?k=10 (part of bench/recommender.py)."""
from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "bench" / ".cache" / "latency"
PORT = 8765


def setup_django() -> None:
    os.environ["CLM_VAR_DIR"] = str(VAR)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clmsite.settings")
    import django

    django.setup()


def load_shop(data_path: Path) -> None:
    """Bulk-insert Online Retail into the shop tables (bench shortcut; the platform imports files itself)."""
    from customers.models import Customer, Order, OrderLine, Product
    from mlcore.ml.datasets import online_retail

    lines, products = online_retail(data_path)
    Product.objects.bulk_create([Product(sku=r.sku, title=str(r.title)[:300], category=r.category, price=round(r.price, 2)) for r in products.itertuples()], batch_size=5000)
    sku_to_id = dict(Product.objects.values_list("sku", "id"))
    first = lines.drop_duplicates("customer_id")
    Customer.objects.bulk_create([Customer(external_id=str(r.customer_id), country=r.country) for r in first.itertuples()], batch_size=5000)
    customer_ids = dict(Customer.objects.values_list("external_id", "id"))
    orders = lines.drop_duplicates("order_id")
    Order.objects.bulk_create([Order(external_id=str(r.order_id), customer_id=customer_ids[str(r.customer_id)], placed_at=r.placed_at, country=r.country) for r in orders.itertuples()], batch_size=5000)
    order_ids = dict(Order.objects.values_list("external_id", "id"))
    lines = lines.assign(line_no=lines.groupby("order_id").cumcount() + 1)
    OrderLine.objects.bulk_create([
        OrderLine(order_id=order_ids[str(r.order_id)], line_no=r.line_no, product_id=sku_to_id[r.sku], quantity=r.quantity, unit_price=round(r.unit_price, 2))
        for r in lines.itertuples()
    ], batch_size=5000)


def prepare(data_path: Path) -> tuple[str, list[str]]:
    VAR.mkdir(parents=True, exist_ok=True)
    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from customers.models import Customer
    from mlcore.models import ModelVersion

    call_command("migrate", verbosity=0)
    if not Customer.objects.exists():
        started = time.perf_counter()
        load_shop(data_path)
        print(f"  load shop tables                       {time.perf_counter() - started:9.2f} s")
    if not ModelVersion.objects.filter(kind="recommender", is_active=True).exists():
        started = time.perf_counter()
        call_command("train_recommender")
        print(f"  train_recommender (full, in-platform)  {time.perf_counter() - started:9.2f} s")
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    token, _ = Token.objects.get_or_create(user=user)
    return token.key, list(Customer.objects.values_list("external_id", flat=True))


def bench_latency(data_path: Path, requests: int) -> None:
    print(f"\n== live endpoint latency ({requests:,} requests, runserver --noreload on 127.0.0.1:{PORT}, SQLite)")
    token, external_ids = prepare(data_path)
    env = {**os.environ, "CLM_VAR_DIR": str(VAR), "DEBUG": "false", "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up()
        rng = np.random.default_rng(1)
        chosen = rng.choice(external_ids, size=requests)
        chosen[::10] = "UNKNOWN-CUSTOMER"  # every tenth request takes the popularity fallback
        for external_id in chosen[:20]:
            get(f"/api/v1/customers/{external_id}/recommendations?k=10", token)  # warm-up
        latencies = []
        for external_id in chosen:
            started = time.perf_counter()
            status = get(f"/api/v1/customers/{external_id}/recommendations?k=10", token)
            latencies.append((time.perf_counter() - started) * 1000)
            assert status == 200, status
        p50, p95 = np.percentile(latencies, [50, 95])
        print(f"  p50 {p50:.1f} ms   p95 {p95:.1f} ms   mean {np.mean(latencies):.1f} ms   max {np.max(latencies):.1f} ms")
    finally:
        server.terminate()
        server.wait(timeout=10)


def get(path: str, token: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    connection.request("GET", path, headers={"Authorization": f"Token {token}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


def wait_until_up(timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the server did not come up")
