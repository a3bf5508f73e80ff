"""Snapshots are kept per PostgreSQL major version: sizes on screen are the server's own figures,
and they differ (PG 18's CREATE TABLE AS extends tables in bulk: the same rows take ~15% more pages
than on PG 15). Everything else — names, dates, ages, layout — is fixed by tests/fixtures.py."""

from __future__ import annotations

import psycopg
import pytest
from syrupy.assertion import SnapshotAssertion


@pytest.fixture(scope="session")
def server_major(admin_dsn: str) -> int:
    with psycopg.connect(admin_dsn) as conn:
        return int(conn.info.server_version) // 10000


class _PerServer:
    """syrupy's snapshot whose files are named <test>[pgNN].svg; snap_compare only calls use_extension."""

    def __init__(self, snapshot: SnapshotAssertion, name: str) -> None:
        self._snapshot, self._name = snapshot, name

    def use_extension(self, extension_class: type) -> SnapshotAssertion:
        return self._snapshot.use_extension(extension_class)(name=self._name)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion, server_major: int) -> _PerServer:
    return _PerServer(snapshot, f"pg{server_major}")
