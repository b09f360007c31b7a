"""Customers who only say thanks.

An answer to a resolution reopens it for a specialist, and an AI resolution that
reopens is billed at the human price. "Thank you!" asks for nothing: it joins the
resolved contact as a message and reopens nothing. The test is deliberately
narrow: a short message every word of which is an acknowledgement, in a language
the desk answers in. Anything else, "thanks, but where is it?" included, reopens.
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


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return [w for w in _NOT_LETTERS.split(plain) if w]


def only_thanks(text: str) -> bool:
    """Whether a customer's message only thanks or acknowledges, asking nothing."""
    text = text.strip()
    if not text or len(text) > MAX_LENGTH or "?" in text or any(c.isdigit() for c in text):
        return False
    words = _words(text)
    return (
        bool(words)
        and any(w in _CARRIERS for w in words)
        and all(w in _CARRIERS or w in _FILLERS for w in words)
    )
