"""Tests of bot/alerts/payload.py: alert documents in the team's language, privacy, Slack body."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.alerts.payload import build_payload, excerpt, slack_body
from bot.company import Company
from bot.storage.models import FeedbackRecord


def feedback(**kw: Any) -> FeedbackRecord:
    values: dict[str, Any] = dict(
        id=42,
        conversation_id="p_0123456789abcdef0123456789abcdef",
        audience="customer",
        channel="web",
        language="fr",
        kind="comment",
        parent_id=None,
        touchpoint="delivery",
        rating=1,
        scale="csat",
        text="Mon colis est arrivé écrasé, c'est inacceptable !",
        sentiment_label="negative",
        sentiment_scores={"negative": 0.9, "neutral": 0.07, "positive": 0.03},
        emotion_label="anger",
        emotion_scores={"anger": 0.7, "neutral": 0.3},
        severity="urgent",
        confidential=False,
        created_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
    )
    values.update(kw)
    return FeedbackRecord(**values)


def test_french_team_gets_a_french_alert(company: Company) -> None:
    payload = build_payload(
        alert_id="a-1", kind="issue", feedback=feedback(), team="logistics", company=company
    )
    assert payload["schema"] == "vecu.alert/1" and payload["id"] == "a-1"
    assert payload["language"] == "fr" and payload["team_label"] == "Logistique"
    assert payload["title"] == "Urgente · Livraison : retour négatif"
    assert payload["severity"] == "urgent" and payload["touchpoint"] == "delivery"
    assert payload["sentiment"] == {"label": "negative", "score": 0.9}
    assert payload["emotion"] == {"label": "anger", "score": 0.7}
    assert payload["rating"] == {"value": 1, "scale": "csat", "max": 5}
    assert payload["excerpt"] == "Mon colis est arrivé écrasé, c'est inacceptable !"
    assert payload["conversation_id"] == "p_0123456789abcdef0123456789abcdef"
    fields = {f["name"]: f["value"] for f in payload["fields"]}
    assert fields["Émotion"] == "colère (70 %)"
    assert fields["Note"] == "1 / 5 (satisfaction)"
    assert "« Mon colis" in payload["summary"]
    json.dumps(payload)  # serialisable


def test_english_team_gets_an_english_alert(company: Company) -> None:
    payload = build_payload(
        alert_id="a-2",
        kind="praise",
        feedback=feedback(
            touchpoint="website",
            sentiment_label="positive",
            emotion_label="joy",
            emotion_scores={"joy": 0.8},
            severity="low",
            rating=None,
            scale=None,
        ),
        team="product",  # the product team reads English
        company=company,
    )
    assert payload["title"] == "Website and app: praise for the Product team"
    fields = {f["name"]: f["value"] for f in payload["fields"]}
    assert fields["Rating"] == "none" and fields["Emotion"] == "joy (80%)"
    assert payload["rating"] is None


def test_confidential_and_employee_alerts_hide_text_and_sender(company: Company) -> None:
    payload = build_payload(
        alert_id="a-3",
        kind="issue",
        feedback=feedback(
            audience="employee",
            touchpoint="safety",
            confidential=True,
            text="Mon superviseur me harcèle",
            conversation_id="p_secret",
        ),
        team="hr",
        company=company,
    )
    dumped = json.dumps(payload, ensure_ascii=False)
    assert payload["excerpt"] is None and payload["confidential"] is True
    assert "harcèle" not in dumped and "p_secret" not in dumped
    assert "conversation_id" not in payload
    assert "Confidentiel" in payload["summary"]


def test_employee_non_confidential_alert_has_excerpt_but_no_sender(company: Company) -> None:
    payload = build_payload(
        alert_id="a-4",
        kind="issue",
        feedback=feedback(audience="employee", touchpoint="tools", text="Le scanner plante"),
        team="it",
        company=company,
    )
    assert payload["excerpt"] == "Le scanner plante"
    assert "conversation_id" not in payload


def test_no_touchpoint_and_unknown_values(company: Company) -> None:
    payload = build_payload(
        alert_id="a-5",
        kind="issue",
        feedback=feedback(
            touchpoint=None,
            sentiment_label="unknown",
            sentiment_scores={},
            emotion_label="boredom",  # a company-defined group without a catalogue entry
            emotion_scores={},
        ),
        team="customer_care",
        company=company,
    )
    fields = {f["name"]: f["value"] for f in payload["fields"]}
    assert fields["Point de contact"] == "non précisé"
    assert fields["Émotion"] == "boredom"
    assert fields["Sentiment"] == "inconnu (modèle indisponible)"


def test_excerpt_is_one_line_and_bounded() -> None:
    assert excerpt("a\n\n b\tc") == "a b c"
    long = excerpt("x" * 1000)
    assert len(long) == 280 and long.endswith("…")


def test_slack_body_escapes_user_text(company: Company) -> None:
    payload = build_payload(
        alert_id="a-6",
        kind="issue",
        feedback=feedback(text="<!channel> click <https://evil.example|here> & win"),
        team="logistics",
        company=company,
    )
    body = slack_body(payload)
    assert body["text"] == "Urgente · Livraison : retour négatif"
    dumped = json.dumps(body)
    assert "<!channel>" not in dumped and "<https://evil" not in dumped
    assert "&lt;!channel&gt;" in dumped and "&amp; win" in dumped
    assert body["blocks"][0]["type"] == "header"
    assert len(body["blocks"][1]["fields"]) <= 10
    assert body["blocks"][-1]["elements"][0]["text"].endswith("a-6")


def test_alert_catalogues_have_the_same_keys_in_both_languages() -> None:
    from bot.i18n import catalogue

    fr = {k for k in catalogue("fr") if k.startswith("alerts.")}
    en = {k for k in catalogue("en") if k.startswith("alerts.")}
    assert fr == en and len(fr) > 30
    for key in fr:
        assert catalogue("fr")[key].count("{") == catalogue("en")[key].count("{"), key
