"""Drafted campaign copy: generation through an injected stub LLM client (real guardrails on
real strings), approval into a variant by staff only (service and admin), and nothing sent from
a draft that is not approved. One slow test drafts with the packaged SmolLM2 model."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from campaigns.copywriting.brief import brand_voice_get
from campaigns.copywriting.models import BrandVoice, CopyDraft
from campaigns.copywriting.services import copy_draft_approve, copy_draft_generate
from campaigns.models import Campaign
from campaigns.services.lifecycle import campaign_start
from campaigns.services.sending import campaign_send_batch
from campaigns.tasks import copy_drafts_generate
from infra.models import Job
from tests.campaigns.factories import VariantFactory
from tests.customers.factories import CustomerFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

REPLIES = [
    "Subject: {{ customer.first_name }}, fresh picks for you",  # passes
    "Hello Margaret Thatcher, 40% off everything. The lowest price, guaranteed!",  # name, discount, claims
    "New linen for spring",  # passes
    "Our cheap sale: call 020 7946 0958 or write to shop@example.com {% if %}",  # banned word, phone, e-mail, syntax
]


class StubLLM:
    """The client interface (complete(messages, max_tokens) -> str) answering from a list, recording prompts."""

    name = "stub-llm"

    def __init__(self, replies: list[str]):
        self.replies, self.prompts = list(replies), []

    def complete(self, messages: list[dict], *, max_tokens: int = 120) -> str:
        self.prompts.append(messages)
        return self.replies[(len(self.prompts) - 1) % len(self.replies)]


@pytest.fixture
def campaign() -> Campaign:
    for name in ("Margaret Thatcher", "Ada Lovelace"):
        OrderLineFactory(order__customer=CustomerFactory(name=name, email=f"{name.split()[0].lower()}@example.org"))
    voice = brand_voice_get()
    voice.banned_words, voice.banned_claims, voice.max_discount_percent = "cheap", "lowest price\nguaranteed", 10
    voice.save()
    return VariantFactory(campaign__holdout_share=0, share=100, campaign__offer_text="10% off this week").campaign


@pytest.fixture
def approver(django_user_model):
    user = django_user_model.objects.create_user(username="editor", password="pw-editor-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_variant"))
    return django_user_model.objects.get(pk=user.pk)


def test_drafts_are_stored_with_their_verdicts_model_and_prompt_version(campaign):
    # given a stub model with two good and two bad replies, when 4 drafts are made, then 2 are proposed and 2 refused with reasons
    summary = copy_draft_generate(campaign_id=campaign.pk, n=4, llm=StubLLM(REPLIES))
    assert (summary["proposed"], summary["refused"]) == (2, 2)
    drafts = list(CopyDraft.objects.filter(campaign=campaign).order_by("id"))
    assert [d.kind for d in drafts] == ["subject", "body", "subject", "body"]
    assert drafts[0].text == "{{ customer.first_name }}, fresh picks for you" and drafts[0].status == "proposed"
    assert {d.model_name for d in drafts} == {"stub-llm"} and {d.prompt_version for d in drafts} == {"copy-v1"}
    rules = {[r.split(":")[0] for r in d.refusal_reasons][0] for d in drafts if d.status == "refused"}
    assert rules <= {"template syntax", "customer data"}
    refused_name = drafts[1].refusal_reasons
    assert any("Margaret" in r for r in refused_name) and any(r.startswith("discount: 40%") for r in refused_name)
    assert any("banned claim: 'lowest price'" == r for r in refused_name) and any("guaranteed" in r for r in refused_name)
    assert {r.split(" (")[0] for r in drafts[3].refusal_reasons} >= {"banned word: 'cheap'", "customer data: a phone number", "customer data: an e-mail address"}


def test_prompts_hold_no_customer_data(campaign):
    # given an audience with named customers, when drafts are made, then no prompt holds their names or e-mail addresses
    llm = StubLLM(REPLIES)
    copy_draft_generate(campaign_id=campaign.pk, n=4, llm=llm)
    text = str(llm.prompts)
    assert "Margaret" not in text and "Lovelace" not in text and "@" not in text
    assert "2 customers selected by" in text and "{{ customer.first_name }}" in text


def test_approval_copies_a_proposed_draft_into_a_variant(campaign, approver):
    # given a proposed subject and body, when approved into variant B, then B has them and the drafts are approved
    copy_draft_generate(campaign_id=campaign.pk, n=4, llm=StubLLM([REPLIES[0], "Hello {{ customer.first_name }}, our linen is back & ready.\n{{ offer }}"]))
    subject, body = CopyDraft.objects.filter(campaign=campaign, status="proposed").order_by("id")[:2]
    copy_draft_approve(draft_id=subject.pk, variant_name="B", user=approver)
    variant = copy_draft_approve(draft_id=body.pk, variant_name="B", user=approver)
    assert variant.subject == subject.text and variant.text_body.startswith(body.text)
    assert "<p>Hello {{ customer.first_name }}, our linen is back &amp; ready.</p>" in variant.html_body and "{% for p in recommendations %}" in variant.html_body
    subject.refresh_from_db()
    assert subject.status == "approved" and subject.variant_id == variant.pk and subject.approved_by == approver
    assert sorted(campaign.variants.values_list("name", flat=True)) == ["A", "B"]


def test_only_staff_with_the_variant_permission_may_approve_and_only_proposed_drafts(campaign, approver, staff_user):
    # given staff without the permission, a refused draft, a voice that changed, and a started campaign, then approval is refused each time
    copy_draft_generate(campaign_id=campaign.pk, n=2, llm=StubLLM(REPLIES))
    proposed = CopyDraft.objects.get(campaign=campaign, status="proposed")
    refused = CopyDraft.objects.get(campaign=campaign, status="refused")
    with pytest.raises(PermissionDenied):
        copy_draft_approve(draft_id=proposed.pk, variant_name="B", user=staff_user)
    with pytest.raises(ValidationError, match="only a proposed draft"):
        copy_draft_approve(draft_id=refused.pk, variant_name="B", user=approver)
    BrandVoice.objects.filter(pk=1).update(banned_words="fresh")
    with pytest.raises(ValidationError, match="no longer passes"):
        copy_draft_approve(draft_id=proposed.pk, variant_name="B", user=approver)
    BrandVoice.objects.filter(pk=1).update(banned_words="")
    campaign_start(campaign_id=campaign.pk)
    with pytest.raises(ValidationError, match="started sending"):
        copy_draft_approve(draft_id=proposed.pk, variant_name="B", user=approver)
    assert campaign.variants.count() == 1


def test_nothing_is_sent_from_drafts_until_one_is_approved(campaign, approver, mailoutbox):
    # given proposed drafts, when the campaign sends, then no mail carries a draft; after approval into A, the next campaign run would
    copy_draft_generate(campaign_id=campaign.pk, n=2, llm=StubLLM(["Unapproved line for {{ customer.first_name }}"]))
    campaign_start(campaign_id=campaign.pk)
    while campaign_send_batch(campaign_id=campaign.pk).state == "more":
        pass
    assert mailoutbox and all("Unapproved line" not in m.subject and "Unapproved line" not in m.body for m in mailoutbox)


def test_an_approved_draft_is_what_the_variant_sends(campaign, approver, mailoutbox):
    # given a subject draft approved into variant A, when the campaign sends, then each mail's subject is the draft rendered
    copy_draft_generate(campaign_id=campaign.pk, n=1, llm=StubLLM(["{{ customer.first_name }}, approved picks"]))
    copy_draft_approve(draft_id=CopyDraft.objects.get(campaign=campaign).pk, variant_name="A", user=approver)
    campaign_start(campaign_id=campaign.pk)
    while campaign_send_batch(campaign_id=campaign.pk).state == "more":
        pass
    assert sorted(m.subject for m in mailoutbox) == ["Ada, approved picks", "Margaret, approved picks"]


def test_admin_action_approves_into_the_named_variant(campaign, admin_user_client):
    # given a proposed draft, when the admin action runs with variant "C", then the campaign gains variant C with the draft
    copy_draft_generate(campaign_id=campaign.pk, n=1, llm=StubLLM([REPLIES[2]]))
    draft = CopyDraft.objects.get(campaign=campaign)
    response = admin_user_client.post("/admin/campaigns/copydraft/", {"action": "approve_into_variant", "_selected_action": [draft.pk], "variant": "C"})
    assert response.status_code == 302
    assert campaign.variants.get(name="C").subject == "New linen for spring"
    assert admin_user_client.get("/admin/campaigns/copydraft/").status_code == 200
    assert admin_user_client.get("/admin/campaigns/brandvoice/", follow=True).status_code == 200


def test_admin_action_refuses_staff_without_permission(campaign, client, staff_user):
    # given staff who may view drafts but not change variants, when they run the approval action, then nothing changes
    staff_user.user_permissions.add(Permission.objects.get(codename="view_copydraft"))
    client.force_login(staff_user)
    copy_draft_generate(campaign_id=campaign.pk, n=1, llm=StubLLM([REPLIES[2]]))
    draft = CopyDraft.objects.get(campaign=campaign)
    client.post("/admin/campaigns/copydraft/", {"action": "approve_into_variant", "_selected_action": [draft.pk], "variant": "C"})
    assert not campaign.variants.filter(name="C").exists()
    draft.refresh_from_db()
    assert draft.status == "proposed"


def test_task_runs_through_the_job_runner_with_progress(campaign, monkeypatch):
    # given the stub as the shared client, when the task runs twice, then each run's job succeeds with done == total and adds drafts
    monkeypatch.setattr("campaigns.copywriting.services.copy_llm", lambda: StubLLM(REPLIES))
    for _ in range(2):
        result = copy_drafts_generate.apply(kwargs={"campaign_id": campaign.pk, "n": 4}).get()
        job = Job.objects.get(pk=result["job_id"])
        assert job.status == "succeeded" and (job.done, job.total) == (4, 4)
    assert CopyDraft.objects.filter(campaign=campaign).count() == 8


@pytest.mark.slow
def test_the_packaged_model_drafts_and_every_draft_gets_a_verdict(campaign, settings):
    # given the packaged SmolLM2 GGUF, when 2 drafts are made, then both are stored, named after the model, proposed or refused with reasons
    settings.LLM_BASE_URL = ""
    copy_draft_generate(campaign_id=campaign.pk, n=2)
    drafts = list(CopyDraft.objects.filter(campaign=campaign))
    assert len(drafts) == 2 and {d.model_name for d in drafts} == {"SmolLM2-135M-Instruct.Q4_1.gguf"}
    assert all((d.status == "proposed") == (d.refusal_reasons == []) for d in drafts)
