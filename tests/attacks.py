"""An attacker who can create objects in a schema on the caller's search_path (public, on databases
created before PostgreSQL 15) plants look-alikes of every built-in our SQL and our Python call.

The list is derived, not hand-picked: every identifier followed by "(" and every operator symbol in
sql/definitions/*.sql and in tui/db/*.py that names a function, aggregate or operator of
pg_catalog, and every type name used in a cast. For each pg_catalog overload a planted object with
the same argument types (polymorphic ones made concrete) records that it ran in a sequence (not
rolled back with the caller's transaction: a swallowed error still counts) and then raises.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tui.db.schema import sql_dir

ATTACKER = "bt_attacker"
HOSTILE_PATH = "public, pg_catalog"  # the attacker's schema first: an exact look-alike wins too

_CONCRETE = {
    "anyelement": "text",
    "anynonarray": "text",
    "anycompatible": "text",
    "anycompatiblenonarray": "text",
    "anyarray": "text[]",
    "anycompatiblearray": "text[]",
    '"any"': "text",
    "any": "text",
}
_UNPLANTABLE = re.compile(
    r"internal|cstring|trigger|event_trigger|language_handler|fdw_handler|"
    r"table_am_handler|index_am_handler|tsm_handler|anyenum|anyrange|anymultirange|"
    r"anycompatiblerange|anycompatiblemultirange|pg_ddl_command|void"
)


def _sources() -> str:
    texts = [p.read_text() for p in sorted((sql_dir() / "definitions").glob("*.sql"))]
    texts += [p.read_text() for p in sorted((Path(__file__).resolve().parents[1] / "tui" / "db").glob("*.py"))]
    return "\n".join(texts)


def used_names(conn: psycopg.Connection) -> tuple[list[str], list[str], list[str]]:
    """(function and aggregate names, operator symbols, cast type names) our code uses that pg_catalog has."""
    text = _sources()
    words = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*\(", text, re.IGNORECASE))
    words = {w.lower() for w in words}
    symbols = set(re.findall(r"[-+*/<>=~!@#%^&|`?]{1,3}", text))
    casts = {t.lower() for t in re.findall(r"::\s*([a-z_][a-z0-9_]*)", text, re.IGNORECASE)}
    functions = _in_pg_catalog(conn, "pg_proc", "proname", "pronamespace", words)
    operators = _in_pg_catalog(conn, "pg_operator", "oprname", "oprnamespace", symbols)
    types = _in_pg_catalog(conn, "pg_type", "typname", "typnamespace", casts, "AND typtype = 'b'")
    return functions, operators, types


def _in_pg_catalog(
    conn: psycopg.Connection, catalog: str, name: str, namespace: str, wanted: set[str], extra: str = ""
) -> list[str]:
    """Which of `wanted` name objects of pg_catalog in this catalog table."""
    query = (
        f"SELECT DISTINCT {name}::text FROM pg_catalog.{catalog} WHERE {namespace} = 'pg_catalog'::regnamespace "
        f"AND {name} = ANY(%s) {extra} ORDER BY 1"
    )
    return [r[0] for r in conn.execute(query, (sorted(wanted),))]  # type: ignore[arg-type]


def _concrete(type_text: str) -> str | None:
    if _UNPLANTABLE.search(type_text):
        return None
    return _CONCRETE.get(type_text, type_text)


def _args(identity: str) -> list[str] | None:
    """'text, VARIADIC "any"' -> ['text', 'VARIADIC text[]'] (None when it cannot be planted)."""
    if not identity:
        return []
    out = []
    for arg in identity.split(", "):
        variadic = arg.startswith("VARIADIC ")
        base = arg.removeprefix("VARIADIC ")
        concrete = _concrete(base)
        if concrete is None:
            return None
        if variadic:
            concrete = concrete if concrete.endswith("[]") else f"{concrete}[]"
            out.append(f"VARIADIC {concrete}")
        else:
            out.append(concrete)
    return out


def plant(admin: psycopg.Connection, dsn: str) -> int:
    """Plant the look-alikes in public as an unprivileged role; returns how many objects."""
    exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ATTACKER,)).fetchone()
    if not exists:
        admin.execute(f"CREATE ROLE {ATTACKER} LOGIN")
    admin.execute(f"GRANT CREATE, USAGE ON SCHEMA public TO {ATTACKER}")
    functions, operators, types = used_names(admin)
    catalog_functions = admin.execute(
        "SELECT p.proname::text, pg_get_function_identity_arguments(p.oid), format_type(p.prorettype, NULL), "
        "p.proretset, p.prokind FROM pg_proc p WHERE p.pronamespace = 'pg_catalog'::regnamespace "
        "AND p.proname = ANY(%s) AND p.prokind IN ('f', 'a')",
        (functions,),
    ).fetchall()
    catalog_operators = admin.execute(
        "SELECT o.oprname::text, format_type(o.oprleft, NULL), format_type(o.oprright, NULL), "
        "format_type(o.oprresult, NULL) FROM pg_operator o WHERE o.oprnamespace = 'pg_catalog'::regnamespace "
        "AND o.oprname = ANY(%s)",
        (operators,),
    ).fetchall()
    planted = 0
    with psycopg.connect(make_conninfo(dsn, user=ATTACKER), autocommit=True) as attacker:
        attacker.execute("SET search_path = public")
        attacker.execute("CREATE SEQUENCE IF NOT EXISTS public.attack_hits")
        attacker.execute("GRANT USAGE, SELECT, UPDATE ON SEQUENCE public.attack_hits TO PUBLIC")

        def try_create(statement: str) -> bool:
            try:
                with attacker.transaction():
                    attacker.execute(statement)  # type: ignore[arg-type]
                return True
            except psycopg.Error:
                return False  # an overload PostgreSQL will not let a plain role shadow: nothing to fear

        n = 0
        for name, identity, returns, retset, kind in catalog_functions:
            args = _args(identity)
            result = _concrete(returns) if returns not in ("record", "void") else returns
            if args is None or result is None or (result == "void" and kind == "a"):
                continue
            n += 1
            raiser = f"public.attack_fn_{n}"
            if kind == "a":
                if len(args) != 1 or args[0].startswith("VARIADIC"):
                    continue
                state = args[0]
                if try_create(
                    f"CREATE FUNCTION {raiser}(s {state}, v {state}) RETURNS {state} LANGUAGE plpgsql AS $$ "
                    f"BEGIN PERFORM nextval('public.attack_hits'); "
                    f"RAISE EXCEPTION 'planted aggregate {name} ran'; END $$"
                ) and try_create(f"CREATE AGGREGATE public.{name}({state}) (SFUNC = {raiser}, STYPE = {state})"):
                    planted += 1
                continue
            params = ", ".join(f"a{i} {a}" for i, a in enumerate(args))
            setof = "SETOF " if retset else ""
            if try_create(
                f"CREATE FUNCTION public.{sql.Identifier(name).as_string(attacker)}({params}) RETURNS {setof}{result} "
                f"LANGUAGE plpgsql AS $$ BEGIN PERFORM nextval('public.attack_hits'); "
                f"RAISE EXCEPTION 'planted function {name} ran'; END $$"
            ):
                planted += 1
        for symbol, left, right, result in catalog_operators:
            lefts, rights, results = (_concrete(t) if t != "-" else "-" for t in (left, right, result))
            if None in (lefts, rights, results):
                continue
            n += 1
            raiser = f"public.attack_op_{n}"
            params = ", ".join(f"a{i} {t}" for i, t in enumerate(t for t in (lefts, rights) if t != "-"))
            if not try_create(
                f"CREATE FUNCTION {raiser}({params}) RETURNS {results} LANGUAGE plpgsql AS $$ "
                f"BEGIN PERFORM nextval('public.attack_hits'); RAISE EXCEPTION 'planted operator {symbol} ran'; END $$"
            ):
                continue
            sides = (f"LEFTARG = {lefts}, " if lefts != "-" else "") + (
                f"RIGHTARG = {rights}, " if rights != "-" else ""
            )
            if try_create(f"CREATE OPERATOR public.{symbol} ({sides}FUNCTION = {raiser})"):
                planted += 1
        for type_name in types:
            n += 1
            raiser = f"public.attack_check_{n}"
            if try_create(
                f"CREATE FUNCTION {raiser}(v pg_catalog.{type_name}) RETURNS boolean LANGUAGE plpgsql AS $$ "
                f"BEGIN PERFORM nextval('public.attack_hits'); RAISE EXCEPTION 'planted type {type_name} ran'; END $$"
            ) and try_create(f"CREATE DOMAIN public.{type_name} AS pg_catalog.{type_name} CHECK ({raiser}(VALUE))"):
                planted += 1
    return planted


def hits(conn: psycopg.Connection) -> int:
    """How many times planted code ran (0 is the only good answer)."""
    last, called = conn.execute("SELECT last_value, is_called FROM public.attack_hits").fetchone()
    return int(last) if called else 0
