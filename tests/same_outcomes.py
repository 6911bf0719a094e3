"""Compare two runs of the suite (JUnit XML): every test of the second run must have ended as it
did in the first. `make test-shifted` uses it to hold the run with the clock moved against today's.

    python tests/same_outcomes.py var/test-results/today.xml var/test-results/shifted.xml

Tests the second run leaves out on purpose (the browser tests) are named with --leave-out. Any
other test that ran in one and not in the other is a difference too.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def outcomes(report: Path) -> dict[str, str]:
    """Test id -> passed / failed / error / skipped, from a JUnit XML report."""
    found: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314
        test_id = f"{case.get('classname')}::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "failed" if child.tag == "failure" else child.tag
                break
        # A test can be reported twice (an error in teardown after a pass): the worse one counts.
        if found.get(test_id) not in ("failed", "error"):
            found[test_id] = outcome
    return found


def differences(first: dict[str, str], second: dict[str, str], excluded: tuple[str, ...]) -> list[str]:
    lines = []
    for test_id in sorted(first.keys() | second.keys()):
        if test_id.startswith(excluded):
            continue
        before, after = first.get(test_id, "not run"), second.get(test_id, "not run")
        if before != after:
            lines.append(f"{test_id}: {before} today, {after} with the clock moved")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path, help="the report of the run today")
    parser.add_argument("second", type=Path, help="the report of the run with the clock moved")
    parser.add_argument(
        "--leave-out",
        action="append",
        default=[],
        metavar="PREFIX",
        help="test ids starting so were left out of the second run on purpose (e.g. tests.browser.)",
    )
    options = parser.parse_args(argv)
    second = outcomes(options.second)
    if not options.first.exists():
        print(f"{options.first} is missing (run `make test` first): only failures are checked")
        first = {test_id: "passed" for test_id, outcome in second.items() if outcome not in ("failed", "error")}
    else:
        first = outcomes(options.first)
    found = differences(first, second, tuple(options.leave_out))
    for line in found:
        print(line)
    print(f"{len(second)} tests compared, {len(found)} differ")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
