"""Intent classifier: multinomial logistic regression over word and character n-grams.

Pure Python, offline, and fast enough to run inline in the agent task (well under
5 ms per message). The weights live in ``agents/intent_data/model.json``; rebuild
them with ``python manage.py train_intents`` after changing the training data. The
model records a digest of the data it was trained on, so a stale model is caught
by the tests rather than in production.

Confidence is the softmax probability of the winning intent after temperature
scaling, with the temperature fitted on examples the model did not train on. The
agent escalates below the tenant's threshold, so an overconfident model would
let wrong actions through: calibration matters more than the last point of
accuracy.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from desk.models import Intent

DATA_DIR = Path(__file__).resolve().parent / "intent_data"
MODEL_PATH = DATA_DIR / "model.json"
TRAINING_FILES = ("bitext/subset.jsonl", "own_examples.jsonl")
EVAL_PATH = DATA_DIR / "eval_realistic.jsonl"

INTENTS: tuple[str, ...] = tuple(Intent.values)
MODEL_FORMAT = 1

# Long emails carry their request near the top; the rest is signatures and
# quoted history that only adds noise and latency.
MAX_CHARS = 1500
CHAR_SIZES = (3, 4)


@dataclass(frozen=True)
class Classification:
    intent: str
    confidence: float
    scores: dict[str, float]


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    weight: float = 1.0


# --- features ---------------------------------------------------------------

_URL = re.compile(r"https?://\S+|www\.\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_MONEY = re.compile(r"[$€£]\s?\d[\d,.]*|\d[\d,.]*\s?(?:usd|eur|gbp|dollars?|euros?|bucks)\b")
_ORDER_REF = re.compile(r"#\s?[a-z]{0,4}-?\d+|\b[a-z]{2,4}-\d{3,}\b|\b\d{3,}\b")
_REPEATS = re.compile(r"(.)\1{2,}")
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[?!]")


def normalize(text: str) -> str:
    """Lower-case, strip accents, and replace values (emails, money, order numbers)
    by placeholders so the model learns that a number is there, not which one."""
    text = (text or "")[:MAX_CHARS].lower()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").replace("ß", "ss")
    text = _URL.sub(" zurl ", text)
    text = _EMAIL.sub(" zemail ", text)
    text = _MONEY.sub(" zmoney ", text)
    text = _ORDER_REF.sub(" znum ", text)
    # "sooo", "!!!!" and "??????" mean the same as two of them.
    text = _REPEATS.sub(r"\1\1", text)
    return text


def features(text: str) -> dict[str, float]:
    """Sparse feature vector: word unigrams and bigrams, and character 3- to 5-grams
    across the whole message (typo-tolerant, and they catch short phrases such as
    "delivered but not"). Each group is scaled to unit length so long and short
    messages land on the same scale."""
    norm = normalize(text)
    words = _TOKEN.findall(norm)
    vector: dict[str, float] = {}
    grams = [f"w:{w}" for w in words]
    grams += [f"b:{a}_{b}" for a, b in itertools.pairwise(words)]
    _add_group(vector, grams)
    squeezed = " " + " ".join(w for w in words if w not in "?!") + " "
    chars = [squeezed[i : i + n] for n in CHAR_SIZES for i in range(len(squeezed) - n + 1)]
    _add_group(vector, [f"c:{g}" for g in chars if g.strip()])
    vector["bias"] = 1.0
    return vector


def _add_group(vector: dict[str, float], grams: list[str]) -> None:
    if not grams:
        return
    unique = set(grams)
    value = 1.0 / math.sqrt(len(unique))
    for gram in unique:
        vector[gram] = value


# --- inference --------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    intents: tuple[str, ...]
    weights: dict[str, list[float]]
    temperature: float
    meta: dict

    def logits(self, vector: dict[str, float]) -> list[float]:
        totals = [0.0] * len(self.intents)
        weights = self.weights
        for name, value in vector.items():
            row = weights.get(name)
            if row is not None:
                totals = [t + w * value for t, w in zip(totals, row, strict=True)]
        return totals

    def predict(self, text: str) -> tuple[str, float, list[float]]:
        """The winning intent, its confidence, and every intent's probability."""
        vector = features(text)
        probs = softmax([z / self.temperature for z in self.logits(vector)])
        best = max(range(len(probs)), key=probs.__getitem__)
        return self.intents[best], probs[best] * familiarity(self, vector), probs

    def to_json(self) -> dict:
        return {
            "format": MODEL_FORMAT,
            "intents": list(self.intents),
            "temperature": self.temperature,
            "meta": self.meta,
            # Sorted keys and rounded weights: retraining on the same data gives
            # a byte-identical file, so a diff means the data or code changed.
            "weights": {k: [round(w, 4) for w in v] for k, v in sorted(self.weights.items())},
        }

    @classmethod
    def from_json(cls, data: dict) -> Model:
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"Unsupported intent model format {data.get('format')!r}")
        return cls(
            intents=tuple(data["intents"]),
            weights=data["weights"],
            temperature=float(data["temperature"]),
            meta=data.get("meta", {}),
        )


def softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> Model:
    with path.open(encoding="utf-8") as handle:
        return Model.from_json(json.load(handle))


def classify(text: str) -> Classification:
    """The most likely intent and a confidence in [0, 1].

    Empty or wordless text is "other" with low confidence, so it escalates."""
    if not _TOKEN.search(normalize(text)):
        return Classification(Intent.OTHER, 0.0, {})
    model = load_model()
    intent, confidence, probs = model.predict(text)
    scores = {name: round(p, 4) for name, p in zip(model.intents, probs, strict=True)}
    return Classification(intent, round(confidence, 3), scores)


# Below this share of known character n-grams a message is mostly text the model
# never saw (gibberish, a language we do not train on); real messages in the
# held-out set, typos included, sit above 0.7.
FAMILIAR_SHARE = 0.6


def familiarity(model: Model, vector: dict[str, float]) -> float:
    """1.0 for text made of n-grams the model knows, falling linearly to 0 as
    unknown n-grams take over. Softmax alone is confident even on "asdfgh"."""
    grams = [name for name in vector if name.startswith("c:")]
    if not grams:
        return 0.0
    known = sum(name in model.weights for name in grams) / len(grams)
    return min(1.0, known / FAMILIAR_SHARE)


# --- training ---------------------------------------------------------------

SEED = 1042
EPOCHS = 20
LEARNING_RATE = 0.5
L2 = 1e-5
# Our own examples are written like real customers write; Bitext is templated.
# Each of ours counts for several Bitext rows.
OWN_WEIGHT = 3.0
DEV_SHARE = 0.2
TEMPERATURES = [round(0.5 + 0.05 * i, 2) for i in range(71)]  # 0.5 .. 4.0


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_training_data(data_dir: Path = DATA_DIR) -> list[Example]:
    examples = []
    for name in TRAINING_FILES:
        weight = 1.0 if name.startswith("bitext/") else OWN_WEIGHT
        for row in read_jsonl(data_dir / name):
            if row["intent"] not in INTENTS:
                raise ValueError(f"{name}: unknown intent {row['intent']!r}")
            examples.append(Example(row["text"], row["intent"], weight))
    return examples


def data_digest(data_dir: Path = DATA_DIR) -> str:
    digest = hashlib.sha256()
    for name in TRAINING_FILES:
        digest.update(name.encode())
        digest.update((data_dir / name).read_bytes())
    return digest.hexdigest()


