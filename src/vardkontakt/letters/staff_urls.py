from django.urls import path

from vardkontakt.letters import staff_views

app_name = "letters_staff"

urlpatterns = [
    path("units/<uuid:unit_id>/letters/", staff_views.letter_texts, name="texts"),
    path("regions/<uuid:region_id>/letters/", staff_views.region_letter_rules, name="region_rules"),
]
