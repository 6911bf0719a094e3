from django.urls import path

from vardkontakt.payments import views

app_name = "payments"

urlpatterns = [
    path("payments/", views.payments_list, name="list"),
    path("payments/fees/<uuid:fee_id>/pay/", views.pay_fee, name="pay_fee"),
    path("payments/<uuid:payment_id>/", views.payment_status, name="status"),
    path("payments/<uuid:payment_id>/cancel/", views.payment_cancel, name="cancel"),
    path("payments/<uuid:payment_id>/receipt/", views.receipt_pdf, name="receipt"),
    path("payments/invoices/<uuid:invoice_id>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("payments/callbacks/swish/", views.swish_callback, name="swish_callback"),
    path("payments/callbacks/card/", views.card_webhook, name="card_webhook"),
]
