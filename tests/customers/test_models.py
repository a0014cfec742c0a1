import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import ConsentChange, ConsentSource, Customer, OrderLine
from customers.services import customer_set_consent
from tests.customers.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def test_duplicate_customer_external_id_is_refused():
    # given a customer, when another is created with the same external id, then the database refuses it
    CustomerFactory(external_id="12345")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(external_id="12345")


def test_duplicate_order_and_sku_are_refused():
    # given an order and a product, when either key is reused, then the database refuses it
    order = OrderFactory(external_id="536365")
    ProductFactory(sku="85123A")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(external_id="536365", customer=order.customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(sku="85123A")


def test_order_line_numbers_are_unique_within_an_order_and_quantity_not_zero():
    # given a line, when the same line number is reused or a zero quantity stored, then both are refused
    line = OrderLineFactory(line_no=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLineFactory(order=line.order, line_no=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLineFactory(order=line.order, line_no=2, quantity=0)


def test_return_line_links_to_the_sale():
    # given a sale line, when a return is recorded against it, then the sale knows its return
    sale = OrderLineFactory(quantity=6)
    ret = OrderLineFactory(quantity=-6, product=sale.product, order=OrderFactory(customer=sale.order.customer), returned_line=sale)
    assert ret.is_return and not sale.is_return
    assert list(OrderLine.objects.get(pk=sale.pk).returns.all()) == [ret]


def test_review_rating_outside_1_to_5_is_refused():
    # given a review, when the rating is 6, then the check constraint refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewFactory(rating=6)


def test_guest_order_has_no_customer():
    # given an order without customer, then it is a guest order
    order = OrderFactory(customer=None)
    assert order.is_guest


def test_consent_changes_are_kept_as_history():
    # given a consenting customer, when they opt out then in again, then both changes are recorded in order
    customer = CustomerFactory(email_consent=False, email_consent_at=None, email_consent_source="")
    t0 = timezone.now()
    assert customer_set_consent(customer_id=customer.pk, consented=True, source=ConsentSource.SIGNUP, at=t0)
    assert customer_set_consent(customer_id=customer.pk, consented=False, source=ConsentSource.UNSUBSCRIBE, at=t0 + dt.timedelta(days=1))
    customer.refresh_from_db()
    assert customer.email_consent is False
    assert customer.email_consent_source == "unsubscribe"
    history = list(ConsentChange.objects.filter(customer=customer).order_by("changed_at").values_list("consented", "source"))
    assert history == [(True, "signup"), (False, "unsubscribe")]


def test_consent_set_twice_to_same_value_records_once():
    # given an opted-out customer, when opt-out is recorded twice, then history holds one change
    customer = CustomerFactory(email_consent=True)
    assert customer_set_consent(customer_id=customer.pk, consented=False, source=ConsentSource.ADMIN)
    assert not customer_set_consent(customer_id=customer.pk, consented=False, source=ConsentSource.ADMIN)
    assert ConsentChange.objects.filter(customer=customer).count() == 1


def test_unknown_consent_source_is_refused():
    # given a customer, when a consent source is made up, then the service refuses it
    customer = CustomerFactory()
    with pytest.raises(ValueError, match="consent source"):
        customer_set_consent(customer_id=customer.pk, consented=False, source="telepathy")


def test_emailable_needs_consent_and_address():
    # given three customers, then only the consenting one with an address is emailable
    ok = CustomerFactory(email_consent=True)
    CustomerFactory(email_consent=False)
    CustomerFactory(email_consent=True, email="")
    assert list(Customer.objects.emailable()) == [ok]
