"""Alert documents: what a team receives, in the team's language.

This module owns :func:`build_payload` (Vécu's JSON alert document, schema
``vecu.alert/1``) and :func:`slack_body` (a Slack-compatible ``{"text", "blocks"}`` body made
from it). Sentences come from the ``alerts.*`` catalogue (``bot/locales/<lang>/alerts.yml``).

Privacy rules enforced here: the excerpt is redacted (:func:`bot.privacy.redaction.stored_text`:
no name, e-mail, phone, postal code, card or order number); a confidential alert carries no
excerpt; an employee's alert
never carries the sender's (pseudonymous) id; Slack bodies escape user text so it cannot
mention ``@channel`` or inject links.
"""

from __future__ import annotations

from typing import Any

from bot.company import Company
from bot.i18n import catalogue, normalize_language, t
from bot.privacy.redaction import stored_text
from bot.storage.models import FeedbackRecord

SCHEMA = "vecu.alert/1"
EXCERPT_LENGTH = 280
SCALE_MAX = {"csat": 5, "nps": 10, "enps": 10, "engagement": 5}


def _label(prefix: str, key: str, language: str) -> str:
    """A catalogue label, or the key itself for a company-defined value (custom group…)."""
    found = catalogue(normalize_language(language)).get(f"{prefix}.{key}")
    if found is None:
        found = catalogue("en").get(f"{prefix}.{key}")
    return found if found is not None else key


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    """The first ``length`` characters of ``text`` on one line, with an ellipsis if cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def build_payload(
    *,
    alert_id: str,
    kind: str,
    feedback: FeedbackRecord,
    team: str,
    company: Company,
) -> dict[str, Any]:
    """Build the alert document for ``team`` about ``feedback``.

    Args:
        alert_id: the idempotency key (also sent as ``X-Vecu-Alert-Id``).
        kind: ``issue``, ``praise``, ``followup`` or ``escalation``.
        feedback: the stored feedback (its id must be assigned).
        team: the team key.
        company: the company configuration (labels, team language).

    Returns:
        A JSON-serialisable mapping.
    """
    team_conf = company.team(team)
    language = normalize_language(team_conf.language if team_conf else company.default_language)
    tp_conf = company.touchpoint(feedback.touchpoint)
    touchpoint_label = tp_conf.label(language) if tp_conf else t("alerts.no_touchpoint", language)
    team_label = team_conf.label(language) if team_conf else team
    severity_label = _label("alerts.severity", feedback.severity, language)
    sentiment_label = _label("alerts.sentiment", feedback.sentiment_label, language)
    emotion_label = _label("alerts.emotion", feedback.emotion_label, language)
    sentiment_score = feedback.sentiment_scores.get(feedback.sentiment_label)
    emotion_score = feedback.emotion_scores.get(feedback.emotion_label)

    def scored(label: str, score: float | None) -> str:
        if score is None:
            return label
        return t("alerts.score", language, label=label, percent=round(score * 100))

    rating: dict[str, Any] | None = None
    rating_text = t("alerts.no_rating", language)
    if feedback.rating is not None:
        scale = feedback.scale or "csat"
        rating = {"value": feedback.rating, "scale": scale, "max": SCALE_MAX.get(scale)}
        rating_text = t(
            "alerts.rating",
            language,
            rating=feedback.rating,
            maximum=SCALE_MAX.get(scale, "?"),
            scale=_label("alerts.scale", scale, language),
        )
    text_excerpt = (
        None if feedback.confidential else excerpt(stored_text(feedback, company=company))
    )
    title = t(
        f"alerts.title.{kind}",
        language,
        severity=severity_label,
        touchpoint=touchpoint_label,
        team=team_label,
    )
    fields = [
        {"name": t("alerts.field.touchpoint", language), "value": touchpoint_label},
        {"name": t("alerts.field.severity", language), "value": severity_label},
        {
            "name": t("alerts.field.emotion", language),
            "value": scored(emotion_label, emotion_score),
        },
        {
            "name": t("alerts.field.sentiment", language),
            "value": scored(sentiment_label, sentiment_score),
        },
        {"name": t("alerts.field.rating", language), "value": rating_text},
        {
            "name": t("alerts.field.audience", language),
            "value": _label("alerts.audience", feedback.audience, language),
        },
        {
            "name": t("alerts.field.reference", language),
            "value": t("alerts.reference", language, feedback_id=feedback.id),
        },
    ]
    body_line = (
        t("alerts.confidential", language)
        if feedback.confidential
        else f"{t('alerts.field.excerpt', language)}: « {text_excerpt} »"
        if language == "fr"
        else f"{t('alerts.field.excerpt', language)}: “{text_excerpt}”"
    )
    summary = "\n".join([title, *(f"{f['name']}: {f['value']}" for f in fields), body_line])
    payload: dict[str, Any] = {
        "schema": SCHEMA,
        "id": alert_id,
        "kind": kind,
        "team": team,
        "team_label": team_label,
        "language": language,
        "severity": feedback.severity,
        "confidential": feedback.confidential,
        "feedback_id": feedback.id,
        "parent_id": feedback.parent_id,
        "audience": feedback.audience,
        "channel": feedback.channel,
        "touchpoint": feedback.touchpoint,
        "touchpoint_label": touchpoint_label,
        "sentiment": {"label": feedback.sentiment_label, "score": sentiment_score},
        "emotion": {"label": feedback.emotion_label, "score": emotion_score},
        "rating": rating,
        "excerpt": text_excerpt,
        "created_at": feedback.created_at.isoformat(),
        "title": title,
        "summary": summary,
        "fields": fields,
    }
    if feedback.audience == "customer":
        payload["conversation_id"] = feedback.conversation_id
    return payload


def _slack_escape(text: str) -> str:
    """Escape Slack's control characters so user text stays plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(payload: dict[str, Any]) -> dict[str, Any]:
    """A Slack-compatible body (``text`` fallback + Block Kit ``blocks``) for ``payload``."""
    title = _slack_escape(str(payload["title"]))
    fields = [
        {
            "type": "mrkdwn",
            "text": f"*{_slack_escape(f['name'])}*\n{_slack_escape(str(f['value']))}",
        }
        for f in payload.get("fields", [])
    ][:10]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": str(payload["title"])[:150]}},
        {"type": "section", "fields": fields},
    ]
    last_line = str(payload.get("summary", "")).splitlines()[-1:] or [""]
    blocks.append(
        {"type": "section", "text": {"type": "mrkdwn", "text": "> " + _slack_escape(last_line[0])}}
    )
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"vecu · {payload['id']}"}]}
    )
    return {"text": title, "blocks": blocks}


def alert_text(payload: dict[str, Any]) -> str:
    """The alert document as the plain text of a Telegram message."""
    language = normalize_language(str(payload.get("language") or "fr"))
    lines = [str(payload.get("title", ""))]
    lines += [f"{f['name']}: {f['value']}" for f in payload.get("fields", [])]
    if payload.get("confidential"):
        lines.append(t("alerts.confidential", language))
    elif payload.get("excerpt"):
        quoted = f"« {payload['excerpt']} »" if language == "fr" else f"“{payload['excerpt']}”"
        lines.append(f"{t('alerts.field.excerpt', language)}: {quoted}")
    return "\n".join(lines)
