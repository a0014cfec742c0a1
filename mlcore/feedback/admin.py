"""Admin of review intelligence: reviews by sentiment and aspect, staff alerts to work through,
a product feedback page (sentiment over time and aspect table), and a customer-page panel.
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Avg, Count
from django.utils.html import format_html

from customers.panels import register_customer_panel
from mlcore.feedback.selectors import (
    customer_feedback_summary,
    product_aspect_table,
    product_sentiment_by_month,
    product_sentiment_summary,
)
from mlcore.feedback.services import review_alert_mark_done
from mlcore.models import ProductFeedback, ReviewAlert, ReviewAspect, ReviewSentiment


class AspectFilter(admin.SimpleListFilter):
    title = "aspect"
    parameter_name = "aspect"

    def lookups(self, request, model_admin):
        return [(a, a) for a in ReviewAspect.objects.order_by("aspect").values_list("aspect", flat=True).distinct()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(review__aspects__aspect=self.value()).distinct()
        return queryset


class AspectLabelFilter(admin.SimpleListFilter):
    title = "aspect sentiment"
    parameter_name = "aspect_label"

    def lookups(self, request, model_admin):
        return ReviewSentiment.Label.choices

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        aspect = request.GET.get("aspect")
        lookup = {"review__aspects__label": self.value()} | ({"review__aspects__aspect": aspect} if aspect else {})
        return queryset.filter(**lookup).distinct()


def _excerpt(text: str, n: int = 90) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


@admin.register(ReviewSentiment)
class ReviewSentimentAdmin(admin.ModelAdmin):
    list_display = ["review_id", "excerpt", "product", "language", "label", "score", "method", "model_version", "aspect_list", "scored_at"]
    list_filter = ["label", AspectFilter, AspectLabelFilter, "method", "language", "model_version"]
    search_fields = ["review__text", "review__title", "review__product__sku"]
    list_select_related = ["review", "review__product", "model_version"]
    readonly_fields = [f.name for f in ReviewSentiment._meta.fields] + ["aspect_list"]

    def has_add_permission(self, request) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("review__aspects")

    @admin.display(description="review")
    def excerpt(self, obj) -> str:
        return _excerpt(f"{obj.review.title}. {obj.review.text}" if obj.review.title else obj.review.text)

    @admin.display(description="product")
    def product(self, obj) -> str:
        return obj.review.product.sku if obj.review.product_id else "-"

    @admin.display(description="aspects")
    def aspect_list(self, obj) -> str:
        return ", ".join(f"{a.aspect} {'+' if a.label == 'positive' else '-' if a.label == 'negative' else '~'}" for a in obj.review.aspects.all()) or "-"


@admin.register(ReviewAlert)
class ReviewAlertAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "customer", "review_excerpt", "reason", "created_at", "done_by", "done_at"]
    list_filter = ["status"]
    list_select_related = ["customer", "review", "done_by"]
    search_fields = ["customer__external_id", "customer__email", "review__text"]
    readonly_fields = [f.name for f in ReviewAlert._meta.fields]
    actions = ["mark_done"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="review")
    def review_excerpt(self, obj) -> str:
        return _excerpt(obj.review.text or obj.review.title)

    @admin.action(description="Mark the selected alerts done")
    def mark_done(self, request, queryset):
        closed = sum(review_alert_mark_done(alert_id=pk, user_id=request.user.pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{closed} alert(s) marked done.", level=messages.SUCCESS)


@admin.register(ProductFeedback)
class ProductFeedbackAdmin(admin.ModelAdmin):
    list_display = ["sku", "title", "category", "review_count", "sentiment_mean"]
    search_fields = ["sku", "title"]
    list_filter = ["category"]
    fields = ["sku", "title", "category"]
    readonly_fields = ["sku", "title", "category"]
    change_form_template = "admin/mlcore/productfeedback/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        qs = super().get_queryset(request).annotate(n_reviews=Count("reviews__sentiment"), mean_score=Avg("reviews__sentiment__score"))
        return qs.filter(n_reviews__gt=0)

    @admin.display(description="scored reviews", ordering="n_reviews")
    def review_count(self, obj) -> int:
        return obj.n_reviews

    @admin.display(description="mean sentiment", ordering="mean_score")
    def sentiment_mean(self, obj) -> str:
        return f"{obj.mean_score:+.2f}" if obj.mean_score is not None else "-"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        product_id = int(object_id)
        months = [
            {"month": row["month"].strftime("%Y-%m"), "reviews": row["reviews"], "score": round(row["score_mean"], 3),
             "rating": round(row["rating_mean"], 2) if row["rating_mean"] is not None else None}
            for row in product_sentiment_by_month(product_id=product_id) if row["month"] is not None
        ]
        context = {
            "sentiment_months": months,
            "aspect_rows": product_aspect_table(product_id=product_id).to_dict("records"),
            "sentiment_summary": product_sentiment_summary(product_id=product_id),
            "show_save": False, "show_save_and_continue": False,
        }
        return super().change_view(request, object_id, form_url, extra_context={**(extra_context or {}), **context})


@register_customer_panel("Reviews and sentiment", order=60)
def customer_feedback_panel(customer_id: int) -> str:
    summary = customer_feedback_summary(customer_id=customer_id)
    if not summary["reviews"]:
        return format_html("<p>{}</p>", "No scored reviews.")
    return format_html(
        "<p>{} scored review(s), mean sentiment {}, latest {}; open alerts: {}</p>",
        summary["reviews"], f"{summary['score_mean']:+.2f}", summary["last_label"] or "-", summary["open_alerts"],
    )
