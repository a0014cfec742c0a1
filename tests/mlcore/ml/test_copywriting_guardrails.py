"""The code guardrails of drafted campaign copy, one rule at a time, on real strings; and the
prompts (aggregates only) and reply cleaning."""
from __future__ import annotations

import pytest

from mlcore.ml.copywriting.guardrails import (
    VoiceRules,
    banned_claim_reasons,
    banned_word_reasons,
    customer_data_reasons,
    discount_reasons,
    draft_check,
    length_reasons,
    placeholder_reasons,
    prompt_violations,
    repetition_reasons,
    template_reasons,
)
from mlcore.ml.copywriting.prompts import CopyBrief, clean_reply, copy_messages

RULES = VoiceRules(banned_words=("cheap", "click here"), banned_claims=("lowest price", "guaranteed"), max_discount_percent=10, subject_max_chars=40, body_max_chars=120)


def no_template_error(source: str) -> str | None:
    return "line 1: Unclosed tag" if source.count("{%") != source.count("%}") or source.count("{{") != source.count("}}") else None


def test_a_clean_subject_with_a_template_variable_passes():
    # given a short subject personalised through a variable, when checked, then every rule passes
    verdict = draft_check("{{ customer.first_name }}, new linen", kind="subject", rules=RULES, template_error=no_template_error)
    assert verdict.passed and verdict.reasons == []


@pytest.mark.parametrize("text", ["Write to jane.doe@gmail.com today", "Call 020 7946 0958 for help", "Dear Sarah, we picked these"])
def test_customer_data_in_literal_text_is_refused(text):
    # given an e-mail, a phone number or a greeted name written out, when checked, then the draft is refused for customer data
    assert customer_data_reasons(text)[0].startswith("customer data")


def test_a_known_customer_name_is_refused_but_a_variable_and_a_date_are_not():
    # given the audience's names, when a draft names one literally, then refused; the variable and a date are fine
    assert customer_data_reasons("New for Mary Poppins this week", ["Mary Poppins"]) == ["customer data: a customer's name (Mary Poppins)"]
    assert customer_data_reasons("Hi {{ customer.first_name }}, see you on 2011-12-09", ["Mary Poppins"]) == []
    assert customer_data_reasons("Hello there, new picks inside") == []


@pytest.mark.parametrize(("text", "refused"), [
    ("Take 10% off this week", False), ("Take 15% off this week", True), ("25 percent off everything", True),
    ("Half price on linen", True), ("Save 9.5% today", False), ("New arrivals, no offer", False),
])
def test_discounts_above_the_largest_allowed_are_refused(text, refused):
    # given a voice allowing 10%, when a draft states a discount, then only one above 10% is refused
    assert bool(discount_reasons(text, 10)) is refused


def test_banned_words_match_whole_words_case_insensitively():
    # given banned "cheap", when a draft says "CHEAP" it is refused, and "cheapest"-free "cheaply"? no: whole words only
    assert banned_word_reasons("So CHEAP it hurts", RULES.banned_words) == ["banned word: 'cheap'"]
    assert banned_word_reasons("Cheapside market opens", RULES.banned_words) == []
    assert banned_word_reasons("Please click  here", RULES.banned_words) == []  # spacing differs: not the banned phrase
    assert banned_word_reasons("Just click here now", RULES.banned_words) == ["banned word: 'click here'"]


def test_banned_claims_match_across_case_and_spacing():
    # given banned claims, when a draft makes one with other case and line breaks, then it is refused
    assert banned_claim_reasons("The LOWEST\n price in town", RULES.banned_claims) == ["banned claim: 'lowest price'"]
    assert banned_claim_reasons("Satisfaction guaranteed!", RULES.banned_claims) == ["banned claim: 'guaranteed'"]
    assert banned_claim_reasons("Prices you will like", RULES.banned_claims) == []


def test_length_limits_of_each_kind():
    # given limits of 40 (subject) and 120 (body) characters, when drafts are too long, too short or multi-line, then refused
    assert length_reasons("x" * 41, "subject", RULES) == ["length: 41 characters, more than the subject limit of 40"]
    assert length_reasons("x" * 41, "body", RULES) == []
    assert length_reasons("Hi", "body", RULES) == ["length: 2 characters, fewer than 8"]
    assert length_reasons("New linen\nfor you", "subject", RULES) == ["length: a subject line must be one line"]