def fit(
    examples: list[Example], *, seed: int = SEED, epochs: int | None = None
) -> dict[str, list[float]]:
    """Weights of a multinomial logistic regression, by plain SGD with a decaying
    learning rate and L2 applied to the features each step touches. Deterministic
    for a given seed and example order."""
    k = len(INTENTS)
    index = {intent: i for i, intent in enumerate(INTENTS)}
    data = [(features(e.text), index[e.intent], e.weight) for e in examples]
    weights: dict[str, list[float]] = {}
    rng = random.Random(seed)
    order = list(range(len(data)))
    step = 0
    for _epoch in range(EPOCHS if epochs is None else epochs):
        rng.shuffle(order)
        for i in order:
            vector, label, weight = data[i]
            step += 1
            rate = LEARNING_RATE / (1 + step * 1e-4)
            totals = [0.0] * k
            rows = []
            for name, value in vector.items():
                row = weights.get(name)
                if row is None:
                    row = weights[name] = [0.0] * k
                rows.append((row, value))
                totals = [t + w * value for t, w in zip(totals, row, strict=True)]
            probs = softmax(totals)
            probs[label] -= 1.0
            gradient = [rate * weight * g for g in probs]
            shrink = 1 - rate * L2
            for row, value in rows:
                row[:] = [w * shrink - g * value for w, g in zip(row, gradient, strict=True)]
    return weights


def fit_temperature(model_weights: dict[str, list[float]], dev: list[Example]) -> float:
    """The temperature that minimises negative log-likelihood on ``dev``."""
    model = Model(INTENTS, model_weights, 1.0, {})
    index = {intent: i for i, intent in enumerate(INTENTS)}
    logits = [(model.logits(features(e.text)), index[e.intent]) for e in dev]

    def nll(t: float) -> float:
        return -sum(math.log(max(softmax([z / t for z in zs])[y], 1e-12)) for zs, y in logits)

    return min(TEMPERATURES, key=nll)


def split_dev(examples: list[Example], seed: int) -> tuple[list[Example], list[Example]]:
    """Hold out a stratified share of our own (realistic) examples for calibration."""
    rng = random.Random(seed)
    dev_ids: set[int] = set()
    for intent in INTENTS:
        own = [i for i, e in enumerate(examples) if e.intent == intent and e.weight > 1]
        rng.shuffle(own)
        dev_ids.update(own[: round(len(own) * DEV_SHARE)])
    train = [e for i, e in enumerate(examples) if i not in dev_ids]
    dev = [e for i, e in enumerate(examples) if i in dev_ids]
    return train, dev


def train(examples: list[Example] | None = None, *, seed: int = SEED) -> Model:
    """Fit the temperature on a held-out share of the data, then the weights on all
    of it. Same data and seed, same model."""
    examples = load_training_data() if examples is None else examples
    train_part, dev = split_dev(examples, seed)
    temperature = fit_temperature(fit(train_part, seed=seed), dev) if dev else 1.0
    weights = fit(examples, seed=seed)
    # Features the data barely used cost file size and latency, not accuracy.
    weights = {n: row for n, row in weights.items() if max(abs(w) for w in row) >= 0.01}
    meta = {"seed": seed, "examples": len(examples), "epochs": EPOCHS}
    return Model(INTENTS, weights, temperature, meta)


def save_model(model: Model, path: Path = MODEL_PATH, *, digest: str | None = None) -> None:
    data = model.to_json()
    if digest:
        data["meta"]["data_sha256"] = digest
    path.write_text(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    load_model.cache_clear()


def evaluate(model: Model, rows: Iterable[dict]) -> dict:
    """Accuracy, macro-F1 and per-intent counts of ``model`` on labelled rows."""
    pairs = []
    for row in rows:
        intent, confidence, _ = model.predict(row["text"])
        pairs.append((row["intent"], intent, confidence))
    correct = sum(gold == pred for gold, pred, _ in pairs)
    f1s = []
    for intent in model.intents:
        tp = sum(g == intent and p == intent for g, p, _ in pairs)
        fp = sum(g != intent and p == intent for g, p, _ in pairs)
        fn = sum(g == intent and p != intent for g, p, _ in pairs)
        if tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
    return {
        "n": len(pairs),
        "accuracy": correct / len(pairs) if pairs else 0.0,
        "macro_f1": sum(f1s) / len(f1s) if f1s else 0.0,
        "pairs": pairs,
    }
