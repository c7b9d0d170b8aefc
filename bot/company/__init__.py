"""The company configuration: one YAML file, validated at start with clear errors.

This module owns the schema of ``company.yml`` (languages, emotion groups, teams and their
alert destinations, touchpoints and their keywords, severity rules) and its loading:
``${VAR}`` / ``${VAR:-default}`` interpolation from the environment, pydantic validation,
and cross-checks (unknown team, unknown emotion label or group, duplicate touchpoint, bad
rule). Every problem is reported at once in one :class:`~bot.errors.ConfigurationError`,
each with its YAML path (``touchpoints.delivery.team: unknown team 'logistic'``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.domain import Audience, RatingScale, Severity
from bot.errors import ConfigurationError
from bot.scoring.groups import GOEMOTIONS_LABELS

AudienceName = Literal["customer", "employee"]
SentimentName = Literal["negative", "neutral", "positive", "unknown"]
ScaleName = Literal["csat", "nps", "enps", "engagement"]

_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


_LOW_RATING: dict[ScaleName, float] = {"csat": 2, "nps": 6, "enps": 6, "engagement": 2}
_SLA_HOURS: dict[Severity, float] = {
    Severity.URGENT: 4,
    Severity.HIGH: 24,
    Severity.NORMAL: 72,
    Severity.LOW: 168,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Destination(_Strict):
    """Where a team's alerts go.

    Attributes:
        name: a stable name, recorded on each outbox row (defaults to ``<type>-<index>``).
        type: ``webhook`` (HTTP POST), ``email`` (SMTP) or ``telegram`` (a team's group
            chat, through the team bot: ``TELEGRAM_TEAM_TOKEN``, else the employee bot).
        url: the webhook URL (webhook).
        chat_id: the Telegram group chat id, e.g. ``-1001234567890`` (telegram).
        to: the recipients (email; sent through ``VECU_SMTP_*``, see :mod:`bot.alerts.email`).
        format: ``json`` (Vécu's alert document) or ``slack`` (``{"text", "blocks"}``).
        timeout_s: how long one delivery may take.
        headers: extra HTTP headers (e.g. an authorization token from ``${VAR}``).
    """

    name: str | None = None
    type: Literal["webhook", "telegram", "email"] = "webhook"
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    format: Literal["json", "slack"] = "json"
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    headers: dict[str, str] = Field(default_factory=dict)
    chat_id: str | None = Field(default=None, pattern=r"^(-?\d{1,20}|@\w{5,64})$")
    to: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _target_is_set(self) -> Destination:
        if self.type == "webhook" and not self.url:
            raise ValueError("a webhook destination needs a `url`")
        if self.type == "telegram" and not self.chat_id:
            raise ValueError("a telegram destination needs a `chat_id` (the team's group chat)")
        if self.type == "email" and not self.to:
            raise ValueError("an email destination needs `to` (one or more addresses)")
        bad = [a for a in self.to if not re.fullmatch(r"[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+", a)]
        if bad:
            raise ValueError(f"`to`: not an e-mail address: {', '.join(map(repr, bad))}")
        return self


class Team(_Strict):
    """A team that owns touchpoints and is alerted about them."""

    labels: dict[str, str]
    language: str = "fr"
    destinations: list[Destination] = Field(default_factory=list)

    def label(self, language: str) -> str:
        """The team's name in ``language`` (any label when that one is missing)."""
        return self.labels.get(language) or next(iter(self.labels.values()), "")

    def destination(self, name: str) -> Destination | None:
        """The destination called ``name``, if the team still has it."""
        for index, dest in enumerate(self.destinations):
            if destination_name(dest, index) == name:
                return dest
        return None


class Targets(_Strict):
    """Leadership's *intended* experience of a touchpoint (Lefranc's first experience).

    Attributes:
        csat: target CSAT, in % of answers 4-5 on the 1-5 scale (0-100).
        nps: target NPS (-100..100).
        emotions_wanted: emotion groups the touchpoint should leave customers with.
        emotions_unwanted: emotion groups it must not leave them with.
    """

    csat: float | None = Field(default=None, ge=0, le=100)
    nps: float | None = Field(default=None, ge=-100, le=100)
    emotions_wanted: list[str] = Field(default_factory=list)
    emotions_unwanted: list[str] = Field(default_factory=list)


MIN_K_ANONYMITY = 3
"""k below this is refused by the configuration check (issue 5: "never below 3")."""


class Analytics(_Strict):
    """How the dashboard aggregates: privacy threshold and statistical thresholds.

    Attributes:
        k_anonymity: no employee number, comment or breakdown for fewer than k people.
        min_sample: below this many answers a score is shown as indicative only.
        confidence: the level of every confidence interval.
    """

    k_anonymity: int = Field(default=5, ge=MIN_K_ANONYMITY, le=1000)
    min_sample: int = Field(default=30, ge=1, le=100_000)
    confidence: float = Field(default=0.95, ge=0.8, le=0.999)


class Touchpoint(_Strict):
    """A moment of the customer or employee journey, owned by one team.

    Attributes:
        audience: customer or employee.
        team: the owning team.
        labels: the name per language.
        keywords: words and phrases per language that reveal it in a message.
        priority: when a message mentions several touchpoints, the highest priority wins
            before keyword counts (safety outranks everything else by default).
        targets: the intended experience (customer touchpoints; optional).
    """

    audience: AudienceName
    team: str
    labels: dict[str, str]
    keywords: dict[str, list[str]] = Field(default_factory=dict)
    priority: int = 0
    targets: Targets | None = None

    def label(self, language: str) -> str:
        """The touchpoint's name in ``language`` (any label when that one is missing)."""
        return self.labels.get(language) or next(iter(self.labels.values()), "")


class RuleConditions(_Strict):
    """The conditions of a severity rule (all optional; all given must hold)."""

    audience: AudienceName | None = None
    intent_in: list[str] | None = None
    touchpoint_in: list[str] | None = None
    keywords_any: list[str] | None = None
    sentiment_in: list[SentimentName] | None = None
    sentiment_at_least: dict[str, float] | None = None
    emotion_in: list[str] | None = None
    emotion_at_least: dict[str, float] | None = None
    rating_at_most: float | None = None
    rating_at_least: float | None = None
    scale_in: list[ScaleName] | None = None
    negative: bool | None = None
    scored: bool | None = None


class SeverityRule(_Strict):
    """One ordered severity rule: the first rule whose conditions hold decides.

    ``answer``: the message needs the team's answer (a question): it is alerted as an issue
    whatever its tone, to the fallback team when it names no touchpoint.
    """

    name: str
    when: RuleConditions = Field(default_factory=RuleConditions)
    severity: Severity
    confidential: bool = False
    alert: bool = True
    answer: bool = False


class Escalation(_Strict):
    """Unacknowledged alerts escalate: after ``after_minutes`` the worker alerts a fallback team.

    Attributes:
        after_minutes: how long an issue may stay ``open`` (not acknowledged) after it was
            received.
        severities: which severities escalate (urgent by default).
        teams: the fallback team per audience (its destinations receive the escalation,
            kind ``escalated``; an employee's alert stays as anonymous as the first one).
    """

    after_minutes: float = Field(default=30.0, gt=0)
    severities: list[Severity] = Field(default_factory=lambda: [Severity.URGENT])
    teams: dict[AudienceName, str] = Field(default_factory=dict)


class CompanyInfo(_Strict):
    """Who the configuration is for."""

    name: str = "Vécu"


class QuietHours(_Strict):
    """Hours (in the person's time zone) when no solicitation is sent: it waits until ``end``."""

    start: str = Field(default="21:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class ContactPolicy(_Strict):
    """The contact ledger's rules (issue 6): consent default, frequency caps, quiet hours.

    Attributes:
        default_consent: whether a person with no consent row may be surveyed (a business
            relationship; an opt-out always wins).
        survey_per_person_days: at most one survey per person in this many days.
        survey_per_touchpoint_days: at most one survey per person and touchpoint in this many
            days.
        expectation_per_person_days: at most one expectation question per person in this many
            days (counted apart from surveys).
        quiet_hours: no solicitation in these hours of the person's time zone (deferred).
        default_time_zone: the time zone of a person whose events name none (IANA name).
        max_attempts: delivery attempts before an outbox row is ``dead``.
    """

    default_consent: bool = True
    survey_per_person_days: float = Field(default=7, ge=0)
    survey_per_touchpoint_days: float = Field(default=30, ge=0)
    expectation_per_person_days: float = Field(default=7, ge=0)
    quiet_hours: QuietHours | None = Field(default_factory=QuietHours)
    default_time_zone: str = "America/Toronto"
    max_attempts: int = Field(default=8, ge=1, le=100)

    @field_validator("default_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name such as America/Toronto)"
            ) from None
        return value


DEFAULT_ORDER_PATTERNS = (
    r"(?i)\b(?:CMD|CDE|ORD|COM|FAC|INV)-?\d{4,12}\b",
    r"(?i)\b(?:commande|order|facture|invoice|bon|colis|parcel|dossier|ticket|r[ée]f[ée]rence|"
    r"ref|suivi|tracking)\s*(?:n[°o]\.?|no\.?|num[ée]ro|number|#|:)?\s*#?"
    r"(?P<id>(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,30})\b",
)
"""Order-number patterns used when ``privacy.order_patterns`` is not given."""


class PrivacyConfig(_Strict):
    """Personal data: redaction, raw text, retention (issue 6; see ``bot/privacy/redaction.py``).

    Attributes:
        keep_raw_text: also keep the text as received (``feedback.raw_text``), for the person's
            right of access and audits; off by default: only the redacted text is stored (the
            model scores the raw text before it is redacted, in memory).
        retention_days: feedback, business events and contact-ledger rows older than this are
            purged (``vecu privacy purge``, and the worker once a day).
        retention_action: ``anonymise`` keeps feedback as anonymised aggregates (no text, no
            conversation id, no link); ``delete`` removes the rows.
        conversation_days: Rasa's own copy of the conversations (its SQL tracker store's
            ``events`` table, raw text, when it shares the database: scaled deployments) is
            deleted after this many days (never later than ``retention_days``).
        order_patterns: regular expressions of your order/invoice/ticket numbers; a named group
            ``id`` redacts only that part of the match.
        name_models: the spaCy package finding names, per language (defaults in
            ``bot.privacy.redaction.DEFAULT_MODELS``).
    """

    keep_raw_text: bool = False
    retention_days: int = Field(default=365, ge=1, le=36500)
    retention_action: Literal["anonymise", "delete"] = "anonymise"
    conversation_days: int = Field(default=1, ge=1, le=36500)
    order_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_ORDER_PATTERNS))
    name_models: dict[str, str] = Field(default_factory=dict)

    @field_validator("order_patterns")
    @classmethod
    def _valid_patterns(cls, value: list[str]) -> list[str]:
        for index, pattern in enumerate(value):
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"pattern {index} is not a valid regular expression: {exc}"
                ) from None
            if compiled.search(""):
                raise ValueError(f"pattern {index} matches the empty text")
        return value


