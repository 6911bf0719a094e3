"""The resident's side: acting for someone, proxies, the seal, who has read my record."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vardkontakt.access import policy, selectors, services
from vardkontakt.access.acting import ACTING_FOR, acting_for
from vardkontakt.access.forms import AccessLogFilter, ProxyInviteForm, SealForm
from vardkontakt.access.policy import Relation
from vardkontakt.identity.decorators import PatientRequest, patient_required, recent_login_required


@patient_required
@require_POST
def acting_switch(request: PatientRequest) -> HttpResponse:
    found = selectors.representation_to_switch_to(reader=request.patient, subject_id=request.POST.get("subject", ""))
    request.session[ACTING_FOR] = str(found.subject.pk)
    messages.info(request, _("You now act for %(name)s.") % {"name": found.subject.full_name})
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("home:patient_home")


@patient_required
@require_GET
def proxies(request: PatientRequest) -> HttpResponse:
    # Reachable while acting for someone: it lists whom one acts for, and ending that is done here.
    me = request.patient
    given, held = selectors.proxies_of(patient=me)
    return render(
        request,
        "access/proxies.html",
        {"given": given, "held": held, "can_appoint": policy.can_appoint_proxy(me)},
    )


@patient_required
@recent_login_required
@require_http_methods(["GET", "POST"])
def proxy_invite(request: PatientRequest) -> HttpResponse:
    refused = own_account_only(request, what=_("Proxies"))
    if refused is not None:
        return refused
    me = request.patient
    if not policy.can_appoint_proxy(me):
        raise Http404
    initial = {"idempotency_key": uuid.uuid4().hex}
    stash = getattr(request, "stepup_stash", None)
    form = ProxyInviteForm(request.POST if request.method == "POST" else stash, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.proxy_invite(
                principal=me,
                agent_personnummer=data["personnummer"],
                scope_record=data["scope_record"],
                scope_cases=data["scope_cases"],
                scope_bookings=data["scope_bookings"],
                expires_on=data["expires_on"],
                idempotency_key=data["idempotency_key"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The request has been sent. The proxy must log in and accept it."))
            return redirect("access:proxies")
    return render(request, "access/proxy_invite.html", {"form": form})


@patient_required
@require_POST
def proxy_respond(request: PatientRequest, proxy_id: uuid.UUID, answer: str) -> HttpResponse:
    me = request.patient
    proxy = selectors.proxy_for_party(patient=me, proxy_id=str(proxy_id))
    if answer not in ("accept", "decline") or proxy.agent_id != me.pk:
        raise Http404
    try:
        services.proxy_respond(proxy=proxy, agent=me, accept=answer == "accept")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if answer == "accept":
            messages.success(request, _("You can now act for %(name)s.") % {"name": proxy.principal.full_name})
        else:
            messages.info(request, _("You declined the request."))
    return redirect("access:proxies")


@patient_required
@require_POST
def proxy_revoke(request: PatientRequest, proxy_id: uuid.UUID) -> HttpResponse:
    me = request.patient
    proxy = selectors.proxy_for_party(patient=me, proxy_id=str(proxy_id))
    services.proxy_revoke(proxy=proxy, by=me)
    messages.success(request, _("The proxy arrangement has ended."))
    return redirect("access:proxies")


def own_account_only(request: PatientRequest, *, what: str) -> HttpResponse | None:
    """Pages about the logged-in person's own account (the seal, settings) are not for someone
    else: while acting for another person they say so and offer to switch back, and change nothing.
    None when the person acts for themself."""
    acting = acting_for(request)
    if acting.relation is Relation.SELF:
        return None
    return render(
        request,
        "includes/own_account_only.html",
        {"what": what, "subject": acting.subject},
        status=403 if request.method == "POST" else 200,
    )


@patient_required
@recent_login_required
@require_http_methods(["GET", "POST"])
def seal(request: PatientRequest) -> HttpResponse:
    """Sealing is the person's own act for their own record (SPEC §7): never for someone acted for."""
    refused = own_account_only(request, what=_("Sealing a record"))
    if refused is not None:
        return refused
    me = request.patient
    current = selectors.active_seal(patient=me)
    form = SealForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and current is None and form.is_valid():
        services.record_seal(patient=me)
        messages.success(request, _("Your record is sealed. Nobody can read it online any more."))
        return redirect("access:seal")
    return render(
        request, "access/seal.html", {"form": form, "seal": current, "archive": selectors.archive_contact_of(me)}
    )


ACCESS_LOG_PAGE = 50


@patient_required
@require_GET
def access_log(request: PatientRequest) -> HttpResponse:
    """Who has read the record of the person acted for: oneself, or someone whose record one may
    read (a young child, a principal with the record scope); for anyone else, not reachable."""
    me = request.patient
    subject = acting_for(request).subject
    if subject.pk != me.pk and not policy.can_read_record(me, subject):
        return render(
            request, "includes/own_account_only.html", {"what": _("Who has read the record"), "subject": subject}
        )
    form = AccessLogFilter(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    readers = filters.get("readers") or "others"
    entries = selectors.record_readers_of(
        patient=subject, viewer=me, readers=readers, start=filters.get("start"), end=filters.get("end")
    )
    page = Paginator(entries, ACCESS_LOG_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "access/access_log.html",
        {
            "page": page,
            "form": form,
            "readers": readers,
            "query": query.urlencode(),
            "subject": subject,
            "acting_self": subject.pk == me.pk,
        },
    )
