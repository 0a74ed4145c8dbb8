"""`streamfold poll` reads its pacing from the environment and refuses what it cannot use."""

from __future__ import annotations

import pytest

from infrastructure.services.poller import PollSettings
from infrastructure.settings import ConfigError


def test_defaults_apply_when_nothing_is_set() -> None:
    settings = PollSettings.from_environment({})

    assert (settings.batch_size, settings.batch_seconds) == (1000, 60.0)


def test_each_variable_sets_its_value() -> None:
    settings = PollSettings.from_environment(
        {
            "STREAMFOLD_POLL_BATCH_SIZE": "250",
            "STREAMFOLD_POLL_IDLE_SECONDS": "0.5",
            "STREAMFOLD_POLL_RETRY_SECONDS": "2",
            "STREAMFOLD_POLL_BATCH_SECONDS": "30",
        }
    )

    assert settings.batch_size == 250
    assert (settings.idle_seconds, settings.retry_seconds, settings.batch_seconds) == (0.5, 2, 30)


@pytest.mark.parametrize(
    ("variable", "text"),
    [
        ("STREAMFOLD_POLL_BATCH_SECONDS", "0"),
        ("STREAMFOLD_POLL_BATCH_SECONDS", "a minute"),
        ("STREAMFOLD_POLL_BATCH_SIZE", "5000"),
    ],
)
def test_a_value_out_of_range_names_the_variable_and_the_range(variable: str, text: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{variable}={text!r}: use a number from \d+ to \d+$"):
        PollSettings.from_environment({variable: text})
