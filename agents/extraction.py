"""Facts pulled out of customer text. Everything here is a claim, never system data:
an amount a customer writes is kept as a claim and never used to move money, and an
order number is only a key to look the order up in the store.

Offline and dependency-free: regular expressions for identifiers, a small lexicon
for item mentions, and function-word counts for the language."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

# --- tracking numbers -------------------------------------------------------

_UPS = re.compile(r"\b1Z[0-9A-Z]{16}\b", re.I)
# Universal Postal Union S10: two letters, eight digits and a check digit, the
# country of origin (RR123456789DE). Posts print it with or without spaces.
_S10 = re.compile(r"\b([A-Z]{2})\s?(\d{3})\s?(\d{3})\s?(\d{3})\s?([A-Z]{2})\b")
# USPS: 20-22 digits, often printed in groups of four.
_USPS = re.compile(r"(?<![\d-])(?:\d{4}[ ]?){4}\d{4}(?:[ ]?\d{1,2})?(?![\d-])")

# --- order numbers ----------------------------------------------------------

_ORDER_WORDS = (
    r"order|ord|purchase|pedido|orden|bestellung|bestellnummer|auftrag|commande|"
    r"ordine|encomenda|compra"
)
_NUMBER = r"[A-Z]{2,4}-?\d{3,12}|\d{3,12}"
# "order no 1042", "order number: #KC-2001", "Bestellnummer 1042", "pedido nº 1042"
_ORDER_KEYWORD = re.compile(
    rf"\b(?:{_ORDER_WORDS})\b\s*(?:no\.?|nr\.?|num(?:ber|ero|éro)?\.?|n[º°o]\.?|id|ref\.?)?"
    rf"\s*(?:is|es|ist|est|è|é)?\s*[:#]?\s*#?\s*({_NUMBER})\b",
    re.I,
)
_HASH = re.compile(rf"#\s?({_NUMBER})\b", re.I)
# Merchant prefixes (KC-2001, LA-3001): letters, a dash, digits.
_PREFIXED = re.compile(r"\b([A-Z]{2,4}-\d{3,12})\b", re.I)
_BARE = re.compile(r"(?<![\w.,$€£#-])(\d{4,10})(?![\w%]|[.,]\d)")
# A bare number right after these is an address, a size or a time, not an order.
_NOT_ORDER_BEFORE = re.compile(
    r"(?:zip|postcode|postal code|plz|cp|apt|apartment|flat|suite|unit|size|talla|"
    r"taille|taglia|tamanho|größe|grösse|phone|tel|mobile|call me(?: on| at)?|text me(?: on| at)?|street|st|road|rd|avenue|ave|"
    r"calle|rua|via|rue|straße|strasse|code)\W{0,3}$",
    re.I,
)
_SKU = re.compile(r"\bsku\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{2,})\b", re.I)
# "+44 7700 900123", "(555) 123-4567": digits in groups with separators.
_PHONE = re.compile(r"(?<![\w-])\+?\(?\d{1,4}\)?(?:[\s.-]\(?\d{2,8}\)?){1,5}(?![\w-])")
_STREET_AFTER = re.compile(
    r"^\s+[A-Za-z]+\s+(?:st|street|rd|road|ave|avenue|lane|ln|way|blvd)\b", re.I
)

# --- emails and money -------------------------------------------------------

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
_CURRENCY_WORDS = {
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
    "cad": "CAD",
    "aud": "AUD",
}
_AMOUNT_NUMBER = r"\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MONEY = re.compile(
    rf"(?P<sym>[$€£])\s?(?P<a>{_AMOUNT_NUMBER})"
    rf"|(?P<b>{_AMOUNT_NUMBER})\s?(?:(?P<sym2>[$€£])|(?P<word>{'|'.join(_CURRENCY_WORDS)})\b)",
    re.I,
)


@dataclass
class Extracted:
    """What the customer says; every field is untrusted."""

    order_numbers: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    # Amounts as plain decimal strings ("5000", "59.99"): for the evidence panel
    # only; money-moving parameters always come from the order.
    claimed_amounts: list[str] = field(default_factory=list)
    language: str = "en"
    tracking_numbers: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    # The same claims with their currency and the text they came from.
    amount_claims: list[dict] = field(default_factory=list)


def extract(text: str) -> Extracted:
    text = text or ""
    tracking = tracking_numbers(text)
    amounts = amount_claims(text)
    return Extracted(
        order_numbers=order_numbers(text),
        emails=_unique(m.group(0).rstrip(".").lower() for m in _EMAIL.finditer(text)),
        claimed_amounts=_unique(a["amount"] for a in amounts),
        language=detect_language(text),
        tracking_numbers=tracking,
        items=item_mentions(text),
        amount_claims=amounts,
    )


def tracking_numbers(text: str) -> list[str]:
    """UPS (1Z…), USPS (20-22 digits) and UPU S10 (RR123456789DE) numbers."""
    found = [m.group(0).upper() for m in _UPS.finditer(text)]
    found += ["".join(m.groups()).upper() for m in _S10.finditer(text)]
    for match in _USPS.finditer(text):
        digits = match.group(0).replace(" ", "")
        if 20 <= len(digits) <= 22:
            found.append(digits)
    return _unique(found)


def order_numbers(text: str) -> list[str]:
    """Order numbers as the customer typed them, normalised ("#1042" -> "1042",
    "kc-2001" -> "KC-2001"). Numbers named as orders come first; a bare number is
    only offered when nothing better is there, because a zip code or a phone
    number looked up as an order could attach someone else's order."""
    taken = [m.span() for p in (_EMAIL, _MONEY, _UPS, _S10, _USPS, _SKU) for m in p.finditer(text)]

    def ok(match: re.Match) -> bool:
        start, end = match.span(1)
        return not any(s < end and start < e for s, e in taken)

    strong = [
        m.group(1) for p in (_ORDER_KEYWORD, _HASH, _PREFIXED) for m in p.finditer(text) if ok(m)
    ]
    if strong:
        return _unique(_normalize_order(n) for n in _in_text_order(text, strong))
    phones = [m.span() for m in _PHONE.finditer(text) if len(re.sub(r"\D", "", m.group(0))) >= 9]
    weak = []
    for match in _BARE.finditer(text):
        number = match.group(1)
        before = text[: match.start()]
        if (
            not ok(match)
            or _NOT_ORDER_BEFORE.search(before)
            or _STREET_AFTER.match(text[match.end() :])
        ):
            continue
        if any(s <= match.start() and match.end() <= e for s, e in phones):
            continue
        if len(number) == 4 and 1900 <= int(number) <= 2099:
            continue  # a year
        weak.append(number)
    return _unique(weak)


