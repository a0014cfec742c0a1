"""Editing campaigns after creation: campaign fields and the variants (templates compiled
before they are stored). The admin's campaign builder and any other editor save through here;
creation is lifecycle.campaign_create.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.audience import audience_rules_validate
from campaigns.models import Campaign, Variant
from campaigns.rendering import variant_templates_check
from campaigns.services.lifecycle import MAX_VARIANTS

# Fixed once sending has started: the ledger was frozen from them.
FROZEN_AFTER_START = ("audience_rules", "holdout_share", "seed", "wave_count", "first_wave_percent", "bandit_seed")
EDITABLE = (
    "name", "slug", "audience_rules", "holdout_share", "seed", "send_at", "recurrence", "recurrence_weekday", "recurrence_time",
    "only_new_entrants", "throttle_per_minute", "from_email", "offer_text", "discount_prefix", "recommendations_count",
    "landing_html", "conversion_window_days",
    "wave_count", "first_wave_percent", "wave_adaptive", "wave_metric", "wave_min_sample", "bandit_seed",
)
VARIANT_FIELDS = ("name", "share", "subject", "html_body", "text_body")


@transaction.atomic
def campaign_update(*, campaign_id: int, **fields) -> Campaign:
    """Change a campaign's editable fields; audience, holdout and seed only before it started."""
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ValidationError(f"campaign {campaign_id}: not editable: {', '.join(unknown)}")
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    changed = [name for name, value in fields.items() if getattr(campaign, name) != value]
    frozen = [name for name in changed if name in FROZEN_AFTER_START]
    if campaign.started_at and frozen:
        raise ValidationError(f"campaign {campaign_id}: {', '.join(frozen)} cannot change once sending has started")
    if "audience_rules" in fields:
        fields["audience_rules"] = audience_rules_validate(fields["audience_rules"])
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.full_clean()
    if changed:
        campaign.save(update_fields=[*changed, "updated_at"])
    return campaign


@transaction.atomic
def campaign_variants_save(*, campaign_id: int, variants: list[dict], delete_ids: list[int] | None = None) -> list[Variant]:
    """Create (no "id") or update (with "id") the campaign's variants and delete `delete_ids`.

    Every template is compiled first; the campaign keeps between 1 and MAX_VARIANTS variants.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    delete_ids = list(delete_ids or [])
    for spec in variants:
        variant_templates_check(subject=spec["subject"], html_body=spec["html_body"], text_body=spec["text_body"], label=f"variant {spec['name']}")
    if delete_ids:
        if campaign.deliveries.filter(variant_id__in=delete_ids).exists():
            raise ValidationError(f"campaign {campaign_id}: a variant with deliveries cannot be deleted")
        campaign.variants.filter(pk__in=delete_ids).delete()
    saved = []
    for spec in variants:
        variant = campaign.variants.get(pk=spec["id"]) if spec.get("id") else Variant(campaign=campaign)
        for name in VARIANT_FIELDS:
            setattr(variant, name, spec[name])
        variant.full_clean()
        variant.save()
        saved.append(variant)
    count = campaign.variants.count()
    if not 1 <= count <= MAX_VARIANTS:
        raise ValidationError(f"campaign {campaign_id}: variants: between 1 and {MAX_VARIANTS} are needed, got {count}")
    return saved
