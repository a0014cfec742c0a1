"""Groundedness check, extractive answers and the LLM-or-extract decision (no database; the
language model is a boundary, played here by a class returning a fixed text)."""
from __future__ import annotations

from mlcore.ml.assistant.compose import clean_generation, compose_answer, prompt_messages
from mlcore.ml.assistant.extractive import extract_answer
from mlcore.ml.assistant.grounding import check_groundedness

PASSAGES = [
    "You can return unused items in their original packaging within 30 days of delivery. Personalised items cannot be returned.",
    "We refund returned items within 5 working days after they arrive at our warehouse.",
]


class FixedLLM:
    def __init__(self, text: str):
        self.text, self.calls = text, []

    def complete(self, messages, *, max_tokens=120, stop=None):
        self.calls.append(messages)
        return self.text


class BrokenLLM:
    def complete(self, messages, *, max_tokens=120, stop=None):
        raise ConnectionError("server down")


def test_a_sentence_copied_from_a_passage_is_supported():
    # given a sentence from the first passage, when checked, then it is supported by passage 0
    check = check_groundedness("You can return unused items within 30 days of delivery.", PASSAGES)
    assert check.grounded and check.cited == [0]


def test_an_invented_number_is_not_supported():
    # given the right words with a wrong number of days, when checked, then the sentence is unsupported
    check = check_groundedness("You can return unused items within 60 days of delivery.", PASSAGES)
    assert not check.grounded and check.supported_share == 0.0


def test_an_unrelated_sentence_is_not_supported():
    # given a sentence about something the passages do not say, when checked, then it is unsupported
    assert not check_groundedness("We will send you a free gift card tomorrow.", PASSAGES).grounded


def test_extract_takes_the_best_sentences_of_the_passages():
    # given a question about refund timing, when extracted, then the refund sentence is in the answer and it is fully grounded
    extract = extract_answer("When will I get my refund?", PASSAGES)
    assert "5 working days" in extract.text
    assert check_groundedness(extract.text, PASSAGES).grounded


def test_grounded_llm_answer_is_shown():
    # given a model that copies the policy, when composing, then its answer is shown and cites passage 0
    composed = compose_answer("How long can I return?", PASSAGES, "en", FixedLLM("You can return unused items within 30 days of delivery."))
    assert composed.method == "llm" and composed.passage_indexes == [0] and composed.supported_share == 1.0


def test_llm_answer_with_an_invented_refund_falls_back_to_the_extract():
    # given a model that promises something the passages do not, when composing, then the extract is shown instead
    llm = FixedLLM("You can return items within 30 days. We will also give you a 20% discount.")
    composed = compose_answer("How long can I return?", PASSAGES, "en", llm)
    assert composed.method == "extractive" and "discount" not in composed.text
    assert composed.llm_text.startswith("You can return") and composed.llm_supported_share < 1.0


def test_a_failing_model_still_gets_an_answer():
    # given a model server that is down, when composing, then the extract answers
    assert compose_answer("refund?", PASSAGES, "en", BrokenLLM()).method == "extractive"


def test_the_prompt_numbers_the_passages_and_states_the_rules():
    # given two passages, when the prompt is built, then both are numbered and the system message forbids invented facts
    messages = prompt_messages("Q?", PASSAGES, "zh")
    assert "[1]" in messages[1]["content"] and "[2]" in messages[1]["content"] and "不要添加" in messages[0]["content"]


def test_a_right_price_with_the_wrong_subject_is_not_supported():
    # given the express price in one sentence and standard delivery in another, when "standard costs the express price" is checked,
    # then it is unsupported (support is per passage sentence, numbers included)
    passages = ["Standard UK delivery takes 3 to 5 working days and costs £3.95.", "Express UK delivery arrives next day. Express delivery costs £7.95."]
    assert not check_groundedness("Standard delivery costs £7.95.", passages).grounded
    assert check_groundedness("Express delivery costs £7.95.", passages).grounded


