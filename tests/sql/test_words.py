"""backup.age_words and backup.interval_words: the only place ages and intervals are worded."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import scalar


@pytest.mark.parametrize(
    ("age", "words"),
    [
        ("0 seconds", "0 seconds"),
        ("1 second", "1 second"),
        ("59 seconds", "59 seconds"),
        ("1 minute", "1 minute"),
        ("59 minutes 59 seconds", "59 minutes"),
        ("1 hour", "1 hour"),
        ("23 hours 59 minutes", "23 hours"),
        ("1 day", "1 day"),
        ("30 days", "30 days"),
        ("31 days", "31 days"),
        ("59 days", "59 days"),
        ("60 days", "60 days"),  # not "1 months": days until two whole months
        ("61 days", "2 months"),
        ("364 days", "11 months"),
        ("365 days", "11 months"),  # 11.99 average months: never rounded up past a retention
        ("729 days", "23 months"),
        ("730 days", "2 years"),  # not "1 years"
        ("1095 days", "3 years"),
        ("-5 minutes", "0 seconds"),
    ],
)
def test_age_words_at_every_boundary(installed: psycopg.Connection, age: str, words: str) -> None:
    assert scalar(installed, "SELECT backup.age_words(%s::interval)", (age,)) == words


def test_age_words_of_nothing_is_nothing(installed: psycopg.Connection) -> None:
    assert scalar(installed, "SELECT backup.age_words(NULL)") is None


def test_many_ages_are_worded_alike_and_in_their_order(installed: psycopg.Connection) -> None:
    """The plan words every age in one call (ages_words): the same words as one at a time, each in
    its place, NULL kept, over a spread of ages in no particular order."""
    ages = [f"{(i * 7919) % 2_000_003} minutes {i % 60} seconds" for i in range(2_000)] + [None, "-1 day", "730 days"]
    many = scalar(installed, "SELECT backup.ages_words(%s::interval[])", (ages,))
    one_by_one = [scalar(installed, "SELECT backup.age_words(%s::interval)", (age,)) for age in ages]
    assert many == one_by_one
    assert len(set(many)) > 60 and many[-3:] == [None, "0 seconds", "2 years"]
    assert scalar(installed, "SELECT backup.ages_words('{}')") == []


@pytest.mark.parametrize(
    ("interval", "words"),
    [
        ("1 day", "1 day"),
        ("7 days", "7 days"),
        ("14 days", "2 weeks"),
        ("4 weeks", "4 weeks"),
        ("1 month", "1 month"),
        ("3 months", "3 months"),
        ("1 year", "12 months"),
        (None, "forever"),
    ],
)
def test_interval_words_say_the_policy_as_written(
    installed: psycopg.Connection, interval: str | None, words: str
) -> None:
    assert scalar(installed, "SELECT backup.interval_words(%s::interval)", (interval,)) == words
