"""The contact ledger: may Vécu ask this person something now? One answer, always recorded.

This module owns the rules of ``contact_policy`` (``company.yml``) and the ``consent``,
``contact_decision`` and ``contact_outbox`` rows they produce:

- **consent** per purpose (``surveys``, ``followup``); no row means the policy default. An
  opt-out (:func:`bot.contact.routes.opt_out`) refuses every purpose for the person, so it holds at
  once on
  every channel of theirs, and cancels what was waiting in the outbox;
- **decide** (:func:`decide`), in this order: opted out / no consent → suppressed; no channel
  that can reach them (a Telegram chat with the audience's bot, else a web chat session whose
  page collects its inbox) → suppressed; an issue of theirs still open (a negative feedback not
  resolved) → suppressed (surveys only); frequency caps (per person, per touchpoint, counted
  on what was sent) → suppressed "frequency_cap"; quiet hours in the person's time zone →
  deferred to their end; otherwise sent;
- **record** (:func:`record`): every verdict becomes a ``contact_decision`` row with its reason;
  sent and deferred ones also get a ``contact_outbox`` row that the sender delivers.

Functions take the session by keyword and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.company import ContactPolicy
from bot.privacy.persons import conversation_ids
from bot.storage.models import (
    ConsentRecord,
    ContactDecisionRecord,
    ContactOutboxRecord,
    ContactOutcome,
    ContactStatus,
    FeedbackRecord,
    IdentityKind,
    IssueStatus,
    PersonIdentityRecord,
    PersonRecord,
)

if TYPE_CHECKING:
    pass


OPT_OUT_SOURCE = "opt_out"
"""The ledger source prefix of an opt-out said in a conversation (``opt_out:<channel>``)."""


class Purpose(StrEnum):
    """What a solicitation is for (its intent in Rasa)."""

    SURVEY = "survey"  # after a "done" event: EXTERNAL_survey
    EXPECTATION = "expectation"  # before an "upcoming" one: EXTERNAL_ask_expectation


class ConsentPurpose(StrEnum):
    """The purposes a person consents to (or refuses) separately."""

    SURVEYS = "surveys"  # surveys and expectation questions
    FOLLOWUP = "followup"  # closing the loop on their feedback


class Reason(StrEnum):
    """Why the ledger decided what it decided."""

    OK = "ok"
    OPTED_OUT = "opted_out"
    NO_CONSENT = "no_consent"
    NO_CHANNEL = "no_channel"
    OPEN_ISSUE = "open_issue"
    FREQUENCY_CAP = "frequency_cap"
    QUIET_HOURS = "quiet_hours"


INTENTS = {Purpose.SURVEY: "EXTERNAL_survey", Purpose.EXPECTATION: "EXTERNAL_ask_expectation"}
REACHABLE = (IdentityKind.TELEGRAM.value,)
"""Channels Vécu can write to first, through the bot of the person's audience."""
WEB = IdentityKind.WEB.value
"""The fallback: a web chat session's inbox (``web_inbox``), which its page collects."""


@dataclass(frozen=True)
class Verdict:
    """One decision of the ledger.

    Attributes:
        outcome: sent, suppressed or deferred.
        reason: why.
        detail: a short technical explanation (English, for operators and the API).
        not_before: when a deferred solicitation may go.
        channel: the channel it goes to (sent or deferred).
    """

    outcome: ContactOutcome
    reason: Reason
    detail: str | None = None
    not_before: datetime | None = None
    channel: str | None = None


def consent_granted(
    *, session: Session, person_id: str, purpose: ConsentPurpose | str, policy: ContactPolicy
) -> tuple[bool, str | None]:
    """Whether the person consents to ``purpose``, and the source of a refusal."""
    row = session.scalars(
        select(ConsentRecord).where(
            ConsentRecord.person_id == person_id, ConsentRecord.purpose == str(purpose)
        )
    ).first()
    if row is None:
        return policy.default_consent, None if policy.default_consent else "policy"
    return row.granted, None if row.granted else row.source


