"""gunicorn settings for Vårdkontakt, for both of its web services:

- the pages: ``gunicorn -c deploy/gunicorn.conf.py vardkontakt.wsgi`` (vardkontakt-web.service),
  threaded workers (gthread): a login calls the identity provider over HTTP, and a thread waiting
  for PostgreSQL lets another one run; each thread keeps its database connection;
- the video visits' signalling sockets: ``VK_WEB_WORKER_CLASS=uvicorn_worker.UvicornWorker gunicorn
  -c deploy/gunicorn.conf.py --bind $VK_REALTIME_BIND vardkontakt.asgi:application``
  (vardkontakt-realtime.service; nginx sends only /video/ws/ there). Under uvicorn a synchronous
  database call runs in a thread of its own per request or socket, so connections are not kept
  between them (VK_DB_CONN_MAX_AGE=0, set below) but handed back to a pool in the worker
  (VK_DB_POOL_SIZE=10, set below; bench/waiting_room.py).

The pages stay on WSGI because everything measured of them (the booking rush, its waiting-room
gate, the database cost per booking) was measured so, and an ASGI server gains them nothing: every
view is synchronous. ``make demo`` serves both from one uvicorn process. Each value can be
overridden from the environment (``VK_WEB_*``), so one file serves this 2-core machine and a bigger
one; bench/booking_rush.py measured these (docs/benchmarks.md, booking_rush).

With gthread, each worker puts the booking waiting room's gate (``vardkontakt.core.waiting_room``) in front of
Django: in a rush a booking POST or confirmation page without a turn is answered 503 with
Retry-After before any middleware reads the session from the database. The threads must cover
the turns and both queues of the room (VK_WAITING_ROOM_CONCURRENCY + _QUEUE + _PAGE_QUEUE, 3 + 3
+ 4 by default) with some to spare, or requests queue inside gunicorn where the room cannot see
them. Each thread keeps its own database connection (60 s), so workers × threads connections.
(VK_WEB_THREADS only counts for gthread.)
"""

import os

bind = os.environ.get("VK_WEB_BIND", "127.0.0.1:8000")
UVICORN = "uvicorn_worker.UvicornWorker"
worker_class = os.environ.get("VK_WEB_WORKER_CLASS", "gthread")
workers = int(os.environ.get("VK_WEB_WORKERS", "2"))
threads = int(os.environ.get("VK_WEB_THREADS", "12"))
keepalive = int(os.environ.get("VK_WEB_KEEPALIVE", "5"))
timeout = 30
graceful_timeout = 10
backlog = 2048
worker_connections = 1000
control_socket_disable = True
# One import of the project in the master, shared by the workers.
preload_app = True
if worker_class == UVICORN:
    # Read by settings.py, which the preloaded application imports after this file.
    os.environ.setdefault("VK_DB_CONN_MAX_AGE", "0")
    # ... and draw them from a pool in the worker instead of opening one per socket's database
    # call (bench/waiting_room.py, docs/benchmarks.md). VK_DB_POOL_SIZE=0 turns it off.
    os.environ.setdefault("VK_DB_POOL_SIZE", "10")
    from uvicorn_worker import UvicornWorker

    # No permessage-deflate (which browsers offer and uvicorn accepts by default): the sockets'
    # messages are a few dozen bytes of JSON, and compressing them cost CPU on every place update
    # and tens of kilobytes of zlib state per socket, for thousands of sockets a worker.
    UvicornWorker.CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "ws_per_message_deflate": False}


def post_worker_init(worker):  # type: ignore[no-untyped-def]  (gunicorn's hook)
    # The gate is WSGI middleware: under uvicorn the booking views' own @waiting_room decorator
    # takes the turns (after the middleware has read the session, which costs more in a rush:
    # vardkontakt.core.waiting_room).
    if worker_class != UVICORN and os.environ.get("VK_WEB_WAITING_ROOM_GATE", "on") != "off":
        from vardkontakt.core.waiting_room import WaitingRoomGate

        worker.wsgi = WaitingRoomGate(worker.wsgi)
