"""Sum the CPU PostgreSQL logged per statement (``log_statement_stats``).

For finding where the database's time goes in a benchmark. ``BENCH_PG_STATS=1`` makes
bench/booking_rush.py turn the statistics on for its sequential sides (printing each side's
backend) and for every backend of its rounds (the log's byte range of each round goes into the
result, with the sums below per round).

``python bench/statement_stats.py PID|all [LOG [FROM TO]]`` prints, per statement shape (its first
words, numbers and quoted values blanked), how often it ran and its user + system CPU in total
and per run, most costly first: for one backend, or for every backend whose statements the log
holds between the byte offsets FROM and TO. LOG defaults to the machine's PostgreSQL 15 log.

A message's lines are written to the log in one piece, so its usage line belongs to the backend
of the "... STATISTICS" line before it, whichever backends' messages come between messages.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

USAGE = re.compile(r"!\s+([\d.]+) s user, ([\d.]+) s system, [\d.]+ s elapsed")
LITERAL = re.compile(r"'[^']*'|\b\d+\b|\$\d+")
BACKEND = re.compile(r"\[(\d+)\]")
# A simple query's message, or each step of an extended one (Django's statements with parameters).
STATISTICS = re.compile(r"LOG:  (QUERY|PARSE MESSAGE|BIND MESSAGE|EXECUTE MESSAGE) STATISTICS")
LOG = Path("/var/log/postgresql/postgresql-15-main.log")


def shape(statement: str) -> str:
    return LITERAL.sub("?", " ".join(statement.split()))[:140]


def log_lines(path: Path = LOG, start: int = 0, end: int | None = None) -> list[str]:
    """The log's lines between two byte offsets (whole lines only)."""
    with path.open("rb") as log:
        log.seek(start)
        raw = log.read(None if end is None else max(0, end - start))
    return raw.decode(errors="replace").splitlines()


def statement_totals(lines: Iterable[str], pid: str | None = None) -> dict[str, list[float]]:
    """{statement shape: [runs, CPU seconds]} for one backend, or for all (``pid=None``)."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    speaker: str | None = None  # the backend whose statistics message is being read
    cpu: float | None = None
    # A prepared statement's parse and bind add to its CPU, not to its runs: it runs once per
    # EXECUTE (or per simple QUERY).
    runs = 0
    for line in lines:
        backend = BACKEND.search(line[:60])
        message = STATISTICS.search(line) if backend else None
        if backend and message:
            speaker, cpu = backend[1], None
            runs = 1 if message[1] in ("QUERY", "EXECUTE MESSAGE") else 0
            continue
        found = USAGE.search(line)
        if found and speaker is not None and cpu is None:
            cpu = float(found[1]) + float(found[2])
        elif "STATEMENT:" in line and backend and backend[1] == speaker and cpu is not None:
            if pid is None or speaker == pid:
                entry = totals[shape(line.split("STATEMENT:", 1)[1])]
                entry[0] += runs
                entry[1] += cpu
            speaker, cpu = None, None
    return dict(totals)


def summary(totals: dict[str, list[float]], top: int = 12) -> dict[str, object]:
    """The totals as a result file keeps them: all statements, and the costliest shapes."""
    ordered = sorted(totals.items(), key=lambda item: -item[1][1])
    return {
        "statements": int(sum(n for n, _ in totals.values())),
        "cpu_ms": round(sum(cpu for _, cpu in totals.values()) * 1000, 1),
        "costliest": [
            {
                "statement": text,
                "runs": int(count),
                "cpu_ms": round(total * 1000, 1),
                "us_each": round(total / count * 1e6) if count else None,
            }
            for text, (count, total) in ordered[:top]
        ],
    }


def main() -> None:
    pid = None if sys.argv[1] == "all" else sys.argv[1]
    path = Path(sys.argv[2]) if len(sys.argv) > 2 else LOG
    start, end = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (0, None)
    totals = statement_totals(log_lines(path, start, end), pid)
    everything = sum(cpu for _, cpu in totals.values())
    print(f"{everything * 1000:.1f} ms of CPU in {sum(n for n, _ in totals.values()):.0f} statements")
    for text, (count, total) in sorted(totals.items(), key=lambda item: -item[1][1]):
        each = f"{total / count * 1e6:7.1f} us" if count else "   (not run)"
        print(f"{total * 1000:9.1f} ms {count:6.0f} x {each}  {text}")


if __name__ == "__main__":
    main()
