"""bench/statement_stats.py: each statement's CPU from PostgreSQL's log, and how often it ran."""

from __future__ import annotations

import datetime as dt

from bench.statement_stats import statement_totals


def _message(pid: int, kind: str, user: float, system: float, statement: str) -> list[str]:
    # The log line's own time is not read: any will do, the clock's as well as another.
    at = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S.%f}"[:23] + f" UTC [{pid}] postgres@db"
    return [
        f"{at} LOG:  {kind} STATISTICS",
        f"{at} DETAIL:  ! system usage stats:",
        f"\t!\t{user:.6f} s user, {system:.6f} s system, 0.000100 s elapsed",
        f"{at} STATEMENT:  {statement}",
    ]


def test_a_prepared_statement_runs_once_per_execute_and_its_parse_and_bind_cost_count():
    select = 'SELECT "x" FROM "t" WHERE "id" = $1'
    lines = [
        *_message(7, "PARSE MESSAGE", 0.000010, 0.0, select),
        *_message(7, "BIND MESSAGE", 0.000020, 0.0, select),
        *_message(7, "EXECUTE MESSAGE", 0.000030, 0.000010, select),
        *_message(7, "BIND MESSAGE", 0.000020, 0.0, select),
        *_message(7, "EXECUTE MESSAGE", 0.000030, 0.0, select),
        *_message(7, "QUERY", 0.000005, 0.0, "COMMIT"),
        *_message(8, "QUERY", 0.000100, 0.0, "COMMIT"),  # another backend's
    ]
    totals = statement_totals(lines, pid="7")
    runs, cpu = totals['SELECT "x" FROM "t" WHERE "id" = ?']
    assert runs == 2 and round(cpu * 1e6) == 120
    assert totals["COMMIT"][0] == 1
    assert statement_totals(lines)["COMMIT"][0] == 2
