"""Feedback: the one entry point that turns a received message into a stored, routed record.

:func:`record` scores the text, finds its touchpoint, decides team and severity, and writes
the feedback, its routing decision and its alert outbox rows in **one transaction**, the
moment the message arrives. Whatever fails afterwards (alert delivery, Rasa, the chat),
nothing is lost: the worker delivers the outbox.

Callers: ``actions/`` (from Rasa), ``bot.web`` (when Rasa is down), later the gateways.
Dependencies (database, scorer, company configuration, clock) come from
:func:`bot.services.get_services` unless a test passes its own ``services``.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import selectinload

from bot.alerts.outbox import enqueue
from bot.domain import SEVERITY_ORDER, AlertKind, Audience, Kind, RatingScale, Severity
from bot.errors import StorageError
from bot.feedback.routing import Signals, route
from bot.feedback.touchpoints import Source, TouchpointMatch, detect_touchpoint, keyword_touchpoint
from bot.i18n import normalize_language
from bot.language import OTHER as OTHER_LANGUAGE
from bot.language import stored_language
from bot.privacy.redaction import redact
from bot.scoring.polarity import Polarity, polarity, texts_to_score
from bot.services import get_services
from bot.storage.models import FeedbackRecord, RoutingDecisionRecord

if TYPE_CHECKING:
    from bot.feedback.touchpoints import TouchpointMatch
    from bot.services import Services


@dataclass(frozen=True)
class Message:
    """A message to record, as the channel/action knows it.

    Attributes:
        conversation_id: the pseudonymous sender id (Rasa's ``sender_id``; never a name).
        text: what the person wrote (stored as received up to the configured limit; any
            truncation is explicit in the stored record).
        language: ``fr`` or ``en``.
        audience: customer or employee.
        channel: ``web``, ``telegram``, ``rest``…
        rating: the rating given in this conversation for this touchpoint, if any.
        scale: the scale of ``rating``.
        touchpoint: the touchpoint NLU found in this message (entity), or, when the caller
            cannot tell them apart, the one the conversation is about (slot). It wins over
            keywords when valid for the audience.
        intent: the NLU intent of the message, if known.
        kind: comment, follow-up or pulse.
        parent_id: for a follow-up, the feedback it answers.
        context_touchpoint: the touchpoint the conversation was about before this message
            (slot); used only when neither NLU nor keywords find one in this message.
        member_team: for an employee, the team they work in (channel metadata), kept only
            when it names a configured team; ``None`` for customers.
        mentions: every touchpoint entity NLU found in the message (``touchpoint`` is the
            last one); they compete with the keywords, and the ones that lose are stored as
            the message's other touchpoints, their teams told.
        message_id: the channel's id of the message whose words ``text`` is (web request id,
            Telegram message id), unique with the conversation: recording the same message
            twice (the web app's fallback, then a late Rasa) returns the first record.
            ``None`` when ``text`` is not one message's own words.
        original_length: how long the person's message was when the channel already cut
            ``text`` (the web chat sends Rasa at most the configured limit): the record says
            it was truncated, and from what length.
    """

    conversation_id: str
    text: str
    language: str
    audience: Audience = Audience.CUSTOMER
    channel: str = "web"
    rating: int | None = None
    scale: RatingScale | None = None
    touchpoint: str | None = None
    intent: str | None = None
    kind: Kind = Kind.COMMENT
    parent_id: int | None = None
    context_touchpoint: str | None = None
    member_team: str | None = None
    mentions: tuple[str, ...] = ()
    message_id: str | None = None
    original_length: int | None = None


ABOUT_CUSTOMER_TOUCHPOINT = frozenset({Kind.EXPECTATION, Kind.PROPOSED, Kind.MIRROR})
"""Kinds whose touchpoint is always a customer touchpoint, even when an employee answers."""


@dataclass(frozen=True)
class Outcome:
    """What happened to a recorded message (what the action needs to answer).

    Attributes:
        feedback_id: the stored record's id.
        touchpoint: the touchpoint decided (``None`` when none applies).
        team: the owning team told (``None`` when nobody is alerted).
        severity: the severity decided by the company's rules.
        sentiment: the sentiment label.
        emotion: the emotion group label.
        negative: whether the message calls for an empathetic follow-up.
        confidential: whether the alert hides the text (safety, harassment…).
        truncated: whether the stored text was cut to the configured limit.
        mixed: whether the message praises one thing and reports a problem with another
            (:mod:`bot.scoring.polarity`): the reply acknowledges both halves.
        also_told: the other teams told, because the message also names a touchpoint they
            own (best first).
        other_language: the message is in a language Vécu does not speak (stored with the
            language ``other``): the reply says which languages it speaks.
    """

    feedback_id: int
    touchpoint: str | None
    team: str | None
    severity: Severity
    sentiment: str
    emotion: str
    negative: bool
    confidential: bool = False
    truncated: bool = False
    mixed: bool = False
    also_told: tuple[str, ...] = ()
    other_language: bool = False


# ---- functions ---------------------------------------------------------------------------------

_log = logging.getLogger(__name__)

UNKNOWN = "unknown"
UNAVAILABLE_MODEL = "unavailable"
NOT_SCORED_MODEL = "not-scored"
RATING_RANGES: dict[RatingScale, tuple[int, int]] = {
    RatingScale.CSAT: (1, 5),
    RatingScale.NPS: (0, 10),
    RatingScale.ENPS: (0, 10),
    RatingScale.ENGAGEMENT: (1, 5),
    RatingScale.EXPECTATION: (1, 5),
    RatingScale.MEANS: (1, 5),
    RatingScale.MIRROR: (1, 5),
}
_KEEP_CONTROLS = {"\n", "\t"}
ALSO_KIND = "also"
"""The outbox ``kind`` telling a team that a message handled by another team names theirs too."""
MESSAGE_ID_LENGTH = 64
"""Longest stored message id (longer ones are hashed, like conversation ids)."""
INTENT_LENGTH = 32
"""Longest stored NLU intent name (Rasa's are short; a longer one is hashed)."""


def clean_text(text: str) -> str:
    """Make received text safe to store: the one cleaning every channel and the intake apply.

    Control characters are removed (newlines and tabs kept, ``\\r\\n`` becomes ``\\n``), as
    are lone surrogates (which no database can store); format characters (zero-width
    joiner…) are kept, emoji sequences need them; the text is NFC-normalised.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        c for c in text if c in _KEEP_CONTROLS or unicodedata.category(c) not in ("Cc", "Cs")
    )
    return unicodedata.normalize("NFC", text)


def cut_text(text: str, max_length: int) -> tuple[str, int, bool]:
    """:func:`clean_text`, then cut explicitly at ``max_length``.

    Returns:
        ``(clean text, original length in characters, whether it was truncated)``.
    """
    original_length = len(text)
    text = clean_text(text)
    truncated = len(text) > max_length
    if truncated:
        text = text[:max_length]
    return text, original_length, truncated


def valid_rating(rating: int | None, scale: RatingScale | str | None) -> bool:
    """Whether ``rating`` fits its scale (CSAT/engagement 1-5, NPS/eNPS 0-10)."""
    if rating is None:
        return True
    if isinstance(rating, bool) or not isinstance(rating, int):
        return False
    low, high = RATING_RANGES[RatingScale(scale or RatingScale.CSAT)]
    return low <= rating <= high


def _safe_id(value: str, length: int) -> str:
    clean = "".join(c for c in str(value) if unicodedata.category(c)[0] not in ("C", "Z"))
    if len(clean) <= length:
        return clean
    return "h_" + hashlib.sha256(clean.encode("utf-8")).hexdigest()[: length - 2]


def _outcome(row: Any, *, told: bool, also_told: tuple[str, ...] = ()) -> Outcome:
    return Outcome(
        feedback_id=row.id,
        touchpoint=row.touchpoint,
        team=row.team if told else None,
        severity=Severity(row.severity),
        sentiment=row.sentiment_label,
        emotion=row.emotion_label,
        negative=bool(row.negative),
        confidential=bool(row.confidential),
        truncated=bool(row.truncated),
        mixed=bool(row.mixed),
        also_told=also_told,
        other_language=row.language == OTHER_LANGUAGE,
    )


def _score(text: str, scorer: Any) -> tuple[Any, bool]:
    """``(scores of the whole text, whether it is mixed)``: one batch, whole text first."""
    batch, parts = texts_to_score(text)
    scored = scorer.score(batch, raw=True)
    return scored[0], polarity(scored[0], parts, scored[1:]) is Polarity.MIXED


def _redacted_text(text: str, language: str, company: Any) -> tuple[str, bool]:
    """``(text to store, whether it is redacted)``; never raises."""
    try:
        return redact(text, language, company=company).text, True
    except Exception:  # never lose feedback because redaction failed
        _log.exception("redaction failed; the text is stored flagged as not redacted")
        return text, False


def _by_meaning(text: str, audience: Audience, services: Services) -> TouchpointMatch | None:
    """The touchpoint a message that names none is about by meaning (:mod:`bot.company.topics`).

    ``None`` when the fallback is off, finds nothing, or fails (logged: the feedback is
    stored without touchpoint, never lost)."""
    if services.topics is None or not text.strip():
        return None
    try:
        guessed = services.topics.guess(text, audience)
    except Exception:
        _log.exception("the touchpoint-by-meaning fallback failed; no touchpoint")
        return None
    return TouchpointMatch(touchpoint=guessed, source=Source.MEANING) if guessed else None


def names_touchpoint(
    text: str, audience: Audience | str = Audience.CUSTOMER, *, services: Services | None = None
) -> bool:
    """Whether the company's keywords name one of ``audience``'s touchpoints in ``text``.

    A message NLU could not classify ("ma livraison kill 85 est arrivée en retard") is
    still feedback when it names a touchpoint: the caller records it rather than answer
    "not understood" and lose it. Meaning alone (:mod:`bot.company.topics`) is not enough here: it
    finds the nearest touchpoint of any text, "blorp" included.
    """
    if not text.strip():
        return False
    company = (services or get_services()).company
    return keyword_touchpoint(text, company=company, audience=audience) is not None


def record(message: Message, *, services: Services | None = None) -> Outcome:
    """Score, route and store one message, with its routing decision and alert outbox rows.

    The feedback row, its routing decision and its outbox rows are written in **one**
    transaction. Scoring happens before it; if the scorer fails, the message is still
    stored (sentiment and emotion ``unknown``, model version ``unavailable``) and routed by
    touchpoint keywords and rating. An out-of-range rating is dropped (logged), not fatal.

    Args:
        message: what was received.
        services: dependencies (default: :func:`bot.services.get_services`).

    Returns:
        The outcome the caller answers with.

    Raises:
        StorageError: the database refused the write (the caller must tell the user).
    """
    services = services or get_services()
    company = services.company
    conversation_id = _safe_id(message.conversation_id, 128)
    message_id = _safe_id(message.message_id, MESSAGE_ID_LENGTH) if message.message_id else None
    if message_id is not None and (first := _recorded(services, conversation_id, message_id)):
        return first
    text, original_length, truncated = cut_text(
        message.text or "", services.settings.max_text_length
    )
    if message.original_length is not None and message.original_length > original_length:
        original_length, truncated = message.original_length, True  # the channel cut it
    audience = Audience(message.audience)
    kind = Kind(message.kind)
    scale = RatingScale(message.scale) if message.scale else None
    rating = message.rating
    if rating is not None and scale is None:
        scale = RatingScale.CSAT
    if not valid_rating(rating, scale):
        _log.warning("dropping out-of-range rating %r on scale %s", rating, scale)
        rating, scale = None, None

    scores = None
    scored = True
    mixed = False
    model_version = NOT_SCORED_MODEL
    if text.strip():
        try:
            scores, mixed = _score(text, services.scorer)
            model_version = scores.model_version
        except Exception:  # never lose feedback because the model failed
            _log.exception("scoring failed; the feedback is stored unscored")
            scored = False
            model_version = UNAVAILABLE_MODEL
    sentiment = dict(scores.sentiment) if scores else {}
    emotions = dict(scores.emotions) if scores else {}
    # The model and the touchpoint/keyword rules see the raw text, in memory; what is stored,
    # alerted and exported is redacted (bot/privacy/redaction.py). A redaction failure stores the
    # text unredacted and flagged, so every reader redacts it again: nothing is lost.
    stored_text, redacted = _redacted_text(text, message.language, company)

    now = services.clock()
    try:
        with services.sessions.begin() as session:
            parent = session.get(FeedbackRecord, message.parent_id) if message.parent_id else None
            context = message.context_touchpoint or (parent.touchpoint if parent else None)
            hint = message.touchpoint
            if kind is Kind.FOLLOWUP and parent is not None and not hint:
                # "what would have made it right?" answers are about the parent's touchpoint
                # ("a refund" after a delivery issue is not a billing issue).
                hint = parent.touchpoint
            about = company.touchpoint(hint) if kind in ABOUT_CUSTOMER_TOUCHPOINT else None
            if about is not None and hint is not None and about.audience == Audience.CUSTOMER:
                # Lefranc's questions name their (customer) touchpoint explicitly, whoever answers.
                match = TouchpointMatch(touchpoint=hint, source=Source.NLU)
            else:
                match = detect_touchpoint(
                    text,
                    company=company,
                    audience=audience,
                    hint=hint,
                    context=context,
                    mentions=message.mentions,
                )
                if match.source is Source.NONE:
                    match = _by_meaning(text, audience, services) or match
            signals = Signals(
                audience=audience,
                text=text,
                touchpoint=match.touchpoint,
                sentiment=sentiment,
                emotions=emotions,
                rating=rating,
                scale=scale,
                kind=kind,
                scored=scored,
                mixed=mixed,
                intent=message.intent,
            )
            decision = route(signals, company=company, parent_team=parent.team if parent else None)
            confidential = decision.confidential or bool(parent and parent.confidential)
            told = decision.alert is not None and decision.team is not None
            row = FeedbackRecord(
                conversation_id=conversation_id,
                message_id=message_id,
                intent=_safe_id(message.intent, INTENT_LENGTH) if message.intent else None,
                audience=audience.value,
                channel=_safe_id(message.channel or "unknown", 32),
                language=stored_language(text, normalize_language(message.language)),
                kind=kind.value,
                parent_id=parent.id if parent else None,
                touchpoint=match.touchpoint,
                touchpoint_source=match.source.value,
                touchpoints=[match.touchpoint, *match.others] if match.others else None,
                mixed=mixed,
                rating=rating,
                scale=scale.value if scale else None,
                text=stored_text,
                raw_text=text if company.privacy.keep_raw_text else None,
                redacted=redacted,
                original_length=original_length,
                truncated=truncated,
                sentiment_label=signals.sentiment_label,
                sentiment_scores=sentiment,
                emotion_label=signals.emotion_label,
                emotion_scores=emotions,
                raw_emotions=dict(scores.raw_emotions) if scores and scores.raw_emotions else None,
                model_version=model_version[:128],
                team=decision.team,
                severity=decision.severity.value,
                confidential=confidential,
                negative=decision.negative,
                created_at=now,
                updated_at=now,
                member_team=(
                    message.member_team
                    if audience is Audience.EMPLOYEE and company.team(message.member_team)
                    else None
                ),
            )
            session.add(row)
            session.flush()
            session.add(
                RoutingDecisionRecord(
                    feedback_id=row.id,
                    touchpoint=match.touchpoint,
                    touchpoint_source=match.source.value,
                    team=decision.team,
                    severity=decision.severity.value,
                    confidential=confidential,
                    alert_kind=decision.alert.value if decision.alert else None,
                    rule=decision.rule,
                    reason=decision.reason,
                    created_at=now,
                )
            )
            also_told: tuple[str, ...] = ()
            if told and decision.team is not None and decision.alert is not None:
                enqueue(
                    session,
                    feedback=row,
                    team=decision.team,
                    kind=decision.alert.value,
                    company=company,
                    now=now,
                )
                also_told = _tell_other_teams(
                    session, row, match.others, decision.team, decision.alert, company, now
                )
    except IntegrityError:
        # Another process recorded the same message between our check and our write.
        if message_id is not None and (first := _recorded(services, conversation_id, message_id)):
            return first
        raise StorageError("the feedback could not be stored: IntegrityError") from None
    except SQLAlchemyError as exc:
        raise StorageError(f"the feedback could not be stored: {exc.__class__.__name__}") from exc
    return _outcome(row, told=told, also_told=also_told)


def _recorded(services: Services, conversation_id: str, message_id: str) -> Outcome | None:
    """The outcome of the record already made of this message, if any."""
    query = (
        select(FeedbackRecord)
        .where(
            FeedbackRecord.conversation_id == conversation_id,
            FeedbackRecord.message_id == message_id,
        )
        .options(selectinload(FeedbackRecord.alerts))
    )
    try:
        with services.sessions() as session:
            row = session.scalars(query).first()
            if row is None:
                return None
            teams = [alert.team for alert in row.alerts]
            told = row.team is not None and row.team in teams
            also = tuple(dict.fromkeys(t for t in teams if t != row.team))
            _log.info(
                "message %s of %s was already recorded (%s)", message_id, conversation_id, row.id
            )
            return _outcome(row, told=told, also_told=also)
    except SQLAlchemyError as exc:
        raise StorageError(f"the feedback could not be read: {exc.__class__.__name__}") from exc


def _tell_other_teams(
    session: Any,
    row: Any,
    others: tuple[str, ...],
    primary_team: str,
    alert: Any,
    company: Any,
    now: datetime,
) -> tuple[str, ...]:
    """Queue an ``also`` alert for each other team a message names (one per team).

    The owner of the primary touchpoint handles the issue; the teams of the other
    touchpoints the message names are told it concerns them too (praise is shared the same
    way). Confidential feedback goes to its owner only. Returns the teams told.
    """
    if row.confidential or alert not in (AlertKind.ISSUE, AlertKind.PRAISE):
        return ()
    told: list[str] = []
    for key in others:
        team = company.team_for(key)
        if team is None or team == primary_team or team in told:
            continue
        enqueue(session, feedback=row, team=team, kind=ALSO_KIND, company=company, now=now)
        told.append(team)
    return tuple(told)


def set_rating(
    feedback_id: int,
    rating: int,
    scale: RatingScale,
    *,
    services: Services | None = None,
) -> Outcome:
    """Attach a rating to an already recorded feedback and re-evaluate its routing.

    A new routing decision is stored; when the severity rises (or the feedback now calls
    for an alert it did not get), an ``escalation`` alert is queued for the team in the same
    transaction. Confidentiality never goes down.

    Raises:
        ValueError: the rating does not fit its scale.
        LookupError: no feedback has this id.
        StorageError: the database refused the write.
    """
    scale = RatingScale(scale)
    if not valid_rating(rating, scale):
        low, high = RATING_RANGES[scale]
        raise ValueError(f"rating {rating!r} is not in {low}-{high} on scale {scale.value}")
    services = services or get_services()
    company = services.company
    now = services.clock()
    try:
        with services.sessions.begin() as session:
            row = session.get(FeedbackRecord, feedback_id, with_for_update=True)
            if row is None:
                raise LookupError(f"no feedback with id {feedback_id}")
            parent = session.get(FeedbackRecord, row.parent_id) if row.parent_id else None
            had_alert = any(d.alert_kind for d in row.decisions)
            old_severity = Severity(row.severity)
            signals = Signals(
                audience=Audience(row.audience),
                text=row.text,
                touchpoint=row.touchpoint,
                sentiment=row.sentiment_scores or {},
                emotions=row.emotion_scores or {},
                rating=rating,
                scale=scale,
                kind=Kind(row.kind),
                scored=row.model_version != UNAVAILABLE_MODEL,
                mixed=bool(row.mixed),
                intent=row.intent,
            )
            decision = route(signals, company=company, parent_team=parent.team if parent else None)
            row.rating = rating
            row.scale = scale.value
            row.severity = decision.severity.value
            row.negative = decision.negative
            row.confidential = row.confidential or decision.confidential
            row.team = decision.team or row.team
            row.updated_at = now
            rises = SEVERITY_ORDER[decision.severity] > SEVERITY_ORDER[old_severity]
            alert: AlertKind | None = None
            if decision.alert is not None and row.team is not None:
                if not had_alert:
                    alert = decision.alert
                elif rises:
                    alert = AlertKind.ESCALATION
            session.add(
                RoutingDecisionRecord(
                    feedback_id=row.id,
                    touchpoint=row.touchpoint,
                    touchpoint_source=row.touchpoint_source,
                    team=row.team,
                    severity=row.severity,
                    confidential=row.confidential,
                    alert_kind=alert.value if alert else None,
                    rule=decision.rule,
                    reason=f"rating {rating} ({scale.value}) given later; {decision.reason}",
                    created_at=now,
                )
            )
            session.flush()
            if alert is not None and row.team is not None:
                enqueue(
                    session, feedback=row, team=row.team, kind=alert.value, company=company, now=now
                )
            told = had_alert or alert is not None
    except SQLAlchemyError as exc:
        raise StorageError(f"the rating could not be stored: {exc.__class__.__name__}") from exc
    return _outcome(row, told=told)
