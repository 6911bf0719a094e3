from django.urls import path

from vardkontakt.letters import views

app_name = "letters"

urlpatterns = [
    path("letters/", views.inbox, name="inbox"),
    path("letters/<uuid:letter_id>/", views.detail, name="detail"),
    path("letters/<uuid:letter_id>/letter.pdf", views.letter_pdf, name="pdf"),
]
