"""Chunking, BM25 and hybrid retrieval of the support assistant on small inputs (no database)."""
from __future__ import annotations

import numpy as np

from mlcore.ml.assistant.chunking import chunk_article
from mlcore.ml.assistant.retrieval import HybridIndex, Passage, article_ranking
from mlcore.ml.assistant.text import sentences, terms, tokens

PASSAGES = [
    Passage(1, 10, "You can return unused items within 30 days of delivery.", "Returns policy: You can return unused items within 30 days of delivery."),
    Passage(2, 11, "Standard UK delivery takes 3 to 5 working days.", "Delivery: Standard UK delivery takes 3 to 5 working days."),
    Passage(3, 12, "We accept Visa, Mastercard and PayPal.", "Payment methods: We accept Visa, Mastercard and PayPal."),
    Passage(4, 13, "未使用的商品可在签收后30天内退货。", "退货政策: 未使用的商品可在签收后30天内退货。"),
]


def _bag_encoder(vocabulary: list[str]):
    """A tiny deterministic encoder: L2-normalised counts of vocabulary words."""
    def encode(texts):
        rows = np.array([[t.lower().count(w) for w in vocabulary] for t in texts], dtype=np.float32) + 1e-6
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return encode


def test_tokens_stem_english_and_use_chinese_characters_and_bigrams():
    # given an English and a Chinese phrase, when tokenised, then stop words go, plurals are stemmed, Chinese gives chars + bigrams
    assert tokens("Where are the returns?") == ["return"]
    assert "退货" in tokens("我要退货") and "退" in tokens("我要退货")
    assert "退货" not in terms("我要退货")


def test_sentences_split_english_and_chinese():
    # given text in both languages, when split, then each sentence stands alone
    assert sentences("One. Two! Three?") == ["One.", "Two!", "Three?"]
    assert sentences("第一句。第二句！") == ["第一句。", "第二句！"]


def test_chunk_article_makes_one_chunk_per_paragraph_with_the_title_for_retrieval():
    # given a two-paragraph article, when chunked, then two passages come out, indexed with the title but shown without it
    chunks = chunk_article("Refunds", "We refund in 5 days.\n\nBanks take 3 more days.")
    assert [c.text for c in chunks] == ["We refund in 5 days.", "Banks take 3 more days."]
    assert chunks[1].indexed_text == "Refunds: Banks take 3 more days."


def test_chunk_article_splits_a_long_paragraph_at_sentence_ends():
    # given one paragraph of ten sentences, when chunked with a small limit, then every chunk is within it and no text is lost
    body = " ".join(f"Sentence number {i} is here." for i in range(10))
    chunks = chunk_article("T", body, max_chars=80)
    assert len(chunks) > 1 and all(len(c.text) <= 80 for c in chunks)
    assert " ".join(c.text for c in chunks) == body


def test_bm25_finds_the_returns_passage():
    # given four passages, when asked about returning an item, then the returns article ranks first
    hits = HybridIndex(PASSAGES).search("How many days do I have to return an item?", k=3)
    assert hits[0].passage.article_id == 10 and hits[0].dense is None


def test_chinese_query_retrieves_the_chinese_passage():
    # given a Chinese question, when searched, then the Chinese returns passage is first
    assert HybridIndex(PASSAGES).search("退货要在几天内？", k=2)[0].passage.article_id == 13


def test_dense_half_breaks_a_lexical_tie():
    # given a query sharing no word with any passage, when an encoder knows "card" is about payment, then payment ranks first
    encoder = _bag_encoder(["card", "paypal", "visa", "return", "delivery"])
    embeddings = encoder([p.indexed_text + (" card" if p.article_id == 12 else "") for p in PASSAGES])
    hits = HybridIndex(PASSAGES, embeddings, encoder).search("card", k=4)
    assert hits[0].passage.article_id == 12 and hits[0].dense is not None


def test_article_ranking_keeps_each_article_once_in_order():
    # given hits with a repeated article, when ranked by article, then each article appears once at its best position
    hits = HybridIndex(PASSAGES + [Passage(5, 10, "Returns are free when faulty.", "Returns policy: Returns are free when faulty.")]).search("returns", k=5)
    ranking = article_ranking(hits)
    assert ranking[0] == "a10" and len(ranking) == len(set(ranking))


def test_a_catalogue_passage_answers_only_a_question_naming_its_product():
    # given a policy passage and a product passage sharing the word "gift", when asked about gift wrap or the product, then each wins its own
    product = Passage(7, None, "The Gift bag red retrospot (item 1) costs 1.95 GBP.", "The Gift bag red retrospot (item 1) costs 1.95 GBP.",
                      product_id=3, title="GIFT BAG RED RETROSPOT")
    index = HybridIndex(PASSAGES + [product])
    assert all(h.passage.product_id is None for h in index.search("Do you offer gift wrap?", k=5))
    assert index.search("how much is the red retrospot gift bag", k=1)[0].passage.source == "p3"
