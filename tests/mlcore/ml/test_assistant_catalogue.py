"""Catalogue passages: facts sentences, availability, review highlights from the best and worst reviews."""
from __future__ import annotations

from mlcore.ml.assistant.catalogue import ProductFacts, product_passages, review_highlights
from mlcore.ml.assistant.text import sentences


def test_facts_passage_states_price_and_availability_in_sentences():
    # given an active product with a price, when passaged, then its sentences name the item, price and stock
    (facts,) = product_passages(ProductFacts(sku="21531", title="RED RETROSPOT CAKE STAND", price=9.95, category="Kitchen"))
    assert sentences(facts)[:2] == ["The Red retrospot cake stand (item 21531) costs 9.95 GBP.", "The Red retrospot cake stand is in stock and can be ordered now."]


def test_stock_count_and_retired_products():
    # given a stock count of 0 or a retired product, when passaged, then each says out of stock
    assert "out of stock" in product_passages(ProductFacts(sku="1", title="Mug", stock=0))[0]
    assert "no longer sold" in product_passages(ProductFacts(sku="1", title="Mug", active=False, stock=4))[0]


def test_highlights_take_the_best_then_the_worst_review_sentence():
    # given reviews of 5, 3 and 1 stars, when highlighted, then the 5-star sentence comes first and the 1-star one second
    reviews = [(3, "It is fine for the price I paid."), (1, "Broke after one week of light use."), (5, "Beautiful colours and very well made.")]
    assert review_highlights(reviews) == ["Beautiful colours and very well made.", "Broke after one week of light use."]
    passage = product_passages(ProductFacts(sku="1", title="Mug", review_count=3, rating_mean=3.0, reviews=reviews))[1]
    assert passage.startswith("Customers rate it 3.0 of 5 on average in 3 reviews of the Mug.")
    assert len(sentences(passage)) == 3
