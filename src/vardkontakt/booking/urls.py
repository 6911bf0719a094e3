from django.urls import path

from vardkontakt.booking import views

app_name = "booking"

urlpatterns = [
    path("bookings/", views.my_bookings, name="mine"),
    path("bookings/book/", views.choose_unit, name="choose_unit"),
    path("bookings/book/<uuid:unit_id>/", views.visit_types, name="visit_types"),
    path("bookings/book/<uuid:unit_id>/<uuid:visit_type_id>/", views.free_slots, name="slots"),
    path("bookings/book/<uuid:unit_id>/slot/<uuid:slot_id>/", views.book, name="book"),
    path(
        "bookings/book/<uuid:unit_id>/published/<uuid:schedule_id>/",
        views.external_slots_list,
        name="external_slots",
    ),
    path("bookings/book/<uuid:unit_id>/published-slot/<uuid:slot_id>/", views.external_book, name="external_book"),
    path("bookings/calendar/", views.calendar_feed_settings, name="calendar_settings"),
    path("bookings/calendar/new/", views.calendar_feed_new, name="calendar_new"),
    path("bookings/<uuid:booking_id>/", views.detail, name="detail"),
    path("bookings/<uuid:booking_id>/cancel/", views.cancel, name="cancel"),
    path("bookings/<uuid:booking_id>/check-in/", views.check_in, name="check_in"),
    path("bookings/<uuid:booking_id>/rebook/", views.rebook, name="rebook"),
    path("bookings/<uuid:booking_id>/calendar.ics", views.booking_ics, name="ics"),
    path("bookings/<uuid:booking_id>/earlier/", views.earlier_ask, name="earlier_ask"),
    path("bookings/<uuid:booking_id>/earlier/withdraw/", views.earlier_withdraw, name="earlier_withdraw"),
    path("bookings/external/<uuid:appointment_id>/", views.external_detail, name="external_detail"),
    path("bookings/external/<uuid:appointment_id>/request/", views.external_request, name="external_request"),
    path("bookings/external/<uuid:appointment_id>/cancel/", views.external_cancel, name="external_cancel"),
    path("bookings/offers/<uuid:offer_id>/claim/", views.offer_claim, name="offer_claim"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
