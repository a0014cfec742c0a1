"""Other shops' exports by mapping: line totals, epoch and offset times, day/month order,
attributes, product kinds by rule, labelled reviews; and re-imports that damage nothing."""
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from customers.imports.readers import ImportFileError
from customers.imports.services import import_bytes
from customers.models import ImportBatch, Order, OrderLine, Product, Review
from tests.customers.imports.samples import GROCERY, GROCERY_MAPPING

pytestmark = pytest.mark.django_db

def _grocery(backend, text=GROCERY, **extra):
    return import_bytes(data=text.encode(), source_name="grocery.csv", kind="orders", backend=backend, mapping={**GROCERY_MAPPING, **extra})


def test_line_total_keeps_the_fuel_price_and_sums_to_the_cent(backend):
    # given the grocery file with 30,080 units of fuel for $86.01 when imported then the unit price keeps its precision and the total is $89.00
    batch = ImportBatch.objects.get(pk=_grocery(backend))
    fuel = OrderLine.objects.get(product__sku="6534178")
    assert fuel.unit_price == Decimal("0.002859375")
    assert fuel.amount.quantize(Decimal("0.01")) == Decimal("86.01")
    assert Order.objects.get(external_id="B1").total == Decimal("88.99")
    assert OrderLine.objects.get(order__external_id="B2", product__sku="7001").unit_price == Decimal("0.3333333333")
    assert Order.objects.get(external_id="B2").total == Decimal("2.39")
    assert batch.rule_counts["unit_price_derived"] == 4 and batch.rule_counts["unit_price_rounded"] == 1
    assert batch.samples["unit_price_rounded"][0]["_line"] == 5


def test_epoch_seconds_and_currency_are_read(backend):
    # given epoch-second days and USD in the mapping when imported then orders are at those instants in USD
    _grocery(backend)
    order = Order.objects.get(external_id="B1")
    assert order.placed_at.isoformat() == "2023-11-14T22:13:20+00:00" and order.currency == "USD"


def test_fuel_category_is_a_fee_and_brand_is_kept(backend):
    # given a FUEL department (a fee by SHOP_PRODUCT_KINDS) and brand/commodity attributes when imported then both are stored
    _grocery(backend)
    fuel, potato = Product.objects.get(sku="6534178"), Product.objects.get(sku="1004906")
    assert fuel.kind == "fee" and potato.kind == "product"
    assert potato.attributes == {"brand": "National", "commodity": "POTATOES"} and potato.category == "PRODUCE"
    assert not Product.objects.recommendable().filter(sku="6534178").exists()


def test_product_kinds_by_sku_pattern_in_the_mapping(backend):
    # given a mapping rule that SKUs 7xxx are fees (replacing the settings' rules) when imported then 7001 is a fee and fuel is not
    _grocery(backend, product_kinds={"fee": {"sku_patterns": ["7\\d+"]}})
    assert Product.objects.get(sku="7001").kind == "fee" and Product.objects.get(sku="6534178").kind == "product"


def test_kind_column_decides(backend):
    # given an order file with a kind column when imported then its fee line's product is a fee
    text = "o,s,q,d,p,k\nA,DEP1,1,2011-05-01 10:00,0.25,fee\nA,MILK,1,2011-05-01 10:00,1.10,\n"
    import_bytes(data=text.encode(), source_name="k.csv", kind="orders", backend=backend,
                 mapping={"order_id": "o", "sku": "s", "quantity": "q", "placed_at": "d", "unit_price": "p", "kind": "k"})
    assert Product.objects.get(sku="DEP1").kind == "fee" and Product.objects.get(sku="MILK").kind == "product"


def test_every_unmapped_column_kept_as_attributes(backend):
    # given attributes "*" when a products file is imported then each unmapped column is an attribute
    text = "sku,title,brand,department\nP1,Mug,Acme,Kitchen\n"
    import_bytes(data=text.encode(), source_name="p.csv", kind="products", backend=backend,
                 mapping={"sku": "sku", "title": "title", "attributes": "*"})
    assert Product.objects.get(sku="P1").attributes == {"brand": "Acme", "department": "Kitchen"}


def _orders(text: str, **mapping) -> None:
    columns = {"order_id": "o", "sku": "s", "quantity": "q", "placed_at": "d", "unit_price": "p"}
    import_bytes(data=text.encode(), source_name="d.csv", kind="orders", mapping={"columns": columns, **mapping})


