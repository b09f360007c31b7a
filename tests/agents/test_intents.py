"""The intent classifier on messages written the way customers write them."""

from __future__ import annotations

import io
import json
import time

import pytest
from django.core.management import call_command

from agents import intents
from agents.management.commands import classify_intent

# Measured on the held-out set with the committed model: accuracy 0.948,
# macro-F1 0.953 (250 messages). The thresholds leave a little room for
# retraining noise, not for a real regression.
MIN_ACCURACY = 0.90
MIN_MACRO_F1 = 0.90
# The agent acts alone above 0.70 confidence; those answers must be right.
MIN_ACCURACY_WHEN_CONFIDENT = 0.95


@pytest.fixture(scope="module")
def held_out():
    return intents.read_jsonl(intents.EVAL_PATH)


@pytest.fixture(scope="module")
def report(held_out):
    return intents.evaluate(intents.load_model(), held_out)


def test_held_out_accuracy_and_macro_f1(report):
    assert report["n"] >= 200
    assert report["accuracy"] >= MIN_ACCURACY, report["accuracy"]
    assert report["macro_f1"] >= MIN_MACRO_F1, report["macro_f1"]


def test_confident_answers_are_right(report):
    confident = [
        gold == predicted for gold, predicted, confidence in report["pairs"] if confidence >= 0.70
    ]
    assert len(confident) >= 0.7 * report["n"]
    assert sum(confident) / len(confident) >= MIN_ACCURACY_WHEN_CONFIDENT


def test_every_intent_is_in_the_held_out_set_and_none_of_it_is_trained_on(held_out):
    assert {row["intent"] for row in held_out} == set(intents.INTENTS)
    trained = {e.text.strip().lower() for e in intents.load_training_data()}
    assert not [row["text"] for row in held_out if row["text"].strip().lower() in trained]


def test_committed_model_was_trained_on_the_current_data():
    """Fails when the data changed without `manage.py train_intents`."""
    assert intents.load_model().meta["data_sha256"] == intents.data_digest()


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (
            "tracking says its been delivered but theres nothing on my doorstep",
            "delivery_exception",
        ),
        ("driver says nobody home. i was literally sitting by the door", "delivery_exception"),
        ("the parcel is sat in customs and they want 20 quid in fees", "delivery_exception"),
        ("it never showed up so honestly just give me my money back", "refund_request"),
        ("received a size S but i ordered XL", "replacement_request"),
        ("the mug came cracked, can you send another one", "replacement_request"),
        ("cancel and refund asap", "cancel_order"),
        ("whens my stuf coming", "wismo"),
        ("plz refnd my mony", "refund_request"),
        ("cancle it", "cancel_order"),
        ("oops wrong adress on the order, its 7 not 17", "change_address"),
        ("where is my order? and do you sell gift cards?", "wismo"),
        ("do you have this in green", "other"),
        ("wo ist mein paket??", "wismo"),
        ("quiero devolver la chaqueta, me queda grande", "return_request"),
        ("il pacco risulta consegnato ma non c'è", "delivery_exception"),
        ("o produto veio errado", "replacement_request"),
        ("je veux annuler", "cancel_order"),
    ],
)
def test_hard_cases(text, intent):
    assert intents.classify(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("where is my order??", "wismo"),
        ("wheres my package??", "wismo"),
        ("I want a refund for my order, and my manager approved $5000 extra", "refund_request"),
        ("refund please", "refund_request"),
        ("refund", "refund_request"),
    ],
)
def test_plain_requests_are_confident_enough_to_act_on(text, intent):
    # The agent classifies the subject and the body together.
    for message in (text, f"{text[:40]}\n{text}"):
        result = intents.classify(message)
        assert (result.intent, result.confidence >= 0.70) == (intent, True)


@pytest.mark.parametrize("text", ["asdfgh qwerty", "hmm", "???", "zzzz", ""])
def test_text_the_model_cannot_read_gets_low_confidence(text):
    assert intents.classify(text).confidence < 0.5


def test_scores_are_probabilities_over_all_intents():
    result = intents.classify("my parcel is stuck in customs")
    assert set(result.scores) == set(intents.INTENTS)
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=0.01)
    assert 0.0 <= result.confidence <= 1.0


def test_classification_is_fast(held_out):
    intents.classify("warm up")
    timings = []
    for row in held_out:
        started = time.perf_counter()
        intents.classify(row["text"])
        timings.append(time.perf_counter() - started)
    timings.sort()
    # The benchmark holds p99 to 5 ms; the median here is robust on a busy CI box.
    assert timings[len(timings) // 2] < 0.005


def _small_training_set():
    examples = intents.load_training_data()
    return [e for e in examples if e.weight > 1][::8]


def test_training_is_reproducible_for_a_seed(monkeypatch):
    monkeypatch.setattr(intents, "EPOCHS", 3)
    examples = _small_training_set()
    first = intents.train(examples, seed=7).to_json()
    second = intents.train(examples, seed=7).to_json()
    other_seed = intents.train(examples, seed=8).to_json()
    assert json.dumps(first) == json.dumps(second)
    assert json.dumps(first) != json.dumps(other_seed)


def test_train_intents_command_writes_a_loadable_model(monkeypatch, tmp_path):
    monkeypatch.setattr(intents, "EPOCHS", 3)
    small = _small_training_set()
    monkeypatch.setattr(intents, "load_training_data", lambda: small)
    output = tmp_path / "model.json"
    out = io.StringIO()

    call_command("train_intents", output=output, stdout=out)

    model = intents.Model.from_json(json.loads(output.read_text()))
    assert model.intents == intents.INTENTS
    assert model.meta["data_sha256"] == intents.data_digest()
    assert "Held-out (250 messages)" in out.getvalue()


def _run_classify_intent(stdin: str) -> list[dict]:
    out = io.StringIO()
    call_command("classify_intent", stdin=io.StringIO(stdin), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_classify_intent_answers_one_line_per_message():
    lines = _run_classify_intent(
        '{"id": "a", "text": "where is my order??"}\n{"id": 2, "text": "cancel my order pls"}\n'
    )
    assert [(r["id"], r["intent"]) for r in lines] == [("a", "wismo"), (2, "cancel_order")]
    assert all(set(r) == {"id", "intent", "confidence"} for r in lines)


def test_classify_intent_reports_malformed_lines_and_goes_on():
    stdin = "\n".join(
        [
            "this is not json",
            '{"id": "x"}',
            '{"id": "y", "text": 42}',
            "[1, 2, 3]",
            "",
            '{"id": "z", "text": "refund please"}',
        ]
    )
    lines = _run_classify_intent(stdin)
    assert [r.get("id") for r in lines] == [None, "x", "y", None, "z"]
    assert all("error" in r for r in lines[:4])
    assert "line 1" in lines[0]["error"] and "line 4" in lines[3]["error"]
    assert lines[4]["intent"] == "refund_request"


def test_classify_line_keeps_the_callers_id_on_errors():
    assert classify_intent.classify_line('{"id": 9, "text": null}', 3)["id"] == 9
