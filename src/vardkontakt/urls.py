from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import set_language

from vardkontakt.core.url_index import FirstSegmentIndex
from vardkontakt.identity.decorators import public

site: list[URLPattern | URLResolver] = [
    path("", include("vardkontakt.home.urls")),
    path("", include("vardkontakt.identity.urls")),
    path("", include("vardkontakt.notifications.urls")),
    path("", include("vardkontakt.access.urls")),
    path("staff/", include("vardkontakt.access.staff_urls")),
    path("", include("vardkontakt.cases.urls")),
    path("", include("vardkontakt.records.urls")),
    path("", include("vardkontakt.fees.urls")),
    path("", include("vardkontakt.fhir.urls")),
    path("", include("vardkontakt.booking.urls")),
    path("", include("vardkontakt.letters.urls")),
    path("", include("vardkontakt.kiosk.urls")),
    path("staff/", include("vardkontakt.kiosk.staff_urls")),
    path("", include("vardkontakt.video.urls")),
    path("", include("vardkontakt.onboarding.urls")),
    path("staff/", include("vardkontakt.booking.staff_urls")),
    path("staff/", include("vardkontakt.letters.staff_urls")),
    path("staff/", include("vardkontakt.video.staff_urls")),
    path("", include("vardkontakt.payments.urls")),
    path("staff/", include("vardkontakt.payments.staff_urls")),
    path("staff/", include("vardkontakt.cases.staff_urls")),
    path("", include("vardkontakt.operations.urls")),
    path("staff/", include("vardkontakt.operations.staff_urls")),
    path("staff/", include("vardkontakt.regions.urls")),
    path("", include("vardkontakt.usage_statistics.urls")),
    path("i18n/setlang/", public(set_language), name="set_language"),
]

if settings.DEMO_IDP_ENABLED:
    site.append(path("demo-idp/", include("vardkontakt.demo_idp.urls")))

# Resolved by first segment (core/url_index.py); the list keeps its order for everything else.
urlpatterns = [FirstSegmentIndex(site)]

handler400 = "vardkontakt.core.views.bad_request"
handler403 = "vardkontakt.core.views.permission_denied"
handler404 = "vardkontakt.core.views.page_not_found"
handler500 = "vardkontakt.core.views.server_error"
