import pytest

from mlcore.feedback.serializers import MAX_TEXT_CHARS
from mlcore.feedback.services import reviews_score
from mlcore.models import ReviewSentiment
from tests.customers.factories import ReviewFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "field_message"),
    [
        ({"texts": []}, "This list may not be empty."),
        ({"texts": ["fine", "   "]}, "This field may not be blank."),
        ({"texts": ["x" * (MAX_TEXT_CHARS + 1)]}, f"no more than {MAX_TEXT_CHARS} characters"),
        ({"texts": ["ok"] * 101}, "no more than 100 elements"),
        ({}, "This field is required."),
        ({"texts": "not a list"}, "Expected a list"),
    ],
)
def test_batch_scoring_refuses_bad_input_with_400(api_client, body, field_message):
    # given an invalid batch, when posted, then 400 names the texts field and the problem
    response = api_client.post("/api/v1/sentiment", body, format="json")
    assert response.status_code == 400
    assert field_message in str(response.json()["texts"])


def test_batch_scoring_returns_one_result_per_text(api_client):
    # given two texts, when posted, then each gets a score, label, language and the fallback flag
    response = api_client.post("/api/v1/sentiment", {"texts": ["I love it, perfect fit.", "物流太慢，质量很差，差评"]}, format="json")
    results = response.json()["results"]
    assert response.status_code == 200
    assert [r["language"] for r in results] == ["en", "zh"]
    assert all(r["method"] == "fallback" and r["model_version"] is None for r in results)
    assert -1 <= results[0]["score"] <= 1


def test_batch_scoring_needs_authentication(anon_client):
    # given no token, when posting, then 401
    assert anon_client.post("/api/v1/sentiment", {"texts": ["hi"]}, format="json").status_code == 401


def test_review_sentiment_stored_and_unstored(api_client):
    # given one scored and one unscored review, when read, then the stored one says stored and the other is scored on the fly without storing
    scored = ReviewFactory(title="", text="The fit is great, love it.")
    reviews_score()
    fresh = ReviewFactory(title="", text="Awful, hate it.")
    first = api_client.get(f"/api/v1/reviews/{scored.pk}/sentiment").json()
    second = api_client.get(f"/api/v1/reviews/{fresh.pk}/sentiment").json()
    assert first["stored"] and first["aspects"][0]["aspect"] == "fit"
    assert not second["stored"] and second["label"] in {"negative", "neutral", "positive"}
    assert not ReviewSentiment.objects.filter(review=fresh).exists()
    assert api_client.get("/api/v1/reviews/999999/sentiment").status_code == 404


def test_model_version_is_kind_and_version_as_in_every_other_route():
    # given a version id in a scoring result, when serialized, then model_version reads "sentiment_en:2" (not a row id), and None stays null for the fallback
    from mlcore.feedback.serializers import TextSentimentSerializer
    from mlcore.models import ModelVersion

    mv = ModelVersion.objects.create(kind="sentiment_en", version=2, status="ready")
    row = {"score": 0.5, "p_positive": 0.75, "label": "positive", "language": "en", "method": "model", "model_version_id": mv.pk,
           "model_method": "tfidf_linear", "multilingual": False}
    assert TextSentimentSerializer(row).data["model_version"] == "sentiment_en:2"
    assert TextSentimentSerializer({**row, "model_version_id": None}).data["model_version"] is None
