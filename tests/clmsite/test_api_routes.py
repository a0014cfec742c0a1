"""Every route of the generated OpenAPI schema, with every kind of credential.

Anonymous: 401. A non-staff user's token: 403. A key holding every scope but the route's:
403. A key holding only the route's scope: 2xx. A staff token: 2xx. The bounce route takes
only the mail provider's signed call (401 for everything else). The assistant's customer-facing
routes take no credential (the conversation's random id is the capability, like a landing page
link): every caller gets 2xx on a real conversation and 404 on an unknown one. Rows are real: a small shop
with a trained recommender, scores, a segmentation run, campaigns in each state, an import.
Set CLM_API_MATRIX=path to also write the route x credential matrix as Markdown (docs/api.md).
"""
from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path

import pytest
from django.urls import resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from campaigns.api.signing import bounce_signature
from campaigns.assistant.services.conversations import conversation_start
from campaigns.services import lifecycle
from customers.api.keys import api_key_create
from customers.api.scopes import Scope, scope_for
from customers.imports.services import import_bytes
from customers.models import Customer, Order, Product
from customers.privacy.models import PrivacyRequest
from customers.privacy.services import privacy_request_run
from customers.webhooks.services import webhook_subscription_create, webhook_subscription_pause
from infra.models import Job
from mlcore.models import CustomerScore, ModelVersion, Segment, SegmentationRun, SegmentMembership
from mlcore.recommendations.services import recommender_train
from tests.customers.factories import ReviewFactory
from tests.mlcore.recommend_shop import make_shop

pytestmark = pytest.mark.django_db
METHODS = ("get", "post", "put", "patch", "delete")
BOUNCE = "/api/v1/campaign-bounces"
PUBLIC = "/api/v1/assistant/"
_slugs = itertools.count()


def schema_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [(path, method.upper()) for path, item in schema["paths"].items() for method in item if method in METHODS]


def campaign_body() -> dict:
    return {
        "name": "Walk", "slug": f"walk-{next(_slugs)}", "audience_rules": [{"key": "country", "params": {"countries": ["France"]}}],
        "variants": [{"name": "A", "share": 100, "subject": "Hi", "html_body": "<p>Hi</p>", "text_body": "Hi"}],
    }


def campaign_in(state: str) -> int:
    """A fresh campaign an action can move: draft, scheduled or paused."""
    body = campaign_body()
    campaign = lifecycle.campaign_create(variants=body.pop("variants"), **body)
    if state in ("scheduled", "paused"):
        lifecycle.campaign_schedule(campaign_id=campaign.pk, send_at=timezone.now() + timezone.timedelta(days=3))
    if state == "paused":
        lifecycle.campaign_pause(campaign_id=campaign.pk)
    return campaign.pk


ACTION_STATE = {"schedule": "draft", "start": "scheduled", "pause": "scheduled", "resume": "paused", "cancel": "draft"}


