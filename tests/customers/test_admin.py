import pytest

from customers.panels import register_customer_panel
from tests.customers.factories import CustomerFactory, OrderLineFactory, ProductFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def test_admin_lists_render(admin_user_client):
    # given some data, when each admin list opens, then it renders
    OrderLineFactory()
    ReviewFactory()
    for model in ("customer", "product", "order", "orderline", "review", "event", "consentchange"):
        assert admin_user_client.get(f"/admin/customers/{model}/").status_code == 200, model


def test_customer_page_shows_summary_and_panels(admin_user_client):
    # given a customer with a sale and a return, when the page opens, then net spend and a registered panel show
    line = OrderLineFactory(line_no=1, quantity=4, unit_price="2.50", product=ProductFactory())
    OrderLineFactory(order=line.order, line_no=2, quantity=-1, unit_price="2.50", product=line.product)

    @register_customer_panel("Test panel", order=999)
    def panel(customer_id: int) -> str:
        return f"panel for {customer_id}"

    page = admin_user_client.get(f"/admin/customers/customer/{line.order.customer.pk}/change/").content.decode()
    assert "net spent 7.50" in page
    assert f"panel for {line.order.customer.pk}" in page


def test_marketing_group_can_view_and_change_not_delete(django_user_model):
    # given the Marketing group from the data migration, then it may view/change customers but not delete
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="m", password="pw-m-12345", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketing"))
    assert user.has_perm("customers.view_customer") and user.has_perm("customers.change_customer")
    assert not user.has_perm("customers.delete_customer")
    assert user.has_perm("infra.view_job")


def test_consent_actions_record_history(admin_user_client):
    # given a consenting customer, when staff run the opt-out action, then history records source admin
    customer = CustomerFactory(email_consent=True)
    admin_user_client.post("/admin/customers/customer/", {"action": "record_opt_out", "_selected_action": [customer.pk]})
    customer.refresh_from_db()
    assert customer.email_consent is False and customer.consent_changes.get().source == "admin"