def _normalize_order(number: str) -> str:
    return re.sub(r"[^0-9A-Za-z-]", "", number).upper()


def _in_text_order(text: str, numbers: list[str]) -> list[str]:
    upper = text.upper()
    return sorted(numbers, key=lambda n: upper.find(n.upper()))


def amount_claims(text: str) -> list[dict]:
    """Money the customer mentions: {"amount": "5000", "currency": "USD", "text": "$5,000"}."""
    claims = []
    for match in _MONEY.finditer(text):
        raw = match.group("a") or match.group("b")
        amount = _parse_amount(raw)
        if amount is None:
            continue
        symbol = match.group("sym") or match.group("sym2")
        currency = _CURRENCY_SYMBOLS.get(symbol or "") or _CURRENCY_WORDS.get(
            (match.group("word") or "").lower(), ""
        )
        claims.append({"amount": amount, "currency": currency, "text": match.group(0).strip()})
    return claims


def _parse_amount(raw: str) -> str | None:
    """ "5,000" and "5.000" are thousands; "5,50" and "5.50" have cents; in
    "1.234,56" and "1,234.56" the last separator is the decimal one."""
    raw = raw.replace(" ", "")
    separators = [c for c in raw if c in ".,"]
    if len(set(separators)) == 2:
        decimal = raw[max(raw.rfind(","), raw.rfind("."))]
    elif len(separators) == 1 and len(raw) - max(raw.rfind(","), raw.rfind(".")) - 1 != 3:
        decimal = separators[0]
    else:
        decimal = ""  # none, or only thousands separators
    whole, _, cents = raw.rpartition(decimal) if decimal else (raw, "", "")
    number = re.sub(r"[.,]", "", whole) + (f".{cents}" if decimal else "")
    try:
        value = Decimal(number)
    except InvalidOperation:
        return None
    return str(value)


# --- item mentions ----------------------------------------------------------

