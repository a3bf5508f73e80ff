"""The user's connection settings win, as with psql (#25): `application_name` from the DSN or
PGAPPNAME (ours is libpq's fallback), and `connect_timeout` from the DSN, PGCONNECT_TIMEOUT or the
service file over our default. (0.2 passed both explicitly: a 2 s timeout in the service file
waited 10.4 s; here the service file's was not even seen by psycopg's own timer: 130 s.)"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tui.db import Settings, connect
from tui.db.connection import connection_defaults


def test_our_application_name_is_only_the_fallback(dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with connect(Settings(dsn=dsn)) as conn:
        assert conn.info.parameter_status("application_name") == "backup-tui"
    monkeypatch.setenv("PGAPPNAME", "nightly-cleanup")
    with connect(Settings(dsn=dsn)) as conn:
        assert conn.info.parameter_status("application_name") == "nightly-cleanup"
    monkeypatch.delenv("PGAPPNAME")
    with connect(Settings(dsn=make_conninfo(dsn, application_name="from-the-dsn"))) as conn:
        assert conn.info.parameter_status("application_name") == "from-the-dsn"


def test_the_users_connect_timeout_wins_wherever_it_is_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert connection_defaults("host=db", 10)["connect_timeout"] == 10  # ours, when nobody said
    assert connection_defaults("host=db connect_timeout=3", 10)["connect_timeout"] == 3
    service = tmp_path / "pg_service.conf"
    service.write_text("[prod]\nhost=db\nconnect_timeout=2\nkeepalives_idle=5\n")
    monkeypatch.setenv("PGSERVICEFILE", str(service))
    chosen = connection_defaults("service=prod", 10)
    assert chosen["connect_timeout"] == 2 and "keepalives_idle" not in chosen  # the service's own
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "4")
    assert connection_defaults("host=db", 10)["connect_timeout"] == 4


def test_keepalives_are_asked_for_unless_the_user_set_them(dsn: str) -> None:
    chosen = connection_defaults(dsn, 10)
    assert chosen["keepalives"] == 1 and chosen["tcp_user_timeout"] == 60_000
    assert "keepalives_idle" not in connection_defaults(make_conninfo(dsn, keepalives_idle="7"), 10)
    with connect(Settings(dsn=dsn)) as conn:
        assert isinstance(conn, psycopg.Connection)
