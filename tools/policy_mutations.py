"""Mutation check of the access matrix (tests/test_team_access.py).

For every row-level security policy and every GRANT the team schema makes (read back
from the database after set-up: ``pg_policies``, the ACLs of the tables, views, columns,
functions and the schema), drop or revoke just that one in a fresh copy of the set-up and
run the access-matrix tests against it; record which tests go red. A mutation that leaves
every test green is either a gap in the tests or a policy/grant nothing needs.

    python tools/policy_mutations.py [--jobs 2] [--match TEXT] [--triggers] [--out FILE.md]

One throwaway cluster (tests/pgcluster.py) and one set-up (``build_world``) serve every
run: each run clones it (``RAPPORTKIT_TEST_ACCESS_TEMPLATE``) and the test module applies
the mutation after set-up (``RAPPORTKIT_TEST_MUTATION``). A test that fails without any
mutation (the baseline) is left out of the kills: it holds a known bug.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

GROUPS = ("rk_specialist", "rk_supervisor", "rk_lead", "rk_admin", "rk_system", "rk_owner")


def mutations(conn, triggers: bool) -> list[tuple[str, str]]:
    """(label, SQL) for each policy, each grant (and each trigger, if asked)."""
    out = []
    for table, name in conn.execute("SELECT tablename, policyname FROM pg_policies WHERE schemaname = 'public'"
                                    " ORDER BY 1, 2").fetchall():
        out.append((f"policy {table}.{name}", f'DROP POLICY "{name}" ON "{table}"'))
    # table and view privileges (not the owner's own)
    for rel, grantee, priv in conn.execute(
            "SELECT c.relname, g.rolname, a.privilege_type FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,"
            " aclexplode(c.relacl) a JOIN pg_roles g ON g.oid = a.grantee"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') AND a.grantee <> c.relowner"
            " ORDER BY 1, 2, 3").fetchall():
        out.append((f"grant {priv} ON {rel} TO {grantee}", f'REVOKE {priv} ON "{rel}" FROM "{grantee}"'))
    # column privileges (signatures: the four columns a signer gives)
    for rel, col, grantee, priv in conn.execute(
            "SELECT c.relname, at.attname, g.rolname, a.privilege_type FROM pg_attribute at"
            " JOIN pg_class c ON c.oid = at.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace,"
            " aclexplode(at.attacl) a JOIN pg_roles g ON g.oid = a.grantee"
            " WHERE n.nspname = 'public' AND at.attacl IS NOT NULL ORDER BY 1, 2, 3, 4").fetchall():
        out.append((f"grant {priv} ({col}) ON {rel} TO {grantee}", f'REVOKE {priv} ("{col}") ON "{rel}" FROM "{grantee}"'))
    for proc, grantee in conn.execute(
            "SELECT p.oid::regprocedure::text, g.rolname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,"
            " aclexplode(p.proacl) a JOIN pg_roles g ON g.oid = a.grantee"
            " WHERE n.nspname = 'public' AND a.grantee <> p.proowner ORDER BY 1, 2").fetchall():
        out.append((f"grant EXECUTE ON {proc} TO {grantee}", f'REVOKE EXECUTE ON FUNCTION {proc} FROM "{grantee}"'))
    for grantee, priv in conn.execute(
            "SELECT g.rolname, a.privilege_type FROM pg_namespace n, aclexplode(n.nspacl) a"
            " JOIN pg_roles g ON g.oid = a.grantee WHERE n.nspname = 'public' AND a.grantee <> n.nspowner"
            " ORDER BY 1, 2").fetchall():
        out.append((f"grant {priv} ON SCHEMA public TO {grantee}", f'REVOKE {priv} ON SCHEMA public FROM "{grantee}"'))
    if triggers:
        for table, name in conn.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal"
                " ORDER BY 1, 2").fetchall():
            out.append((f"trigger {table}.{name}", f'DROP TRIGGER "{name}" ON "{table}"'))
    return out


class _Failures:
    """A pytest plugin collecting the ids of the tests that failed (in any phase)."""

    def __init__(self) -> None:
        self.failed: set[str] = set()

    def pytest_runtest_logreport(self, report) -> None:
        if report.failed:
            self.failed.add(report.nodeid.split("::", 1)[1])

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.failed.add(f"<collection failed: {report.nodeid}>")


def _worker_init(env: dict) -> None:
    os.environ.update(env)
    os.chdir(ROOT)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - pytest's own report is not wanted here


def run_tests(mutation: str | None) -> tuple[set[str], float]:
    """Run the access tests in this (worker) process with ``mutation`` applied after
    set-up; returns the ids of the failing tests and the time taken."""
    import pytest

    if mutation:
        os.environ["RAPPORTKIT_TEST_MUTATION"] = mutation
    else:
        os.environ.pop("RAPPORTKIT_TEST_MUTATION", None)
    plugin = _Failures()
    start = time.monotonic()
    code = pytest.main(["-q", "-p", "no:cacheprovider", "-o", "addopts=", "tests/test_team_access.py"],
                       plugins=[plugin])
    if code not in (0, 1):
        plugin.failed.add(f"<pytest exited {int(code)}>")
    return plugin.failed, time.monotonic() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--match", default=None, help="only mutations whose label contains this")
    ap.add_argument("--triggers", action="store_true", help="drop each trigger too")
    ap.add_argument("--out", default=None, help="write the table (Markdown) to this file")
    args = ap.parse_args()

    import psycopg
    try:
        from rapportkit.pgcluster import Cluster
    except ImportError:  # older layout
        from pgcluster import Cluster
    from test_team_access import build_world

    cluster = Cluster().start()
    try:
        url = cluster.create_database("rk_access_template")
        failures = build_world(url)
        with psycopg.connect(url, autocommit=True) as conn:
            todo = mutations(conn, args.triggers)
        if args.match:
            todo = [m for m in todo if args.match in m[0]]
        scratch = Path(tempfile.mkdtemp(prefix="rk-mut-"))
        env = {"RAPPORTKIT_TEST_PG_HOST": str(cluster.dir), "RAPPORTKIT_TEST_ACCESS_TEMPLATE": "rk_access_template",
               "RAPPORTKIT_TEST_ACCESS_FAILURES": json.dumps(failures),
               "RAPPORTKIT_TEST_DB": str(scratch / "unused.db")}  # the root conftest: no demo database
        ctx = mp.get_context("spawn")
        results: dict[str, set[str]] = {}
        with cf.ProcessPoolExecutor(max_workers=args.jobs, mp_context=ctx, initializer=_worker_init,
                                    initargs=(env,)) as pool:
            baseline, took = pool.submit(run_tests, None).result()
            print(f"baseline: {len(baseline)} failing test(s) in {took:.1f}s; {len(todo)} mutations", flush=True)
            for name in sorted(baseline):
                print(f"  baseline red: {name}", flush=True)
            futures = [pool.submit(run_tests, sql) for _, sql in todo]
            for (label, sql), future in zip(todo, futures):
                red, secs = future.result()
                killed = red - baseline
                results[label] = killed
                print(f"{'KILLED' if killed else 'SURVIVED':8} {label}  ({len(killed)} red, {secs:.0f}s)", flush=True)

        lines = ["# Access matrix: mutation check", "",
                 f"{len(todo)} mutations (each policy dropped / each grant revoked alone, after set-up); "
                 f"baseline red: {len(baseline)} test(s) (known bugs, left out of the kills).", "",
                 "| mutation | tests that went red |", "|---|---|"]
        for label, killed in results.items():
            shown = ", ".join(sorted(killed)[:4]) + (f" … (+{len(killed) - 4})" if len(killed) > 4 else "")
            lines.append(f"| {label} | {len(killed)}: {shown} |" if killed else f"| {label} | **none (survived)** |")
        lines += ["", "Baseline red:", *[f"- {b}" for b in sorted(baseline)]]
        if args.out:
            Path(args.out).write_text("\n".join(lines) + "\n")
        survived = [label for label, killed in results.items() if not killed]
        print(f"\n{len(todo) - len(survived)} killed, {len(survived)} survived" + (f"; table in {args.out}" if args.out else ""))
        for label in survived:
            print(f"  survived: {label}")
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
