"""Importing an HSA catalogue extract (regions/catalogue.py): 10,000 persons against 1,000.

In one throwaway PostgreSQL database (``vk_bench_hsa_import`` on 127.0.0.1:5432, created, migrated,
dropped at the end; a temporary SQLite file when PostgreSQL does not answer — the JSON says which),
each measurement on a region of its own (so earlier imports do not weigh on later ones), with an
invented CSV extract (bench/hsa_extract.py: every tenth person at two units, some places with
start and end dates) of 1,000 persons at 10 units and 10,000 persons at 100 units:

- **time** of the whole import as the page does it — read and keep the extract (``upload``),
  compare it with the database (``preview``), apply it in one transaction (``apply``) — each step
  timed; the 1,000-person import three times (median), the 10,000-person one twice (median);
- **time of applying the same extract again** (it must change nothing);
- **memory**: the peak of Python's allocations (tracemalloc) during a whole import, in a run of its
  own (tracemalloc slows the code it watches).

Linear means the 10k ÷ 1k ratios stay near 10 (above it: something grows faster than the extract).
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench import record as shared
from bench.hsa_extract import extract_rows, to_csv

shared.DB_NAME = "vk_bench_hsa_import"  # its own throwaway database, whatever else runs
SMALL, BIG = 1_000, 10_000


def one_import(size: int, number: int, today: dt.date) -> dict[str, float]:
    from vardkontakt.organisation.models import Administration, Region
    from vardkontakt.regions import catalogue

    region = Region.objects.create(name=f"Bench {size} {number}")
    Administration.objects.create(region=region, name="Bench")
    first = number * 100_000
    content = to_csv(
        extract_rows(size, units=size // 100, administration="Bench", today=today, first=first, first_unit=first // 10)
    )
    times: dict[str, float] = {}
    began = time.perf_counter()
    stored = catalogue.upload(region=region, by=None, content=content, file_name="bench.csv")
    times["upload_s"] = time.perf_counter() - began
    began = time.perf_counter()
    plan = catalogue.preview(stored)
    times["preview_s"] = time.perf_counter() - began
    assert len(plan.persons_added) == size
    began = time.perf_counter()
    catalogue.apply(stored, by=None)
    times["apply_s"] = time.perf_counter() - began
    times["total_s"] = times["upload_s"] + times["preview_s"] + times["apply_s"]
    again = catalogue.upload(region=region, by=None, content=content, file_name="bench.csv")
    began = time.perf_counter()
    assert catalogue.apply(again, by=None) == {}
    times["again_s"] = time.perf_counter() - began
    return times


def peak_memory(size: int, number: int, today: dt.date) -> float:
    tracemalloc.start()
    one_import(size, number, today)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(run[key] for run in runs), 3) for key in runs[0]}


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as var, shared.throwaway_database(Path(var)) as database:
        import os

        os.environ["VK_VAR_DIR"] = var
        shared.django_setup()
        from django.core.management import call_command
        from django.utils import timezone

        shared.step("migrate", lambda: call_command("migrate", verbosity=0))
        today = timezone.localdate()
        number = iter(range(1, 100))
        small = median_of(
            [shared.step(f"{SMALL} persons", lambda: one_import(SMALL, next(number), today)) for _ in range(3)]
        )
        big = median_of([shared.step(f"{BIG} persons", lambda: one_import(BIG, next(number), today)) for _ in range(2)])
        small_mb = shared.step("memory 1k", lambda: peak_memory(SMALL, next(number), today))
        big_mb = shared.step("memory 10k", lambda: peak_memory(BIG, next(number), today))
    ratios = {key: round(big[key] / small[key], 2) for key in small if small[key]}
    result: dict[str, Any] = {
        "database": database,
        "small": {"persons": SMALL, **small, "peak_mb": round(small_mb, 1)},
        "big": {"persons": BIG, **big, "peak_mb": round(big_mb, 1)},
        "ratio_time": ratios,
        "ratio_memory": round(big_mb / small_mb, 2),
        "per_person_ms": {
            "small": round(small["total_s"] / SMALL * 1000, 3),
            "big": round(big["total_s"] / BIG * 1000, 3),
        },
    }
    print(f"total 10k ÷ 1k: {ratios['total_s']}, memory 10k ÷ 1k: {result['ratio_memory']}", file=sys.stderr)
    return result
