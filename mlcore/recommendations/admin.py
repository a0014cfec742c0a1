"""The customer page's "Recommendations" panel: the stored list with the reason for every item."""
from __future__ import annotations

from django.utils.html import format_html, format_html_join

from customers.panels import register_customer_panel
from mlcore.recommendations.selectors import active_recommender_id, recommendations_for_customer


@register_customer_panel("Recommendations", order=40)
def recommendations_panel(customer_id: int) -> str:
    if active_recommender_id() is None:
        return format_html("<p>{}</p>", "No recommender has been trained yet (manage.py train_recommender).")
    items = recommendations_for_customer(customer_id=customer_id, k=10)
    if not items:
        return format_html("<p>{}</p>", "No recommendations for this customer.")
    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((rank, item.sku, item.title, f"{item.score:.3f}", item.reason) for rank, item in enumerate(items, start=1)),
    )
    return format_html(
        '<table><thead><tr><th>#</th><th>SKU</th><th>Product</th><th>Score</th><th>Why</th></tr></thead><tbody>{}</tbody></table>', rows
    )
