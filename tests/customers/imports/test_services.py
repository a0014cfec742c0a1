import gzip
import threading
from decimal import Decimal

import pytest
from django.db import connection

from customers.imports import loading
from customers.imports.readers import ImportFileError
from customers.imports.services import import_batch_rows_done, import_file
from customers.models import Customer, ImportBatch, Order, OrderLine, Product
from infra import jobs
from infra.models import Job
from tests.customers.imports.conftest import shop_is_empty, shop_snapshot
from tests.customers.imports.samples import LINES, write_retail

pytestmark = pytest.mark.django_db


def _import(path, backend="batched", **kw):
    return import_file(path=path, kind="orders", preset="online_retail", backend=backend, **kw)


def test_import_writes_cleaned_tables(tmp_path, backend):
    # given the sample file when imported then customers, fee products, orders and linked returns are stored
    batch = ImportBatch.objects.get(pk=_import(write_retail(tmp_path / "s.csv"), backend))
    assert batch.status == "succeeded"
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["12346", "13047", "17850"]
    assert Customer.objects.get(external_id="13047").country == "Ireland"
    assert Product.objects.get(sku="POST").kind == "fee"
    assert Order.objects.get(external_id="536370").customer is None
    assert Order.objects.get(external_id="536365").total == Decimal("35.64")
    ret = OrderLine.objects.get(order__external_id="C536379")
    assert ret.quantity == -2 and ret.returned_line.order.external_id == "536366"
    assert Order.objects.get(external_id="C536379").status == "cancelled"
    assert OrderLine.objects.count() == len(LINES) - 2
    assert batch.entity_counts["order_lines"] == {"created": 11, "updated": 0, "unchanged": 0}


def test_same_file_twice_changes_nothing_and_says_so(tmp_path, backend):
    # given a file imported once when imported again then nothing changes and the batch says so
    path = write_retail(tmp_path / "s.csv")
    first = _import(path, backend)
    before = shop_snapshot()
    second = ImportBatch.objects.get(pk=_import(path, backend))
    assert shop_snapshot() == before
    assert (second.rows_created, second.rows_updated) == (0, 0)
    assert second.rows_unchanged > 0
    assert second.message.startswith("Unchanged") and f"batch #{first}" in second.message


def test_overlapping_files_merge_without_duplicates(tmp_path, backend):
    # given two files cut mid-invoice that overlap when both imported then the state equals one full import
    _import(write_retail(tmp_path / "all.csv"), backend)
    whole = shop_snapshot()
    OrderLine.objects.all().delete()
    Order.objects.all().delete()
    Product.objects.all().delete()
    Customer.objects.all().delete()
    _import(write_retail(tmp_path / "b.csv", LINES[1:]), backend)
    _import(write_retail(tmp_path / "a.csv", LINES[:2]), backend)
    merged = shop_snapshot()

    def without_line_no(lines):  # numbers follow arrival order, which differs between the two runs
        return [line[:2] + line[3:] for line in lines]

    assert without_line_no(merged["lines"]) == without_line_no(whole["lines"])
    assert merged["orders"] == whole["orders"]
    # a product's title is the latest file's most frequent description (docs/data.md), so compare the rest
    assert [p[:1] + p[2:4] for p in merged["products"]] == [p[:1] + p[2:4] for p in whole["products"]]
    assert merged["customers"] == whole["customers"]


