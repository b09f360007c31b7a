"""Intent classifier v0: weighted keyword patterns, multilingual, typo-tolerant
where customers commonly misspell. Runs offline in microseconds; the trained
classifier replaces it behind the same ``classify`` signature."""

from __future__ import annotations

import re
from dataclasses import dataclass

from desk.models import Intent

# (intent, pattern, weight). Patterns are matched on lower-cased text.
_PATTERNS: list[tuple[str, str, float]] = [
    (Intent.WISMO, r"where('?s| is)? (my|the) (order|package|parcel|stuff)", 3),
    (Intent.WISMO, r"\b(track|tracking|trackin|traking)\b", 2),
    (Intent.WISMO, r"\b(not|never|hasn'?t|still( not)?) (arrived|received|come|here|got)", 2),
    (Intent.WISMO, r"\b(when|how long).{0,30}(arrive|deliver|get here|ship)", 2),
    (Intent.WISMO, r"\b(status|update) (of|on) (my )?order", 2),
    (Intent.WISMO, r"\b(d[oó]nde est[aá]|mi pedido|wo ist|meine bestellung|o[uù] est|ma commande)", 3),
    (Intent.DELIVERY_EXCEPTION, r"\b(says|marked|shows?) (as )?delivered\b.{0,40}(not|never|didn'?t)", 4),
    (Intent.DELIVERY_EXCEPTION, r"\b(stuck|held|customs|returned to sender|lost|missing parcel)", 2),
    (Intent.DELIVERY_EXCEPTION, r"\b(delivery|courier) (failed|attempt)|missed (the )?delivery", 3),
    (Intent.RETURN_REQUEST, r"\b(return|retrun|send (it )?back|devolver|devoluci[oó]n|zur[uü]ck|retour)", 3),
    (Intent.RETURN_REQUEST, r"\b(return label|rma)\b", 3),
    (Intent.REFUND_REQUEST, r"\b(refund|refnd|reimburs|money back|reembolso|r[uü]ckerstattung|rembourse)", 4),
    (Intent.REFUND_REQUEST, r"\b(charged twice|double charged|chargeback)", 3),
    (Intent.REPLACEMENT_REQUEST, r"\b(replace|replacement|send (me )?(a )?new one|reship|resend)", 4),
    (Intent.REPLACEMENT_REQUEST, r"\b(broken|damaged|cracked|defective|wrong (item|size|colou?r))", 2),
    (Intent.CANCEL_ORDER, r"\b(cancel|cancell?ation|stornieren|annuler|cancelar)", 4),
    (Intent.CHANGE_ADDRESS, r"\b(change|update|wrong|fix|correct)\b.{0,20}\b(address|adress|shipping addr)", 5),
    (Intent.CHANGE_ADDRESS, r"\b(new address|moved house|ship it to)", 3),
]
_COMPILED = [(intent, re.compile(p), w) for intent, p, w in _PATTERNS]


@dataclass(frozen=True)
class Classification:
    intent: str
    confidence: float
    scores: dict[str, float]


def classify(text: str) -> Classification:
    """The most likely intent and a confidence in [0, 1]."""
    lowered = (text or "").lower()
    scores: dict[str, float] = {}
    for intent, pattern, weight in _COMPILED:
        if pattern.search(lowered):
            scores[intent] = scores.get(intent, 0.0) + weight
    if not scores:
        return Classification(Intent.OTHER, 0.3, {})
    best = max(scores, key=lambda k: scores[k])
    total = sum(scores.values())
    # Share of the evidence for the winner, damped when there is little of it.
    confidence = (scores[best] / total) * min(1.0, 0.55 + scores[best] / 10)
    return Classification(best, round(confidence, 3), scores)
