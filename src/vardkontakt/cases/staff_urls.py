from django.urls import path

from vardkontakt.cases import staff_views

app_name = "cases_staff"

urlpatterns = [
    path("units/<uuid:unit_id>/inbox/", staff_views.inbox, name="inbox"),
    path("units/<uuid:unit_id>/services/", staff_views.unit_services, name="services"),
    path("units/<uuid:unit_id>/services/activate/", staff_views.service_activate, name="service_activate"),
    path("cases/<uuid:case_id>/", staff_views.case_detail, name="case"),
    path("cases/<uuid:case_id>/files/<uuid:attachment_id>/", staff_views.attachment, name="attachment"),
    path("cases/<uuid:case_id>/<str:action>/", staff_views.case_action, name="case_action"),
]