def test_a_fresh_import_writes_each_order_once_with_its_total(tmp_path, backend):
    # given an empty shop, when the sample file is imported, then new orders carry their totals from the insert (the lines' refresh rewrites none) and a later file adding a line to a stored order still moves its total
    batch = ImportBatch.objects.get(pk=_import(write_retail(tmp_path / "s.csv"), backend))
    assert batch.entity_counts["figures"]["order_totals_set"] == 0
    assert Order.objects.get(external_id="536365").total == Decimal("35.64")
    extra = "536365,22728,ALARM CLOCK BAKELIKE PINK,2,2010-12-01 08:26:00,1.50,17850.0,United Kingdom"
    second = ImportBatch.objects.get(pk=_import(write_retail(tmp_path / "more.csv", [extra]), backend))
    assert second.entity_counts["figures"]["order_totals_set"] == 1
    assert Order.objects.get(external_id="536365").total == Decimal("38.64")


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda t: t.replace(b",UnitPrice", b",Price"), r"s\.csv, line 1: missing required columns"),
        (lambda t: t.replace(b",", b";"), r"s\.csv, line 1: wrong delimiter"),
        (lambda t: t.replace(b"WHITE METAL", b"WHIT\xc9 METAL", 1), r"s\.csv, line 3: not valid utf-8"),
        (lambda t: gzip.compress(t)[:-30], r"s\.csv: truncated or corrupt gzip"),
        (lambda t: t.replace(b"3.39", b"3.39x", 1), r"s\.csv, line 3: unit_price '3.39x' is not a number"),
        (lambda t: t.replace(b"2010-12-01 08:28:00", b"yesterday", 1), r"s\.csv, line 5: placed_at 'yesterday' is not a date/time"),
    ],
    ids=["missing-column", "wrong-delimiter", "bad-encoding", "truncated-gzip", "bad-number", "bad-date"],
)
def test_bad_file_fails_batch_and_writes_nothing(tmp_path, mangle, message):
    # given a damaged file when imported then a clear error names file and line, the batch and its job fail with it, no rows are left
    path = tmp_path / "s.csv"
    path.write_bytes(mangle(write_retail(tmp_path / "ok.csv").read_bytes()))
    with pytest.raises(ImportFileError, match=message) as caught:
        _import(path)
    batch = ImportBatch.objects.select_related("job").get(pk=caught.value.batch_id)
    assert batch.status == "failed" and batch.error == str(caught.value)
    assert batch.job.kind == "import" and batch.job.status == "failed" and batch.job.error == batch.error
    assert batch.job.done == 0 and batch.job.finished_at is not None
    assert shop_is_empty()


def test_killed_import_leaves_nothing_and_rerun_matches_uninterrupted(tmp_path, monkeypatch, backend):
    # given an import that dies after its first written batch when run again then the state equals an uninterrupted run
    path = write_retail(tmp_path / "s.csv")
    _import(path, backend)
    expected = shop_snapshot()
    OrderLine.objects.all().delete()
    Order.objects.all().delete()
    Product.objects.all().delete()
    Customer.objects.all().delete()
    monkeypatch.setattr(loading, "BATCH_SIZE", 2)
    calls = []

    def die(rows):
        calls.append(rows)
        if len(calls) == 3:
            raise RuntimeError("worker killed")

    monkeypatch.setattr(loading, "after_batch", die)
    with pytest.raises(RuntimeError, match="worker killed"):
        _import(path, backend)
    assert shop_is_empty()
    assert ImportBatch.objects.order_by("-id").first().status == "failed"
    monkeypatch.setattr(loading, "after_batch", lambda rows: None)
    _import(path, backend)
    assert shop_snapshot() == expected


def test_synthetic_emails_only_with_the_flag(tmp_path):
    # given an import without and then with the flag when done then only the flagged run adds demo emails with consent
    path = write_retail(tmp_path / "s.csv")
    _import(path)
    assert not Customer.objects.exclude(email="").exists()
    _import(path, synthetic_emails=True)
    customer = Customer.objects.get(external_id="17850")
    assert customer.email == "customer-17850@example.com"
    assert customer.email_consent and customer.email_consent_source == "import"
    assert customer.consent_changes.count() == 1


def test_load_backend_follows_the_database(settings):
    # given the test database when asked then the loader picks copy on PostgreSQL and batched elsewhere
    from django.db import connection
    assert loading.load_backend() == ("copy" if connection.vendor == "postgresql" else "batched")


