"""What a screen may ask of the App that runs it, typed: the App sits above the screens (they
cannot import it), so this says what it gives them."""

from __future__ import annotations

from typing import Any, Protocol, cast

from textual.screen import Screen

from tui.config import Config


class Host(Protocol):
    """The App under our screens (tui.app.BackupApp)."""

    config: Config  # the user's config.toml, as loaded (defaults when there is none)


def host(screen: Screen[Any]) -> Host:
    """The App running `screen`, typed. Only BackupApp runs our screens."""
    app = screen.app
    if not isinstance(getattr(app, "config", None), Config):
        raise TypeError(f"{type(app).__name__} does not run backup-tui's screens")
    return cast(Host, app)
