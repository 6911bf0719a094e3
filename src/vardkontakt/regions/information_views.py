"""The region administrator's page for the footer's information pages: each part in Swedish and English."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from vardkontakt.identity.decorators import StaffRequest, recent_login_required_for_changes, staff_required
from vardkontakt.operations import information
from vardkontakt.operations.models import InformationPage
from vardkontakt.regions import selectors


class InformationTextsForm(forms.Form):
    """Two boxes per part of the page: the Swedish text (required: every reader falls back to it) and
    the English one (empty: English readers see the Swedish text, marked as Swedish)."""

    def __init__(self, *args: object, page: str, initial_texts: dict[str, tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.parts = information.PARTS[page]
        for part in self.parts:
            text_sv, text_en = initial_texts[part.key]
            self.fields[f"{part.key}_sv"] = forms.CharField(
                label=_("%(part)s, in Swedish") % {"part": part.heading},
                max_length=information.TEXT_MAX_LENGTH,
                initial=text_sv,
                widget=forms.Textarea(attrs={"rows": 6}),
                error_messages={"required": _("Write the Swedish text of “%(part)s”.") % {"part": part.heading}},
            )
            self.fields[f"{part.key}_en"] = forms.CharField(
                label=_("%(part)s, in English") % {"part": part.heading},
                max_length=information.TEXT_MAX_LENGTH,
                required=False,
                initial=text_en,
                help_text=_("Leave it empty to show the Swedish text to readers in English."),
                widget=forms.Textarea(attrs={"rows": 6}),
            )

    def texts(self) -> dict[str, tuple[str, str]]:
        return {
            part.key: (self.cleaned_data[f"{part.key}_sv"], self.cleaned_data[f"{part.key}_en"]) for part in self.parts
        }


@staff_required
@recent_login_required_for_changes
@require_http_methods(["GET", "POST"])
def information_edit(request: StaffRequest, region_id: uuid.UUID, page: str) -> HttpResponse:
    region = selectors.region_for_admin(staff=request.staff, region_id=region_id)
    if page not in InformationPage.values:
        raise Http404
    form = InformationTextsForm(
        request.POST if request.method == "POST" else None,
        page=page,
        initial_texts=information.information_texts_of(region=region, page=page),
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = information.information_texts_save(region=region, page=page, by=request.staff, texts=form.texts())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The page is saved.") if changed else _("Nothing was changed."))
            return redirect("regions:information", region_id=region.id, page=page)
    context = {
        "region": region,
        "form": form,
        "page_kind": page,
        "title": information.TITLES[page],
        "pages": [(kind, information.TITLES[kind]) for kind in InformationPage.values],
    }
    return render(request, "regions/information_form.html", context, status=400 if form.errors else 200)