def test_direct_import_runs_and_succeeds_its_own_job(tmp_path, backend):
    # given an import called directly (a command, the API) when it is done then its own import job succeeded with done == rows written
    batch = ImportBatch.objects.select_related("job").get(pk=_import(write_retail(tmp_path / "s.csv"), backend))
    job = batch.job
    assert job.kind == "import" and job.status == "succeeded" and job.task_id == ""
    assert job.done == job.total == batch.rows_done == batch.rows_total > 0
    assert job.message == batch.message and job.result["batch_id"] == batch.pk
    assert job.started_at is not None and job.finished_at is not None


def test_import_reports_to_the_job_it_is_given(tmp_path):
    # given a running job of a task when the import runs under it then the batch points at it and leaves its end to the runner
    job = jobs.job_create(kind="import", task_id="celery-1")
    jobs.job_start(job_id=job.pk)
    batch = ImportBatch.objects.get(pk=_import(write_retail(tmp_path / "s.csv"), job_id=job.pk))
    job.refresh_from_db()
    assert batch.job_id == job.pk and ImportBatch.objects.count() == Job.objects.count() == 1
    assert job.status == "running" and job.done == job.total == batch.rows_total


@pytest.mark.django_db(transaction=True)
def test_live_progress_is_readable_from_another_connection_while_running(tmp_path, monkeypatch):
    # given an import paused after its written batches when another connection reads the batch then its job's live count advances before the commit
    monkeypatch.setattr(loading, "BATCH_SIZE", 2)
    seen = []

    def read_elsewhere():
        batch = ImportBatch.objects.select_related("job").order_by("-id").first()  # this thread's own connection
        seen.append((batch.status, batch.job.done, import_batch_rows_done(batch=batch), batch.rows_total))
        connection.close()

    def peek(rows):
        thread = threading.Thread(target=read_elsewhere)
        thread.start()
        thread.join(timeout=60)

    monkeypatch.setattr(loading, "after_batch", peek)
    _import(write_retail(tmp_path / "s.csv"))
    assert all(status == "running" and row_done == 0 for status, row_done, _, _ in seen)  # the row's own count is hidden
    live = [done for _, _, done, _ in seen]
    assert live == sorted(live) and 0 < live[0] < live[-1] <= seen[0][3]
    batch = ImportBatch.objects.select_related("job").get()
    assert batch.rows_done == batch.rows_total == batch.job.done


DIRTY_EXTRA = [
    " 536371 , 22633 ,HAND WARMER UNION JACK,3,2010-12-03 10:00:00,1.123456789049, 17850.0 ,United Kingdom",  # padded, long decimals
    "536371,85123A,WHITE HANGING HEART T-LIGHT HOLDER,2,2010-12-03 10:00:00,0.30000000000000004,17850.0,UK",  # float noise, alias
]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="compares the COPY path with the portable one (set DATABASE_URL)")
def test_copy_path_writes_what_the_portable_path_writes(tmp_path):
    # given a dirty file; when each path imports it into an empty shop; then the same rows, counts and report
    path = write_retail(tmp_path / "dirty.csv", [*LINES, *DIRTY_EXTRA])
    results = {}
    for backend in ("batched", "copy"):
        batch = ImportBatch.objects.get(pk=_import(path, backend))
        results[backend] = (shop_snapshot(), batch.rows_created, batch.rows_updated, batch.rows_unchanged, batch.rule_counts,
                            batch.entity_counts, batch.samples)
        for model in (OrderLine, Order, Product, Customer):
            model.objects.all().delete()
    assert results["copy"] == results["batched"]
    assert results["copy"][1] > 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's (set DATABASE_URL)")
def test_a_large_load_leaves_the_planner_statistics_of_what_it_wrote(tmp_path, settings):
    # given a threshold the sample file passes for its lines only, when it is imported, then the line
    # table has statistics (the first night after a big import planned on an empty table's) and the customers table none
    def statistics(model) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_statistic WHERE starelid = %s::regclass", [model._meta.db_table])
            return cursor.fetchone()[0]

    settings.IMPORT_ANALYZE_MIN_ROWS = 8
    assert statistics(OrderLine) == 0
    _import(write_retail(tmp_path / "orders.csv", LINES), "copy")
    assert OrderLine.objects.count() >= 8 > Customer.objects.count()
    assert statistics(OrderLine) > 0 and statistics(Customer) == 0


