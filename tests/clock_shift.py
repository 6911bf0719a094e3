"""`pytest --clock-shift=SPEC`: run the whole suite as if it were another day.

A test that writes a literal date and combines it with the real clock passes on the day it was
written and fails some day later. Running the suite a second time with the clock moved far ahead
finds such tests the day they are written instead. The shift is made with time-machine when pytest
starts, in every process (each xdist worker loads this plugin too), so the code under test, the
live server's threads and the tests themselves all see the same moved clock; the clock keeps
ticking from there.

SPEC is one of:
- ``400d``: 400 days from now;
- ``400d,feb29``: the first 29 February at least 400 days from now, at the same time of day;
- ``2028-02-29``: that day, at the same time of day.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

SHIFT = re.compile(r"^(?P<days>\d+)d(?P<leap>,feb29)?$")


def destination_for(spec: str, now: dt.datetime) -> dt.datetime:
    """The moment the suite should start at, for a SPEC read against `now` (aware, UTC)."""
    spec = spec.strip().lower()
    shift = SHIFT.match(spec)
    if shift:
        at_least = now + dt.timedelta(days=int(shift["days"]))
        if not shift["leap"]:
            return at_least
        year = at_least.year
        while True:
            try:
                leap_day = dt.date(year, 2, 29)
            except ValueError:
                year += 1
                continue
            if leap_day >= at_least.date():
                return now + dt.timedelta(days=(leap_day - now.date()).days)
            year += 1
    try:
        day = dt.date.fromisoformat(spec)
    except ValueError:
        raise pytest.UsageError(f"--clock-shift: {spec!r} is not '<N>d', '<N>d,feb29' or a date (YYYY-MM-DD)") from None
    return now + dt.timedelta(days=(day - now.date()).days)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-shift",
        metavar="SPEC",
        default=None,
        help="run the suite with the clock moved: '400d', '400d,feb29' (the first 29 February at least "
        "400 days ahead) or a date (YYYY-MM-DD); the clock keeps ticking from there",
    )


def pytest_configure(config: pytest.Config) -> None:
    spec = config.getoption("--clock-shift")
    if not spec:
        return
    import time_machine

    # The controller of an xdist run computes the moment once and hands it to its workers, so
    # every process starts from the same day even if the run began a second before midnight.
    worker_input: dict[str, Any] | None = getattr(config, "workerinput", None)
    if worker_input is not None and "clock_shift_to" in worker_input:
        destination = dt.datetime.fromisoformat(worker_input["clock_shift_to"])
    else:
        destination = destination_for(spec, dt.datetime.now(dt.UTC))
    traveller = time_machine.travel(destination, tick=True)
    traveller.start()
    config.stash[_TRAVEL] = (traveller, destination)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist hook (controller side): give each worker the controller's destination."""
    travel = node.config.stash.get(_TRAVEL, None)
    if travel is not None:
        node.workerinput["clock_shift_to"] = travel[1].isoformat()


def pytest_unconfigure(config: pytest.Config) -> None:
    travel = config.stash.get(_TRAVEL, None)
    if travel is not None:
        travel[0].stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    travel = config.stash.get(_TRAVEL, None)
    if travel is None:
        return None
    from zoneinfo import ZoneInfo

    local = travel[1].astimezone(ZoneInfo("Europe/Stockholm"))
    return f"clock shifted ({config.getoption('--clock-shift')}): the suite starts at {local:%Y-%m-%d %H:%M} Stockholm time"


_TRAVEL = pytest.StashKey[tuple[Any, dt.datetime]]()
