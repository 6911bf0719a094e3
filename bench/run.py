"""Run one benchmark from bench/ and write bench/results/NAME.json.

Every benchmark measures its subject against a baseline measured in the same run on the same
machine, and reports the ratio: absolute times vary between machines, ratios much less.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: bench/run.py NAME", file=sys.stderr)
        return 2
    name = sys.argv[1]
    # Python puts this script's folder (bench/) first on the path, where bench/statistics.py would
    # shadow the standard library's statistics for every import in the process. Import as bench.NAME.
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(ROOT), *(entry for entry in sys.path if Path(entry or ".").resolve() != here)]
    module = importlib.import_module(f"bench.{name}")
    result = {"name": name, "machine": machine(), **module.run()}
    out = ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
