"""Message catalogues for sentences Vécu writes outside Rasa (web errors, alerts, dashboard).

Catalogues are YAML files under ``bot/locales/<lang>/*.yml`` (flat ``key: template`` maps,
merged per language). Templates use ``str.format`` fields. English is the fallback.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

API_LANGUAGE = "en"
"""The JSON API answers in English (its clients are programs; the chat answers in the person's)."""
LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
FALLBACK_LANGUAGE = "en"


@cache
def catalogue(language: str) -> dict[str, str]:
    """Return every message of ``language`` (merged from its YAML files)."""
    messages: dict[str, str] = {}
    for path in sorted((LOCALES / language).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        messages.update({str(k): str(v) for k, v in data.items()})
    return messages


def supported_language(language: str | None) -> str | None:
    """The one language-tag parser: ``fr-CA``, ``FR``, ``en_US``, ``fr_CA.UTF-8`` → ``fr`` /
    ``en``; ``None`` when absent or not a supported language."""
    if not language:
        return None
    short = language.replace("_", "-").split("-")[0].split(".")[0].strip().lower()
    return short if short in LANGUAGES else None


def accepted_language(header: str | None) -> str | None:
    """The first supported language of an ``Accept-Language`` header (in the order given)."""
    for part in (header or "").split(","):
        tag = part.split(";")[0].strip()
        if tag and (language := supported_language(tag)):
            return language
    return None


def normalize_language(language: str | None) -> str:
    """Map ``fr-CA``, ``FR``, ``en_US``… onto a supported language, else the default."""
    return supported_language(language) or DEFAULT_LANGUAGE


def t(key: str, language: str | None, **values: object) -> str:
    """Translate ``key`` into ``language`` (English fallback), filling ``values``.

    Raises:
        KeyError: the key exists in no catalogue (a programming error, caught by tests).
    """
    lang = normalize_language(language)
    template = catalogue(lang).get(key) or catalogue(FALLBACK_LANGUAGE)[key]
    return template.format(**values)


def plural_key(key: str, language: str | None, count: int) -> str:
    """``key.one`` or ``key.other`` as the language's rule says for ``count`` (French: 0 and 1
    are singular; English: only 1), falling back to ``key`` when the catalogue has no forms."""
    lang = normalize_language(language)
    one = count in (0, 1) if lang == "fr" else count == 1
    form = f"{key}.{'one' if one else 'other'}"
    return form if form in catalogue(lang) or form in catalogue(FALLBACK_LANGUAGE) else key
