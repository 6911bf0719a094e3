"""The DATABASES setting: the primary (``DATABASE_URL``), PgBouncer's constraints on it, and the
read replica (``VK_REPLICA_DATABASE_URL``). Plain functions of the environment's values, so the
rules are tested without reloading the settings.

PgBouncer in *transaction* pooling mode gives a client a server connection for one transaction
at a time: anything that outlives a transaction on a server connection (session state) would
leak to another client or be lost. What Django and this project do on a connection, checked:

- server-side cursors (``QuerySet.iterator()``, the audit check) are named cursors declared
  ``WITH HOLD`` outside a transaction: off (``DISABLE_SERVER_SIDE_CURSORS``);
- prepared statements: psycopg 3 prepares a statement it has run five times unless
  ``prepare_threshold`` is None (PgBouncer 1.18 of Debian 12 does not track them); the settings
  turn them on, with server-side binding, for a direct connection, and this turns both off;
- ``SET TIME ZONE 'UTC'`` when the server's time zone differs: PgBouncer tracks TimeZone per
  client and restores it on every server connection it hands out; set the database's time zone
  to UTC (docs/operations.md) and the statement is never sent;
- no session settings, advisory locks, listen/notify or temporary tables anywhere in the code
  (``tests/core/test_databases.py`` searches for them); row locks (``select_for_update``) live
  inside transactions and are fine.

The ASGI process (the video signalling) may draw its connections from a pool in the process
(``VK_DB_POOL_SIZE``, psycopg's pool through Django's ``OPTIONS["pool"]``): every socket's database
call there runs in a thread of Channels' or asgiref's and, without a pool, opens and closes a
PostgreSQL connection of its own (``CONN_MAX_AGE`` must be 0 under ASGI). A pooled connection is
handed back at the end of each call, inside no transaction, so the pool also works in front of
PgBouncer in transaction mode; 0 turns it off.
"""

from __future__ import annotations

from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

POOLERS = ("", "pgbouncer")
REPLICA = "replica"
# How long a database call waits for a pooled connection before it fails (psycopg_pool.PoolTimeout).
POOL_WAIT_SECONDS = 10


def pooled(settings_dict: dict[str, Any], pooler: str) -> dict[str, Any]:
    """``settings_dict`` made safe for ``pooler`` ("" for a direct connection)."""
    if pooler not in POOLERS:
        raise ImproperlyConfigured(f"VK_DB_POOLER must be empty or 'pgbouncer', not {pooler!r}")
    if not pooler:
        return settings_dict
    if settings_dict.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured("VK_DB_POOLER=pgbouncer needs a PostgreSQL DATABASE_URL")
    # Parameters bound by the client again, as without prepared statements (the settings turn
    # both on for a direct connection).
    options = {name: value for name, value in settings_dict.get("OPTIONS", {}).items() if name != "server_side_binding"}
    return {**settings_dict, "DISABLE_SERVER_SIDE_CURSORS": True, "OPTIONS": {**options, "prepare_threshold": None}}


def with_pool(settings_dict: dict[str, Any], size: int) -> dict[str, Any]:
    """``settings_dict`` drawing its connections from a pool of at most ``size`` per process (0:
    unchanged). Django closes a pooled connection after every request or database call, which
    hands it back to the pool; a persistent connection (``CONN_MAX_AGE``) would keep it from the
    others, so it is 0 with a pool."""
    if size <= 0:
        return settings_dict
    if settings_dict.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured("VK_DB_POOL_SIZE needs a PostgreSQL DATABASE_URL (0 turns the pool off)")
    pool = {"min_size": min(2, size), "max_size": size, "timeout": POOL_WAIT_SECONDS}
    return {**settings_dict, "CONN_MAX_AGE": 0, "OPTIONS": {**settings_dict.get("OPTIONS", {}), "pool": pool}}


def replica_settings(url: str, *, connect_timeout: int) -> dict[str, Any]:
    """The replica's alias: read-only, a short connect timeout (a replica that is down must send
    the reads to the primary at once, not after the operating system's TCP timeout), and in the
    tests a mirror of the primary's test database name."""
    settings_dict: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    if settings_dict.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured("VK_REPLICA_DATABASE_URL must name a PostgreSQL streaming replica")
    settings_dict["OPTIONS"] = {**settings_dict.get("OPTIONS", {}), "connect_timeout": connect_timeout}
    settings_dict["TEST"] = {"MIRROR": "default"}
    return settings_dict