def test_template_syntax_unknown_variables_and_markup_are_refused():
    # given broken template syntax, a variable the context lacks, and HTML, when checked, then each is refused
    assert template_reasons("Hi {{ customer.first_name", no_template_error)[0].startswith("template syntax")
    assert template_reasons("Hi {{ customer.email }}", no_template_error) == ["template: unknown variable {{ customer.email }}"]
    assert template_reasons("<b>Hi</b> {{ offer }}", no_template_error) == ["template: HTML markup in a plain-text draft"]
    assert template_reasons("{% for p in recommendations %}{{ p.title }} {{ p.review_summary }}{% endfor %}", no_template_error) == []


def test_every_failing_rule_is_listed_in_order():
    # given a draft breaking several rules, when checked, then it fails with each reason
    verdict = draft_check("Dear Tom, 50% off, lowest price, so cheap! Mail tom@x.org", kind="subject", rules=RULES, template_error=no_template_error)
    assert not verdict.passed
    assert [r.split(":")[0] for r in verdict.reasons] == ["length", "customer data", "customer data", "discount", "banned word", "banned claim"]


BRIEF = CopyBrief(
    campaign_name="We miss you", audience=("120 customers selected by: number of orders (range) (min 1).", "40% are 'Loyal': frequent buyers."),
    products=(("Linen dress", "£45.00"), ("Knit cardigan", "£30.00")), offer="10% off this week.", tone="warm", max_discount_percent=10,
)


def test_prompts_hold_aggregates_only_and_vary_by_index():
    # given a brief, when prompts are made, then they pass the prompt check, name the variable, and differ between drafts
    prompts = [copy_messages(BRIEF, kind="subject", index=i) for i in range(8)]
    assert all(prompt_violations(p, ["Mary Poppins"]) == [] for p in prompts)
    assert "{{ customer.first_name }}" in prompts[0][0]["content"] and "10%" in prompts[0][0]["content"]
    assert len({p[1]["content"] for p in prompts}) == 8


def test_a_prompt_with_customer_data_is_caught():
    # given a prompt that carries an e-mail address and an audience name, when checked, then both are reported
    messages = [{"role": "user", "content": "Write to mary@example.com for Mary Poppins"}]
    assert [r.split(" (")[0] for r in prompt_violations(messages, ["Mary Poppins"])] == ["customer data: an e-mail address", "customer data: a customer's name"]


def test_replies_are_cleaned_into_drafts():
    # given model replies with labels, quotes and extra lines, when cleaned, then the draft text remains
    assert clean_reply('Subject: "New linen for {{ customer.first_name }}"\nBody: ...', "subject") == "New linen for {{ customer.first_name }}"
    assert clean_reply("Body: Hello there.\nSee you soon.", "body") == "Hello there.\nSee you soon."


def test_invented_placeholders_are_refused_but_template_variables_are_not():
    # given a draft with "[Customer's Name]" (as SmolLM2 wrote in the bench) or "{name}", then refused; {{ customer.first_name }} passes
    assert placeholder_reasons("Hi [Customer's Name]") == ["template: placeholder \"[Customer's Name]\" is not a template variable"]
    assert placeholder_reasons("Hello {name}, welcome")[0].startswith("template: placeholder")
    assert placeholder_reasons("Hi {{ customer.first_name }}, {% if offer %}{{ offer }}{% endif %}") == []


def test_looping_output_is_refused():
    # given the same line repeated (as SmolLM2 looped in the bench) or few distinct words, then refused; ordinary copy passes
    assert repetition_reasons("Dear friend\n\nDear friend\n\nDear friend") == ["repetition: the same line three times or more"]
    assert repetition_reasons("new new new new new new new new new new linen linen linen linen linen linen linen linen linen linen")[0].startswith("repetition:")
    assert repetition_reasons("Our linen is back. Light, breathable and made to last, it suits every warm day of the season ahead.") == []


def test_a_date_in_a_prompt_is_not_a_phone_number():
    # given audience rules with a date and a share (the bench's win-back prompt), then no phone number is found
    assert customer_data_reasons("last order before (date 2011-09-01). 64% are 'Loyal'") == []
