"""Every hostile file through every route: a "<file>, line N: ..." message, nothing written, never a 500."""
import html
import io
import json
import tracemalloc
import urllib.parse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from customers.imports.readers import ImportFileError, gunzip_limited
from customers.models import ImportBatch
from tests.customers.imports.conftest import shop_is_empty
from tests.customers.imports.hostile import CASES, gzip_bomb

pytestmark = pytest.mark.django_db
IDS = [case.name for case in CASES]


def _expected(case, route: str) -> str:
    return case.expect_by_route.get(route, case.expect)


def _apply(settings, case) -> None:
    for name, value in case.settings.items():
        setattr(settings, name, value)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_command_refuses_hostile_file(case, tmp_path, settings):
    # given a hostile file when import_orders runs then a CommandError gives the message and nothing is written
    _apply(settings, case)
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    args = ["--preset", "online_retail"]
    if case.mapping is not None:
        (tmp_path / "m.json").write_text(json.dumps(case.mapping))
        args = ["--mapping", str(tmp_path / "m.json")]
    with pytest.raises(CommandError) as caught:
        call_command("import_orders", str(path), *args, "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    assert _expected(case, "command") in str(caught.value)
    assert shop_is_empty()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_admin_upload_refuses_hostile_file(case, admin_user_client, settings, django_capture_on_commit_callbacks):
    # given a hostile file when uploaded by staff and its queued import has run then the page shows the message (no 500) and nothing is written
    _apply(settings, case)
    form = {"kind": "orders", "file": SimpleUploadedFile(case.filename, case.data)}
    form.update({"preset": "online_retail"} if case.mapping is None else {"preset": "", "mapping": json.dumps(case.mapping)})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_user_client.post(reverse("admin:customers_importbatch_upload"), form)
    if response.status_code == 302:
        response = admin_user_client.get(response.url)
    assert response.status_code == 200
    assert _expected(case, "admin") in html.unescape(response.content.decode())
    assert shop_is_empty()
    for batch in ImportBatch.objects.select_related("job"):  # none when the form refused the mapping before queueing
        assert batch.status == batch.job.status == "failed" and batch.job.error == batch.error


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_api_refuses_hostile_file(case, api_client, settings):
    # given a hostile file when posted to the API then 400 gives the message and nothing is written
    _apply(settings, case)
    query = "preset=online_retail" if case.mapping is None else "mapping=" + urllib.parse.quote(json.dumps(case.mapping))
    url = reverse("import-create", kwargs={"kind": "orders"}) + "?" + query
    kind = "application/gzip" if case.filename.endswith(".gz") else "text/csv"
    response = api_client.post(url, data=case.data, content_type=kind)
    assert response.status_code == 400
    assert _expected(case, "api").replace("hostile.csv", "api-orders.csv") in response.json()["detail"]
    assert shop_is_empty()


def test_api_json_record_with_object_value_names_the_record(api_client):
    # given a JSON record whose customer_id is an object when posted then 400 names record 1 as line 2 and the field
    record = {"order_id": "A1", "sku": "S1", "quantity": 1, "placed_at": "2011-05-01T10:00:00", "unit_price": "1", "customer_id": {"id": 1}}
    response = api_client.post(reverse("import-create", kwargs={"kind": "orders"}), [record], format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "api-orders.json, line 2: customer_id {'id': 1} is not a plain value (it is a JSON object)"
    assert shop_is_empty()


def test_api_body_past_the_upload_limit_is_413(api_client, settings):
    # given DATA_UPLOAD_MAX_MEMORY_SIZE of 1 KB when a 2 KB CSV is posted then 413 and no batch is created
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    url = reverse("import-create", kwargs={"kind": "orders"}) + "?preset=online_retail"
    response = api_client.post(url, data=CASES[1].data * 12, content_type="text/csv")
    assert response.status_code == 413
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.json()["detail"]
    assert not ImportBatch.objects.exists()


def test_body_is_read_in_chunks_and_stops_past_the_limit(settings):
    # given a 64 MB body stream and a 1 MB limit when read then reading stops after about 2 MB
    from customers.api.imports import BodyTooLarge, read_limited

    class Stream:
        served = 0

        def read(self, size):
            if self.served >= 64 << 20:
                return b""
            self.served += size
            return b"x" * size

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1 << 20
    stream = Stream()
    with pytest.raises(BodyTooLarge):
        read_limited(stream)
    assert stream.served <= 2 << 20


def test_gzip_bomb_is_refused_without_inflating_it_whole():
    # given a 256 KB gzip that inflates to 256 MiB when read with an 8 MiB limit then it is refused with under 64 MiB allocated
    bomb = gzip_bomb(256 << 20)
    tracemalloc.start()
    with pytest.raises(ImportFileError, match=r"b\.csv\.gz: the gzip file inflates past 8,388,608 bytes"):
        gunzip_limited(bomb, "b.csv.gz", 8 << 20)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(bomb) < 1 << 20 and peak < 64 << 20


def test_multi_member_gzip_is_read_whole():
    # given two gzip members back to back (as `cat a.gz b.gz` makes) when inflated then both parts come back
    import gzip

    assert gunzip_limited(gzip.compress(b"a,b\n") + gzip.compress(b"1,2\n"), "m.gz", 1 << 20) == b"a,b\n1,2\n"


def test_failed_batch_error_is_bounded_and_list_is_small(api_client):
    # given a failed import with a 1 MB header when listed then the stored error is at most 4 KB and the list entry shorter
    huge = next(c for c in CASES if c.name == "huge_header")
    url = reverse("import-create", kwargs={"kind": "orders"}) + "?preset=online_retail"
    api_client.post(url, data=huge.data, content_type="text/csv")
    batch = ImportBatch.objects.get()
    listed = api_client.get(reverse("importbatch-list"))
    assert batch.status == "failed" and len(batch.error) <= 4100
    assert len(listed.content) < 3000 and "samples" not in listed.json()["results"][0]
