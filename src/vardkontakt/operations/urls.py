from django.urls import path

from vardkontakt.operations import views

app_name = "operations"

urlpatterns = [
    path("support/", views.support, name="support"),
    path("about/accessibility/", views.information_page, {"page": "accessibility"}, name="accessibility"),
    path("about/privacy/", views.information_page, {"page": "privacy"}, name="privacy"),
    path("about/", views.information_page, {"page": "about"}, name="about"),
]
