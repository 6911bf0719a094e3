from django.urls import path

from vardkontakt.home import views

app_name = "home"

urlpatterns = [
    path("", views.start, name="start"),
    path("home/", views.home, name="home"),
    path("patient/", views.patient_home, name="patient_home"),
    path("staff/", views.staff_home, name="staff_home"),
    path("healthz", views.healthz, name="healthz"),
]
