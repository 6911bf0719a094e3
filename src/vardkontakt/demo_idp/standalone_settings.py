"""The demo identity provider as its own service, apart from the platform.

``DJANGO_SETTINGS_MODULE=vardkontakt.demo_idp.standalone_settings`` serves only the provider's
endpoints (``/demo-idp/eid/…``, ``/demo-idp/siths/…``), so a showcase (and ``make deploy-smoke``) can
run the platform in production mode, configured like any installation with the provider as an
external issuer (``VK_OIDC_*_ISSUER``), while this process stands in for the e-ID and SITHS
providers (deploy/systemd/vardkontakt-demo-idp.service).

Everything else comes from the platform's settings, read from this process's own environment: it
needs ``VK_DEMO`` (the provider lets anyone log in as anyone and refuses to run in production),
``VK_DEMO_IDP_URL`` (its own public address, the base of its issuers), ``VK_SITE_URL`` (the
platform's address, for the registered callback URLs), the client ids and secrets the platform
uses (``VK_OIDC_{RESIDENT,STAFF}_CLIENT_{ID,SECRET}``) and its own ``DATABASE_URL``: it keeps its
authorization codes and its list of people apart from the platform's database.
"""

from django.core.exceptions import ImproperlyConfigured

from vardkontakt import settings as _platform
from vardkontakt.settings import *  # noqa: F403  (the platform's settings, with the overrides below)

if "vardkontakt.demo_idp" not in _platform.INSTALLED_APPS:
    raise ImproperlyConfigured("The demo provider on its own needs VK_DEMO=true (and VK_DEMO_IDP not false).")
if not _platform.DEMO_IDP_URL:
    raise ImproperlyConfigured("The demo provider on its own needs VK_DEMO_IDP_URL, its public base URL.")

ROOT_URLCONF = "vardkontakt.demo_idp.standalone_urls"
# The platform's CSRF failure page is framed by the platform's pages; Django's own has no links.
CSRF_FAILURE_VIEW = "django.views.csrf.csrf_failure"
