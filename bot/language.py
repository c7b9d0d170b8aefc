"""Language detection for short chat messages: French, English, or "not sure".

This module owns :func:`detect`, a dependency-free heuristic (no model download): it counts
function words and common feedback words of each language (France and Québec French,
without accents too), Québec forms (``pis``, ``tsé``, ``pantoute``…), French elisions
(``j'``, ``c'``, ``qu'``…), English contractions (``n't``, ``'m``…) and accented letters.

Decisions (documented for callers):

* :func:`detect` answers only ``"fr"``, ``"en"`` or ``None``. ``None`` means "keep the
  language you already have": no letters (emoji only, digits), too little evidence (``ok``),
  a tie (``super chat``), or another language (German, Spanish, Italian, Portuguese).
* :func:`detect_any` also names those other languages (``"de"``, ``"es"``, ``"it"``,
  ``"pt"``) so a caller may say that only French and English are spoken here.
* :func:`stored_language` is the language a feedback is stored under: the conversation's
  (``fr``/``en``), or :data:`OTHER` when the message is clearly in another language.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FR_WORDS = _words(
    """
    le la les un une des du de et est je tu il elle nous vous ils elles pas ne que qui quoi
    ce cette ces ca mon ma mes ton ta tes votre vos notre nos pour avec dans sur au aux mais
    ou tres trop bien merci bonjour bonsoir salut allo oui non etre suis sont etait ete fait
    rien tout tous toute jamais encore deja aussi comme parce alors donc chez sans apres
    avant ici moi toi lui leur leurs ses mal nul nulle genial parfait parfaite decu decue
    decevant inacceptable livraison colis facture magasin commande arrive arrivee recu recue
    toujours vraiment personne attente beaucoup avoir fois depuis quand pourquoi comment
    jai cest quil peux veux voudrais aimerais svp stp bonne journee vite lent lente
    arrete aide bof francais anglais humain
    """
)
_QC_WORDS = _words(
    """
    pis tse chu ben bin icitte pantoute ostie tabarnak criss calisse char magasiner courriel
    faque fak tantot checker niaiser platte depanneur tiguidou asteure ouin tannant tanne
    sacrament bienvenue
    """
)
_EN_WORDS = _words(
    """
    the and is are was were i you he she it we they my your our not yes to of in at for
    with this that but or be been have has had do does did can will would what why how very
    thanks thank hello hi hey please just so got never still again him her them there from
    by about really great bad terrible awful hate good delivery package order received
    always nobody waiting much nothing disappointed awesome unacceptable arrived late
    slow fast its im dont cant wont didnt isnt wasnt ive youre thats store staff help
    thx nope english french human
    """
)
_OTHER_WORDS: dict[str, frozenset[str]] = {
    "de": _words(
        """
        und ist nicht der die das ich mit sehr mein meine ein eine es zu war habe aber auch
        danke hallo ist wurde nach noch kein keine bitte paket lieferung schlecht gut
        """
    ),
    "es": _words(
        """
        el los las y muy pero por del esta fue gracias hola tengo llego mi con para nada
        porque tambien pedido paquete malo bueno estoy servicio
        """
    ),
    "it": _words(
        """
        il della che molto grazie ciao sono questo questa ho stato ordine pacco
        buongiorno anche perche
        """
    ),
    "pt": _words(
        """
        nao obrigado obrigada muito com uma voce meu minha foi pedido entrega ruim
        bom estou
        """
    ),
}
_FR_ELISION = re.compile(r"^(?:j|c|l|d|n|qu|m|s|t|jusqu|lorsqu|puisqu)['’]\w")
_EN_CONTRACTION = re.compile(r"\w(?:n['’]t|['’](?:m|re|ve|ll|d|s))$")
_FR_ACCENTS = set("éèêëàâîïôûùüçœ")


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _scores(text: str) -> dict[str, float]:
    scores: dict[str, float] = {"fr": 0.0, "en": 0.0, **{k: 0.0 for k in _OTHER_WORDS}}
    for token in _WORD.findall(text):
        low = token.casefold()
        folded = _fold(token)
        bare = folded.replace("'", "").replace("’", "")
        if _FR_ELISION.match(low):
            scores["fr"] += 1.0
            rest = re.split(r"['’]", folded, maxsplit=1)[1]
            if rest in _FR_WORDS or rest in _QC_WORDS:
                scores["fr"] += 1.0
            continue
        if _EN_CONTRACTION.search(low):
            scores["en"] += 1.5
            continue
        if folded in _QC_WORDS:
            scores["fr"] += 1.5
        elif folded in _FR_WORDS or bare in _FR_WORDS:
            scores["fr"] += 1.0
        if folded in _EN_WORDS or bare in _EN_WORDS:
            scores["en"] += 1.0
        for code, words in _OTHER_WORDS.items():
            if folded in words:
                scores[code] += 1.0
        if any(c in _FR_ACCENTS for c in low):
            scores["fr"] += 0.5
    return scores


def detect_any(text: str) -> str | None:
    """Guess the language of ``text`` among fr, en, de, es, it, pt (``None`` when unsure).

    Args:
        text: a chat message, any length (only the first 2,000 characters are read).

    Returns:
        The language code whose evidence clearly dominates (at least one word's worth and
        half again as much as the runner-up), else ``None``.
    """
    scores = _scores(text[:2000])
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 1.0 or top <= second * 1.5:
        return None
    return best


def detect(text: str) -> str | None:
    """Detect whether ``text`` is French or English.

    Args:
        text: a chat message.

    Returns:
        ``"fr"`` or ``"en"``; ``None`` when unsure (emoji only, ``ok``, a tie) or when the
        message is in another language: the caller keeps the language it has.
    """
    found = detect_any(text)
    return found if found in ("fr", "en") else None


OTHER = "other"
"""The stored language of a message clearly written in a language Vécu does not speak."""


def stored_language(text: str, conversation_language: str) -> str:
    """The language to store a message under.

    Args:
        text: the message.
        conversation_language: the conversation's language (``fr``/``en``).

    Returns:
        :data:`OTHER` when :func:`detect_any` names a language other than French and
        English, else ``conversation_language``.
    """
    found = detect_any(text)
    return OTHER if found is not None and found not in ("fr", "en") else conversation_language
