"""Public entrypoints reached from campaign mail: landing page, open pixel, click redirect and
one-click unsubscribe (GET from the visible link, POST from List-Unsubscribe-Post). No login;
every token is signed, and a bad one gets a generic page, never an error about why."""
from __future__ import annotations

import base64

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns import links
from campaigns.assistant.widget import widget_inject
from campaigns.models import Campaign, Delivery
from campaigns.rendering import landing_render
from campaigns.services.tracking import delivery_click, delivery_open, delivery_unsubscribe
from customers.models import Product
from customers.selectors import product_review_summary
from mlcore.feedback import selectors as feedback_selectors

_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def landing(request, slug: str):
    """Personalised through ?t=<delivery token>; an invalid or foreign token gets the generic page."""
    campaign = get_object_or_404(Campaign, slug=slug)
    delivery_id = links.delivery_from_token(request.GET.get("t", ""), purpose="landing")
    delivery = Delivery.objects.filter(pk=delivery_id, campaign=campaign).select_related("customer").first() if delivery_id else None
    html = landing_render(campaign=campaign, customer=delivery.customer if delivery else None, delivery_id=delivery.pk if delivery else None)
    return HttpResponse(widget_inject(html, customer_id=delivery.customer_id if delivery else None, request=request))


def open_pixel(request, token: str):
    delivery_id = links.delivery_from_token(token, purpose="open")
    if delivery_id:
        delivery_open(delivery_id=delivery_id)
    response = HttpResponse(_GIF, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


def click(request, token: str):
    """Redirect only to a URL signed for this delivery AND contained in its campaign."""
    parsed = links.click_from_token(token)
    delivery = Delivery.objects.filter(pk=parsed[0]).select_related("campaign").first() if parsed else None
    if delivery is None:
        return HttpResponseBadRequest("This link is not valid.")
    sources = [s for v in delivery.campaign.variants.all() for s in (v.html_body, v.text_body)] + [delivery.campaign.landing_html]
    if not links.url_allowed(url=parsed[1], slug=delivery.campaign.slug, template_sources=sources):
        return HttpResponseBadRequest("This link is not valid.")
    delivery_click(delivery_id=delivery.pk, url=parsed[1])
    return HttpResponseRedirect(parsed[1])


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """One click, no login: the opt-out is recorded at once (time and source 'unsubscribe')."""
    delivery_id = links.delivery_from_token(token, purpose="unsubscribe")
    done = bool(delivery_id) and delivery_unsubscribe(delivery_id=delivery_id)
    status = 200 if done else 400
    return render(request, "campaigns/unsubscribed.html", {"done": done}, status=status)


def product_page(request, sku: str):
    """The page a product link in mail and landing pages opens: title, price, description,
    image, the review counts and what customers say (the checked summary, each claim with
    the reviews that support it). Fees and unknown SKUs are 404."""
    product = get_object_or_404(Product.objects.filter(kind=Product.Kind.PRODUCT), sku=sku)
    context = {
        "product": product, "currency": settings.SHOP_CURRENCY,
        "reviews": product_review_summary(product_id=product.pk),
        "sentiment": feedback_selectors.product_sentiment_summary(product_id=product.pk),
        "summary": feedback_selectors.product_review_summary_detail(product_id=product.pk),
    }
    return render(request, "campaigns/product.html", context)
