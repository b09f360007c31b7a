"""Customers who only say thanks.

An answer to a resolution reopens it for a specialist, and an AI resolution that
reopens is billed at the human price. "Thank you!" asks for nothing: it joins the
resolved contact as a message and reopens nothing. The test is deliberately
narrow: a short message every word of which is an acknowledgement, in a language
the desk answers in, or one of nothing but thumbs up, hearts and smiles. Anything
else, "thanks, but where is it?" and a thumbs down included, reopens.
"""

from __future__ import annotations

import re
import unicodedata

# Longer than any plain thank-you; a longer message says something else too.
MAX_LENGTH = 80


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


# At least one of these: the words that carry the thanks or the acknowledgement.
_CARRIERS = _vocabulary(
    """
    thanks thank thx ty tyvm cheers appreciated appreciate ok okay perfect great awesome
    noted brilliant excellent wonderful lovely
    gracias perfecto vale genial
    merci parfait
    danke dank prima toll
    grazie perfetto
    obrigado obrigada valeu perfeito
    """
)

# Words that may stand with them without asking for anything.
_FILLERS = _vocabulary(
    """
    you so much very many a lot all good fine got it received cool nice super again
    have day and for the help your that is was great really thank thanks
    muchas mil por todo su ayuda muy bien
    beaucoup pour tout votre aide tres bien c est d accord
    vielen schon fur ihre hilfe alles klar sehr gut
    mille per tutto molto bene
    muito pela ajuda tudo bem
    """
)

_NOT_LETTERS = re.compile(r"[^a-z]+")

# A reply of these alone acknowledges too, in any language: thumbs up, folded hands,
# hearts, smiles, OK hand, check marks. A frown, a thumbs down or a thinking face is
# not among them, so it reopens.
_THANKS_EMOJI = frozenset(
    "\U0001f44d\U0001f64f\u2764\u2665\U0001f499\U0001f49a\U0001f49b\U0001f49c\U0001f9e1"
    "\U0001f90d\U0001f495\U0001f496\U0001f970\U0001f60a\U0001f642\U0001f600\U0001f603"
    "\U0001f604\U0001f601\U0001f917\U0001f44c\u2705\u2714\U0001f4af\U0001f64c\U0001f44f"
    "\U0001f60d\u263a"
)
# What joins or varies an emoji without changing it: the emoji presentation selector,
# the zero-width joiner and the five skin tones.
_EMOJI_JOINERS = frozenset("\ufe0f\u200d\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff")


def _other_emoji(text: str) -> bool:
    """Whether any symbol in the text is not an acknowledgement ("thanks 👎")."""
    return any(
        unicodedata.category(c) == "So" and c not in _THANKS_EMOJI and c not in _EMOJI_JOINERS
        for c in text
    )


def _only_thanks_emoji(text: str) -> bool:
    marks = [c for c in text if not c.isspace() and unicodedata.category(c)[0] != "P"]
    return any(c in _THANKS_EMOJI for c in marks) and all(
        c in _THANKS_EMOJI or c in _EMOJI_JOINERS for c in marks
    )


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return [w for w in _NOT_LETTERS.split(plain) if w]


def only_thanks(text: str) -> bool:
    """Whether a customer's message only thanks or acknowledges, asking nothing."""
    text = text.strip()
    if not text or len(text) > MAX_LENGTH or "?" in text or any(c.isdigit() for c in text):
        return False
    if _other_emoji(text):
        return False
    words = _words(text)
    if not words:
        return _only_thanks_emoji(text)
    return any(w in _CARRIERS for w in words) and all(
        w in _CARRIERS or w in _FILLERS for w in words
    )