def set_consent(
    *, session: Session, person_id: str, purpose: ConsentPurpose | str, granted: bool,
    source: str, now: datetime,
) -> ConsentRecord:  # fmt: skip
    """Record the person's consent (or refusal) for ``purpose``."""
    row = session.scalars(
        select(ConsentRecord).where(
            ConsentRecord.person_id == person_id, ConsentRecord.purpose == str(purpose)
        )
    ).first()
    if row is None:
        row = ConsentRecord(person_id=person_id, purpose=str(purpose))
        session.add(row)
    row.granted, row.source, row.updated_at = granted, source[:64], now
    session.flush()
    return row


def reachable_channel(*, session: Session, person_id: str, audience: str) -> str | None:
    """The channel Vécu can write to this person on, for the bot of ``audience``.

    A Telegram chat with that bot first; else a web chat session (the message waits in the
    session's inbox, which the chat page collects while it is open).
    """
    row = session.scalars(
        select(PersonIdentityRecord)
        .where(
            PersonIdentityRecord.person_id == person_id,
            PersonIdentityRecord.kind.in_(REACHABLE),
            PersonIdentityRecord.scope == audience,
        )
        .order_by(PersonIdentityRecord.last_seen_at.desc())
        .limit(1)
    ).first()
    if row is not None:
        return row.kind
    web = session.scalars(
        select(PersonIdentityRecord.id).where(
            PersonIdentityRecord.person_id == person_id,
            PersonIdentityRecord.kind == WEB,
            PersonIdentityRecord.conversation_id.is_not(None),
        )
    ).first()
    return WEB if web is not None else None


def open_issues(*, session: Session, person_id: str) -> int:
    """How many negative feedback rows of the person are not resolved yet."""
    ids = conversation_ids(session=session, person_id=person_id)
    if not ids:
        return 0
    return int(
        session.scalar(
            select(func.count(FeedbackRecord.id)).where(
                FeedbackRecord.conversation_id.in_(ids),
                FeedbackRecord.negative.is_(True),
                FeedbackRecord.status != IssueStatus.RESOLVED.value,
            )
        )
        or 0
    )


def last_sent(
    *, session: Session, person_id: str, purpose: Purpose, since: datetime,
    touchpoint: str | None = None,
) -> datetime | None:  # fmt: skip
    """When the person was last sent a ``purpose`` solicitation after ``since``."""
    statement = select(func.max(ContactDecisionRecord.decided_at)).where(
        ContactDecisionRecord.person_id == person_id,
        ContactDecisionRecord.purpose == purpose.value,
        ContactDecisionRecord.outcome == ContactOutcome.SENT.value,
        ContactDecisionRecord.decided_at > since,
    )
    if touchpoint is not None:
        statement = statement.where(ContactDecisionRecord.touchpoint == touchpoint)
    found = session.scalar(statement)
    if found is not None and found.tzinfo is None:  # SQLite's max() bypasses the column type
        found = found.replace(tzinfo=UTC)
    return found


