from django.urls import path

from vardkontakt.fhir import auth, views

app_name = "fhir"

# No trailing slashes: FHIR clients build URLs as [base]/[type]/[id].
urlpatterns = [
    path("fhir", views.base, name="base"),
    path("fhir/metadata", views.metadata, name="metadata"),
    path("fhir/auth/token", auth.token, name="token"),
    path("fhir/Appointment/_history", views.appointment_history, name="appointment_history"),
    path("fhir/Appointment/$book", views.appointment_book, name="appointment_book"),
    path("fhir/Appointment/<str:ident>/$cancel", views.appointment_cancel, name="appointment_cancel"),
    path("fhir/<str:resource_type>", views.type_endpoint, name="type"),
    path("fhir/<str:resource_type>/_search", views.search, name="search"),
    path("fhir/<str:resource_type>/<str:ident>", views.instance, name="instance"),
]
