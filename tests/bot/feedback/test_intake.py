"""Tests of bot/feedback/intake.py: record, set_rating, query, iter_feedback (real migrated DBs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import OperationalError

from bot.domain import Audience, Kind, RatingScale, Severity
from bot.errors import StorageError
from bot.feedback.intake import Message, cut_text, names_touchpoint, record, set_rating
from bot.feedback.query import iter_feedback, query
from bot.storage.models import (
    AlertOutboxRecord,
    FeedbackRecord,
    OutboxStatus,
    RoutingDecisionRecord,
)

FLAGSHIP = "Mon colis est arrivé écrasé, c'est inacceptable !"


def rows(services: Any, model: Any) -> list[Any]:
    with services.sessions() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def msg(text: str, **kw: Any) -> Message:
    kw.setdefault("conversation_id", "p_conv1")
    kw.setdefault("language", "fr")
    return Message(text=text, **kw)


def test_flagship_message_is_stored_routed_and_queued(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    outcome = record(msg(FLAGSHIP), services=services)

    assert outcome.touchpoint == "delivery"
    assert outcome.team == "logistics"
    assert outcome.severity is Severity.HIGH
    assert outcome.sentiment == "negative"
    assert outcome.emotion == "anger"
    assert outcome.negative and not outcome.confidential and not outcome.truncated

    [stored] = rows(services, FeedbackRecord)
    assert stored.id == outcome.feedback_id
    assert stored.text == FLAGSHIP
    assert stored.team == "logistics" and stored.touchpoint_source == "keywords"
    assert stored.sentiment_scores["negative"] == pytest.approx(0.9)
    assert stored.model_version == "static-angry"
    assert stored.created_at.tzinfo is not None

    [decision] = rows(services, RoutingDecisionRecord)
    assert decision.feedback_id == stored.id
    assert decision.rule == "very-negative" and decision.alert_kind == "issue"

    [alert] = rows(services, AlertOutboxRecord)
    assert alert.status == OutboxStatus.PENDING
    assert alert.team == "logistics" and alert.destination == "demo-webhook"
    assert alert.payload["id"] == alert.alert_id
    assert alert.payload["touchpoint_label"] == "Livraison"  # logistics speaks French
    assert alert.payload["excerpt"] == FLAGSHIP
    assert alert.payload["conversation_id"] == "p_conv1"


def test_anger_with_low_rating_is_urgent(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    outcome = record(msg(FLAGSHIP, rating=1, scale=RatingScale.CSAT), services=services)
    assert outcome.severity is Severity.URGENT
    [decision] = rows(services, RoutingDecisionRecord)
    assert decision.rule == "angry-low-rating"


def test_praise_reaches_the_team_with_low_severity(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.HAPPY)
    outcome = record(msg("La caissière était tellement gentille, merci !"), services=services)
    assert (outcome.touchpoint, outcome.team, outcome.severity) == ("store", "stores", Severity.LOW)
    assert not outcome.negative
    [alert] = rows(services, AlertOutboxRecord)
    assert alert.kind == "praise" and alert.severity == "low"


def test_neutral_without_touchpoint_is_stored_but_not_alerted(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.NEUTRAL)
    outcome = record(msg("Bonjour, je voulais juste dire un mot."), services=services)
    assert outcome.touchpoint is None and outcome.team is None
    assert len(rows(services, FeedbackRecord)) == 1
    assert rows(services, AlertOutboxRecord) == []


def test_neutral_about_a_touchpoint_is_not_alerted(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.NEUTRAL)
    outcome = record(msg("J'ai reçu mon colis hier."), services=services)
    assert outcome.touchpoint == "delivery"
    assert outcome.team is None  # nobody told
    assert rows(services, AlertOutboxRecord) == []
    [stored] = rows(services, FeedbackRecord)
    assert stored.team == "logistics"  # but the owner is recorded for the dashboard


def test_negative_without_touchpoint_goes_to_the_fallback_team(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.UNHAPPY)
    outcome = record(msg("Franchement je suis déçue de tout ça."), services=services)
    assert outcome.touchpoint is None
    assert outcome.team == "customer_care"
    assert outcome.severity is Severity.NORMAL


@pytest.mark.parametrize("scorer_name", ["FailingScorer", "ExplodingScorer"])
def test_a_broken_model_never_loses_feedback(
    make_services: Any, fakes: Any, scorer_name: str
) -> None:
    services = make_services(getattr(fakes, scorer_name)())
    outcome = record(msg("On m'a chargé deux fois sur ma facture"), services=services)
    assert outcome.sentiment == "unknown" and outcome.emotion == "unknown"
    assert outcome.touchpoint == "billing" and outcome.team == "billing"
    assert outcome.severity is Severity.NORMAL
    [stored] = rows(services, FeedbackRecord)
    assert stored.model_version == "unavailable"
    assert stored.sentiment_scores == {} and stored.emotion_scores == {}
    [alert] = rows(services, AlertOutboxRecord)
    assert alert.kind == "issue"


def test_a_broken_model_still_routes_by_rating(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.FailingScorer())
    outcome = record(msg("bof", rating=1, scale=RatingScale.CSAT), services=services)
    assert outcome.negative
    assert outcome.team == "customer_care"  # negative, no touchpoint → fallback


def test_long_text_is_truncated_explicitly(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.NEUTRAL, settings={"VECU_MAX_TEXT_LENGTH": 5000})
    text = "colis " * 2000  # 12,000 characters
    outcome = record(msg(text), services=services)
    assert outcome.truncated
    [stored] = rows(services, FeedbackRecord)
    assert len(stored.text) == 5000 and stored.original_length == 12000 and stored.truncated


def test_control_characters_are_stripped_but_lines_kept(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.NEUTRAL)
    record(msg("ligne 1\x00\x07\r\nligne\t2\x1b[31m\ud800"), services=services)
    [stored] = rows(services, FeedbackRecord)
    assert stored.text == "ligne 1\nligne\t2[31m"


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE feedback; --",
        "<script>alert('x')</script><img src=x onerror=alert(1)>",
        "Robert'); DELETE FROM alert_outbox WHERE ('1'='1",
        "😡😡😡",
        "Das Paket war beschädigt und niemand hilft mir.",
    ],
)
def test_hostile_or_odd_input_is_stored_verbatim(make_services: Any, fakes: Any, text: str) -> None:
    services = make_services(fakes.UNHAPPY)
    outcome = record(msg(text), services=services)
    [view] = query(services=services)
    assert view.id == outcome.feedback_id and view.text == text
    tables = set(inspect(services.engine).get_table_names())
    assert {"feedback", "routing_decision", "alert_outbox"} <= tables


def test_empty_text_is_stored_unscored_without_alert(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    outcome = record(msg("   ", touchpoint="delivery"), services=services)
    assert outcome.sentiment == "unknown" and not outcome.negative
    [stored] = rows(services, FeedbackRecord)
    assert stored.model_version == "not-scored" and stored.text == "   "
    assert rows(services, AlertOutboxRecord) == []


def test_employee_harassment_is_urgent_confidential_and_anonymous(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.UNHAPPY)
    outcome = record(
        msg(
            "Mon superviseur fait du harcèlement envers une collègue.",
            audience=Audience.EMPLOYEE,
            conversation_id="p_employee",
            kind=Kind.PULSE,
        ),
        services=services,
    )
    assert outcome.severity is Severity.URGENT and outcome.confidential
    assert outcome.touchpoint == "safety" and outcome.team == "hr"
    [alert] = rows(services, AlertOutboxRecord)
    assert alert.payload["excerpt"] is None and alert.payload["confidential"] is True
    assert "conversation_id" not in alert.payload
    assert "p_employee" not in str(alert.payload)
    assert "harcèlement" not in str(alert.payload)


def test_employee_speech_is_matched_to_employee_touchpoints(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.UNHAPPY)
    outcome = record(
        msg("Le scanner plante encore, j'ai perdu une heure", audience=Audience.EMPLOYEE),
        services=services,
    )
    assert (outcome.touchpoint, outcome.team) == ("tools", "it")
    [alert] = rows(services, AlertOutboxRecord)
    assert alert.payload["language"] == "en"  # the IT team reads English
    assert alert.payload["touchpoint_label"] == "Tools and IT"


def test_names_touchpoint_reads_the_keywords_of_the_audience(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.UNHAPPY)
    noisy = "Bonjour, ma livraison kill 85 est arrivée en retard et le colis était abîmé"
    assert names_touchpoint(noisy, "customer", services=services)
    assert names_touchpoint("the invoice kill 3 was wrong", "customer", services=services)
    assert names_touchpoint("le scanner plante", Audience.EMPLOYEE, services=services)
    assert not names_touchpoint("le scanner plante", Audience.CUSTOMER, services=services)
    for text in ("blorp", "", "   ", "quelle heure est-il à Tokyo ?"):
        assert not names_touchpoint(text, "customer", services=services), text


def test_nlu_hint_beats_keywords_and_context_fills_gaps(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.UNHAPPY)
    hinted = record(msg("le colis et la facture", touchpoint="billing"), services=services)
    assert hinted.touchpoint == "billing"
    wrong_audience = record(msg("c'est nul", touchpoint="tools"), services=services)
    assert wrong_audience.touchpoint is None
    by_context = record(msg("c'est nul", context_touchpoint="store"), services=services)
    assert by_context.touchpoint == "store"
    by_keywords = record(
        msg("et la livraison était en retard", context_touchpoint="store"), services=services
    )
    assert by_keywords.touchpoint == "delivery"


def test_followup_inherits_touchpoint_team_and_confidentiality(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.ANGRY)
    first = record(msg(FLAGSHIP), services=services)
    services.scorer = fakes.NEUTRAL
    follow = record(
        msg("Un remboursement complet.", kind=Kind.FOLLOWUP, parent_id=first.feedback_id),
        services=services,
    )
    assert follow.touchpoint == "delivery" and follow.team == "logistics"
    alerts = rows(services, AlertOutboxRecord)
    assert [a.kind for a in alerts] == ["issue", "followup"]
    assert alerts[1].payload["parent_id"] == first.feedback_id


def test_followup_of_a_confidential_feedback_stays_confidential(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.UNHAPPY)
    first = record(
        msg("Je subis du harcèlement au travail", audience=Audience.EMPLOYEE), services=services
    )
    services.scorer = fakes.NEUTRAL
    follow = record(
        msg(
            "Qu'on change mon horaire",
            audience=Audience.EMPLOYEE,
            kind=Kind.FOLLOWUP,
            parent_id=first.feedback_id,
        ),
        services=services,
    )
    assert follow.confidential and follow.touchpoint == "safety" and follow.team == "hr"
    assert all(a.payload["excerpt"] is None for a in rows(services, AlertOutboxRecord))


def test_team_without_destination_gets_a_dead_row(
    make_services: Any, fakes: Any, company: Any
) -> None:
    teams = dict(company.teams)
    teams["logistics"] = teams["logistics"].model_copy(update={"destinations": []})
    services = make_services(
        fakes.ANGRY, company_config=company.model_copy(update={"teams": teams})
    )
    record(msg(FLAGSHIP), services=services)
    [alert] = rows(services, AlertOutboxRecord)
    assert alert.status == OutboxStatus.DEAD and "no destination" in (alert.last_error or "")


def test_out_of_range_rating_is_dropped_not_fatal(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.NEUTRAL)
    record(msg("colis", rating=42, scale=RatingScale.CSAT), services=services)
    [stored] = rows(services, FeedbackRecord)
    assert stored.rating is None and stored.scale is None


@pytest.mark.parametrize(
    ("rating", "scale", "negative"),
    [
        (2, RatingScale.CSAT, True),
        (3, RatingScale.CSAT, False),
        (6, RatingScale.NPS, True),
        (7, RatingScale.NPS, False),
        (6, RatingScale.ENPS, True),
        (0, RatingScale.ENPS, True),
    ],
)
def test_low_ratings_make_a_message_negative(
    make_services: Any, fakes: Any, rating: int, scale: RatingScale, negative: bool
) -> None:
    services = make_services(fakes.NEUTRAL)
    outcome = record(msg("voilà", rating=rating, scale=scale), services=services)
    assert outcome.negative is negative


def test_the_three_rows_are_written_in_one_transaction(
    make_services: Any, fakes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(fakes.ANGRY)

    def broken_enqueue(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("INSERT INTO alert_outbox", {}, Exception("disk full"))

    monkeypatch.setattr("bot.feedback.intake.enqueue", broken_enqueue)
    with pytest.raises(StorageError):
        record(msg(FLAGSHIP), services=services)
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackRecord)) == 0
        assert session.scalar(select(func.count()).select_from(RoutingDecisionRecord)) == 0


# ---- set_rating --------------------------------------------------------------------------------


def test_a_later_low_rating_alerts_a_feedback_that_was_not(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.NEUTRAL)
    first = record(msg("La livraison, bon."), services=services)
    assert first.team is None and rows(services, AlertOutboxRecord) == []
    outcome = set_rating(first.feedback_id, 1, RatingScale.CSAT, services=services)
    assert outcome.negative and outcome.team == "logistics"
    assert outcome.severity is Severity.NORMAL
    [alert] = rows(services, AlertOutboxRecord)
    assert alert.kind == "issue" and alert.payload["rating"]["value"] == 1
    assert len(rows(services, RoutingDecisionRecord)) == 2


def test_a_rising_severity_escalates(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    first = record(msg(FLAGSHIP), services=services)
    assert first.severity is Severity.HIGH
    outcome = set_rating(first.feedback_id, 1, RatingScale.CSAT, services=services)
    assert outcome.severity is Severity.URGENT
    assert [a.kind for a in rows(services, AlertOutboxRecord)] == ["issue", "escalation"]
    [stored] = rows(services, FeedbackRecord)
    assert stored.rating == 1 and stored.scale == "csat" and stored.severity == "urgent"


def test_a_rating_that_does_not_raise_severity_adds_no_alert(
    make_services: Any, fakes: Any, clock: Any
) -> None:
    services = make_services(fakes.HAPPY, clock=clock)
    first = record(msg("Le site est super pratique !"), services=services)
    clock.advance(30)
    outcome = set_rating(first.feedback_id, 5, RatingScale.CSAT, services=services)
    assert outcome.severity is Severity.LOW and outcome.team == "digital"
    assert len(rows(services, AlertOutboxRecord)) == 1
    [stored] = rows(services, FeedbackRecord)
    assert stored.updated_at - stored.created_at == timedelta(seconds=30)


def test_set_rating_rejects_bad_input(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.NEUTRAL)
    first = record(msg("colis"), services=services)
    with pytest.raises(ValueError):
        set_rating(first.feedback_id, 6, RatingScale.CSAT, services=services)
    with pytest.raises(ValueError):
        set_rating(first.feedback_id, 11, RatingScale.NPS, services=services)
    with pytest.raises(LookupError):
        set_rating(first.feedback_id + 100, 3, RatingScale.CSAT, services=services)


def test_a_complaint_the_model_reads_positive_stays_negative_after_a_rating(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.HAPPY)  # our model misreads some French complaints
    first = record(
        msg("la qualité est vraiment décevante", intent="complain", touchpoint="product"),
        services=services,
    )
    assert first.negative and first.team == "product" and first.sentiment == "positive"
    [alert] = rows(services, AlertOutboxRecord)
    assert alert.kind == "issue"
    [stored] = rows(services, FeedbackRecord)
    assert stored.intent == "complain"
    outcome = set_rating(first.feedback_id, 4, RatingScale.CSAT, services=services)
    assert outcome.negative and len(rows(services, AlertOutboxRecord)) == 1
    praise = record(
        msg("la qualité est super", intent="praise", conversation_id="p_conv2"), services=services
    )
    assert not praise.negative


# ---- query / iter_feedback ----------------------------------------------------------------------


def test_query_filters_and_orders_newest_first(make_services: Any, fakes: Any, clock: Any) -> None:
    services = make_services(fakes.UNHAPPY, clock=clock)
    start = clock.now
    a = record(msg("colis en retard", conversation_id="p_a"), services=services)
    clock.advance(60)
    b = record(msg("facture fausse", conversation_id="p_b"), services=services)
    clock.advance(60)
    c = record(msg("le livreur était impoli", conversation_id="p_a"), services=services)

    assert [v.id for v in query(services=services)] == [c.feedback_id, b.feedback_id, a.feedback_id]
    assert [v.id for v in query(conversation_id="p_a", services=services)] == [
        c.feedback_id,
        a.feedback_id,
    ]
    assert [v.id for v in query(touchpoint="billing", services=services)] == [b.feedback_id]
    assert [v.id for v in query(team="logistics", services=services)] == [
        c.feedback_id,
        a.feedback_id,
    ]
    since = start + timedelta(seconds=60)
    assert [v.id for v in query(since=since, services=services)] == [c.feedback_id, b.feedback_id]
    naive = since.replace(tzinfo=None)
    assert len(query(since=naive, services=services)) == 2
    assert [v.id for v in query(limit=1, services=services)] == [c.feedback_id]
    assert query(conversation_id="p_nobody", services=services) == []

    view = query(touchpoint="billing", services=services)[0]
    assert view.sentiment_label == "negative" and view.emotion_label == "frustration"
    assert view.created_at.startswith("2026-11-23T12:01:00")
    assert view.created_at.endswith("+00:00")


def test_iter_feedback_streams_everything_in_order(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.NEUTRAL)
    ids = [record(msg(f"message {i}"), services=services).feedback_id for i in range(7)]
    assert [v.id for v in iter_feedback(batch_size=3, services=services)] == ids


def test_cut_text_reports_lengths() -> None:
    assert cut_text("abc", 10) == ("abc", 3, False)
    assert cut_text("abcdef", 4) == ("abcd", 6, True)
    assert cut_text("e\u0301", 10) == ("é", 2, False)  # NFC


# ---- with the shipped model ---------------------------------------------------------------------


def test_flagship_with_the_shipped_model(make_services: Any, company: Any) -> None:
    from bot.settings import ROOT

    if not (ROOT / "models" / "emotion" / "model.onnx").exists():
        pytest.skip("the shipped emotion model is not in models/emotion yet")
    from bot.scoring.onnx import OnnxScorer

    scorer = OnnxScorer(ROOT / "models" / "emotion", company.emotion_groups)
    services = make_services(scorer)
    outcome = record(msg(FLAGSHIP), services=services)
    assert (outcome.touchpoint, outcome.team) == ("delivery", "logistics")
    assert outcome.sentiment == "negative" and outcome.emotion != "neutral"
    assert outcome.negative
    [stored] = rows(services, FeedbackRecord)
    assert stored.model_version == scorer.version
    assert stored.raw_emotions is None or len(stored.raw_emotions) == 28


def test_every_touchpoint_is_stored_and_the_second_team_told(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.ANGRY)
    text = "Hi, I was charged twice on my last invoice and nobody answers the phone"
    outcome = record(msg(text, language="en"), services=services)

    assert (outcome.touchpoint, outcome.team) == ("billing", "billing")
    assert outcome.also_told == ("customer_care",)
    [stored] = rows(services, FeedbackRecord)
    assert stored.touchpoint == "billing" and stored.touchpoints == ["billing", "support"]
    alerts = {(a.team, a.kind) for a in rows(services, AlertOutboxRecord)}
    assert alerts == {("billing", "issue"), ("customer_care", "also")}
    [also] = [a for a in rows(services, AlertOutboxRecord) if a.kind == "also"]
    assert "concerne aussi l'équipe Service à la clientèle" in also.payload["title"]


def test_one_touchpoint_stores_no_list_and_tells_one_team(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    outcome = record(msg(FLAGSHIP), services=services)
    assert outcome.also_told == ()
    [stored] = rows(services, FeedbackRecord)
    assert stored.touchpoints is None and not stored.mixed
    assert [a.team for a in rows(services, AlertOutboxRecord)] == ["logistics"]


def test_two_touchpoints_of_one_team_tell_it_once(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    outcome = record(msg("le livreur a perdu le colis, et le transporteur rien"), services=services)
    assert outcome.also_told == ()
    assert [a.team for a in rows(services, AlertOutboxRecord)] == ["logistics"]


def test_a_mixed_message_is_an_issue_with_the_shipped_model(
    make_services: Any, company: Any
) -> None:
    from bot.scoring.onnx import OnnxScorer
    from bot.settings import ROOT

    services = make_services(OnnxScorer(ROOT / "models" / "emotion", company.emotion_groups))
    text = "I love the new app but the checkout page keeps freezing"
    outcome = record(msg(text, language="en"), services=services)
    assert outcome.mixed and outcome.negative
    assert (outcome.touchpoint, outcome.team) == ("website", "digital")
    [stored] = rows(services, FeedbackRecord)
    assert stored.mixed
    assert [a.kind for a in rows(services, AlertOutboxRecord)] == ["issue"]
    praise = record(msg("The cashier was lovely, thank you!", language="en"), services=services)
    assert not praise.mixed and not praise.negative


# ---- issue 18: a message is stored once, whoever records it ------------------------------------


def test_the_same_message_recorded_twice_is_stored_once(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    text = "Hi, I was charged twice on my last invoice and nobody answers the phone"
    first = record(msg(text, language="en", message_id="m-0001"), services=services)
    again = record(msg(text, language="en", message_id="m-0001"), services=services)

    assert again == first  # same row, same teams told
    assert again.also_told == ("customer_care",)
    [stored] = rows(services, FeedbackRecord)
    assert stored.message_id == "m-0001"
    assert len(rows(services, AlertOutboxRecord)) == 2  # no second round of alerts
    assert len(rows(services, RoutingDecisionRecord)) == 1


def test_message_ids_are_per_conversation_and_optional(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    record(msg(FLAGSHIP, message_id="m-0001"), services=services)
    record(msg(FLAGSHIP, message_id="m-0002"), services=services)
    record(msg(FLAGSHIP, conversation_id="p_conv2", message_id="m-0001"), services=services)
    record(msg(FLAGSHIP), services=services)
    record(msg(FLAGSHIP), services=services)  # no id: the same words twice are two messages
    assert len(rows(services, FeedbackRecord)) == 5


def test_a_long_message_id_is_hashed_and_still_deduplicated(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    long_id = "x" * 300
    first = record(msg(FLAGSHIP, message_id=long_id), services=services)
    assert record(msg(FLAGSHIP, message_id=long_id), services=services) == first
    [stored] = rows(services, FeedbackRecord)
    assert stored.message_id is not None and len(stored.message_id) == 64


def test_concurrent_records_of_one_message_store_it_once(make_services: Any, fakes: Any) -> None:
    """Two processes (web fallback, late Rasa) write the same message at the same moment."""
    import threading

    services = make_services(fakes.ANGRY)
    start = threading.Barrier(4)
    outcomes: list[Any] = []
    errors: list[BaseException] = []

    def one() -> None:
        start.wait()
        try:
            outcomes.append(record(msg(FLAGSHIP, message_id="m-race"), services=services))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # SQLite serialises writers (a busy writer may give up: StorageError, the caller apologises)
    assert all(isinstance(exc, StorageError) for exc in errors), errors
    assert outcomes and len({o.feedback_id for o in outcomes}) == 1
    assert len(rows(services, FeedbackRecord)) == 1
    assert len(rows(services, AlertOutboxRecord)) == 1


def test_a_message_naming_no_touchpoint_is_routed_by_meaning(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.UNHAPPY)
    outcome = record(msg("Le gars a lancé la boîte par-dessus la clôture"), services=services)
    assert outcome.touchpoint == "delivery" and outcome.team == "logistics"
    [stored] = rows(services, FeedbackRecord)
    assert stored.touchpoint_source == "meaning"
    off = make_services(fakes.UNHAPPY, settings={"VECU_TOPIC_FALLBACK": "false"})
    assert off.topics is None
    outcome = record(
        msg("Le gars a lancé la boîte par-dessus la clôture", conversation_id="c2"), services=off
    )
    assert outcome.touchpoint is None and outcome.team == "customer_care"


def test_a_broken_meaning_fallback_never_loses_feedback(
    make_services: Any, fakes: Any, caplog: pytest.LogCaptureFixture
) -> None:
    services = make_services(fakes.UNHAPPY)

    class Broken:
        def guess(self, text: str, audience: object) -> str:
            raise RuntimeError("encoder gone")

    services.topics = Broken()
    outcome = record(msg("Le gars a lancé la boîte par-dessus la clôture"), services=services)
    assert outcome.touchpoint is None and outcome.team == "customer_care"
    assert len(rows(services, FeedbackRecord)) == 1
    assert "touchpoint-by-meaning fallback failed" in caplog.text
