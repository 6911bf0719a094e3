from django.urls import path  # noqa: F401 (the staff side adds its paths here)

app_name = "booking_staff"

urlpatterns: list = []