def zone(person: PersonRecord, policy: ContactPolicy) -> ZoneInfo:
    """The person's time zone (the policy's default when unknown or invalid)."""
    try:
        return ZoneInfo(person.time_zone or policy.default_time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(policy.default_time_zone)


def quiet_until(now: datetime, tz: ZoneInfo, policy: ContactPolicy) -> datetime | None:
    """The end of the quiet hours ``now`` falls in (``None`` when not in quiet hours)."""
    if policy.quiet_hours is None:
        return None
    start = time.fromisoformat(policy.quiet_hours.start)
    end = time.fromisoformat(policy.quiet_hours.end)
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return None
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    wake = datetime.combine(day, end, tzinfo=tz)
    return wake.astimezone(now.tzinfo)


def decide(
    *,
    session: Session,
    person: PersonRecord,
    purpose: Purpose,
    touchpoint: str | None,
    audience: str,
    policy: ContactPolicy,
    now: datetime,
) -> Verdict:
    """Decide whether ``person`` may be asked ``purpose`` about ``touchpoint`` now."""
    granted, source = consent_granted(
        session=session, person_id=person.id, purpose=ConsentPurpose.SURVEYS, policy=policy
    )
    if not granted:
        opted = bool(source and source.startswith(OPT_OUT_SOURCE))
        reason = Reason.OPTED_OUT if opted else Reason.NO_CONSENT
        return Verdict(ContactOutcome.SUPPRESSED, reason, f"consent refused ({source})")
    channel = reachable_channel(session=session, person_id=person.id, audience=audience)
    if channel is None:
        return Verdict(
            ContactOutcome.SUPPRESSED,
            Reason.NO_CHANNEL,
            f"no channel Vécu can write to (a Telegram chat with the {audience} bot, a web chat)",
        )
    if purpose is Purpose.SURVEY:
        issues = open_issues(session=session, person_id=person.id)
        if issues:
            return Verdict(
                ContactOutcome.SUPPRESSED, Reason.OPEN_ISSUE, f"{issues} issue(s) not resolved"
            )
        caps: tuple[tuple[float, str | None, str], ...] = (
            (policy.survey_per_person_days, None, "per person"),
            (policy.survey_per_touchpoint_days, touchpoint, "per touchpoint"),
        )
    else:
        caps = ((policy.expectation_per_person_days, None, "per person"),)
    for days, tp, label in caps:
        if days <= 0 or (label == "per touchpoint" and tp is None):
            continue
        last = last_sent(
            session=session, person_id=person.id, purpose=purpose,
            since=now - timedelta(days=days), touchpoint=tp,
        )  # fmt: skip
        if last is not None:
            return Verdict(
                ContactOutcome.SUPPRESSED,
                Reason.FREQUENCY_CAP,
                f"1 {purpose.value} {label} per {days:g} days; last sent {last.isoformat()}",
            )
    wake = quiet_until(now, zone(person, policy), policy)
    if wake is not None:
        return Verdict(
            ContactOutcome.DEFERRED,
            Reason.QUIET_HOURS,
            f"quiet hours in {zone(person, policy).key}",
            not_before=wake,
            channel=channel,
        )
    return Verdict(ContactOutcome.SENT, Reason.OK, None, channel=channel)


def record(
    *,
    session: Session,
    person: PersonRecord,
    verdict: Verdict,
    purpose: Purpose,
    touchpoint: str | None,
    now: datetime,
    event_id: int | None = None,
    entities: dict[str, str] | None = None,
    outbox: ContactOutboxRecord | None = None,
) -> ContactDecisionRecord:
    """Store the decision; a sent or deferred one also (re)queues its outbox row.

    Args:
        outbox: an existing row being re-decided (the sender re-checks deferred rows).
    """
    decision = ContactDecisionRecord(
        person_id=person.id,
        event_id=event_id,
        purpose=purpose.value,
        touchpoint=touchpoint,
        outcome=verdict.outcome.value,
        reason=verdict.reason.value,
        detail=verdict.detail,
        not_before=verdict.not_before,
        decided_at=now,
    )
    session.add(decision)
    session.flush()
    if verdict.outcome is ContactOutcome.SUPPRESSED:
        if outbox is not None:
            outbox.status = ContactStatus.CANCELLED.value
            outbox.last_error = f"{verdict.reason.value}: {verdict.detail or ''}".strip()
            outbox.decision_id = decision.id
        return decision
    due = verdict.not_before or now
    if outbox is None:
        outbox = ContactOutboxRecord(
            person_id=person.id,
            event_id=event_id,
            purpose=purpose.value,
            touchpoint=touchpoint,
            intent=INTENTS[purpose],
            entities=dict(entities or {}),
            attempts=0,
            created_at=now,
        )
        session.add(outbox)
    outbox.decision_id = decision.id
    outbox.status = ContactStatus.PENDING.value
    outbox.next_attempt_at = due
    outbox.channel = verdict.channel
    session.flush()
    return decision