def _schema(*models) -> list[tuple]:
    """Every index and constraint of these tables, by name and definition (PostgreSQL)."""
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), condeferrable, condeferred FROM pg_constraint "
                       "WHERE conrelid = ANY(%s::regclass[]) UNION ALL SELECT tablename::text, indexname::text, indexdef, NULL, NULL "
                       "FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1, 2, 3", [tables, tables])
        return cursor.fetchall()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the first load's deferred indexes are PostgreSQL's (set DATABASE_URL)")
def test_first_load_into_empty_tables_writes_what_the_merge_writes_and_keeps_every_index(tmp_path, settings):
    # given a dirty file and an empty shop, when it is imported with every table's load large enough to
    # build its indexes after the rows, then the rows, counts and report equal the usual merge's, the
    # tables end with the same indexes and constraints, and a second import (tables no longer empty) merges as before
    path = write_retail(tmp_path / "dirty.csv", [*LINES, *DIRTY_EXTRA])
    before = _schema(OrderLine, Order, Product, Customer)
    results = {}
    for label, least in (("merge", 10**9), ("first load", 1)):
        settings.IMPORT_FIRST_LOAD_MIN_ROWS = least
        batch = ImportBatch.objects.get(pk=_import(path, "copy"))
        results[label] = (shop_snapshot(), batch.rows_created, batch.rows_updated, batch.rows_unchanged, batch.rule_counts,
                          batch.entity_counts, batch.samples)
        assert _schema(OrderLine, Order, Product, Customer) == before
        if label == "merge":
            for model in (OrderLine, Order, Product, Customer):
                model.objects.all().delete()
    assert results["first load"] == results["merge"]
    again = ImportBatch.objects.get(pk=_import(path, "copy"))
    assert again.rows_created == 0 and again.rows_unchanged == results["merge"][1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the first load's deferred indexes are PostgreSQL's (set DATABASE_URL)")
def test_a_first_load_that_fails_leaves_nothing_and_every_index_in_place(tmp_path, settings, monkeypatch):
    # given an empty shop and a line load that fails once its indexes and foreign keys are dropped,
    # when the file is imported, then the batch fails, no row was written and every index and constraint is back
    settings.IMPORT_FIRST_LOAD_MIN_ROWS = 1
    before = _schema(OrderLine, Order, Product, Customer)
    real, indexes_at_insert = loading._insert_sql, []

    def orphan_lines(spec, stage, cols, now):  # lines pointing at an order that does not exist
        sql = real(spec, stage, cols, now)
        if spec.model is not OrderLine:
            return sql
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [spec.table])
            indexes_at_insert.extend(name for (name,) in cursor.fetchall())
        return sql.replace('s."order_id"', 's."order_id" + 1000000')

    monkeypatch.setattr(loading, "_insert_sql", orphan_lines)
    with pytest.raises(ImportFileError, match="nothing was written"):
        _import(write_retail(tmp_path / "orders.csv", LINES), "copy")
    assert indexes_at_insert == ["customers_orderline_pkey"]  # the rows went in with the primary key only
    assert shop_is_empty()
    assert ImportBatch.objects.get().status == "failed"
    assert _schema(OrderLine, Order, Product, Customer) == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the first load's deferred indexes are PostgreSQL's (set DATABASE_URL)")
def test_indexes_are_never_dropped_outside_a_transaction():
    # given autocommit, when indexes_built_after is entered, then it refuses before touching the table
    from infra.bulk import indexes_built_after

    before = _schema(OrderLine)
    with pytest.raises(RuntimeError, match="needs a transaction"), indexes_built_after(OrderLine._meta.db_table):
        pass
    assert _schema(OrderLine) == before
