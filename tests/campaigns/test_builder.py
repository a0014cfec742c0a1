"""The campaign builder in the admin: audience form and live count, name checks, template
compilation, the sandboxed preview, test send and the starting templates; and the API's checks."""
from __future__ import annotations

import html

import pytest
from django.core.exceptions import ValidationError

from campaigns.audience import audience_queryset
from campaigns.models import Campaign
from campaigns.services import authoring
from campaigns.starters import STARTERS
from mlcore.models import Segment
from tests.campaigns.factories import VariantFactory
from tests.campaigns.marketing_shop import marketing_shop_create
from tests.customers.factories import CustomerFactory, OrderLineFactory

pytestmark = pytest.mark.django_db
ADD = "/admin/campaigns/campaign/add/"


def add_form(**overrides) -> dict:
    """A complete add-form POST with one variant, as the browser sends it."""
    data = {
        "name": "Spring", "slug": "spring", "holdout_share": "0.1", "seed": "7", "conversion_window_days": "7", "recommendations_count": "3",
        "throttle_per_minute": "0", "other_rules": "[]", "only_new_entrants": "on",
        "wave_count": "1", "first_wave_percent": "20", "wave_adaptive": "on", "wave_metric": "clicks", "wave_min_sample": "100", "bandit_seed": "9",
        "variants-TOTAL_FORMS": "1", "variants-INITIAL_FORMS": "0", "variants-MIN_NUM_FORMS": "1", "variants-MAX_NUM_FORMS": "4",
        "variants-0-name": "A", "variants-0-share": "100", "variants-0-subject": "Hi {{ customer.first_name }}",
        "variants-0-html_body": "<p>{% for p in recommendations %}{{ p.title }}{% endfor %}</p>", "variants-0-text_body": "t",
    }
    return {**data, **overrides}


@pytest.fixture
def shop():
    return marketing_shop_create(n_customers=200)


def biggest_segment(run_id: int) -> Segment:
    return Segment.objects.filter(run_id=run_id).order_by("-size").first()


def test_audience_form_saves_rules_through_the_services_and_reports_the_count(shop, admin_user_client):
    # given a segmented shop, when a campaign is added with a segment, a country and a churn range, then the rules are stored and the saved count is shown
    segment = biggest_segment(shop["runs"][1])
    country = CustomerFactory._meta.model.objects.values_list("country", flat=True).first()
    response = admin_user_client.post(ADD, add_form(segments=[segment.key], countries=[country], churn_min="20", churn_max="100"), follow=True)
    campaign = Campaign.objects.get(slug="spring")
    rules = [{"key": "segment", "params": {"keys": [segment.key]}}, {"key": "country", "params": {"countries": [country]}},
             {"key": "churn_risk", "params": {"min": 0.2, "max": 1.0}}]
    assert campaign.audience_rules == rules and campaign.variants.get().subject == "Hi {{ customer.first_name }}"
    assert f"Audience now: {audience_queryset(rules).count():,} customers" in response.content.decode()


def test_live_count_answers_the_size_of_the_audience_the_fields_describe(shop, admin_user_client):
    # given a segment chosen in the form, when the live count endpoint is asked, then it answers the audience size and recipients after the holdout
    segment = biggest_segment(shop["runs"][1])
    answer = admin_user_client.post("/admin/campaigns/campaign/audience-count/", {"segments": [segment.key], "holdout_share": "0.2", "other_rules": "[]"}).json()
    expected = audience_queryset([{"key": "segment", "params": {"keys": [segment.key]}}]).count()
    assert answer["customers"] == expected == segment.size and answer["recipients"] == round(expected * 0.8)


def test_live_count_refuses_an_unknown_segment_naming_the_valid_ones(shop, admin_user_client):
    # given a segment's display name where its key belongs, when counted or saved, then both refuse it and list the valid keys
    segment = biggest_segment(shop["runs"][1])
    rules = f'[{{"key": "segment", "params": {{"keys": ["{segment.name}"]}}}}]'
    answer = admin_user_client.post("/admin/campaigns/campaign/audience-count/", {"other_rules": rules})
    saved = admin_user_client.post(ADD, add_form(other_rules=rules)).content.decode()
    assert answer.status_code == 400 and f"unknown '{segment.name}'; valid: " in answer.json()["errors"][0] and segment.key in answer.json()["errors"][0]
    assert "unknown &#x27;" in saved and not Campaign.objects.exists()


def test_a_template_that_does_not_compile_is_refused_at_its_line(admin_user_client):
    # given a variant body whose for-loop never ends, when saved, then the form names the line and nothing is stored
    body = "<p>Hello</p>\n<ul>\n{% for p in recommendations %}<li>{{ p.title }}</li>\n</ul>"
    page = admin_user_client.post(ADD, add_form(**{"variants-0-html_body": body})).content.decode()
    assert "Template error at line 3: Unclosed tag on line 3: &#x27;for&#x27;" in page and not Campaign.objects.exists()


def test_services_refuse_broken_templates_and_frozen_audience_changes():
    # given a started campaign, when its audience is changed or a variant with a broken subject is saved, then both are refused
    variant = VariantFactory()
    Campaign.objects.filter(pk=variant.campaign_id).update(started_at=variant.campaign.created_at)
    with pytest.raises(ValidationError, match="audience_rules cannot change once sending has started"):
        authoring.campaign_update(campaign_id=variant.campaign_id, audience_rules=[{"key": "order_count", "params": {"min": 2}}])
    spec = {"id": variant.pk, "name": "A", "share": 100, "subject": "{% if customer.first_name %}Hi", "html_body": "h", "text_body": "t"}
    with pytest.raises(ValidationError, match="variant A subject: line 1"):
        authoring.campaign_variants_save(campaign_id=variant.campaign_id, variants=[spec])


