"""A small shop in the database for the recommender's service, API, admin and task tests."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from customers.models import Product
from tests.customers.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

CATEGORIES = ["Mugs", "Mugs", "Mugs", "Bags", "Bags", "Candles", "Candles", "Cards"]


def use_small_lists(settings) -> None:
    """The recommender settings the shop tests share: short lists, 14 days excluded, 90 validation days."""
    settings.RECOMMENDER_TOP_N = 5
    settings.RECOMMENDER_EXCLUDE_RECENT_DAYS = 14
    settings.RECOMMENDER_VALIDATION_DAYS = 90


def make_shop() -> dict:
    """12 customers buying 8 products over 300 days, plus a fee and an inactive product they also bought."""
    products = [ProductFactory(sku=f"SKU{i}", title=f"{c[:-1]} model {i}", category=c, price=Decimal("3.50")) for i, c in enumerate(CATEGORIES)]
    fee = ProductFactory(sku="POST", title="Postage", kind=Product.Kind.FEE)
    inactive = ProductFactory(sku="OLD1", title="Discontinued mug", category="Mugs", active=False)
    now = timezone.now()
    customers = []
    for n in range(12):
        customer = CustomerFactory(external_id=f"EXT{n}", country="France" if n >= 9 else "United Kingdom")
        customers.append(customer)
        for k in range(5):
            order = OrderFactory(customer=customer, placed_at=now - dt.timedelta(days=300 - 60 * k - n))
            basket = {products[n % 4], products[(n + k) % 8], fee, inactive}
            for line_no, product in enumerate(basket, start=1):
                OrderLineFactory(order=order, line_no=line_no, product=product)
    recent = OrderFactory(customer=customers[0], placed_at=now - dt.timedelta(days=2))
    OrderLineFactory(order=recent, line_no=1, product=products[6])
    return {"products": products, "fee": fee, "inactive": inactive, "customers": customers}


def tiny_encoder_folder(folder, *, head_std: float | None = None) -> str:
    """A tiny random BERT saved with the packaged tokenizer: a local encoder or ranker folder.

    head_std re-draws the one-logit head wider, so a random ranker's logits differ enough between
    products to change an order (at the default init they barely do).
    """
    import torch

    from mlcore.ml.recommendations import ranker, ranker_train

    tokenizer = ranker.load_tokenizer(ranker_train.default_model_path())
    model = ranker.tiny_model(tokenizer.vocab_size)
    if head_std:
        with torch.no_grad():
            model.classifier.weight.normal_(0.0, head_std, generator=torch.Generator().manual_seed(0))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def tiny_ranker_version(folder, *, weight: float, activate: bool = True):
    """A ready `ranker` ModelVersion holding a tiny random cross-encoder with this blend weight."""
    import json
    from pathlib import Path

    from mlcore.recommendations.ranker import _tar_folder
    from mlcore.registry import services as registry

    tiny_encoder_folder(folder, head_std=5.0)
    (Path(folder) / "metrics.json").write_text(json.dumps({"weight": weight, "config": {"max_len": 32}}))
    version = registry.model_version_create(kind="ranker", params={"tiny": True})
    version = registry.model_version_save_artefact(version_id=version.pk, filename="ranker.tar.gz", content=_tar_folder(Path(folder)), metrics={"weight": weight})
    return registry.model_version_activate(version_id=version.pk) if activate else version
