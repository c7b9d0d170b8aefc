"""Rasa components that drop the entities DIET tags wrongly.

``rasa_addons.entity_filter.EntityConfidenceFilter`` drops unsure entities.

DIET tags words it never saw as entities when they sit where touchpoints sit in the examples:
"just some *basic* politeness", "a refund, *honestly*" came out as touchpoints with a confidence
of 0.84–0.89, where the touchpoints it knows come out at 0.99–1.0. This removes the listed
entities (default: ``touchpoint``) whose ``confidence_entity`` is under ``min_confidence``.
Nothing is lost: Vécu finds touchpoints in the text itself too (the keywords of
``company.yml``, then by meaning, ``bot/company/topics.py``), and an entity without a confidence (a
regex or synonym extractor) is kept.

``rasa_addons.entity_filter.KnownValueFilter``, after ``EntitySynonymMapper``, drops the
entities whose value is none the training data annotates ("just some basic *politeness*" came
out as a touchpoint at 0.98). Such a value names no touchpoint, so Vécu ignored it already;
it only made the conversation tests fail with each change of the data.
"""

import json
from typing import Any, Dict, FrozenSet, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_addons.entity_values import keep_known, known_values

FILE = "known_values.json"


def keep(entity: Dict[str, Any], names: List[str], threshold: float) -> bool:
    """Whether ``entity`` stays: another entity, no confidence, or confident enough."""
    confidence = entity.get("confidence_entity")
    return entity.get("entity") not in names or confidence is None or confidence >= threshold


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class EntityConfidenceFilter(GraphComponent):
    """Removes the configured entities DIET is unsure of."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"entities": ["touchpoint"], "min_confidence": 0.9}

    def __init__(self, config: Dict[str, Any]) -> None:
        self.names = [str(name) for name in config["entities"]]
        self.threshold = float(config["min_confidence"])

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EntityConfidenceFilter":
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            kept = [e for e in entities if keep(e, self.names, self.threshold)]
            if len(kept) != len(entities):
                message.set(ENTITIES, kept, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class KnownValueFilter(GraphComponent):
    """Removes the configured entities whose value no training example annotates."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"entities": ["touchpoint"]}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        known: Optional[Dict[str, List[str]]] = None,
    ) -> None:
        self.names = [str(name) for name in config["entities"]]
        self.known = known or {}
        self._allowed = self._sets(self.known)
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "KnownValueFilter":
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "KnownValueFilter":
        known = None
        try:
            with model_storage.read_from(resource) as folder:
                if (folder / FILE).is_file():
                    known = json.loads((folder / FILE).read_text(encoding="utf-8"))
        except ValueError:  # no resource: the component was never trained
            pass
        return cls({**cls.get_default_config(), **config}, model_storage, resource, known)

    @staticmethod
    def _sets(known: Dict[str, List[str]]) -> Dict[str, FrozenSet[str]]:
        """The known values as sets, built once (``process`` runs for every message)."""
        return {name: frozenset(values) for name, values in known.items()}

    def train(self, training_data: TrainingData) -> Resource:
        annotated = (e for m in training_data.entity_examples for e in m.get(ENTITIES) or [])
        self.known = known_values(annotated, training_data.entity_synonyms, self.names)
        self._allowed = self._sets(self.known)
        with self._model_storage.write_to(self._resource) as folder:
            (folder / FILE).write_text(json.dumps(self.known, ensure_ascii=False), "utf-8")
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            kept = keep_known(entities, self._allowed)
            if len(kept) != len(entities):
                message.set(ENTITIES, kept, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
