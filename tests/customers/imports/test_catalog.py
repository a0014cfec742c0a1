from decimal import Decimal

import pytest

from customers.imports.readers import ImportFileError
from customers.imports.services import import_bytes
from customers.models import Customer, Event, ImportBatch, Product, Review
from tests.customers.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

REVIEWS = """Clothing ID,Age,Title,Review Text,Rating,Recommended IND,Positive Feedback Count,Division Name,Department Name,Class Name
1080,34,,"Love this dress!  it's sooo pretty.",5,1,4,General,Dresses,Dresses
1077,60,Some major design flaws,"I had such high hopes for this dress.",3,0,0,General,Dresses,Dresses
1077,60,Some major design flaws,"I had such high hopes for this dress.",3,0,0,General,Dresses,Dresses
1049,50,My favorite buy!,,5,1,0,General Petite,Bottoms,Pants
"""


def _reviews(text=REVIEWS, backend="batched"):
    return ImportBatch.objects.get(pk=import_bytes(data=text.encode(), source_name="r.csv", kind="reviews", preset="reviews_en", backend=backend))


def test_reviews_preset_creates_products_and_reviews(backend):
    # given three distinct reviews and one duplicate when imported then 3 reviews on CLOTH- products are stored
    batch = _reviews(backend=backend)
    assert Review.objects.count() == 3
    product = Product.objects.get(sku="CLOTH-1077")
    assert (product.category, product.title, product.kind) == ("Dresses", "Dresses #1077", "product")
    review = Review.objects.get(product=product)
    assert (review.rating, review.language, review.title) == (3, "en", "Some major design flaws")
    assert batch.rule_counts["exact_duplicates"] == 1
    assert batch.rule_counts["review_without_text"] == 1
    assert Review.objects.get(product__sku="CLOTH-1049").text == ""


def test_reviews_get_stable_synthetic_dates_and_reimport_is_unchanged():
    # given the reviews file imported twice when compared then dates are identical and nothing changed the second time
    _reviews()
    dates = dict(Review.objects.values_list("external_id", "created_at"))
    again = _reviews()
    assert dict(Review.objects.values_list("external_id", "created_at")) == dates
    assert again.message.startswith("Unchanged")
    assert all(d.year == 2018 for d in dates.values())


def test_review_rating_out_of_range_names_line():
    # given a rating of 7 on line 3 when imported then the error names line 3 and nothing is stored
    text = REVIEWS.replace(",3,0,0,", ",7,0,0,", 1)
    with pytest.raises(ImportFileError, match=r"r\.csv, line 3: rating"):
        _reviews(text)
    assert not Review.objects.exists() and not Product.objects.exists()


def test_customers_by_mapping_update_without_wiping(backend):
    # given a known customer and a file with a new name but no country when imported then name changes, country stays
    CustomerFactory(external_id="17850", name="Old", country="France", email="a@example.com")
    text = "id;full name;mail;since\n17850;Jane  Doe;;2011-01-02 10:00\n20000;Bob;BOB@Example.com;\n30000;Eve;not-an-email;\n"
    batch_id = import_bytes(data=text.encode(), source_name="c.csv", kind="customers", backend=backend,
                            mapping={"columns": {"external_id": "id", "name": "full name", "email": "mail", "first_seen": "since"}, "delimiter": ";"})
    jane = Customer.objects.get(external_id="17850")
    assert (jane.name, jane.country, jane.email) == ("Jane Doe", "France", "a@example.com")
    assert Customer.objects.get(external_id="20000").email == "bob@example.com"
    assert not Customer.objects.get(external_id="20000").email_consent
    assert ImportBatch.objects.get(pk=batch_id).rule_counts["invalid_email"] == 1


def test_products_by_mapping_mark_fees(backend):
    # given a product file with a postage code named by the mapping's fee rule when imported then POST is a fee and prices are stored
    text = "code,name,price\n22633,HAND WARMER UNION JACK,1.85\nPOST,POSTAGE,18\n"
    import_bytes(data=text.encode(), source_name="p.csv", kind="products", backend=backend,
                 mapping={"sku": "code", "title": "name", "price": "price", "product_kinds": {"fee": {"skus": ["POST"]}}})
    assert Product.objects.get(sku="POST").kind == "fee"
    assert Product.objects.get(sku="22633").price == Decimal("1.85")
    assert Product.objects.get(sku="22633").title == "Hand Warmer Union Jack"


def test_events_by_mapping_skip_unknown_customers(backend):
    # given events of a known and an unknown customer when imported then only the known one is stored, the other counted
    CustomerFactory(external_id="c1")
    ProductFactory(sku="S1")
    text = "user,type,item,ts\nc1,view,S1,2011-05-01 10:00:00\nc1,Add To Cart,S1,2011-05-01 10:01:00\nzz,view,S1,2011-05-01 10:02:00\nc1,teleport,,2011-05-01 10:03:00\n"
    batch_id = import_bytes(data=text.encode(), source_name="e.csv", kind="events", backend=backend,
                            mapping={"customer_id": "user", "kind": "type", "sku": "item", "occurred_at": "ts"})
    assert sorted(Event.objects.values_list("kind", flat=True)) == ["add_to_cart", "view"]
    batch = ImportBatch.objects.get(pk=batch_id)
    assert batch.rule_counts["dropped:unknown_customer"] == 1
    assert batch.rule_counts["dropped:unknown_event_kind"] == 1
