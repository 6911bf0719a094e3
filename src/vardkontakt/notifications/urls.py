from django.urls import path

from vardkontakt.notifications import views

app_name = "notifications"

urlpatterns = [
    path("settings/push/", views.push_settings, name="push"),
    path("settings/push/subscriptions/", views.push_subscribe, name="push_subscribe"),
    path("settings/push/<uuid:subscription_id>/remove/", views.push_remove, name="push_remove"),
]
