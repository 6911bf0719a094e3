from django.urls import path

from vardkontakt.onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("units/interest/", views.interest, name="interest"),
    path("staff/onboarding/", views.onboarding_list, name="onboarding_list"),
    path("staff/onboarding/<uuid:onboarding_id>/", views.onboarding_detail, name="onboarding"),
    path("staff/units/<uuid:unit_id>/administration/", views.unit_admin, name="unit_admin"),
]
