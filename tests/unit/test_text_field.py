"""shared.fields.Text refuses what cannot be stored, whichever way it arrives."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError

from shared.fields import Text


def test_a_lone_surrogate_is_refused():
    with pytest.raises(ValidationError, match="UTF-8"):
        Text(max_length=20).deserialize("Ra\ud800him")


def test_bangla_and_emoji_are_text():
    assert Text(max_length=20).deserialize(" রহিমা  \U0001f600 ") == "রহিমা \U0001f600"