def test_iso_times_with_offsets_are_read_as_instants():
    # given ISO times with +01:00 and Z when imported then both are stored at the right UTC instant
    _orders("o,s,q,d,p\nA,S,1,2011-06-01T10:00:00+01:00,1\nB,S,1,2011-06-01T09:00:00Z,1\n")
    assert {o.placed_at.isoformat() for o in Order.objects.all()} == {"2011-06-01T09:00:00+00:00"}


def test_ambiguous_day_month_file_is_refused_naming_the_option():
    # given a file whose every date reads both ways when imported without dayfirst then it is refused naming dayfirst
    with pytest.raises(ImportFileError, match=r"d\.csv, line 2: placed_at '09/12/2011 10:00' is not an unambiguous date.*set dayfirst: true"):
        _orders("o,s,q,d,p\nA,S,1,09/12/2011 10:00,1\n")
    assert not Order.objects.exists()


def test_dayfirst_reads_9_december():
    # given dayfirst true when 09/12/2011 is imported then the order is on 9 December
    _orders("o,s,q,d,p\nA,S,1,09/12/2011 10:00,1\n", dayfirst=True)
    assert Order.objects.get().placed_at.date().isoformat() == "2011-12-09"


def test_day_above_12_shows_the_order_and_a_contradiction_is_refused():
    # given a day 25 in the file then it is read day first; with dayfirst false the same file is refused
    _orders("o,s,q,d,p\nA,S,1,09/12/2011 10:00,1\nB,S,1,25/12/2011 10:00,1\n")
    assert Order.objects.get(external_id="A").placed_at.month == 12
    with pytest.raises(ImportFileError, match=r"line 2: placed_at '25/12/2011 10:00' is not a month/day date as the mapping's dayfirst: false says"):
        _orders("o,s,q,d,p\nC,S,1,25/12/2011 10:00,1\n", dayfirst=False)


def test_labelled_reviews_import_as_they_are(backend):
    # given reviews with a 0/1 label and no stars when imported with a language then labels are stored, ratings empty
    text = "id,review,sentiment\nr1,Muito bom,1\nr2,Péssimo,0\nr3,Chegou no prazo,positive\n"
    batch_id = import_bytes(data=text.encode(), source_name="r.csv", kind="reviews", backend=backend,
                            mapping={"external_id": "id", "text": "review", "label": "sentiment", "language": "pt"})
    assert ImportBatch.objects.get(pk=batch_id).status == "succeeded"
    assert dict(Review.objects.values_list("external_id", "label")) == {"r1": "positive", "r2": "negative", "r3": "positive"}
    assert set(Review.objects.values_list("rating", "language")) == {(None, "pt")}


def test_zero_one_rating_points_at_label():
    # given a 0/1 column mapped to rating when imported then the error names the line and says to map it to label
    with pytest.raises(ImportFileError, match=r"r\.csv, line 3: rating '0' is not a whole number from 1 to 5 \(a 0/1 .*label"):
        import_bytes(data=b"t,r\ngood,1\nbad,0\n", source_name="r.csv", kind="reviews", mapping={"text": "t", "rating": "r"})


def test_review_command_takes_language(tmp_path):
    # given a review file without a language column when import_reviews runs with --language pt then reviews are Portuguese
    (tmp_path / "r.csv").write_text("t,r\nBom,5\n")
    call_command("import_reviews", str(tmp_path / "r.csv"), "--column", "text=t", "--column", "rating=r", "--language", "pt",
                 "--no-progress", stdout=io.StringIO())
    assert Review.objects.get().language == "pt"


def test_order_file_without_descriptions_keeps_catalogue_titles(backend):
    # given a catalogue product when an order file without descriptions is imported twice then the title stays and the second run is Unchanged
    import_bytes(data=b"sku,title,category\n1004906,Russet Potatoes,Produce\n", source_name="p.csv", kind="products", backend=backend,
                 mapping={"sku": "sku", "title": "title", "category": "category"})
    text = "o,s,q,d,p\nA,1004906,2,2011-05-01 10:00,1.49\nA,NEW1,1,2011-05-01 10:00,2\n"
    mapping = {"order_id": "o", "sku": "s", "quantity": "q", "placed_at": "d", "unit_price": "p"}
    import_bytes(data=text.encode(), source_name="o.csv", kind="orders", backend=backend, mapping=mapping)
    again = ImportBatch.objects.get(pk=import_bytes(data=text.encode(), source_name="o.csv", kind="orders", backend=backend, mapping=mapping))
    potato = Product.objects.get(sku="1004906")
    assert (potato.title, potato.category) == ("Russet Potatoes", "Produce")
    assert Product.objects.get(sku="NEW1").title == "NEW1"
    assert again.message.startswith("Unchanged")


