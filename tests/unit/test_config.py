"""config.toml is the user's and may be wrong (#23): every problem is one line naming the file and
the key, the rest of the file still applies, and nothing ever crashes the app or the CLI. (0.2:
`keys = 5`, `archive = "x"`, `ui = [1]`, `fleet = "x"` raised AttributeError, `keys = 5` at the
TUI's start; `drop = "s"` silently took sort-by-size; unknown binding ids were ignored silently.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.app import checked_keymap
from tui.config import load_config


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("keys = 5", "keys must be a [keys] table"),
        ('archive = "x"', "archive must be a [archive] table"),
        ("ui = [1]", "ui must be a [ui] table"),
        ('fleet = "x"', "fleet must be a [fleet] table"),
        ("[keys]\ndrop = 5", "[keys] drop must be a key"),
        ("[archive]\ntarget = 3", "[archive] target must be"),
        ("[archive]\ntarjet = '/x'", "[archive] tarjet is not a setting"),
        ("[fleet]\ntargets = 'service=prod'", "[fleet] targets must be a list"),
        ("[ui]\ntheme = 1", "[ui] theme must be"),
        ("[nope]\nx = 1", "unknown section [nope]"),
        ("[keys\ndrop = 'D'", "cannot read it"),
    ],
)
def test_every_problem_is_one_line_naming_the_file(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    _, problems = load_config(path)
    assert len(problems) == 1 and says in problems[0] and str(path) in problems[0], problems
    assert "\n" not in problems[0]


def test_the_rest_of_the_file_still_applies(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('keys = 5\n[ui]\ntheme = "textual-light"\n[fleet]\ntargets = ["service=prod"]\n')
    config, problems = load_config(path)
    assert config.theme == "textual-light" and config.fleet == ("service=prod",) and len(problems) == 1


def test_a_key_another_binding_has_and_an_unknown_id_are_refused_by_name() -> None:
    kept, problems = checked_keymap({"drop": "s", "no-such-binding": "x", "create": "C"}, Path("config.toml"))
    assert kept == {"create": "C"}
    assert problems == [
        'config.toml: [keys] drop = "s": s is already sort-size\'s on InventoryScreen; ignored',
        "config.toml: [keys] no-such-binding is not a binding's id (the help screen lists them); ignored",
    ]


def test_swapping_two_keys_is_not_a_clash() -> None:
    kept, problems = checked_keymap({"sort-size": "n", "sort-name": "s"}, Path("config.toml"))
    assert problems == [] and kept == {"sort-size": "n", "sort-name": "s"}


@pytest.mark.parametrize(
    ("version", "words"), [(130012, "PostgreSQL 13 is too old"), (90624, "PostgreSQL 9.6 is too old")]
)
def test_install_refuses_a_server_older_than_14_in_one_line(version: int, words: str) -> None:
    """#26: PostgreSQL 13 failed halfway through install (CREATE OR REPLACE TRIGGER needs 14)."""
    from tui.db.schema import refuse_old_server

    with pytest.raises(RuntimeError) as refused:
        refuse_old_server(version)
    assert str(refused.value).startswith(words) and "PostgreSQL 14 or later" in str(refused.value)
    refuse_old_server(140000)  # 14 and later go ahead
    refuse_old_server(180004)