class Shop:
    """Real rows for every path parameter."""

    def __init__(self):
        make_shop()
        recommender_train(fast=True)
        self.customer = Customer.objects.get(external_id="EXT1")
        churn = ModelVersion.objects.create(kind="churn", version=1, status="ready", is_active=True)
        CustomerScore.objects.create(customer=self.customer, model_version=churn, churn_probability=0.8, expected_value_12m=50.0,
                                     probability_active=0.3, reason="quiet for months", scored_at=timezone.now())
        run = SegmentationRun.objects.create(snapshot_at=timezone.now(), status=SegmentationRun.Status.READY, k=1, customer_count=1)
        self.segment = Segment.objects.create(run=run, key="champions", name="Champions", size=1)
        SegmentMembership.objects.create(run=run, customer=self.customer, segment=self.segment)
        self.run = run
        self.review = ReviewFactory(customer=self.customer)
        self.job = Job.objects.create(kind="walk")
        self.batch = import_bytes(data=b"external_id,country\nWALK1,France\n", source_name="walk.csv", kind="customers", preset=None,
                                  mapping={"columns": {"external_id": "external_id", "country": "country"}})
        self.campaign = campaign_in("draft")
        self.conversation = conversation_start(customer_id=None, language="en")
        export = PrivacyRequest.objects.create(kind=PrivacyRequest.Kind.EXPORT, customer=self.customer, requested_by="walk")
        privacy_request_run(request_id=export.pk)
        self.privacy_request = export.pk

    @staticmethod
    def fresh_subscription(template: str) -> int:
        """A subscription of its own per call (DELETE removes the one it was given), paused where it is to be resumed."""
        subscription = webhook_subscription_create(name="walk", url="https://partner.example.com/hook", events=["import.finished"])
        if template.endswith("/resume"):
            webhook_subscription_pause(subscription_id=subscription.pk)
        return subscription.pk

    def path(self, template: str) -> str:
        """The template with real ids; campaign actions get a fresh campaign in the state they need."""
        action = re.search(r"/campaigns/\{id\}/(\w+)$", template)
        if template.endswith("/erase"):  # each erasure gets a customer of its own: the shop's stays for the other routes
            return template.replace("{external_id}", Customer.objects.create(external_id=f"ERASE{next(_slugs)}").external_id)
        resource = template.split("/")[3]
        values = {
            "external_id": Order.objects.first().external_id if template.startswith("/api/v1/orders") else self.customer.external_id,
            "sku": Product.objects.get(sku="SKU0").sku,
            "kind": "customers",
            "public_id": self.conversation.public_id,
        }
        ids = {"reviews": self.review.pk, "jobs": self.job.pk, "model-versions": ModelVersion.objects.first().pk, "imports": self.batch,
               "segmentation-runs": self.run.pk, "segments": self.segment.pk, "privacy-requests": self.privacy_request,
               "webhooks": self.fresh_subscription(template) if resource == "webhooks" else None,
               "campaigns": campaign_in(ACTION_STATE[action.group(1)]) if action and action.group(1) in ACTION_STATE else self.campaign}
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)] if m.group(1) in values else ids[resource]), template)


def body_for(path: str, method: str) -> dict | list | None:
    if method != "POST":
        return None
    if path == "/api/v1/campaigns":
        return campaign_body()
    if path.startswith("/api/v1/imports/"):
        return [{"external_id": "WALK2", "country": "France"}]
    if path == "/api/v1/sentiment":
        return {"texts": ["Lovely fabric, perfect fit."], "language": "en"}
    if path == "/api/v1/webhooks":
        return {"name": "walk", "url": "https://partner.example.com/hook", "events": ["import.finished"]}
    if path.startswith("/api/v1/assistant/"):
        return {"text": "How long do I have to return an item?"} if path.endswith("/messages") else {"language": "en"}
    if path.endswith("/schedule"):
        return {"send_at": (timezone.now() + timezone.timedelta(days=2)).isoformat()}
    return {}


def needed_scope(path: str, method: str) -> str | None:
    match = resolve(path)
    view_class = getattr(match.func, "cls", None) or match.func.view_class
    view = view_class()
    view.kwargs = match.kwargs
    assert hasattr(view_class, "required_scopes"), f"{view_class.__name__} declares no required_scopes"
    return scope_for(view, method)


def client_with(header: str | None) -> APIClient:
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


def call(client: APIClient, path: str, method: str, **extra):
    body = body_for(path, method)
    return client.generic(method, path, json.dumps(body) if body is not None else "", content_type="application/json", **extra)


def signed_bounce(secret: str):
    body = json.dumps({"email": "walk@example.com"}).encode()
    timestamp = str(int(time.time()))
    return APIClient().post(BOUNCE, body, content_type="application/json", HTTP_X_BOUNCE_TIMESTAMP=timestamp,
                            HTTP_X_BOUNCE_SIGNATURE=bounce_signature(secret=secret, timestamp=timestamp, body=body))


@pytest.fixture
def credentials(django_user_model):
    staff = django_user_model.objects.create_user(username="walk-staff", password="pw-walk-123", is_staff=True)
    member = django_user_model.objects.create_user(username="walk-member", password="pw-walk-123")
    return {"staff": f"Token {Token.objects.create(user=staff).key}", "member": f"Token {Token.objects.create(user=member).key}"}


def key_header(scopes: list[str]) -> str:
    return f"Bearer {api_key_create(name='walk', scopes=scopes)[1]}"