def test_preview_frame_holds_the_whole_message_escaped(admin_user_client):
    # given a campaign recommending products whose titles hold quotes, when previewed, then the sandboxed frame's srcdoc holds every product, escaped once
    for title in ('Mug "Large"', "Bowl 'Blue'"):
        OrderLineFactory(product__title=title)
    variant = VariantFactory(campaign__recommendations_count=2)
    page = admin_user_client.get(f"/admin/campaigns/campaign/{variant.campaign_id}/preview/", {"variant": variant.pk}).content.decode()
    frame = page[page.index('<iframe id="message-html"'):]
    srcdoc = frame[frame.index('srcdoc="') + 8:frame.index('"></iframe>')]
    assert 'sandbox=""' in frame and '"' not in srcdoc
    unescaped = html.unescape(srcdoc)
    assert 'Mug "Large"' in html.unescape(unescaped) and "Bowl 'Blue'" in html.unescape(unescaped) and "Unsubscribe" in unescaped


def test_test_send_defaults_to_the_users_address_and_refuses_an_empty_one(admin_user_client, mailoutbox):
    # given the preview of a variant, when opened and then sent with an empty address, then the box holds the user's address and the empty send is refused with a message
    variant = VariantFactory()
    url = f"/admin/campaigns/campaign/{variant.campaign_id}/preview/"
    page = admin_user_client.get(url, {"variant": variant.pk}).content.decode()
    refused = admin_user_client.post(url, {"variant": variant.pk, "customer": "", "send_to": ""}, follow=True).content.decode()
    assert 'name="send_to" id="id_send_to" value="root@example.com"' in page
    assert "enter the address to send the test to" in refused and mailoutbox == []


@pytest.mark.parametrize("key", sorted(STARTERS))
def test_each_starting_template_fills_the_first_variant_and_compiles(admin_user_client, key):
    # given a starter, when the add page opens with it, then its subject fills variant A; saving it as is creates the campaign
    starter = STARTERS[key]
    page = admin_user_client.get(ADD, {"starter": key}).content.decode()
    assert html.escape(starter.subject) in page and html.escape(starter.campaign["offer_text"]) in page
    data = add_form(name=starter.campaign["name"], slug=key, **{"variants-0-subject": starter.subject, "variants-0-html_body": starter.html_body, "variants-0-text_body": starter.text_body})
    assert admin_user_client.post(ADD, data).status_code == 302 and Campaign.objects.get(slug=key).variants.get().subject == starter.subject


def test_api_refuses_unknown_names_and_broken_templates(api_client):
    # given the campaigns API, when a campaign names an unknown country or has a broken template, then 400 names the field and the valid values
    CustomerFactory(country="France")
    variant = {"name": "A", "share": 100, "subject": "s", "html_body": "<p>h</p>", "text_body": "t"}
    unknown = api_client.post("/api/v1/campaigns/", {"name": "X", "slug": "x", "audience_rules": [{"key": "country", "params": {"countries": ["Frankreich"]}}], "variants": [variant]}, format="json")
    broken = api_client.post("/api/v1/campaigns/", {"name": "Y", "slug": "y", "variants": [{**variant, "html_body": "{% if x %}"}]}, format="json")
    assert unknown.status_code == 400 and "unknown 'Frankreich'; valid: France" in unknown.json()["audience_rules"][0]
    assert broken.status_code == 400 and "template error at line 1: Unclosed tag on line 1: 'if'" in broken.json()["variants"]["0"]["html_body"][0]


def test_live_count_refuses_an_unknown_country_field_value_listing_the_valid_ones(admin_user_client):
    # given customers in France only, when the form's country field carries another name, then the count is refused naming France
    CustomerFactory(country="France")
    answer = admin_user_client.post("/admin/campaigns/campaign/audience-count/", {"countries": ["Frankreich"]})
    assert answer.status_code == 400 and answer.json()["errors"] == ["Frankreich is not one the shop holds; valid: France"]


def test_a_started_campaigns_audience_is_shown_fixed_and_kept_on_save(admin_user_client):
    # given a campaign whose sending started, when its page opens and is saved with other segments posted, then the audience fields are disabled and the rules stay
    CustomerFactory(country="France")
    variant = VariantFactory(campaign__audience_rules=[{"key": "country", "params": {"countries": ["France"]}}])
    campaign = variant.campaign
    Campaign.objects.filter(pk=campaign.pk).update(started_at=campaign.created_at)
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    page = admin_user_client.get(url).content.decode()
    assert "Fixed: sending has started." in page and 'name="countries"' in page and "disabled" in page[page.index('name="countries"') - 200:page.index('name="countries"') + 200]
    data = add_form(name=campaign.name, slug=campaign.slug, other_rules='[{"key": "order_count", "params": {"min": 3}}]', **{
        "variants-INITIAL_FORMS": "1", "variants-0-id": str(variant.pk), "variants-0-campaign": str(campaign.pk)})
    assert admin_user_client.post(url, data).status_code == 302
    campaign.refresh_from_db()
    assert campaign.audience_rules == [{"key": "country", "params": {"countries": ["France"]}}]


def test_the_slug_help_says_where_the_landing_page_is(admin_user_client):
    # given a campaign, when its admin page opens, then the slug's help names the landing page's address in words the page shows (a "<slug>" in it was read as an HTML tag and vanished: "/c//")
    campaign = VariantFactory().campaign
    page = admin_user_client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()
    assert "The landing page is at /c/ followed by the slug (for example /c/spring-sale/)" in page and "/c//" not in page
