"""Knowledge articles: saving a new version (the admin and the demo loader both come here) and
re-indexing an article's chunks. A save queues campaigns.assistant_reindex on commit; the task
re-chunks and re-embeds only that article, and only when its version moved past the indexed one,
so running it twice does nothing the second time."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import yaml
from django.db import transaction

from campaigns.assistant.models import KnowledgeArticle, KnowledgeArticleVersion, KnowledgeChunk
from campaigns.assistant.services.runtime import encoder_for, encoder_name
from mlcore.ml.assistant.chunking import chunk_article

log = logging.getLogger(__name__)
DEMO_KB = Path(__file__).resolve().parent.parent / "knowledge" / "demo_kb.yaml"


def _queue_reindex(article_id: int) -> None:
    from campaigns.tasks import assistant_reindex

    transaction.on_commit(lambda: assistant_reindex.delay(article_id))


@transaction.atomic
def knowledge_article_save(
    *, slug: str, language: str, title: str, body: str, topic: str = "", published: bool = True, edited_by: str = ""
) -> KnowledgeArticle:
    """Create the article or, when its text changed, bump its version; either way keep the version row."""
    article = KnowledgeArticle.objects.select_for_update().filter(slug=slug, language=language).first()
    if article is None:
        article = KnowledgeArticle(slug=slug, language=language, title=title, body=body, topic=topic, published=published)
        article.full_clean()
        article.save()
    elif (article.title, article.body, article.topic, article.published) != (title, body, topic, published):
        changed_text = (article.title, article.body) != (title, body)
        article.title, article.body, article.topic, article.published = title, body, topic, published
        article.version += 1 if changed_text else 0
        article.full_clean()
        article.save(update_fields=["title", "body", "topic", "published", "version", "updated_at"])
    else:
        return article
    KnowledgeArticleVersion.objects.get_or_create(
        article=article, version=article.version, defaults={"title": title, "body": body, "edited_by": edited_by}
    )
    _queue_reindex(article.pk)
    return article


def knowledge_load_file(*, path: Path | str = DEMO_KB, edited_by: str = "loader") -> dict:
    """Load (or update) every article of a YAML knowledge file; returns counts."""
    rows = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    before = dict(KnowledgeArticle.objects.values_list("pk", "version"))
    articles = [
        knowledge_article_save(
            slug=row["slug"], language=row["language"], title=row["title"], body=row["body"].strip(), topic=row.get("topic", ""),
            edited_by=edited_by,
        )
        for row in rows
    ]
    created = sum(a.pk not in before for a in articles)
    changed = sum(a.pk in before and before[a.pk] != a.version for a in articles)
    return {"articles": len(articles), "created": created, "changed": changed}


@transaction.atomic
def knowledge_article_reindex(*, article_id: int) -> dict:
    """Rebuild one article's chunks (and their embeddings) when its version is not yet indexed."""
    article = KnowledgeArticle.objects.select_for_update().filter(pk=article_id).first()
    if article is None:
        return {"article_id": article_id, "state": "gone"}
    if article.indexed_version == article.version and article.chunks.exists() == article.published:
        return {"article_id": article_id, "state": "current", "version": article.version}
    article.chunks.all().delete()
    chunks = chunk_article(article.title, article.body) if article.published else []
    vectors = embed_texts([c.indexed_text for c in chunks], article.language)
    KnowledgeChunk.objects.bulk_create([
        KnowledgeChunk(
            article=article, article_version=article.version, ordinal=c.ordinal, language=article.language, text=c.text,
            indexed_text=c.indexed_text, embedding=None if vectors is None else vectors[i].astype(np.float32).tobytes(),
            embedding_model="" if vectors is None else encoder_name(article.language),
        )
        for i, c in enumerate(chunks)
    ])
    article.indexed_version = article.version
    article.save(update_fields=["indexed_version"])
    return {"article_id": article_id, "state": "indexed", "version": article.version, "chunks": len(chunks)}


def embed_texts(texts: list[str], language: str) -> np.ndarray | None:
    """Passage embeddings of the language's encoder (None when dense retrieval is off)."""
    encoder = encoder_for(language, passages=True)
    if encoder is None or not texts:
        return None
    return np.asarray(encoder(texts), dtype=np.float32)
