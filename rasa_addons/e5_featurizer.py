"""Rasa component ``rasa_addons.e5_featurizer.E5Featurizer``: our encoder as a dense featurizer.

Adds one dense sentence feature to every user text (:class:`rasa_addons.e5_encoder.E5Encoder`),
beside the word and character n-grams, so DIET tells praise from complaint by meaning, in
French and English, whatever the spelling. Not trainable: it reads the feature graph ``make
train`` writes (``model_dir``, default ``models/rasa/e5``, relative to where Rasa runs).
"""

from pathlib import Path
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_addons.e5_encoder import E5Encoder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Dense sentence features from Vécu's fine-tuned multilingual-e5-small."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "model_dir": "models/rasa/e5", "threads": 1}

    @staticmethod
    def required_packages() -> List[str]:
        return ["onnxruntime", "tokenizers"]

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.encoder = E5Encoder(Path(config["model_dir"]), int(config["threads"]))

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if not config.get("model_dir"):
            raise ValueError("E5Featurizer needs model_dir (the folder make train writes)")

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "E5Featurizer":
        return cls(config, execution_context.node_name)

    def _featurize(self, messages: List[Message]) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        if not todo:
            return
        vectors = self.encoder.encode([m.get(TEXT) for m in todo])
        for message, vector in zip(todo, vectors, strict=True):
            self.add_features_to_message(
                sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT, message=message
            )

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data