def test_order_file_without_fee_rules_keeps_a_catalogue_fee(backend):
    # given POST marked a fee by a products file when an order file without fee rules sells it then it stays a fee
    import_bytes(data=b"sku,title,kind\nPOST,Postage,fee\n", source_name="p.csv", kind="products", backend=backend,
                 mapping={"sku": "sku", "title": "title", "kind": "kind"})
    _orders_backend = {"order_id": "o", "sku": "s", "quantity": "q", "placed_at": "d", "unit_price": "p"}
    import_bytes(data=b"o,s,q,d,p\nA,POST,1,2011-05-01 10:00,5\n", source_name="o.csv", kind="orders", backend=backend, mapping=_orders_backend)
    assert Product.objects.get(sku="POST").kind == "fee"


def test_clipped_and_rounded_values_are_counted_with_samples(backend):
    # given a 400-character title and a price with 12 decimals when a products file is imported then both are counted and sampled
    text = f"sku,title,price\nP1,{'Long ' * 80},1.123456789012\n"
    batch = ImportBatch.objects.get(pk=import_bytes(data=text.encode(), source_name="p.csv", kind="products", backend=backend,
                                                    mapping={"sku": "sku", "title": "title", "price": "price"}))
    assert batch.rule_counts["title_clipped"] == 1 and batch.rule_counts["price_rounded"] == 1
    assert batch.samples["price_rounded"][0]["_line"] == 2
    assert Product.objects.get(sku="P1").price == Decimal("1.1234567890")


def test_line_total_against_its_quantity_sign_is_counted_and_dropped(backend):
    # given a coupon line of 1 unit at -0.50 when imported with line totals then it is dropped as a non-positive price, not flipped to a sale
    text = "o,s,q,d,t\nA,MILK,1,2011-05-01 10:00,1.10\nA,COUPON,1,2011-05-01 10:00,-0.50\n"
    batch = ImportBatch.objects.get(pk=import_bytes(data=text.encode(), source_name="c.csv", kind="orders", backend=backend,
                                                    mapping={"order_id": "o", "sku": "s", "quantity": "q", "placed_at": "d", "line_total": "t"}))
    assert batch.rule_counts["dropped:non_positive_price"] == 1
    assert Order.objects.get(external_id="A").total == Decimal("1.10")


def test_a_file_mixing_day_and_month_first_is_refused():
    # given one date that is day/month (25/12) and one month/day (12/25) when imported then the minority line is refused naming dayfirst
    with pytest.raises(ImportFileError, match=r"line 4: placed_at '12/25/2011 10:00' is not in the day/month order of the rest of the file; set dayfirst"):
        _orders("o,s,q,d,p\nA,S,1,25/12/2011 10:00,1\nB,S,1,26/12/2011 10:00,1\nC,S,1,12/25/2011 10:00,1\n")


def test_epoch_seconds_are_recognised_without_a_date_format():
    # given a column of 10-digit Unix times and no date_format when imported then they are read as epoch seconds
    _orders("o,s,q,d,p\nA,S,1,1300000000,1\n")
    assert Order.objects.get().placed_at.isoformat() == "2011-03-13T07:06:40+00:00"


def test_far_future_event_and_customer_dates_are_refused_too(settings):
    # given IMPORT_MAX_FUTURE_DAYS 2 when a customers file says first_seen 2999-01-01 then it is refused naming the line
    settings.IMPORT_MAX_FUTURE_DAYS = 2
    with pytest.raises(ImportFileError, match=r"c\.csv, line 2: first_seen '2999-01-01' is not a date up to"):
        import_bytes(data=b"id,since\nc1,2999-01-01\n", source_name="c.csv", kind="customers", mapping={"external_id": "id", "first_seen": "since"})


@pytest.mark.parametrize(("line", "message"), [
    ("A,S,1,2011-05-01 10:00,1e15", r"line 2: line_total '1e15' is not a line total whose unit price the database can hold"),
    ("A,S,1000000,2011-05-01 10:00,1e16", r"line 2: line_total '1e16' is not an amount the database can hold"),
    ("A,S,1,2011-05-01 10:00,inf", r"line 2: line_total 'inf' is not a finite number"),
])
def test_hostile_line_totals_are_refused_naming_the_line(line, message):
    # given a line total the columns cannot hold when imported then the error names the line and field and nothing is written
    with pytest.raises(ImportFileError, match=message):
        import_bytes(data=f"o,s,q,d,t\n{line}\n".encode(), source_name="t.csv", kind="orders",
                     mapping={"order_id": "o", "sku": "s", "quantity": "q", "placed_at": "d", "line_total": "t"})
    assert not Order.objects.exists()
