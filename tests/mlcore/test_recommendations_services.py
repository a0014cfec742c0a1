import pytest

from customers.models import Product
from infra.bulk import rows_insert
from mlcore.models import ModelVersion, PopularProduct, RecommendationList, SimilarProduct
from mlcore.recommendations.selectors import (
    RecommendedProduct,
    popular_products,
    recommendations_for_customer,
    recommendations_for_customers,
)
from mlcore.recommendations.services import NotEnoughData, recommender_train
from mlcore.recommendations.tasks import train_recommender
from tests.customers.factories import CustomerFactory
from tests.mlcore.recommend_shop import make_shop, use_small_lists

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(settings):
    use_small_lists(settings)
    return make_shop()


def test_training_stores_lists_for_every_customer_from_the_active_version(shop):
    # given a shop with history, when the recommender trains, then it is active and every customer has 5 stored items
    version = recommender_train(fast=True)
    version.refresh_from_db()
    assert version.is_active and version.status == ModelVersion.Status.READY and version.artefact_sha256
    assert RecommendationList.objects.filter(model_version=version).count() == 12
    assert len(RecommendationList.objects.get(model_version=version, customer=shop["customers"][0]).items) == 5
    assert SimilarProduct.objects.filter(model_version=version).exists()
    assert PopularProduct.objects.filter(model_version=version, country="France").exists()
    assert set(version.params["weights"]) == {"alpha", "beta", "gamma", "delta", "epsilon"}
    assert version.params["tuned"]["tifu"]["neighbours"] > 0 and version.params["tuned"]["served"]["all"]


def test_fees_inactive_and_recently_bought_are_never_recommended(shop):
    # given fees and an inactive product in every basket and a purchase 2 days ago, when trained, then none is recommended
    version = recommender_train(fast=True)
    stored = {(customer, product) for customer, _, product, _, _ in RecommendationList.objects.filter(model_version=version).slots()}
    assert not {product for _, product in stored} & {shop["fee"].pk, shop["inactive"].pk}
    assert (shop["customers"][0].pk, shop["products"][6].pk) not in stored
    assert not SimilarProduct.objects.filter(similar__in=[shop["fee"], shop["inactive"]]).exists()


def test_selector_returns_frozen_dataclasses_with_reasons(shop):
    # given a trained recommender, when another app asks for a customer's list, then it gets RecommendedProducts with reasons
    recommender_train(fast=True)
    items = recommendations_for_customer(customer_id=shop["customers"][1].pk, k=3)
    assert len(items) == 3 and all(isinstance(i, RecommendedProduct) for i in items)
    assert all(i.reason and i.sku.startswith("SKU") for i in items)
    with pytest.raises(AttributeError):
        items[0].score = 1.0


def test_a_customer_without_history_gets_their_country_popular_list(shop):
    # given a new French customer, when asked for recommendations, then the French popular list is served
    recommender_train(fast=True)
    newcomer = CustomerFactory(external_id="NEW1", country="France")
    items = recommendations_for_customer(customer_id=newcomer.pk, k=4)
    assert [i.sku for i in items] == [i.sku for i in popular_products(country="France", k=4)]
    assert items[0].reason == "popular in France"


def test_a_product_made_inactive_after_training_is_filtered_at_read_time(shop):
    # given a stored list, when its first product is deactivated, then the served list skips it
    recommender_train(fast=True)
    customer_id = shop["customers"][2].pk
    first = recommendations_for_customer(customer_id=customer_id, k=5)[0]
    Product.objects.filter(pk=first.product_id).update(active=False)
    assert first.sku not in [i.sku for i in recommendations_for_customer(customer_id=customer_id, k=5)]


def test_train_task_twice_keeps_one_active_version_and_prunes_old_rows(shop):
    # given the task run three times, when done, then the newest is active and only two versions keep rows
    results = [train_recommender.apply(kwargs={"fast": True}).get() for _ in range(3)]
    versions = ModelVersion.objects.filter(kind="recommender")
    assert versions.count() == 3 and versions.get(is_active=True).pk == results[-1]["model_version"]
    assert RecommendationList.objects.values("model_version").distinct().count() == 2
    assert len(RecommendationList.objects.get(model_version_id=results[-1]["model_version"], customer=shop["customers"][0]).items) == 5


def test_training_without_sales_is_skipped_with_a_reason():
    # given an empty shop, when the task runs, then it reports that there is nothing to train on
    with pytest.raises(NotEnoughData):
        recommender_train(fast=True)
    assert "skipped" in train_recommender.apply().get()


