from django.urls import path

from vardkontakt.operations import views

app_name = "operations_staff"

urlpatterns = [
    path("regions/<uuid:region_id>/operational-messages/", views.message_list, name="messages"),
    path("regions/<uuid:region_id>/operational-messages/new/", views.message_create, name="message_create"),
    path("operational-messages/<uuid:message_id>/", views.message_edit, name="message_edit"),
    path("operational-messages/<uuid:message_id>/end/", views.message_end, name="message_end"),
    path("support/lookup/", views.support_lookup, name="support_lookup"),
]
