"""Rasa component ``rasa_addons.entity_filter.EntityConfidenceFilter``: drop unsure entities.

DIET tags words it never saw as entities when they sit where touchpoints sit in the examples:
"just some *basic* politeness", "a refund, *honestly*" came out as touchpoints with a confidence
of 0.84–0.89, where the touchpoints it knows come out at 0.99–1.0. This removes the listed
entities (default: ``touchpoint``) whose ``confidence_entity`` is under ``min_confidence``.
Nothing is lost: Vécu finds touchpoints in the text itself too (the keywords of
``company.yml``, then by meaning, ``bot/topics.py``), and an entity without a confidence (a
regex or synonym extractor) is kept.
"""

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


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
