"""Tests of bot/model/corpus.py and of the corpus itself (corpus/): every line valid, splits by
family, no near-duplicate across families or splits, no test message close to what the model
trains on, the labels the guide (docs/labelling.md) allows."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from bot.company import load_company
from bot.model import corpus as C
from bot.settings import ROOT

MESSAGES = C.read_corpus()
WORDS = re.compile(r"\w+")


def words(text: str) -> set[str]:
    return set(WORDS.findall(text.lower()))


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def test_the_corpus_reads_and_covers_both_languages_registers_and_audiences() -> None:
    stats = C.stats(MESSAGES)
    assert stats["language"]["fr"] >= 350 and stats["language"]["en"] >= 120
    assert stats["register"]["qc"] >= stats["language"]["fr"] // 3
    assert stats["length"]["fr/long"] >= 50
    for language in ("fr", "en"):
        for audience in C.AUDIENCES:
            assert stats["audience"][f"{language}/{audience}"] >= 20
        for split in ("train", "dev", "test"):
            assert stats["split"][f"{language}/{split}"] >= 10


def test_every_touchpoint_of_company_yml_is_covered_in_both_languages() -> None:
    company = load_company(ROOT / "company.yml")
    for audience in C.AUDIENCES:
        assert set(C.TOUCHPOINTS[audience]) == set(company.touchpoints_for(audience))
    for language in ("fr", "en"):
        seen = {m.touchpoint for m in MESSAGES if m.language == language}
        assert seen == {t for tps in C.TOUCHPOINTS.values() for t in tps}


def test_an_english_telling_names_a_french_story_that_exists() -> None:
    """A telling shares its story's family, hence its split: a mistyped reference would make
    a new family, free to land in another split than its original."""
    french = {m.family for m in MESSAGES if m.language == "fr"}
    for path in sorted((C.ROOT / "en").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            key = line.split("|", 1)[0]
            if ":" in key and not line.startswith("#"):
                assert key.replace(":", "-", 1) in french, f"{path.name}: {key} names no family"


def test_no_two_families_share_a_sentence_frame() -> None:
    tokens = [words(m.text) for m in MESSAGES]
    close = [
        (MESSAGES[i].id, MESSAGES[j].id)
        for i, j in itertools.combinations(range(len(MESSAGES)), 2)
        if MESSAGES[i].family != MESSAGES[j].family and jaccard(tokens[i], tokens[j]) > 0.5
    ]
    assert close == []


def test_no_dev_or_test_message_is_close_to_a_training_message() -> None:
    trained = [words(m.text) for m in MESSAGES if m.split == "train"]
    path = Path(ROOT / "bench" / "indomain-train.jsonl")
    trained += [words(json.loads(line)["text"]) for line in path.read_text().splitlines()]
    for m in MESSAGES:
        if m.split != "train":
            mine = words(m.text)
            assert max(jaccard(mine, other) for other in trained) <= 0.5, m.id


def test_labels_follow_the_guide() -> None:
    for m in MESSAGES:
        assert "|" not in m.text
        if m.intent == "praise":
            assert m.sentiment == "positive", m.id
        if m.sentiment == "neutral":
            assert m.intent in ("give_feedback", "ask", "suggest"), m.id
        if m.emotions == ("neutral",):
            assert m.sentiment in ("neutral",), m.id


def test_the_split_is_stable_and_roughly_seventy_fifteen_fifteen() -> None:
    assert C.split_of("delivery-d01") == C.split_of("delivery-d01")
    drawn = [C.split_of(f"family-{n}") for n in range(3000)]
    shares = {name: drawn.count(name) / len(drawn) for name in ("train", "dev", "test")}
    assert 0.65 < shares["train"] < 0.75 and 0.11 < shares["dev"] < 0.19
    assert 0.11 < shares["test"] < 0.19


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("x1|qc|customer|delivery|complain|negative|anger", "fields"),
        ("x1|en|customer|delivery|complain|negative|anger|Late again.", "register 'en'"),
        ("x1|qc|customer|pay|complain|negative|anger|En retard.", "touchpoint 'pay' for customer"),
        ("x1|qc|customer|delivery|rant|negative|anger|En retard.", "intent 'rant'"),
        ("x1|qc|customer|delivery|complain|angry|anger|En retard.", "sentiment 'angry'"),
        ("x1|qc|customer|delivery|complain|negative|frustration|En retard.", "emotions"),
        ("x1|qc|customer|delivery|complain|negative|neutral,anger|En retard.", "neutral with"),
    ],
)
def test_a_bad_line_is_refused_with_its_place(line: str, problem: str) -> None:
    with pytest.raises(C.CorpusError, match=re.escape(problem)) as caught:
        C.parse_line(line, language="fr", source="delivery", number=7)
    assert str(caught.value).startswith("fr/delivery.txt:7: ")


def test_training_examples_keep_mixed_messages_for_the_emotions_only() -> None:
    line = "x1|fr|customer|delivery|give_feedback|mixed|approval,disappointment|Rapide, mais cassé."
    mixed = C.parse_line(line, language="fr", source="delivery", number=1)
    [example] = C.training_examples([mixed], weight=0.5)
    assert example.sentiment is None and example.weight == 0.5
    assert len(example.emotions or []) == 2
    assert C.training_rows([mixed]) == []
    assert C.groups_of(["annoyance", "joy"]) == {"frustration", "joy"}
