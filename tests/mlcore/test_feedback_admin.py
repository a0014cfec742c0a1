import pytest

from mlcore.feedback.services import reviews_score
from mlcore.models import ReviewAlert
from tests.customers.factories import CustomerFactory, ReviewFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored_reviews():
    customer = CustomerFactory()
    good = ReviewFactory(customer=customer, title="", text="The fit is perfect, love the colour.")
    bad = ReviewFactory(customer=customer, product=good.product, title="", text="Awful quality and the size is wrong.")
    reviews_score()
    return good, bad


def test_review_list_filters_by_sentiment_and_aspect(admin_user_client, scored_reviews):
    # given scored reviews with aspects, when the list is filtered by aspect and label, then only matching reviews show
    good, bad = scored_reviews
    url = "/admin/mlcore/reviewsentiment/"
    assert admin_user_client.get(url).status_code == 200
    by_aspect = admin_user_client.get(url, {"aspect": "colour"}).content.decode()
    by_label = admin_user_client.get(url, {"label__exact": "negative"}).content.decode()
    assert "love the colour" in by_aspect and "Awful quality" not in by_aspect
    assert "Awful quality" in by_label and "love the colour" not in by_label


def test_product_feedback_page_shows_chart_and_aspects(admin_user_client, scored_reviews):
    # given a product with scored reviews, when its feedback page opens, then the chart data and aspect table render
    good, _ = scored_reviews
    assert admin_user_client.get("/admin/mlcore/productfeedback/").status_code == 200
    page = admin_user_client.get(f"/admin/mlcore/productfeedback/{good.product_id}/change/").content.decode()
    assert "sentiment-chart" in page and "vendor/chart.umd.min.js" in page
    assert "<td>fit</td>" in page and "<td>size</td>" in page


def test_alert_list_mark_done_action(admin_user_client, scored_reviews):
    # given an open alert, when staff run "mark done" on it, then it is done by that user
    _, bad = scored_reviews
    alert = ReviewAlert.objects.create(review=bad, customer=bad.customer, reason="negative")
    assert "negative" in admin_user_client.get("/admin/mlcore/reviewalert/").content.decode()
    admin_user_client.post("/admin/mlcore/reviewalert/", {"action": "mark_done", "_selected_action": [alert.pk]})
    alert.refresh_from_db()
    assert alert.status == "done" and alert.done_by.username == "root"


def test_customer_page_has_the_sentiment_panel(admin_user_client, scored_reviews):
    # given a customer with scored reviews, when their admin page opens, then the review panel shows the count
    good, _ = scored_reviews
    page = admin_user_client.get(f"/admin/customers/customer/{good.customer_id}/change/").content.decode()
    assert "Reviews and sentiment" in page and "2 scored review(s)" in page
