"""The user's own settings: ~/.config/backup-tui/config.toml (XDG_CONFIG_HOME honoured), and what
the app remembers between runs (XDG_STATE_HOME). No Textual here.

    [keys]                 # binding id = key(s), e.g. drop = "D" or sort-size = "S,s"
    drop = "D"
    [archive]
    target = "s3://cold/backups"
    [ui]
    theme = "textual-light"
    [fleet]                # `backup-tui fleet` without --service/--dsn (default: every service)
    targets = ["service=prod", "service=staging", "postgresql://reporting.internal/app"]

A bad file gives one clear line naming the key and the file, and the app starts with defaults.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from tui.storage import TARGET_ENV, default_folder


def config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "backup-tui" / "config.toml"


def cache_dir() -> Path:
    """Where what can be rebuilt lives (the demo's cluster): $XDG_CACHE_HOME/backup-tui."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "backup-tui"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "backup-tui"


@dataclass(frozen=True)
class Config:
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> keys
    archive_target: str | None = None
    theme: str | None = None
    fleet: tuple[str, ...] = ()  # libpq targets: service=NAME or a DSN (no passwords: .pgpass)


def load_config(path: Path | None = None) -> tuple[Config, list[str]]:
    """The config, and the problems found in it (each one line: the file, the key, what is wrong).
    Whatever is wrong is left at its default."""
    path = path or config_file()
    if not path.exists():
        return Config(), []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Config(), [f"{path}: cannot read it ({exc}); using the defaults"]
    problems: list[str] = []

    def section(name: str, known: set[str]) -> dict[str, Any]:
        """[name] as a table (anything else is one problem, and an empty table)."""
        value = data.get(name, {})
        if not isinstance(value, dict):
            problems.append(f"{path}: {name} must be a [{name}] table, not {type(value).__name__}; ignored")
            return {}
        for key in sorted(set(value) - known) if known else ():
            problems.append(f"{path}: [{name}] {key} is not a setting of backup-tui; ignored")
        return value

    keys: dict[str, str] = {}
    for name, value in section("keys", set()).items():
        if isinstance(value, str) and value.strip():
            keys[name] = value.strip()
        else:
            problems.append(f'{path}: [keys] {name} must be a key such as "D" or "ctrl+d"; ignored')
    target = section("archive", {"target"}).get("target")
    if target is not None and not (isinstance(target, str) and target.strip()):
        problems.append(f"{path}: [archive] target must be a directory or s3:// URL; ignored")
        target = None
    theme = section("ui", {"theme"}).get("theme")
    if theme is not None and not isinstance(theme, str):
        problems.append(f"{path}: [ui] theme must be a theme's name; ignored")
        theme = None
    fleet = section("fleet", {"targets"}).get("targets") or []
    if not (isinstance(fleet, list) and all(isinstance(t, str) and t.strip() for t in fleet)):
        problems.append(f'{path}: [fleet] targets must be a list of "service=NAME" or DSN strings; ignored')
        fleet = []
    for unknown in sorted(set(data) - {"keys", "archive", "ui", "fleet"}):
        problems.append(f"{path}: unknown section [{unknown}]; ignored")
    return Config(keys, target, theme, tuple(t.strip() for t in fleet)), problems


def default_archive_target(config: Config | None = None) -> str:
    """$BACKUP_TUI_ARCHIVE_TO, else the config's [archive] target, else $XDG_DATA_HOME/backup-tui/archive
    (~/.local/share/backup-tui/archive): the same for the CLI and the TUI."""
    return os.environ.get(TARGET_ENV) or (config.archive_target if config else None) or default_folder()


def last_archive_target(place: str) -> str | None:
    """The target the TUI archived this database's backups to last (the archive dialog offers it
    again). Per database (`place`: host:port/dbname): another database's folder is not this one's."""
    return _archive_targets().get(place) or None


def remember_archive_target(target: str, place: str) -> None:
    targets = _archive_targets()
    targets[place] = target
    try:
        state_dir().mkdir(parents=True, exist_ok=True)
        path = state_dir() / "archive-targets.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(targets, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # remembering is a convenience; archiving went on


def _archive_targets() -> dict[str, str]:
    try:
        data = json.loads((state_dir() / "archive-targets.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str) and v.strip()}
