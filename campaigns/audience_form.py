"""The audience as form fields (segments, countries, churn risk, expected value, spend and
expected uplift ranges, chosen from what the shop holds) and their translation to and from audience rules.

Rules of other criteria (dates, categories, reviews, plug-ins) stay editable as JSON in
"other rules", so nothing a campaign holds is lost when it is opened in the form.
"""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from campaigns.audience import audience_rules_validate
from customers.selectors import country_choices
from mlcore.segments import selectors as segment_selectors

# (criterion key, min field, max field, factor from the form's unit to the rule's)
RANGES = (
    ("churn_risk", "churn_min", "churn_max", 0.01),  # the form asks for percentages
    ("lifetime_value", "value_min", "value_max", 1),
    ("spend", "spend_min", "spend_max", 1),
    ("expected_uplift", "uplift_min", "uplift_max", 0.01),  # percentage points of conversion probability
)
FORM_KEYS = {"segment", "country", *(key for key, *_ in RANGES)}
AUDIENCE_FIELDS = (
    "segments", "countries", "churn_min", "churn_max", "value_min", "value_max", "spend_min", "spend_max", "uplift_min", "uplift_max", "other_rules",
)


def _number(**kwargs) -> forms.DecimalField:
    return forms.DecimalField(required=False, min_value=0, decimal_places=2, widget=forms.NumberInput(attrs={"style": "width:7em", "step": "any"}), **kwargs)


class AudienceFields(forms.Form):
    """Mixed into the campaign form and used alone by the live-count endpoint."""

    segments = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, help_text="Customers in any of these segments (latest segmentation run).")
    countries = forms.MultipleChoiceField(required=False, widget=forms.SelectMultiple(attrs={"size": 6}), help_text="Empty: every country. Ctrl/Cmd-click for several.")
    churn_min = _number(label="Churn risk from (%)", max_value=100)
    churn_max = _number(label="to (%)", max_value=100)
    value_min = _number(label="Expected 12-month value from")
    value_max = _number(label="to")
    spend_min = _number(label="Net spend so far from")
    spend_max = _number(label="to")
    uplift_min = _number(label="Expected uplift above (points)", max_value=100, help_text="Customers the mail would change: conversion probability if mailed minus if not (active uplift model).")
    uplift_max = _number(label="to", max_value=100)
    other_rules = forms.JSONField(required=False, initial=list, label="Other rules (JSON)", widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
                                  help_text='More criteria as [{"key": ..., "params": {...}}]; see the list of criteria below.')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        segments = {s.key: s for s in segment_selectors.segment_list()}
        self.fields["segments"].choices = [(key, f"{s.name} ({s.size:,})") for key, s in segments.items()]
        self.fields["countries"].choices = [(c, c) for c in country_choices()]
        for name in ("segments", "countries"):  # name the valid values, as the rules' own check does
            valid = ", ".join(value for value, _ in self.fields[name].choices) or "none yet"
            self.fields[name].error_messages["invalid_choice"] = f"%(value)s is not one the shop holds; valid: {valid}"

    def audience_rules(self) -> list[dict]:
        """The rules the filled fields stand for (call after is_valid); refused ones raise."""
        data = self.cleaned_data
        rules = []
        if data.get("segments"):
            rules.append({"key": "segment", "params": {"keys": list(data["segments"])}})
        if data.get("countries"):
            rules.append({"key": "country", "params": {"countries": list(data["countries"])}})
        for key, low, high, factor in RANGES:
            bounds = {name: float(data[field]) * factor for name, field in (("min", low), ("max", high)) if data.get(field) is not None}
            if bounds:
                rules.append({"key": key, "params": bounds})
        other = data.get("other_rules") or []
        if not isinstance(other, list):
            raise ValidationError({"other_rules": "expected a list of rules"})
        return audience_rules_validate(rules + other)


def audience_initial(rules: list[dict]) -> dict:
    """Form values of a stored rules list (the inverse of AudienceFields.audience_rules)."""
    initial: dict = {"other_rules": []}
    ranges = {key: (low, high, factor) for key, low, high, factor in RANGES}
    for rule in rules or []:
        key, params = rule.get("key"), rule.get("params", {})
        if key == "segment" and "segments" not in initial:
            initial["segments"] = params.get("keys", [])
        elif key == "country" and "countries" not in initial:
            initial["countries"] = params.get("countries", [])
        elif key in ranges and ranges[key][0] not in initial and ranges[key][1] not in initial:
            low, high, factor = ranges[key]
            for name, field in (("min", low), ("max", high)):
                if params.get(name) is not None:
                    initial[field] = round(params[name] / factor, 2)
        else:
            initial["other_rules"].append(rule)
    return initial
