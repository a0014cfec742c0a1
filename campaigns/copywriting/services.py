"""Drafting campaign copy with a language model, and approving a draft into a variant.

`copy_draft_generate` builds each prompt from the campaign's brief (aggregates only), refuses a
prompt that holds customer data before any model sees it, asks the shared LLM client, checks the
reply with every guardrail and stores it: proposed when it passes, refused with the reasons when
not. `copy_draft_approve` is the only way a draft reaches a variant (and so a customer): a staff
member with the change-variant permission, before the campaign starts sending.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape

from campaigns.copywriting.brief import audience_names, brand_voice_get, campaign_brief, voice_rules
from campaigns.copywriting.models import CopyDraft
from campaigns.models import Campaign, Variant
from campaigns.rendering import template_error
from campaigns.services.authoring import VARIANT_FIELDS, campaign_variants_save
from campaigns.starters import _FOOTER_HTML, _FOOTER_TEXT, _PRODUCTS_HTML, _PRODUCTS_TEXT
from infra.jobs import job_enqueue
from mlcore.ml.copywriting.guardrails import draft_check, prompt_violations
from mlcore.ml.copywriting.prompts import MAX_TOKENS, PROMPT_VERSION, clean_reply, copy_messages

_TEMPLATE_PART = re.compile(r"({{.*?}}|{%.*?%})", re.DOTALL)


def copy_llm():
    """The language model shared with the support assistant (packaged GGUF or LLM_BASE_URL)."""
    from campaigns.assistant.services.runtime import shared_llm

    return shared_llm()


def llm_name(llm) -> str:
    return str(getattr(llm, "name", "") or type(llm).__name__)[:200]


def _draft_one(llm, brief, *, kind: str, index: int, rules, names: set[str]) -> tuple[str, list[str]]:
    messages = copy_messages(brief, kind=kind, index=index)
    if leaks := prompt_violations(messages, names):
        return "", [f"prompt refused before the model: {r}" for r in leaks]
    text = clean_reply(llm.complete(messages, max_tokens=MAX_TOKENS[kind]), kind)
    return text, draft_check(text, kind=kind, rules=rules, template_error=template_error, known_names=names).reasons


def copy_draft_generate(*, campaign_id: int, n: int, llm=None, on_draft: Callable[[CopyDraft], None] | None = None) -> dict:
    """Draft n pieces of copy (subjects and bodies alternating) and store each with its verdict."""
    campaign = Campaign.objects.get(pk=campaign_id)
    voice = brand_voice_get()
    rules, brief, names = voice_rules(voice), campaign_brief(campaign, voice), audience_names(campaign)
    llm = llm or copy_llm()
    counts = {"proposed": 0, "refused": 0}
    for index in range(n):
        kind = CopyDraft.Kind.SUBJECT if index % 2 == 0 else CopyDraft.Kind.BODY
        text, reasons = _draft_one(llm, brief, kind=kind, index=index // 2, rules=rules, names=names)
        status = CopyDraft.Status.REFUSED if reasons else CopyDraft.Status.PROPOSED
        draft = CopyDraft.objects.create(
            campaign=campaign, kind=kind, text=text, model_name=llm_name(llm), prompt_version=PROMPT_VERSION, status=status, refusal_reasons=reasons,
        )
        counts[status] += 1
        if on_draft:
            on_draft(draft)
    return {"campaign_id": campaign_id, **counts, "message": f"{counts['proposed']} drafts proposed, {counts['refused']} refused"}


def _html_paragraphs(text: str) -> str:
    """Plain-text draft as HTML paragraphs: literal text escaped, template tags kept as they are."""
    def html(part: str) -> str:
        return "".join(escape(p) if not _TEMPLATE_PART.fullmatch(p) else p for p in _TEMPLATE_PART.split(part))

    return "\n".join(f"<p>{html(para.strip())}</p>" for para in re.split(r"\n\s*\n|\n", text) if para.strip())


def _variant_spec(campaign: Campaign, draft: CopyDraft, name: str) -> dict:
    existing = campaign.variants.filter(name=name).first() or campaign.variants.first()
    spec = {field: getattr(existing, field) for field in VARIANT_FIELDS} if existing else {"share": 50}
    spec.update(name=name, id=existing.pk if existing and existing.name == name else None)
    if draft.kind == CopyDraft.Kind.SUBJECT:
        spec["subject"] = draft.text
        spec.setdefault("html_body", _PRODUCTS_HTML + "\n" + _FOOTER_HTML)
        spec.setdefault("text_body", _PRODUCTS_TEXT + "\n" + _FOOTER_TEXT)
    else:
        spec["html_body"] = _html_paragraphs(draft.text) + "\n" + _PRODUCTS_HTML + "\n" + _FOOTER_HTML
        spec["text_body"] = draft.text + "\n\n" + _PRODUCTS_TEXT + "\n" + _FOOTER_TEXT
        spec.setdefault("subject", campaign.name)
    return spec


@transaction.atomic
def copy_draft_approve(*, draft_id: int, variant_name: str, user) -> Variant:
    """Copy a proposed draft into the campaign's variant `variant_name` (made if missing)."""
    if not (user and user.is_active and user.is_staff and user.has_perm("campaigns.change_variant")):
        raise PermissionDenied("approving copy needs a staff member who may change variants")
    draft = CopyDraft.objects.select_for_update().select_related("campaign").get(pk=draft_id)
    if draft.status != CopyDraft.Status.PROPOSED:
        raise ValidationError(f"draft {draft_id} is {draft.status}: only a proposed draft can be approved")
    if draft.campaign.started_at is not None:
        raise ValidationError(f"campaign {draft.campaign_id} has started sending: its variants are fixed")
    voice = brand_voice_get()  # the voice may have changed since the draft was made: check again
    verdict = draft_check(draft.text, kind=draft.kind, rules=voice_rules(voice), template_error=template_error, known_names=audience_names(draft.campaign))
    if not verdict.passed:
        raise ValidationError(f"draft {draft_id} no longer passes the guardrails: {'; '.join(verdict.reasons)}")
    name = (variant_name or "").strip()[:20] or "A"
    variant = campaign_variants_save(campaign_id=draft.campaign_id, variants=[_variant_spec(draft.campaign, draft, name)])[0]
    draft.status, draft.variant, draft.approved_by, draft.approved_at = CopyDraft.Status.APPROVED, variant, user, timezone.now()
    draft.save(update_fields=["status", "variant", "approved_by", "approved_at"])
    return variant


def copy_drafts_request(*, campaign_id: int, n: int, requested_by: str) -> tuple[int, bool]:
    """Queue the drafting of a campaign's copy on the ml queue; (job id, False) if one is running."""
    from campaigns.tasks import copy_drafts_generate

    job, created = job_enqueue(
        kind="copy_drafts", task=copy_drafts_generate, params={"campaign_id": campaign_id, "requested_by": requested_by},
        task_kwargs={"campaign_id": campaign_id, "n": n},
    )
    return job.pk, created