def test_rows_insert_writes_every_row(shop):
    # given 7 popular rows, when inserted in batches of 3 (COPY on PostgreSQL), then all 7 exist
    version = ModelVersion.objects.create(kind="recommender", version=99)
    rows = [(version.pk, "Spain", p.pk, rank, 1.0 / rank) for rank, p in enumerate(shop["products"][:7], start=1)]
    assert rows_insert(model=PopularProduct, fields=("model_version", "country", "product", "rank", "score"), rows=iter(rows), batch_size=3) == 7
    assert list(PopularProduct.objects.filter(model_version=version).values_list("rank", flat=True)) == list(range(1, 8))


def test_batch_selector_gives_each_customer_what_the_single_selector_gives(shop):
    # given stored lists, a deactivated product, a newcomer without a list and an unknown id, when a campaign batch asks for all at once, then each gets the single-customer answer
    recommender_train(fast=True)
    customers = [c.pk for c in shop["customers"][:4]]
    Product.objects.filter(pk=recommendations_for_customer(customer_id=customers[0], k=3)[0].product_id).update(active=False)
    newcomer = CustomerFactory(external_id="NEW2", country="France").pk
    found = recommendations_for_customers(customer_ids=[*customers, newcomer], k=3)
    for customer_id in [*customers, newcomer]:
        assert [i.sku for i in found[customer_id]] == [i.sku for i in recommendations_for_customer(customer_id=customer_id, k=3)]
    assert found[newcomer][0].reason == "popular in France"


def test_batch_selector_reads_a_batch_in_three_queries_and_the_api_path_in_two(shop, django_assert_num_queries):
    # given stored lists, when a campaign batch of customers (one without a list) is read and one customer is read by external id, then the batch takes the three queries its docstring claims plus the fallbacks, and the API path two
    from mlcore.recommendations.selectors import recommendations_for_external_id

    recommender_train(fast=True)
    customers = [c.pk for c in shop["customers"][:20]]
    with django_assert_num_queries(3):  # active version, stored lists, their products
        found = recommendations_for_customers(customer_ids=customers, k=3)
    assert all(found[c] for c in customers)
    newcomer = CustomerFactory(external_id="NEW3", country="France").pk
    with django_assert_num_queries(6):  # + the customers without a list, and France's popular list (exists, rows)
        recommendations_for_customers(customer_ids=[*customers, newcomer], k=3)
    external = shop["customers"][0].external_id
    with django_assert_num_queries(2):  # the API's hot path: the list with the active version joined in, its products
        assert recommendations_for_external_id(external_id=external, k=3)


def test_columns_are_the_live_catalogue_and_the_version_records_horizons_and_rebuy(shop, settings):
    # given a product sold only long ago and no exclusion setting, when the recommender trains, then that product is no
    # column, the exclusion window is the shop's horizon, and the version says how many products may be re-bought
    import datetime as dt

    from django.utils import timezone

    from tests.customers.factories import OrderFactory, OrderLineFactory, ProductFactory

    settings.RECOMMENDER_EXCLUDE_RECENT_DAYS = None
    old = ProductFactory(sku="GONE", title="Old stock", category="Mugs")
    OrderLineFactory(order=OrderFactory(customer=shop["customers"][1], placed_at=timezone.now() - dt.timedelta(days=500)), line_no=1, product=old)
    version = recommender_train(fast=True)
    version.refresh_from_db()
    assert version.metrics["products"] == 8 and old.pk not in {product for _, _, product, _, _ in RecommendationList.objects.slots()}
    horizons = version.params["horizons"]
    assert version.params["config"]["exclude_recent_days"] == horizons["exclude_recent_days"] == 14  # 12 repeat customers: too few, the default
    assert not horizons["repeat_enough"] and "too little repeat behaviour" in version.notes
    assert 0 < version.metrics["rebuy_allowed_products"] <= 8


def test_inputs_keep_only_the_columns_the_recommender_reads_and_the_same_horizons(shop):
    # given the shop's lines with fees and an inactive product, when the recommender's inputs are read, then the lines hold
    # only its columns, every one a sale of a column product, and the horizons equal those of the full sale lines
    from customers.selectors import order_lines_frame
    from mlcore.ml.sales import sale_mask
    from mlcore.predictions.horizons import horizons_of
    from mlcore.recommendations.services import RECOMMENDER_LINE_COLUMNS, recommender_inputs

    lines, products = recommender_inputs()
    full = order_lines_frame()
    sales = full[sale_mask(full) & full["product_id"].isin(products["product_id"])]
    assert tuple(lines.columns) == RECOMMENDER_LINE_COLUMNS
    assert sorted(lines.index) == sorted(sales.index) and (lines["quantity"] > 0).all()
    assert horizons_of(lines) == horizons_of(sales)
