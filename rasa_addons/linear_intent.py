"""Rasa component ``rasa_addons.linear_intent.LinearIntentClassifier``: Vécu's intent classifier.

A thin wrapper around :class:`rasa_addons.linear_intent_model.LinearIntentModel` (TF-IDF of the
sparse sentence features beside the dense ones of the featurizers ``dense_featurizers`` names by
alias, all when empty; class-balanced logistic regression).
It comes after DIETClassifier in ``config.yml`` and replaces the intent DIET set (DIET still
learns intents beside the entities: without them its entity tagging changed). The weights are
stored in Rasa's model archive as an ``.npz`` of arrays.
"""

from typing import Any, Dict, List, Optional, Tuple, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy import sparse

from rasa_addons.linear_intent_model import FILE, LinearIntentModel


def _features(
    message: Message, dense_from: Optional[List[str]] = None
) -> Tuple[Optional[Any], Optional[np.ndarray]]:
    """The message's sparse and dense sentence features (``None`` where absent).

    ``dense_from`` names the featurizers (their ``alias``) whose dense features are read;
    empty or ``None``: all of them. Every sparse feature is read.
    """
    sparse_sentence = message.get_sparse_features(TEXT)[1]
    dense_sentence = message.get_dense_features(TEXT, list(dense_from or []))[1]
    return (
        sparse_sentence.features if sparse_sentence is not None else None,
        np.asarray(dense_sentence.features) if dense_sentence is not None else None,
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):
    """Intent by logistic regression over the pipeline's sentence features."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def required_packages() -> List[str]:
        return ["sklearn", "scipy"]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "C": 10.0,
            "dense_weight": 2.0,
            "max_iter": 5000,
            "ranking_length": 10,
            "dense_featurizers": [],
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LinearIntentModel] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.model = model or LinearIntentModel(
            C=float(self.config["C"]),
            dense_weight=float(self.config["dense_weight"]),
            max_iter=int(self.config["max_iter"]),
        )
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearIntentClassifier":
        try:
            with model_storage.read_from(resource) as folder:
                model = LinearIntentModel.load(folder) if (folder / FILE).is_file() else None
        except ValueError:  # no resource: the component was never trained
            model = None
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if len({e.get(INTENT) for e in examples}) < 2:
            return self._resource
        features = [_features(e, self.config["dense_featurizers"]) for e in examples]
        if any(counts is None for counts, _ in features):
            raise ValueError("LinearIntentClassifier needs a sparse featurizer before it")
        counts = sparse.vstack([sparse.csr_matrix(c) for c, _ in features])
        dense = None
        if all(d is not None for _, d in features):
            dense = np.vstack([d.reshape(1, -1) for _, d in features])  # type: ignore[union-attr]
        elif self.config["dense_featurizers"]:
            raise ValueError(
                "LinearIntentClassifier: no dense features from "
                f"{', '.join(self.config['dense_featurizers'])}: is that a featurizer's alias "
                "in config.yml, before this component?"
            )
        self.model.fit(counts, dense, [str(e.get(INTENT)) for e in examples])
        with self._model_storage.write_to(self._resource) as folder:
            self.model.save(folder)
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            counts, dense = _features(message, self.config["dense_featurizers"])
            if not self.model.trained or counts is None or not message.get(TEXT):
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set("intent_ranking", [], add_to_output=True)
                continue
            if dense is not None:
                dense = dense.reshape(1, -1)
            ranking = self.model.ranking(counts, dense, int(self.config["ranking_length"]))[0]
            named = [{"name": name, "confidence": confidence} for name, confidence in ranking]
            message.set(INTENT, named[0], add_to_output=True)
            message.set("intent_ranking", named, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # the training examples keep their own intents: nothing after this component learns
        # from predicted ones, and predicting them would overwrite the labels
        return training_data
