"""Knowledge articles: versions on save, re-indexing queued on commit, incremental and idempotent."""
from __future__ import annotations

from campaigns.assistant.models import KnowledgeArticle, KnowledgeArticleVersion, KnowledgeChunk
from campaigns.assistant.services.knowledge import (
    knowledge_article_reindex,
    knowledge_article_save,
    knowledge_load_file,
)
from campaigns.tasks import assistant_reindex


def test_demo_knowledge_base_loads_both_languages_indexed(knowledge):
    # given the demo file, when loaded with on-commit tasks run, then ~30+ articles exist in en and zh, all chunked at their version
    assert knowledge["articles"] >= 30
    assert set(KnowledgeArticle.objects.values_list("language", flat=True)) == {"en", "zh"}
    assert not KnowledgeArticle.objects.exclude(indexed_version=1).exists()
    assert KnowledgeChunk.objects.filter(language="zh").count() >= 15


def test_loading_again_changes_nothing(knowledge, django_capture_on_commit_callbacks):
    # given a loaded knowledge base, when the file is loaded again, then no version moves and no task is queued
    with django_capture_on_commit_callbacks() as callbacks:
        summary = knowledge_load_file()
    assert summary["created"] == 0 and summary["changed"] == 0 and callbacks == []


def test_edit_makes_a_version_and_reindexes_only_that_article(knowledge, django_capture_on_commit_callbacks):
    # given an indexed article, when its body is edited, then version 2 is kept, one reindex is queued and its chunks show the new text
    other_chunk_ids = set(KnowledgeChunk.objects.exclude(article__slug="refunds", article__language="en").values_list("id", flat=True))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        article = knowledge_article_save(slug="refunds", language="en", title="Refunds", body="We refund within 3 working days.", topic="returns", edited_by="ann")
    assert article.version == 2 and len(callbacks) == 1
    assert list(KnowledgeArticleVersion.objects.filter(article=article).values_list("version", "edited_by")) == [(2, "ann"), (1, "loader")]
    assert list(article.chunks.values_list("text", "article_version")) == [("We refund within 3 working days.", 2)]
    assert set(KnowledgeChunk.objects.exclude(article=article).values_list("id", flat=True)) == other_chunk_ids


def test_reindex_task_is_safe_to_run_twice(knowledge):
    # given an indexed article, when the task runs twice, then both runs report it current and the chunks stay
    article = KnowledgeArticle.objects.get(slug="returns-policy", language="en")
    chunk_ids = set(article.chunks.values_list("id", flat=True))
    assert assistant_reindex.run(article.pk)["state"] == "current"
    assert assistant_reindex.run(article.pk)["state"] == "current"
    assert set(article.chunks.values_list("id", flat=True)) == chunk_ids


def test_reindex_of_a_deleted_article_reports_it_gone(db):
    # given no article, when reindexed, then the task says so instead of failing
    assert knowledge_article_reindex(article_id=999)["state"] == "gone"


def test_unpublishing_removes_the_chunks(knowledge, django_capture_on_commit_callbacks):
    # given an indexed article, when unpublished, then its chunks are removed and retrieval cannot find it
    article = KnowledgeArticle.objects.get(slug="discounts", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        knowledge_article_save(slug="discounts", language="en", title=article.title, body=article.body, topic=article.topic, published=False)
    assert not article.chunks.exists()


def test_task_name_is_stable():
    # given the reindex task, when its name is read, then it is the deployed one
    assert assistant_reindex.name == "campaigns.assistant_reindex"
