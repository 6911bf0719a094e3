"""The demo provider served on its own: its endpoints and nothing of the platform."""

from django.urls import include, path

urlpatterns = [path("demo-idp/", include("vardkontakt.demo_idp.urls"))]
