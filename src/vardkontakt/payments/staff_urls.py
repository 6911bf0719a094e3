from django.urls import path

from vardkontakt.payments import staff_views

app_name = "payments_staff"

urlpatterns = [
    path("units/<uuid:unit_id>/payments/", staff_views.unit_payments, name="unit_payments"),
    path("payments/<uuid:payment_id>/refund/", staff_views.refund, name="refund"),
    path("regions/<uuid:region_id>/payments/", staff_views.region_payments, name="region_payments"),
    path("regions/<uuid:region_id>/payments/bank-file/", staff_views.bank_import, name="bank_import"),
    path("regions/<uuid:region_id>/invoices/<str:day>.csv", staff_views.invoice_export, name="invoice_export"),
]
