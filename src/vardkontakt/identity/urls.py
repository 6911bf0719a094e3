from django.urls import path

from vardkontakt.identity import views

app_name = "identity"

urlpatterns = [
    path("login/", views.login_choice, name="login"),
    path("login/<str:side>/", views.login_start, name="login_start"),
    path("login/<str:side>/callback/", views.oidc_callback, name="oidc_callback"),
    path("logout/", views.logout_view, name="logout"),
    path("settings/", views.patient_settings, name="patient_settings"),
    path("staff/settings/", views.staff_settings, name="staff_settings"),
]