def test_every_schema_route_answers_each_credential_as_its_scope_says(credentials, settings):
    # given every operation of the schema and real rows, when each credential calls it, then 401 / 403 / 403 / 2xx / 2xx
    settings.BOUNCE_SIGNING_SECRET = "walk-secret"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True  # no DNS lookup of the example host
    settings.ASSISTANT_DENSE, settings.ASSISTANT_LLM, settings.ASSISTANT_SENTIMENT = False, "none", False
    shop = Shop()
    operations, rows, wrong = schema_operations(), [], []
    assert len(operations) >= 38
    for template, method in operations:
        path = shop.path(template)
        scope = needed_scope(path, method)
        if template == BOUNCE:
            expected = {"anonymous": 401, "member token": 401, "key, other scopes": 401, "key, all scopes": 401, "staff token": 401, "signed call": "2xx"}
            got = {"anonymous": call(client_with(None), path, method).status_code,
                   "member token": call(client_with(credentials["member"]), path, method).status_code,
                   "key, other scopes": call(client_with(key_header(list(Scope.values))), path, method).status_code,
                   "key, all scopes": call(client_with(key_header(list(Scope.values))), path, method).status_code,
                   "staff token": call(client_with(credentials["staff"]), path, method).status_code,
                   "signed call": signed_bounce("walk-secret").status_code}
        elif template.startswith(PUBLIC):
            assert scope is None, f"{method} {template} is customer-facing and needs no partner scope"
            unknown = path.replace(str(shop.conversation.public_id), "00000000-0000-4000-8000-000000000000")
            expected = {"anonymous": "2xx", "member token": "2xx", "key, other scopes": "2xx", "staff token": "2xx", "unknown conversation": 404 if unknown != path else "2xx"}
            got = {"anonymous": call(client_with(None), path, method).status_code,
                   "member token": call(client_with(credentials["member"]), path, method).status_code,
                   "key, other scopes": call(client_with(key_header(list(Scope.values))), path, method).status_code,
                   "staff token": call(client_with(credentials["staff"]), path, method).status_code,
                   "unknown conversation": call(client_with(None), unknown, method).status_code}
        else:
            assert scope in Scope.values, f"{method} {template} requires no known scope ({scope!r})"
            others = [s for s in Scope.values if s != scope]
            expected = {"anonymous": 401, "member token": 403, "key, other scopes": 403, "key, the scope": "2xx", "staff token": "2xx"}
            got = {"anonymous": call(client_with(None), path, method).status_code,
                   "member token": call(client_with(credentials["member"]), path, method).status_code,
                   "key, other scopes": call(client_with(key_header(others)), path, method).status_code,
                   "key, the scope": call(client_with(key_header([scope])), path, method).status_code,
                   "staff token": call(client_with(credentials["staff"]), shop.path(template), method).status_code}
        for who, want in expected.items():
            ok = 200 <= got[who] < 300 if want == "2xx" else got[who] == want
            if not ok:
                wrong.append(f"{method} {template} as {who}: {got[who]}, expected {want}")
        rows.append((method, template, scope or ("none: customer-facing" if template.startswith(PUBLIC) else "signed call only"), got))
    _write_matrix(rows)
    assert wrong == [], "\n".join(wrong)


def _write_matrix(rows) -> None:
    target = os.environ.get("CLM_API_MATRIX")
    if not target:
        return
    columns = ["anonymous", "member token", "key, other scopes", "key, the scope", "staff token"]
    lines = ["| method | route | scope | " + " | ".join(columns) + " |", "|" + " --- |" * (3 + len(columns))]
    for method, template, scope, got in rows:
        cells = [str(got.get(c, got.get("signed call", "")) if c != "key, the scope" else got.get(c, f"signed: {got.get('signed call')}")) for c in columns]
        lines.append(f"| {method} | `{template}` | {scope} | " + " | ".join(cells) + " |")
    Path(target).write_text("\n".join(lines) + "\n")


def test_docs_routes_stay_public(client):
    # given the schema and the docs page, when fetched without credentials, then both answer 200
    assert client.get("/api/schema/").status_code == client.get("/api/docs/").status_code == 200