def test_a_negated_policy_is_not_supported():
    # given a policy that allows returns, when an answer says they can't be returned, then the negation makes it unsupported
    assert not check_groundedness("You can't return unused items within 30 days of delivery.", PASSAGES).grounded


def test_clean_generation_drops_markers_echoes_and_a_cut_sentence():
    # given a small model's numbered answer with an echoed question and a truncated tail, when cleaned, then plain sentences remain
    raw = "[1] You can return unused items within 30 days of delivery.\n2. Personalised items cannot be returned.\n\n[Question: refund"
    assert clean_generation(raw) == "You can return unused items within 30 days of delivery. Personalised items cannot be returned."
    assert clean_generation("Refunds take 5 working days. Your bank may") == "Refunds take 5 working days."


def test_extract_joins_english_sentences_with_spaces_whatever_the_query_holds():
    # given an English answer asked with Chinese hint words in the query, when extracted in English, then sentences keep their spaces
    extract = extract_answer("return policy 退货", PASSAGES, language="en")
    assert ". " in extract.text and ".P" not in extract.text


def test_an_encoder_lets_the_extract_find_a_sentence_without_shared_words():
    # given a question sharing no word with the return sentence, when an encoder relates "back" to returning, then that sentence leads
    import numpy as np

    def encoder(texts):
        rows = np.array([[("back" in t) or ("return" in t), "refund" in t, 1.0] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    question = "Can it go back to the warehouse?"  # "warehouse" is a word of the refund sentence only
    assert extract_answer(question, PASSAGES, max_sentences=1).text.startswith("We refund")
    assert extract_answer(question, PASSAGES, max_sentences=1, encoder=encoder).text.startswith("You can return unused items")


def test_early_stop_once_a_finished_sentence_is_unsupported():
    # given the passages, when the model's text so far has an invented finished sentence, then decoding may stop; not on a half number
    from mlcore.ml.assistant.compose import doomed_stop

    stop = doomed_stop(PASSAGES)
    assert not stop("You can return unused items within 30 days of delivery")  # unfinished
    assert not stop("You can return unused items within 30 days of delivery. We refund returned items within 5")
    assert stop("You get 50 percent off every order today. ")
    assert stop("You can return unused items within 30 days of delivery. Personalised items cannot be returned. ")  # two sentences


def test_prompt_passages_keep_the_best_two_cut_at_sentences():
    # given three long passages, when trimmed for the prompt, then two are kept and each ends at a sentence within the limit
    from mlcore.ml.assistant.compose import prompt_passages

    long = " ".join(["Items sold as a set must be returned together."] * 12)
    kept = prompt_passages([long, PASSAGES[0], PASSAGES[1]], max_chars=120)
    assert len(kept) == 2 and len(kept[0]) <= 120 and kept[0].endswith(".") and kept[1] == PASSAGES[0].split(". ")[0] + "."


def test_a_base_model_gets_a_plain_completion_prompt():
    # given the strict chat messages, when rendered for a model without a chat template, then it is one prompt ending in "Answer:"
    from mlcore.ml.llm import completion_prompt

    prompt = completion_prompt(prompt_messages("How long do returns take?", PASSAGES, "en"))
    assert prompt.startswith("You are the customer service assistant") and "[1] You can return" in prompt and prompt.endswith("Question: How long do returns take?\nAnswer:")


def test_passages_that_state_the_asked_duration_come_first():
    # given lexical hits where the how-to passage outranks the one stating the window, when a "how long" question orders them, then the window's passage leads and the rest keep their order
    from mlcore.ml.assistant.extractive import answer_type_order

    passages = ["如需退货，请回复您的订单确认邮件。", "未使用的商品可在签收后30天内退货。", "退货运费由顾客承担。"]
    assert answer_type_order("退货期限是多久？", passages) == [1, 0, 2]
    assert answer_type_order("How do I return an item?", ["a", "within 30 days", "b"]) == [0, 1, 2]
