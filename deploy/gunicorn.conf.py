"""gunicorn settings for Vårdkontakt: ``gunicorn vardkontakt.wsgi -c deploy/gunicorn.conf.py``.

Threaded workers (gthread): a login calls the identity provider over HTTP, and a thread waiting
for PostgreSQL lets another one run. Each value can be overridden from the environment
(``VK_WEB_*``), so one file serves this 2-core machine and a bigger one; bench/booking_rush.py
measured these (docs/benchmarks.md, booking_rush).

Each worker puts the booking waiting room's gate (``vardkontakt.core.waiting_room``) in front of
Django: in a rush a booking POST or confirmation page without a turn is answered 503 with
Retry-After before any middleware reads the session from the database. The threads must cover
the turns and both queues of the room (VK_WAITING_ROOM_CONCURRENCY + _QUEUE + _PAGE_QUEUE, 3 + 3
+ 4 by default) with some to spare, or requests queue inside gunicorn where the room cannot see
them. Each thread keeps its own database connection (60 s), so workers × threads connections.
"""

import os

bind = os.environ.get("VK_WEB_BIND", "127.0.0.1:8000")
worker_class = "gthread"
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


def post_worker_init(worker):  # type: ignore[no-untyped-def]  (gunicorn's hook)
    if os.environ.get("VK_WEB_WAITING_ROOM_GATE", "on") != "off":
        from vardkontakt.core.waiting_room import WaitingRoomGate

        worker.wsgi = WaitingRoomGate(worker.wsgi)
