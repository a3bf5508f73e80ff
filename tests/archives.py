"""What the archive tests share: awkward data, an S3 server on loopback, small readers."""

from __future__ import annotations

import io
from collections.abc import Iterator

import psycopg
import pytest
import zstandard

from tui.db.backups import create_backup

AWKWARD = """
CREATE TABLE public."Odd ""Table"" é" (
    id int PRIMARY KEY,
    note text,
    blob bytea,
    doc jsonb,
    tags text[],
    at timestamptz,
    amount numeric(20, 6)
);
INSERT INTO public."Odd ""Table"" é" VALUES
    (1, E'line one\\nline two, with a comma and "quotes"', '\\x00ff10'::bytea, '{"a": [1, 2, {"b": null}]}',
     ARRAY['x', 'y,z', NULL], '2025-03-01 12:34:56.789+02', 12345678901234.123456),
    (2, NULL, NULL, NULL, NULL, NULL, NULL),
    (3, '', '\\x'::bytea, '[]', '{}', '-infinity', -0.000001),
    (4, 'ünïcødé ✓', '\\xdeadbeef', '"just a string"', ARRAY['\\\\back\\\\slash'], 'infinity', 0);
"""


def unzstd(data: bytes) -> bytes:
    """A streamed zstd frame (no size in its header) decompressed."""
    return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()


def backup_table_exists(conn: psycopg.Connection, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(format('backup.%%I', %s::text)) IS NOT NULL", (name,)).fetchone()
    return row is not None and row[0] is True


def rows_text(conn: psycopg.Connection, table: str) -> list[tuple]:
    """Each row as PostgreSQL's own text (compares infinities, bytea and numerics exactly)."""
    return conn.execute(f"SELECT t::text FROM {table} t ORDER BY id").fetchall()


@pytest.fixture
def awkward_backup(installed: psycopg.Connection) -> str:
    installed.execute(AWKWARD)
    return create_backup(installed, 'Odd "Table" é', "before the archive test", "monthly")


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An S3-compatible server on 127.0.0.1 with an empty bucket; yields its s3:// URL."""
    pytest.importorskip("boto3", reason="S3 targets need the s3 extra (pip install -e '.[test]' has it)")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    import urllib.request

    import boto3

    # Moto keeps its buckets per process: start each test from an empty store.
    urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST")).close()

    boto3.client("s3").create_bucket(Bucket="cold")
    try:
        yield "s3://cold/team/backups"
    finally:
        server.stop()


def s3_keys(bucket: str = "cold") -> list[str]:
    import boto3

    listed = boto3.client("s3").list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))