# Nouns for things people buy online; English plurals are matched by the pattern.
_ITEM_NOUNS = [
    "t-shirt",
    "tshirt",
    "tee",
    "shirt",
    "blouse",
    "hoodie",
    "hoody",
    "sweatshirt",
    "jumper",
    "sweater",
    "cardigan",
    "jacket",
    "coat",
    "parka",
    "blazer",
    "jeans",
    "pants",
    "trousers",
    "shorts",
    "leggings",
    "skirt",
    "dress",
    "gown",
    "socks",
    "underwear",
    "bra",
    "bikini",
    "swimsuit",
    "pajamas",
    "pyjamas",
    "shoes",
    "shoe",
    "sneakers",
    "trainers",
    "boots",
    "boot",
    "sandals",
    "heels",
    "slippers",
    "loafers",
    "hat",
    "cap",
    "beanie",
    "scarf",
    "gloves",
    "belt",
    "bag",
    "handbag",
    "backpack",
    "wallet",
    "purse",
    "watch",
    "necklace",
    "earrings",
    "bracelet",
    "sunglasses",
    "umbrella",
    "phone",
    "charger",
    "cable",
    "adapter",
    "headphones",
    "earbuds",
    "headset",
    "speaker",
    "laptop",
    "tablet",
    "camera",
    "tv",
    "monitor",
    "keyboard",
    "console",
    "controller",
    "lamp",
    "bulb",
    "heater",
    "kettle",
    "toaster",
    "blender",
    "mug",
    "cup",
    "plate",
    "bowl",
    "vase",
    "candle",
    "pillow",
    "cushion",
    "blanket",
    "duvet",
    "rug",
    "towel",
    "sheets",
    "pan",
    "pot",
    "knife",
    "chair",
    "table",
    "desk",
    "shelf",
    "sofa",
    "couch",
    "mattress",
    "frame",
    "mirror",
    "clock",
    "bottle",
    "jar",
    "lid",
    "perfume",
    "lipstick",
    "serum",
    "shampoo",
    "conditioner",
    "lotion",
    "book",
    "toy",
    "puzzle",
    "camiseta",
    "camisa",
    "zapatos",
    "zapatillas",
    "chaqueta",
    "abrigo",
    "vestido",
    "pantalones",
    "falda",
    "bolso",
    "jarrón",
    "taza",
    "jacke",
    "hose",
    "kleid",
    "schuhe",
    "pullover",
    "tasche",
    "tasse",
    "lampe",
    "veste",
    "manteau",
    "chaussures",
    "pantalon",
    "sac",
    "giacca",
    "scarpe",
    "vestito",
    "maglione",
    "borsa",
    "tazza",
    "sapatos",
    "casaco",
    "calça",
    "bolsa",
    "caneca",
]
# Two-word products, matched before their parts.
_ITEM_COMPOUNDS = [
    "coffee machine",
    "phone case",
    "gift card",
    "glasses case",
    "water bottle",
    "picture frame",
    "bed sheets",
]
_MODIFIERS = [
    "red",
    "blue",
    "black",
    "white",
    "green",
    "pink",
    "grey",
    "gray",
    "navy",
    "beige",
    "brown",
    "yellow",
    "purple",
    "orange",
    "gold",
    "silver",
    "cream",
    "khaki",
    "dark",
    "light",
    "small",
    "medium",
    "large",
    "xl",
    "xxl",
    "xs",
    "big",
    "little",
    "mini",
    "leather",
    "wool",
    "cotton",
    "linen",
    "silk",
    "denim",
    "glass",
    "ceramic",
    "wooden",
    "metal",
    "plastic",
    "left",
    "right",
    "new",
    "old",
    "wireless",
]
_ITEM = re.compile(
    r"\b((?:(?:" + "|".join(_MODIFIERS) + r")[\s-]+){0,2}"
    r"(?:"
    + "|".join(sorted(map(re.escape, _ITEM_COMPOUNDS + _ITEM_NOUNS), key=len, reverse=True))
    + r")(?:e?s)?)\b",
    re.I,
)


def item_mentions(text: str) -> list[str]:
    """Products the customer names ("blue hoodie", "coffee machine", "SKU AB-12"),
    so the agent can match them against the order's lines."""
    found = [m.group(1).lower() for m in _ITEM.finditer(text)]
    found += [f"sku {m.group(1).upper()}" for m in _SKU.finditer(text)]
    return _unique(found)


