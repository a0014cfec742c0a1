"""A catalogue for the assistant benches, made from the bundled real files on a throw-away
database: the `n_gifts` most-sold Online Retail products (title, median unit price, some retired)
and the `n_clothes` most-reviewed products of the clothing reviews file with their real reviews;
then the catalogue passages are indexed. Also the product questions of the retrieval evaluation,
written from templates over the products' titles (so they are easy: they name the product)."""
from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PRICE_TEMPLATES = ["How much does the {t} cost?", "What is the price of the {t}?", "how much is a {t}", "Price of {t} please"]
STOCK_TEMPLATES = ["Is the {t} in stock?", "Can I still order the {t}?", "Do you have the {t} available?", "is {t} available"]
REVIEW_TEMPLATES = ["What do customers say about the {t}?", "Are the reviews of the {t} good?", "How is the {t} rated?"]


def catalogue_build(*, n_gifts: int = 400, n_clothes: int = 30, seed: int = 16) -> dict:
    from django.utils import timezone

    from campaigns.assistant.services.catalogue import catalogue_reindex
    from customers.models import Product, Review

    retail = pd.read_csv(ROOT / "data" / "online_retail.csv.gz", dtype={"StockCode": str}, usecols=["StockCode", "Description", "UnitPrice"])
    retail = retail[retail["StockCode"].str.match(r"^\d{5}[A-Z]?$") & (retail["UnitPrice"] > 0)].dropna()
    top = retail.groupby("StockCode").agg(title=("Description", lambda s: s.mode().iat[0].strip()), price=("UnitPrice", "median"), n=("UnitPrice", "size"))
    top = top.sort_values("n", ascending=False).head(n_gifts)
    rng = random.Random(seed)
    gifts = Product.objects.bulk_create([
        Product(sku=sku, title=row.title, price=round(row.price, 2), category="Gifts", active=rng.random() > 0.1) for sku, row in top.iterrows()
    ])
    reviews = pd.read_csv(ROOT / "data" / "womens_clothing_reviews.csv.gz").dropna(subset=["Review Text"])
    ids = reviews["Clothing ID"].value_counts().head(n_clothes).index
    clothes = {}
    for clothing_id in ids:
        rows = reviews[reviews["Clothing ID"] == clothing_id]
        name = rows["Class Name"].mode().iat[0]
        clothes[clothing_id] = Product.objects.create(sku=f"CLOTH-{clothing_id}", title=f"{name} #{clothing_id}", category=rows["Department Name"].mode().iat[0])
    now = timezone.now()
    Review.objects.bulk_create([
        Review(product=clothes[r["Clothing ID"]], rating=int(r["Rating"]), text=r["Review Text"], language="en", created_at=now)
        for _, r in reviews[reviews["Clothing ID"].isin(ids)].iterrows()
    ])
    left = 1
    while left:
        left = catalogue_reindex(batch=1000)["left"]
    return {"gifts": gifts, "clothes": list(clothes.values())}


def product_questions(catalogue: dict, *, n: int = 60, seed: int = 16) -> list[tuple[str, str, str]]:
    """(language, question, source) with source "p<product id>": price and stock questions over
    gift products, review questions over clothing products; titles lower-cased, some shortened."""
    rng = random.Random(seed)
    out = []
    for product in rng.sample(catalogue["gifts"], n * 2 // 3):
        words = product.title.lower().split()
        title = " ".join(words[1:]) if len(words) > 3 and rng.random() < 0.3 else " ".join(words)  # drop a leading word sometimes
        out.append(("en", rng.choice(PRICE_TEMPLATES + STOCK_TEMPLATES).format(t=title), f"p{product.pk}"))
    for product in rng.sample(catalogue["clothes"], min(len(catalogue["clothes"]), n - len(out))):
        out.append(("en", rng.choice(REVIEW_TEMPLATES).format(t=product.title.lower()), f"p{product.pk}"))
    return out
