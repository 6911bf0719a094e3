from django.urls import path

from vardkontakt.cases import staff_views

app_name = "cases_staff"

urlpatterns = [
    path("units/<uuid:unit_id>/inbox/", staff_views.inbox, name="inbox"),
    path("units/<uuid:unit_id>/services/", staff_views.unit_services, name="services"),
    path("units/<uuid:unit_id>/services/activate/", staff_views.service_activate, name="service_activate"),
    path("units/<uuid:unit_id>/services/<uuid:service_id>/", staff_views.service_edit, name="service_edit"),
    path("regions/<uuid:region_id>/forms/", staff_views.region_forms, name="region_forms"),
    path("regions/<uuid:region_id>/forms/<str:kind>/", staff_views.region_form_edit, name="region_form_edit"),
    path("cases/<uuid:case_id>/", staff_views.case_detail, name="case"),
    path("cases/<uuid:case_id>/files/<uuid:attachment_id>/", staff_views.attachment, name="attachment"),
    path("cases/<uuid:case_id>/<str:action>/", staff_views.case_action, name="case_action"),
]
