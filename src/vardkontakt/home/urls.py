from django.urls import path

from vardkontakt.home import pwa, views

app_name = "home"

urlpatterns = [
    path("", views.start, name="start"),
    path("home/", views.home, name="home"),
    path("patient/", views.patient_home, name="patient_home"),
    path("patient/notices/<uuid:notification_id>/", views.notice_open, name="notice_open"),
    path("patient/notices/<uuid:notification_id>/dismiss/", views.notice_dismiss, name="notice_dismiss"),
    path("patient/notices/dismiss/", views.notices_dismiss_all, name="notices_dismiss_all"),
    path("staff/", views.staff_home, name="staff_home"),
    path("healthz", views.healthz, name="healthz"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("service-worker.js", pwa.service_worker, name="service_worker"),
    path("offline/", pwa.offline, name="offline"),
]
