"""The project's WSGI application with bench/booking_rush_urls.py's URLs (the project's own plus
the bare views the benchmark calibrates with). Only bench/booking_rush.py serves this."""

from django.conf import settings

from vardkontakt.wsgi import application

settings.ROOT_URLCONF = "bench.booking_rush_urls"

__all__ = ["application"]
