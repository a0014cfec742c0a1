import pytest

from mlcore.models import ModelVersion
from mlcore.recommendations.services import recommender_train
from tests.customers.factories import CustomerFactory
from tests.mlcore.recommend_shop import make_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(settings):
    settings.RECOMMENDER_TOP_N = 5
    shop = make_shop()
    recommender_train(fast=True)
    return shop


def test_customer_recommendations_serve_the_stored_list(api_client, trained):
    # given a trained recommender, when a partner asks for EXT1's top 3, then the stored list comes with reasons
    response = api_client.get("/api/v1/customers/EXT1/recommendations?k=3")
    body = response.json()
    assert response.status_code == 200 and body["fallback"] is False and body["known_customer"] is True
    assert len(body["items"]) == 3 and all(item["reason"] for item in body["items"])
    assert body["items"][0]["score"] >= body["items"][1]["score"] or body["items"][0]["reason"]
    active = ModelVersion.objects.get(kind="recommender", is_active=True)
    assert body["model_version"] == f"recommender:{active.version}"


def test_unknown_customer_gets_popularity_flagged_as_fallback(api_client, trained):
    # given an external id nobody has, when asked, then the shop's popular list is served and flagged
    body = api_client.get("/api/v1/customers/NOBODY/recommendations").json()
    assert body["fallback"] is True and body["known_customer"] is False
    assert body["items"] and body["items"][0]["reason"] == "popular in the shop"


def test_new_customer_gets_country_popularity(api_client, trained):
    # given a French customer without orders, when asked, then France's popular list is served as a fallback
    CustomerFactory(external_id="FRNEW", country="France")
    body = api_client.get("/api/v1/customers/FRNEW/recommendations?k=2").json()
    assert body["fallback"] is True and body["known_customer"] is True and len(body["items"]) == 2
    assert body["items"][0]["reason"] == "popular in France"


def test_similar_products_and_unknown_sku(api_client, trained):
    # given a trained recommender, when similar products are asked, then SKU0's list excludes itself; an unknown SKU is 404
    body = api_client.get("/api/v1/products/SKU0/similar?k=4").json()
    assert 0 < len(body["items"]) <= 4 and "SKU0" not in [i["sku"] for i in body["items"]]
    assert api_client.get("/api/v1/products/NOPE/similar").status_code == 404


def test_bad_k_is_a_clear_400(api_client, trained):
    # given k=0 and k=abc, when asked, then the error names the k parameter
    for bad in ("0", "abc", "1000"):
        response = api_client.get(f"/api/v1/customers/EXT1/recommendations?k={bad}")
        assert response.status_code == 400 and "k" in response.json()


def test_recommendations_need_authentication(anon_client, trained):
    # given no token, when asked, then the API answers 401
    assert anon_client.get("/api/v1/customers/EXT1/recommendations").status_code == 401


def test_admin_customer_page_shows_the_list_with_reasons(admin_user_client, trained):
    # given a trained recommender, when staff open a customer's admin page, then the panel lists products with why
    customer = trained["customers"][3]
    html = admin_user_client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    assert "Recommendations" in html and "SKU" in html
    assert any(reason in html for reason in ("bought together with", "similar to", "popular in", "you bought this", "customers like you bought this"))


def test_a_stored_list_is_two_queries(trained, django_assert_num_queries):
    # given a trained recommender, when the selector serves a stored list, then one query fetches the list with version and customer, one its products
    from mlcore.recommendations.selectors import recommendations_for_external_id

    with django_assert_num_queries(2):
        found = recommendations_for_external_id(external_id="EXT1", k=3)
    assert found.fallback is False and len(found.items) == 3 and found.model_version.startswith("recommender:")
