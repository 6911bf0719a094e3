from django.urls import path

from vardkontakt.demo_idp import views

app_name = "demo_idp"

urlpatterns = [
    path("<str:tenant>/", views.root, name="root"),
    path("<str:tenant>/.well-known/openid-configuration", views.discovery, name="discovery"),
    path("<str:tenant>/jwks", views.jwks, name="jwks"),
    path("<str:tenant>/authorize", views.authorize, name="authorize"),
    path("<str:tenant>/token", views.token, name="token"),
]
