from django.urls import path

from vardkontakt.regions import catalogue_views, fee_views, information_views, rule_views, views

app_name = "regions"

urlpatterns = [
    path("regions/<uuid:region_id>/", views.overview, name="overview"),
    path("regions/<uuid:region_id>/rules/", rule_views.rules, name="rules"),
    path("regions/<uuid:region_id>/fees/", fee_views.fees, name="fees"),
    path("regions/<uuid:region_id>/catalogue/", catalogue_views.upload, name="catalogue"),
    path(
        "regions/<uuid:region_id>/catalogue/<uuid:import_id>/",
        catalogue_views.import_preview,
        name="catalogue_import",
    ),
    path("regions/<uuid:region_id>/administrations/", views.administrations, name="administrations"),
    path("regions/<uuid:region_id>/units/", views.units, name="units"),
    path("regions/<uuid:region_id>/units/new/", views.unit_create, name="unit_create"),
    path("region-units/<uuid:unit_id>/", views.unit_edit, name="unit_edit"),
    path("regions/<uuid:region_id>/staff/", views.staff_list, name="staff_list"),
    path("regions/<uuid:region_id>/staff/new/", views.staff_add, name="staff_add"),
    path("regions/<uuid:region_id>/staff/<uuid:staff_id>/", views.staff_detail, name="staff"),
    path("regions/<uuid:region_id>/pages/<slug:page>/", information_views.information_edit, name="information"),
]
