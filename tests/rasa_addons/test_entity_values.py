"""Tests of rasa_addons/entity_values.py (the known-value filter's logic, on Python 3.11).

The Rasa component (rasa_addons/entity_filter.py) is exercised by ``make train`` and the Rasa
conversation tests; this checks which values are learnt and which entities are kept.
"""

from __future__ import annotations

from rasa_addons.entity_values import keep_known, known_values

SYNONYMS = {"colis": "delivery", "facture": "billing", "invoice": "billing"}


def test_known_values_map_synonyms_and_keep_unmapped_words() -> None:
    annotated = [
        {"entity": "touchpoint", "value": "colis"},
        {"entity": "touchpoint", "value": "Facture"},
        {"entity": "touchpoint", "value": "delivery"},
        {"entity": "touchpoint", "value": "Qualité"},
        {"entity": "rating", "value": "3"},
        {"entity": "touchpoint", "value": "  "},
        {"entity": "touchpoint"},
    ]
    assert known_values(annotated, SYNONYMS, ["touchpoint"]) == {
        "touchpoint": ["billing", "delivery", "qualité"]
    }
    assert known_values([], SYNONYMS, ["touchpoint"]) == {"touchpoint": []}


def test_only_known_values_of_the_filtered_entities_are_kept() -> None:
    known = {"touchpoint": {"billing", "delivery", "qualité"}}
    entities = [
        {"entity": "touchpoint", "value": "delivery"},
        {"entity": "touchpoint", "value": "politeness"},
        {"entity": "touchpoint", "value": "Qualité"},
        {"entity": "touchpoint", "value": 3},
        {"entity": "rating", "value": "2"},
        {"entity": "language", "value": "politeness"},
    ]
    assert keep_known(entities, known) == [
        {"entity": "touchpoint", "value": "delivery"},
        {"entity": "touchpoint", "value": "Qualité"},
        {"entity": "rating", "value": "2"},
        {"entity": "language", "value": "politeness"},
    ]


def test_an_entity_never_annotated_is_not_filtered() -> None:
    entities = [{"entity": "touchpoint", "value": "anything"}]
    assert keep_known(entities, {"touchpoint": []}) == entities
    assert keep_known(entities, {}) == entities
