"""Which answers to a resolution only say thanks, and so reopen nothing."""

from __future__ import annotations

import pytest

from desk.thanks import only_thanks


@pytest.mark.parametrize(
    "text",
    [
        "Thanks!",
        "thank you so much 🙏",
        "Great, thanks",
        "ok thx",
        "Perfect, thank you!!",
        "Got it, thanks a lot",
        "Received, thanks",
        "Cheers",
        "Muchas gracias!",
        "Merci beaucoup",
        "Vielen Dank!",
        "Grazie mille",
        "Muito obrigada pela ajuda",
        "Thank you, have a great day",
        "\U0001f44d",
        "\U0001f44d\U0001f3fd",
        "\U0001f64f\U0001f64f!",
        "\u2764\ufe0f",
        "ok \U0001f44c",
    ],
)
def test_a_plain_thank_you_reopens_nothing(text):
    assert only_thanks(text)


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, but where is it?",
        "thanks. it still has not arrived",
        "No thanks, I want a refund",
        "Thank you. Order #1042 is wrong",
        "ok but the box was damaged",
        "Not received",
        "Great, so when will it arrive",
        "",
        "Thanks " * 20,
        "Please call me",
        "\U0001f44e",
        "\U0001f621",
        "\U0001f914",
        "\U0001f44d\U0001f4e6?",
        "\U0001f44d \U0001f44e",
        "thanks \U0001f44e",
        "...",
    ],
)
def test_anything_more_than_thanks_reopens(text):
    assert not only_thanks(text)
