from django.urls import path

from vardkontakt.access import views

app_name = "access"

urlpatterns = [
    path("acting-for/", views.acting_switch, name="acting_switch"),
    path("proxies/", views.proxies, name="proxies"),
    path("proxies/new/", views.proxy_invite, name="proxy_invite"),
    path("proxies/<uuid:proxy_id>/revoke/", views.proxy_revoke, name="proxy_revoke"),
    path("proxies/<uuid:proxy_id>/<str:answer>/", views.proxy_respond, name="proxy_respond"),
    path("record/seal/", views.seal, name="seal"),
    path("record/access-log/", views.access_log, name="access_log"),
]
