from django.urls import path

from vardkontakt.cases import views

app_name = "cases"

urlpatterns = [
    path("cases/", views.my_cases, name="mine"),
    path("cases/new/", views.choose_unit, name="choose_unit"),
    path("cases/new/<uuid:unit_id>/", views.choose_service, name="choose_service"),
    path("cases/new/<uuid:unit_id>/<uuid:service_id>/", views.write, name="write"),
    path("cases/<uuid:case_id>/", views.detail, name="detail"),
    path("cases/<uuid:case_id>/answer/", views.answer, name="answer"),
    path("cases/<uuid:case_id>/withdraw/", views.withdraw, name="withdraw"),
    path("cases/<uuid:case_id>/files/<uuid:attachment_id>/", views.attachment, name="attachment"),
]
