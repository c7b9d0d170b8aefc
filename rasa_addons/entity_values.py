"""The values an entity was trained on, and whether a predicted entity names one of them.

Plain Python (no Rasa import), so that Vécu's own tests read it on Python 3.11; the Rasa
component is :class:`rasa_addons.entity_filter.KnownValueFilter`.
"""

from typing import Any, Collection, Dict, Iterable, List, Mapping, Set


def known_values(
    annotated: Iterable[Mapping[str, Any]], synonyms: Mapping[str, str], names: Iterable[str]
) -> Dict[str, List[str]]:
    """Per entity name, every value its annotations end as once synonyms are mapped.

    ``[colis](touchpoint)`` ends as ``delivery`` (the synonym "colis"), ``{"value":
    "delivery"}`` as itself, an annotated word no synonym maps as that word, lower-cased.
    """
    wanted = set(names)
    values: Dict[str, Set[str]] = {name: set() for name in wanted}
    for entity in annotated:
        name = entity.get("entity")
        value = entity.get("value")
        if name in wanted and isinstance(value, str) and value.strip():
            values[str(name)].add(_mapped(value, synonyms))
    return {name: sorted(found) for name, found in values.items()}


def _mapped(value: str, synonyms: Mapping[str, str]) -> str:
    """The value as Rasa's EntitySynonymMapper leaves it (it looks up the lower-cased text)."""
    return str(synonyms.get(value.lower(), value)).lower()


def keep_known(
    entities: Iterable[Dict[str, Any]], known: Mapping[str, Collection[str]]
) -> List[Dict[str, Any]]:
    """The entities to keep: another entity, or a value among ``known`` for its name.

    ``known`` holds lower-cased values, as :func:`known_values` gives them (a set per name
    makes the lookup cheap: the filter builds them once, not per message). A name with no
    known value at all (nothing annotated) keeps every entity: there is nothing to compare with.
    """
    kept = []
    for entity in entities:
        allowed = known.get(str(entity.get("entity")))
        value = entity.get("value")
        if allowed and not (isinstance(value, str) and value.lower() in allowed):
            continue
        kept.append(entity)
    return kept