# --- language ---------------------------------------------------------------

SUPPORTED_LANGUAGES = ("en", "es", "de", "fr", "it", "pt")

_FUNCTION_WORDS = {
    "en": """the a an and is my i you it to of for not this that where when what please
        have has was with me can your yet still want received delivered package hi hello
        thanks thank but are be do did get got just no order item back wrong why how
        need new one after before from sent send been they we it's i'm haven't hasn't
        didn't don't where's its im dont didnt wheres u ur pls""",
    "es": """el la los las que y en un una es por para con mi mis no me se su lo al del
        esta está estoy pedido dónde donde cuándo cuando hola gracias quiero necesito
        todavía recibido llegado llegó paquete devolver reembolso cancelar pero muy ya hace
        días favor tengo puedo pueden puede envío envíos dirección talla cómo como nada aún
        porque qué hay son tienen hacen aceptan usted ustedes también otra otro algo""",
    "de": """der die das und ist ich nicht mein meine meinen mit auf für ein eine zu
        noch wo wann bitte danke hallo bestellung paket habe haben hat wurde kann sie es
        aber schon nichts keine kein zurück geld lieferung adresse wie warum heute tage
        seit bei den dem immer mir mich auch nur sehr bin sind war wir an kam artikel""",
    "fr": """le la les de des du et est je ne pas mon ma mes un une pour avec sur que
        qui où quand bonjour merci commande colis reçu toujours remboursement annuler
        livraison adresse il elle vous votre vos suis ai j'ai c'est mais svp depuis jours
        au aux avez cet cette très aussi veux voudrais pouvez nous rien""",
    "it": """il lo la gli le di che e è non mio mia miei un una per con sono ho ordine
        pacco ancora quando dove dov'è ciao grazie rimborso arrivato ricevuto consegna
        indirizzo vorrei voglio posso perché giorni della del nel alla ma niente avete
        siete questo questa anche però salve buongiorno spedizione reso taglia soldi
        sbagliato rotto annullare cambiare mi ci serve piace""",
    "pt": """o a os as de do da que e é não nao meu minha um uma para com por em no na
        ainda quando onde olá ola obrigado obrigada encomenda pedido recebi chegou
        reembolso entrega endereço quero está foi mas dias vocês você nada tem têm
        estou isso esse essa também já até pelo pela ao aos das dos cadê preciso mudar
        errado veio trocar outro seu sua""",
}
_WORD_LANGS: dict[str, list[str]] = {}
for _lang, _words in _FUNCTION_WORDS.items():
    for _word in set(_words.split()):
        _WORD_LANGS.setdefault(_word, []).append(_lang)

# Spelling that gives a language away (weighted as two function words).
_MARKERS = {
    "es": re.compile(r"[ñ¿¡]|ción\b|\w(?:aron|ieron)\b"),
    "de": re.compile(r"[äöüß]|\b\w{3,}ung\b"),
    # l' and d' are Italian too, so only the other elisions count for French.
    "fr": re.compile(r"[êëîœ]|\b(?:j|qu|n|c|s|m|t)'[aeiouyhéê]|eau"),
    "it": re.compile(r"\b\w+zione\b|\bgli\b|[ìò]"),
    "pt": re.compile(r"[ãõ]|ção\b|ções\b|[nl]h[aoe]"),
}
_WORDS = re.compile(r"[\w']+")


def detect_language(text: str) -> str:
    """The customer's language among en, es, de, fr, it, pt; English when unsure."""
    lowered = unicodedata.normalize("NFC", (text or "").lower().replace("’", "'"))
    scores = dict.fromkeys(SUPPORTED_LANGUAGES, 0.0)
    for word in _WORDS.findall(lowered):
        langs = _WORD_LANGS.get(word)
        if langs:
            for lang in langs:
                # A word shared by several languages is weak evidence for each.
                scores[lang] += 1 / len(langs)
    for lang, marker in _MARKERS.items():
        scores[lang] += 2 * min(len(marker.findall(lowered)), 3)
    best = max(SUPPORTED_LANGUAGES, key=lambda lang: scores[lang])
    if scores[best] < 1 or scores[best] <= scores["en"]:
        return "en"
    return best


def _unique(values) -> list:
    seen = set()
    return [v for v in values if not (v in seen or seen.add(v))]