class Company(_Strict):
    """The validated company configuration (see ``company.yml``)."""

    version: Literal[1] = 1
    company: CompanyInfo = Field(default_factory=CompanyInfo)
    languages: list[str] = Field(default_factory=lambda: ["fr", "en"], min_length=1)
    default_language: str = "fr"
    emotion_groups: dict[str, list[str]]
    negative_emotions: list[str] = Field(
        default_factory=lambda: ["anger", "frustration", "fear", "sadness", "disgust"]
    )
    low_rating: dict[ScaleName, float] = Field(default_factory=lambda: dict(_LOW_RATING))
    fallback_team: dict[AudienceName, str] = Field(default_factory=dict)
    escalation: Escalation | None = None
    sla_hours: dict[Severity, float] = Field(default_factory=lambda: dict(_SLA_HOURS))
    teams: dict[str, Team]
    touchpoints: dict[str, Touchpoint]
    severity_rules: list[SeverityRule] = Field(min_length=1)
    contact_policy: ContactPolicy = Field(default_factory=ContactPolicy)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    analytics: Analytics = Field(default_factory=Analytics)

    @field_validator("sla_hours")
    @classmethod
    def _positive_sla(cls, value: dict[Severity, float]) -> dict[Severity, float]:
        if any(hours <= 0 for hours in value.values()):
            raise ValueError("every SLA must be a positive number of hours")
        return {**_SLA_HOURS, **value}

    # ---- lookups -------------------------------------------------------------------------

    def sla(self, severity: str) -> float | None:
        """Hours a team has to resolve an alert of ``severity`` (``None``: unknown severity)."""
        try:
            return self.sla_hours.get(Severity(severity))
        except ValueError:
            return None

    def touchpoint(self, key: str | None) -> Touchpoint | None:
        """The touchpoint called ``key`` (``None`` for an unknown or empty key)."""
        return self.touchpoints.get(key) if key else None

    def team(self, key: str | None) -> Team | None:
        """The team called ``key`` (``None`` for an unknown or empty key)."""
        return self.teams.get(key) if key else None

    def touchpoints_for(self, audience: Audience | str) -> dict[str, Touchpoint]:
        """The touchpoints of one audience, in configuration order."""
        value = Audience(audience).value
        return {k: tp for k, tp in self.touchpoints.items() if tp.audience == value}

    def team_for(self, touchpoint: str | None) -> str | None:
        """The team owning ``touchpoint``."""
        tp = self.touchpoint(touchpoint)
        return tp.team if tp else None

    def is_low_rating(self, rating: int | None, scale: RatingScale | str | None) -> bool:
        """Whether ``rating`` is low on its scale (CSAT ≤ 2, NPS ≤ 6… by default)."""
        if rating is None:
            return False
        thresholds: dict[str, float] = {str(k): v for k, v in self.low_rating.items()}
        threshold = thresholds.get(RatingScale(scale or RatingScale.CSAT).value)
        return threshold is not None and rating <= threshold

    @cached_property
    def label_to_group(self) -> dict[str, str]:
        """GoEmotions label → the emotion group containing it."""
        return {label: group for group, labels in self.emotion_groups.items() for label in labels}

    def summary(self) -> dict[str, Any]:
        """A short description (counts and names) for ``vecu config check``."""
        return {
            "company": self.company.name,
            "languages": list(self.languages),
            "emotion_groups": list(self.emotion_groups),
            "teams": {
                key: [destination_name(d, i) for i, d in enumerate(team.destinations)]
                for key, team in self.teams.items()
            },
            "touchpoints": {
                key: f"{tp.audience} → {tp.team}" for key, tp in self.touchpoints.items()
            },
            "severity_rules": [rule.name for rule in self.severity_rules],
            "analytics": self.analytics.model_dump(),
            "targets": {
                key: tp.targets.model_dump(exclude_defaults=True)
                for key, tp in self.touchpoints.items()
                if tp.targets is not None
            },
        }


