from django.urls import path

from vardkontakt.booking import staff_views

app_name = "booking_staff"

urlpatterns = [
    # The appointment book: every member of the unit.
    path("units/<uuid:unit_id>/appointments/", staff_views.book, name="book"),
    path("units/<uuid:unit_id>/appointments/slots/<uuid:slot_id>/", staff_views.slot, name="slot"),
    path("units/<uuid:unit_id>/appointments/slots/<uuid:slot_id>/overbook/", staff_views.overbook, name="overbook"),
    path("units/<uuid:unit_id>/appointments/bookings/<uuid:booking_id>/cancel/", staff_views.cancel, name="cancel"),
    path("units/<uuid:unit_id>/appointments/release/", staff_views.release, name="release"),
    path("units/<uuid:unit_id>/appointments/arrivals/", staff_views.arrivals, name="arrivals"),
    path(
        "units/<uuid:unit_id>/appointments/bookings/<uuid:booking_id>/missed/",
        staff_views.mark_missed,
        name="missed",
    ),
    path(
        "units/<uuid:unit_id>/appointments/bookings/<uuid:booking_id>/missed/undo/",
        staff_views.undo_missed,
        name="missed_undo",
    ),
    path("units/<uuid:unit_id>/appointments/waiting-list/", staff_views.waiting_list, name="waiting_list"),
    # The set-up: the unit's administrators.
    path("units/<uuid:unit_id>/booking-setup/", staff_views.setup, name="setup"),
    path("units/<uuid:unit_id>/booking-setup/visit-types/new/", staff_views.visit_type_new, name="visit_type_new"),
    path(
        "units/<uuid:unit_id>/booking-setup/visit-types/<uuid:visit_type_id>/",
        staff_views.visit_type_edit,
        name="visit_type_edit",
    ),
    path("units/<uuid:unit_id>/booking-setup/blocks/new/", staff_views.template_new, name="template_new"),
    path(
        "units/<uuid:unit_id>/booking-setup/blocks/<uuid:template_id>/delete/",
        staff_views.template_delete,
        name="template_delete",
    ),
    path("units/<uuid:unit_id>/booking-setup/absences/new/", staff_views.exception_new, name="exception_new"),
    path(
        "units/<uuid:unit_id>/booking-setup/absences/<uuid:exception_id>/delete/",
        staff_views.exception_delete,
        name="exception_delete",
    ),
    path("units/<uuid:unit_id>/booking-setup/roll/", staff_views.roll, name="roll"),
    path("units/<uuid:unit_id>/booking-setup/days-off/", staff_views.day_off, name="day_off"),
    path("units/<uuid:unit_id>/booking-coverage/", staff_views.coverage_page, name="coverage"),
]
