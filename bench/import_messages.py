"""The message each hostile file gets, from every route: prints the table of docs/data.md.

    .venv/bin/python bench/import_messages.py

Runs every case of tests/customers/imports/hostile.py through the import_orders command, the
admin upload and the REST API on a scratch SQLite database (under bench/.cache/messages), and
prints one Markdown row per case with the exact message each route gave, the API's status
code and the shop rows written (always 0). Not a timing: the table is generated, not written.
"""
from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import sys
import tempfile
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "bench" / ".cache" / "messages"


def _django() -> None:
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    os.environ.update({"CLM_VAR_DIR": str(VAR), "DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": ""})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clmsite.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _rows_written() -> int:
    from customers.models import Customer, Order, OrderLine, Product

    return sum(m.objects.count() for m in (Customer, Product, Order, OrderLine))


def _command(case) -> str:
    from django.core.management import CommandError, call_command

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / case.filename
        path.write_bytes(case.data)
        args = ["--preset", "online_retail"]
        if case.mapping is not None:
            (Path(folder) / "m.json").write_text(json.dumps(case.mapping))
            args = ["--mapping", str(Path(folder) / "m.json")]
        try:
            call_command("import_orders", str(path), *args, "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
        except CommandError as exc:
            return str(exc).replace(folder + "/", "")
    return "(accepted)"


def _admin(client, case) -> str:
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = {"kind": "orders", "file": SimpleUploadedFile(case.filename, case.data)}
    form.update({"preset": "online_retail"} if case.mapping is None else {"preset": "", "mapping": json.dumps(case.mapping)})
    response = client.post("/admin/customers/importbatch/upload/", form, follow=True)
    page = response.content.decode()
    found = re.findall(r'<li class="error">(.*?)</li>', page, re.S) or re.findall(r'<ul class="errorlist[^"]*"[^>]*><li>(.*?)</li>', page, re.S)
    text = html.unescape(found[0]).strip() if found else f"(HTTP {response.status_code}, no message)"
    return f"{text} (HTTP {response.status_code})" if response.status_code != 200 else text.removeprefix("Import failed: ")


def _api(client, case) -> tuple[int, str]:
    query = "preset=online_retail" if case.mapping is None else "mapping=" + urllib.parse.quote(json.dumps(case.mapping))
    kind = "application/gzip" if case.filename.endswith(".gz") else "text/csv"
    response = client.post("/api/v1/imports/orders?" + query, data=case.data, content_type=kind)
    return response.status_code, response.json().get("detail", "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main() -> None:
    _django()
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings
    from rest_framework.test import APIClient

    from tests.customers.imports.hostile import CASES

    user = get_user_model().objects.create_superuser("messages", "m@example.com", "pw-messages-123")
    admin, api = Client(), APIClient()
    admin.force_login(user)
    api.force_authenticate(user)
    print("| case | file | command (`import_orders`) | admin upload | API (status) | rows written |")
    print("| --- | --- | --- | --- | --- | ---: |")
    for case in CASES:
        with override_settings(**case.settings):
            command, upload, (status, detail) = _command(case), _admin(admin, case), _api(api, case)
        upload_cell = "same" if upload == command else _cell(upload)
        api_cell = "same (file `api-orders.csv`)" if detail.replace("api-orders.csv", "hostile.csv") == command else _cell(detail)
        print(f"| `{case.name}` | {_cell(case.what)} | {_cell(command)} | {upload_cell} | {status}: {api_cell} | {_rows_written()} |")
    record = {"order_id": "A1", "sku": "S1", "quantity": 1, "placed_at": "2011-05-01T10:00:00", "unit_price": "1", "customer_id": {"id": 1}}
    response = api.post("/api/v1/imports/orders", [record], format="json")
    print(f"| `json_record_object` | a JSON record whose customer_id is an object | – | – | {response.status_code}: "
          f"{_cell(response.json()['detail'])} | {_rows_written()} |")
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024):
        response = api.post("/api/v1/imports/orders?preset=online_retail", data=CASES[1].data * 12, content_type="text/csv")
    print(f"| `body_past_limit` | a 2 KB CSV body, DATA_UPLOAD_MAX_MEMORY_SIZE = 1 KB | – | – | {response.status_code}: "
          f"{_cell(response.json()['detail'])} | {_rows_written()} |")
    grocery()


def grocery() -> None:
    """The grocery export of the issue: what its lines became."""
    from customers.imports.services import import_bytes
    from customers.models import ImportBatch, OrderLine, Product
    from customers.money import money_format, price_format
    from tests.customers.imports.samples import GROCERY, GROCERY_MAPPING

    batch = ImportBatch.objects.get(pk=import_bytes(data=GROCERY.encode(), source_name="grocery.csv", kind="orders", mapping=GROCERY_MAPPING))
    print(f"\nGrocery export ({batch.rows_read} lines): {batch.message}")
    print("\n| basket | product | kind | attributes | quantity | line total in the file | stored unit price | line amount | order total |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    totals = dict(zip((line.split(",")[0] + line.split(",")[2] for line in GROCERY.splitlines()[1:]),
                      (line.split(",")[4] for line in GROCERY.splitlines()[1:]), strict=True))
    for line in OrderLine.objects.select_related("order", "product").order_by("order__external_id", "line_no"):
        product: Product = line.product
        print(f"| {line.order.external_id} | {product.sku} | {product.kind} | {json.dumps(product.attributes)} | {line.quantity:,} "
              f"| {totals[line.order.external_id + product.sku]} | {price_format(line.unit_price, line.order.currency)} "
              f"| {money_format(line.amount, line.order.currency)} | {money_format(line.order.total, line.order.currency)} |")
    counted = {k: v for k, v in batch.rule_counts.items() if k in ("unit_price_derived", "unit_price_rounded", "fee_lines")}
    print(f"\nRules counted: {counted}; sample of unit_price_rounded: {batch.samples.get('unit_price_rounded')}")


if __name__ == "__main__":
    main()
