"""The 2025 layout, built as the contract describes it, for adoption tests."""

from __future__ import annotations

import psycopg

LEGACY_DDL = """
CREATE SCHEMA backup;
CREATE TABLE backup.backup_metadata (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    original_table_name text NOT NULL,
    backup_table_name text NOT NULL,
    backup_date timestamptz DEFAULT now(),
    row_count integer,
    backup_reason text,
    created_at timestamptz DEFAULT now(),
    created_by text DEFAULT current_user
);
CREATE OR REPLACE FUNCTION backup.create_table_backup(p_table_name text, p_reason text DEFAULT NULL)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    v_name text := p_table_name || '_backup_' || to_char(now(), 'YYYY_MM_DD');
    v_rows integer;
BEGIN
    EXECUTE 'CREATE TABLE backup.' || v_name || ' AS SELECT * FROM public.' || p_table_name;
    EXECUTE 'SELECT count(*) FROM backup.' || v_name INTO v_rows;
    INSERT INTO backup.backup_metadata (original_table_name, backup_table_name, row_count, backup_reason)
    VALUES (p_table_name, v_name, v_rows, p_reason);
    RETURN v_name;
END $$;
CREATE VIEW backup.backup_inventory AS
SELECT m.id, m.original_table_name, m.backup_table_name, m.backup_date, m.row_count, m.backup_reason,
       pg_size_pretty(pg_total_relation_size(('backup.' || m.backup_table_name)::regclass)) AS backup_size,
       m.created_at, m.created_by
  FROM backup.backup_metadata m;
"""

_ROLES = ("anon", "authenticated", "service_role")


def build_legacy(conn: psycopg.Connection) -> dict[str, str]:
    """A 2025 install with its typical mess; returns {label: backup_table_name}.

    Roles are cluster-wide: they are created if absent and left in place.
    """
    for role in _ROLES:
        conn.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
        )
    conn.execute(LEGACY_DDL)  # type: ignore[arg-type]
    conn.execute("GRANT USAGE ON SCHEMA backup TO anon, authenticated, service_role")
    conn.execute("CREATE TABLE public.users AS SELECT g AS id, 'user ' || g AS name FROM generate_series(1, 50) g")
    conn.execute('CREATE TABLE public."Orders" AS SELECT g AS id FROM generate_series(1, 7) g')
    conn.execute("CREATE TABLE backup.users_backup_2025_03_01 AS TABLE public.users")
    conn.execute("CREATE TABLE backup.users_backup_20250402 AS TABLE public.users")
    conn.execute('CREATE TABLE backup."Orders_backup_2025_05_06_101500" AS TABLE public."Orders"')
    conn.execute("CREATE TABLE backup.users_backup AS TABLE public.users")
    conn.execute("CREATE TABLE backup.old_stuff AS SELECT 1 AS x")
    conn.execute(
        """
        INSERT INTO backup.backup_metadata (original_table_name, backup_table_name, backup_date, row_count,
                                            backup_reason)
        VALUES ('users', 'users_backup_2025_03_01', '2025-03-01', 50, 'Pre-migration backup'),
               ('Orders', 'Orders_backup_2025_05_06_101500', '2025-05-06 10:15', 7, 'before refactor'),
               ('users', 'users_backup_2025_01_01', '2025-01-01', 48, 'Pre-migration backup')
        """
    )
    return {
        "registered": "users_backup_2025_03_01",
        "mixed_case": "Orders_backup_2025_05_06_101500",
        "missing": "users_backup_2025_01_01",
        "unregistered_compact": "users_backup_20250402",
        "unregistered_bare": "users_backup",
        "unregistered_other": "old_stuff",
    }
