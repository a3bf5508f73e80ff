#!/usr/bin/env bash
# Regenerate the SVG snapshots for both servers CI uses (embedded PG 18, local PG 15).
# syrupy deletes snapshots it did not use in a run, so each run's files are kept aside.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=tests/snapshots/__snapshots__/test_snapshots
keep=$(mktemp -d)
.venv/bin/python -m pytest -q tests/snapshots --snapshot-update "$@"
cp "$dir"/* "$keep"/
BACKUP_TUI_TEST_DSN=${BACKUP_TUI_TEST_DSN:-postgresql://postgres@127.0.0.1:5432/postgres} \
    .venv/bin/python -m pytest -q tests/snapshots --snapshot-update "$@"
cp -n "$keep"/* "$dir"/
rm -rf "$keep"
ls "$dir" | sed 's/.*\[\(pg[0-9]*\)\].svg/\1/' | sort | uniq -c
