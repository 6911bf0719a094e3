from django.urls import path

from vardkontakt.fees import views

app_name = "fees"

urlpatterns = [
    path("high-cost-protection/", views.high_cost, name="high_cost"),
    path("staff/frikort/verify/", views.verify, name="verify"),
    path("staff/fees/register/", views.register, name="register"),
]