def destination_name(destination: Destination, index: int) -> str:
    """The name recorded on outbox rows for the ``index``-th destination of a team."""
    return destination.name or f"{destination.type}-{index}"


# ---- loading ---------------------------------------------------------------------------------


def _interpolate(value: Any, path: str, problems: list[str], env: Mapping[str, str]) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string of ``value``."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            found = env.get(name)
            if found:
                return found
            if default is not None:
                return default
            problems.append(f"{path}: environment variable {name} is not set")
            return ""

        return _ENV_PATTERN.sub(replace, value)
    if isinstance(value, dict):
        return {
            k: _interpolate(v, f"{path}.{k}" if path else str(k), problems, env)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_interpolate(v, f"{path}[{i}]", problems, env) for i, v in enumerate(value)]
    return value


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that records duplicate mapping keys instead of keeping the last."""

    duplicates: list[str]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                self.duplicates.append(
                    f"line {key_node.start_mark.line + 1}: duplicate key {key!r} "
                    "(each touchpoint, team, group or setting must appear once)"
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(text: str) -> tuple[Any, list[str]]:
    loader = _UniqueKeyLoader(text)
    loader.duplicates = []
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


def _loc(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(root)"


def _goemotions_labels() -> tuple[str, ...]:
    return tuple(GOEMOTIONS_LABELS)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _cross_check(data: dict[str, Any]) -> list[str]:
    """Problems pydantic cannot see: references between sections.

    It reads the raw (interpolated) document defensively, so these problems are reported
    together with the shape errors pydantic finds; wrongly-typed parts are skipped here
    (pydantic reports them).
    """
    problems: list[str] = []
    known_labels = set(_goemotions_labels())
    seen: dict[str, str] = {}
    emotion_groups = _dict(data.get("emotion_groups"))
    for group, labels in emotion_groups.items():
        if isinstance(labels, list) and not labels:
            problems.append(f"emotion_groups.{group}: a group needs at least one label")
        for i, label in enumerate(_list(labels)):
            where = f"emotion_groups.{group}[{i}]"
            if label not in known_labels:
                problems.append(
                    f"{where}: unknown emotion label {label!r} (not a GoEmotions label)"
                )
            elif label in seen:
                problems.append(f"{where}: label {label!r} is already in group {seen[label]!r}")
            else:
                seen[label] = group
    groups = set(emotion_groups)
    for i, group in enumerate(_list(data.get("negative_emotions"))):
        if group not in groups:
            problems.append(f"negative_emotions[{i}]: unknown emotion group {group!r}")
    languages = _list(data.get("languages", ["fr", "en"]))
    default_language = data.get("default_language", "fr")
    if languages and default_language not in languages:
        problems.append(
            f"default_language: {default_language!r} is not one of languages {languages}"
        )
    teams = _dict(data.get("teams"))
    for audience, team_key in _dict(data.get("fallback_team")).items():
        if isinstance(team_key, str) and team_key not in teams:
            problems.append(f"fallback_team.{audience}: unknown team {team_key!r}")
    for audience, team_key in _dict(_dict(data.get("escalation")).get("teams")).items():
        if isinstance(team_key, str) and team_key not in teams:
            problems.append(f"escalation.teams.{audience}: unknown team {team_key!r}")
    for key, team in teams.items():
        team = _dict(team)
        if "labels" in team and not team["labels"]:
            problems.append(f"teams.{key}.labels: give at least one label")
        names: set[str] = set()
        for i, dest in enumerate(_list(team.get("destinations"))):
            dest = _dict(dest)
            name = dest.get("name") or f"{dest.get('type', 'webhook')}-{i}"
            if name == "person":
                problems.append(
                    f"teams.{key}.destinations[{i}].name: 'person' is reserved (closed loop)"
                )
            if name in names:
                problems.append(
                    f"teams.{key}.destinations[{i}].name: duplicate destination {name!r}"
                )
            names.add(name)
    touchpoints = _dict(data.get("touchpoints"))
    folded: dict[str, str] = {}
    for key, tp in touchpoints.items():
        tp = _dict(tp)
        team_key = tp.get("team")
        if isinstance(team_key, str) and team_key not in teams:
            problems.append(f"touchpoints.{key}.team: unknown team {team_key!r}")
        if "labels" in tp and not tp["labels"]:
            problems.append(f"touchpoints.{key}.labels: give at least one label")
        for language in _dict(tp.get("keywords")):
            if languages and language not in languages:
                problems.append(f"touchpoints.{key}.keywords.{language}: language not in languages")
        targets = _dict(tp.get("targets"))
        for field in ("emotions_wanted", "emotions_unwanted"):
            for j, group in enumerate(_list(targets.get(field))):
                if group not in groups:
                    problems.append(
                        f"touchpoints.{key}.targets.{field}[{j}]: unknown emotion group {group!r}"
                    )
        both = set(_list(targets.get("emotions_wanted"))) & set(
            _list(targets.get("emotions_unwanted"))
        )
        if both:
            problems.append(f"touchpoints.{key}.targets: {sorted(both)} both wanted and unwanted")
        if targets and tp.get("audience") == "employee":
            problems.append(f"touchpoints.{key}.targets: targets are for customer touchpoints only")
        low = str(key).casefold()
        if low in folded:
            problems.append(f"touchpoints.{key}: duplicate touchpoint (same as {folded[low]!r})")
        folded[low] = str(key)
    names_seen: set[Any] = set()
    for i, rule in enumerate(_list(data.get("severity_rules"))):
        rule = _dict(rule)
        where = f"severity_rules[{i}]"
        cond = _dict(rule.get("when"))
        for j, tp_key in enumerate(_list(cond.get("touchpoint_in"))):
            if tp_key not in touchpoints:
                problems.append(f"{where}.when.touchpoint_in[{j}]: unknown touchpoint {tp_key!r}")
        for j, group in enumerate(_list(cond.get("emotion_in"))):
            if group not in groups:
                problems.append(f"{where}.when.emotion_in[{j}]: unknown emotion group {group!r}")
        for group, p in _dict(cond.get("emotion_at_least")).items():
            if group not in groups:
                problems.append(f"{where}.when.emotion_at_least.{group}: unknown emotion group")
            if isinstance(p, int | float) and not 0 <= p <= 1:
                problems.append(f"{where}.when.emotion_at_least.{group}: probability not in [0, 1]")
        for label, p in _dict(cond.get("sentiment_at_least")).items():
            if label not in ("negative", "neutral", "positive"):
                problems.append(f"{where}.when.sentiment_at_least.{label}: unknown sentiment")
            if isinstance(p, int | float) and not 0 <= p <= 1:
                problems.append(
                    f"{where}.when.sentiment_at_least.{label}: probability not in [0, 1]"
                )
        keywords = cond.get("keywords_any")
        if isinstance(keywords, list) and not [k for k in keywords if str(k).strip()]:
            problems.append(f"{where}.when.keywords_any: give at least one keyword")
        low_r, high_r = cond.get("rating_at_least"), cond.get("rating_at_most")
        if isinstance(low_r, int | float) and isinstance(high_r, int | float) and low_r > high_r:
            problems.append(
                f"{where}.when: rating_at_least is above rating_at_most (never matches)"
            )
        name = rule.get("name")
        if name is not None and name in names_seen:
            problems.append(f"{where}.name: duplicate rule name {name!r}")
        names_seen.add(name)
    privacy, policy = _dict(data.get("privacy")), _dict(data.get("contact_policy"))
    retention = privacy.get("retention_days", 365)
    for cap in (
        "survey_per_person_days",
        "survey_per_touchpoint_days",
        "expectation_per_person_days",
    ):
        days = policy.get(cap, 30 if cap == "survey_per_touchpoint_days" else 7)
        if (
            isinstance(retention, int | float)
            and isinstance(days, int | float)
            and retention <= days
        ):
            problems.append(
                f"privacy.retention_days: {retention} days is not longer than "
                f"contact_policy.{cap} ({days}): the purge would erase what the caps count"
            )
    return problems


def parse_company(
    data: Any,
    *,
    source: str = "company.yml",
    env: Mapping[str, str] | None = None,
    problems: list[str] | None = None,
) -> Company:
    """Validate an already-parsed YAML document into a :class:`Company`.

    Args:
        data: the YAML document (a mapping).
        source: where it comes from, for error messages.
        env: the environment for ``${VAR}`` (defaults to ``os.environ``).
        problems: problems already found (e.g. duplicate YAML keys), reported with the others.

    Raises:
        ConfigurationError: listing every problem with its YAML path.
    """
    if not isinstance(data, dict):
        raise ConfigurationError(f"{source}: the configuration must be a YAML mapping")
    problems = list(problems or [])
    data = _interpolate(data, "", problems, os.environ if env is None else env)
    company: Company | None = None
    try:
        company = Company.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(f"{_loc(error['loc'])}: {error['msg']}")
    problems.extend(_cross_check(data))
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ConfigurationError(f"{source} is invalid ({len(problems)} problem(s)):\n{listing}")
    assert company is not None
    return company


def load_company(path: Path | str, *, env: Mapping[str, str] | None = None) -> Company:
    """Read and validate the company configuration at ``path``.

    Raises:
        ConfigurationError: the file is missing, is not YAML, or is invalid (every problem
            listed with its YAML path).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the company configuration ({exc})") from exc
    try:
        data, duplicates = _read_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML ({exc})") from exc
    return parse_company(data, source=str(path), env=env, problems=duplicates)
