"""The region administrator's import of an HSA catalogue extract: upload, preview, apply (issue 15 §3)."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from vardkontakt.identity.decorators import StaffRequest, recent_login_required_for_actions, staff_required
from vardkontakt.regions import catalogue, selectors
from vardkontakt.regions.catalogue_format import ExtractError
from vardkontakt.regions.models import CatalogueImport

MAX_BYTES = 50 * 1024 * 1024  # an extract of a large region's 30,000 persons is about 3 MB


class ExtractForm(forms.Form):
    extract = forms.FileField(
        label=gettext_lazy("Extract of the HSA catalogue"),
        help_text=gettext_lazy("A CSV or JSON file in UTF-8, laid out as the administrator manual describes."),
    )

    def clean_extract(self) -> str:
        upload = self.cleaned_data["extract"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB."))
        try:
            return str(upload.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from None


@staff_required
@recent_login_required_for_actions()
@require_http_methods(["GET", "POST"])
def upload(request: StaffRequest, region_id: uuid.UUID) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    posted = request.method == "POST"
    form = ExtractForm(request.POST if posted else None, request.FILES if posted else None)
    if request.method == "POST" and form.is_valid():
        name = str(getattr(request.FILES.get("extract"), "name", "") or "")
        try:
            stored = catalogue.upload(
                region=region, by=request.staff, content=form.cleaned_data["extract"], file_name=name
            )
        except ExtractError as problems:
            for problem in problems.messages:
                form.add_error("extract", problem)
        else:
            return redirect("regions:catalogue_import", region_id=region.id, import_id=stored.id)
    context = {"region": region, "form": form, "latest": catalogue.latest_import(region)}
    return render(request, "regions/catalogue_upload.html", context, status=400 if form.errors else 200)


@staff_required
@recent_login_required_for_actions()
@require_http_methods(["GET", "POST"])
def import_preview(request: StaffRequest, region_id: uuid.UUID, import_id: uuid.UUID) -> HttpResponse:
    """What the extract would change; applying it (POST) does all of it in one transaction or nothing."""
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    stored = CatalogueImport.objects.filter(pk=import_id, region=region).first()
    if stored is None:
        raise Http404
    error = ""
    if request.method == "POST" and stored.applied_at is not None:  # a double submit
        messages.info(request, _("The extract was applied already: nothing was changed."))
        return redirect("regions:catalogue", region_id=region.id)
    if request.method == "POST":
        try:
            changed = catalogue.apply(stored, by=request.staff)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            if changed:
                messages.success(request, _("The extract is applied."))
            else:
                messages.success(request, _("The extract was applied already: nothing was changed."))
            return redirect("regions:catalogue", region_id=region.id)
    plan = None
    if stored.applied_at is None:
        try:
            plan = catalogue.preview(stored)
        except ValidationError as refused:
            error = " ".join(refused.messages)
    context = {"region": region, "stored": stored, "plan": plan, "error": error, "shown": catalogue.SHOWN}
    failed = request.method == "POST" or bool(error)
    return render(request, "regions/catalogue_preview.html", context, status=400 if failed else 200)
