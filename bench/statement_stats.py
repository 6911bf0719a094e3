"""Sum the CPU PostgreSQL logged per statement (``log_statement_stats``) for one backend.

For finding where the database's time goes in a benchmark (``BENCH_PG_STATS=1`` makes
bench/booking_rush.py turn the statistics on for its sequential sides and print each side's
backend): ``python bench/statement_stats.py PID [LOG]`` prints, per statement shape (its first
words, numbers and quoted values blanked), how often it ran and its user + system CPU in total
and per run, most costly first. LOG defaults to the machine's PostgreSQL 15 log.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

USAGE = re.compile(r"!\s+([\d.]+) s user, ([\d.]+) s system, [\d.]+ s elapsed")
LITERAL = re.compile(r"'[^']*'|\b\d+\b|\$\d+")


def shape(statement: str) -> str:
    return LITERAL.sub("?", " ".join(statement.split()))[:140]


def main() -> None:
    pid = sys.argv[1]
    path = Path(sys.argv[2] if len(sys.argv) > 2 else "/var/log/postgresql/postgresql-15-main.log")
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    cpu: float | None = None
    pending = False
    marker = f"[{pid}]"
    lines = path.read_text(errors="replace").splitlines()
    for line in lines:
        found = USAGE.search(line)
        if found and cpu is None and pending:
            cpu = float(found[1]) + float(found[2])
        if marker not in line:
            continue
        if "STATISTICS" in line:
            pending, cpu = True, None
        elif "STATEMENT:" in line and cpu is not None:
            entry = totals[shape(line.split("STATEMENT:", 1)[1])]
            entry[0] += 1
            entry[1] += cpu
            pending, cpu = False, None
    everything = sum(cpu for _, cpu in totals.values())
    print(f"{everything * 1000:.1f} ms of CPU in {sum(n for n, _ in totals.values()):.0f} statements")
    for text, (count, total) in sorted(totals.items(), key=lambda item: -item[1][1]):
        print(f"{total * 1000:9.1f} ms {count:6.0f} x {total / count * 1e6:7.1f} us  {text}")


if __name__ == "__main__":
    main()
