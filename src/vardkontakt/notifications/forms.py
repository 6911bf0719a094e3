from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from vardkontakt.notifications import webpush


class PushSubscriptionForm(forms.Form):
    """What the browser's PushSubscription.toJSON() gives: {endpoint, expirationTime, keys: {p256dh, auth}}
    (the view lifts the keys up one level)."""

    endpoint = forms.URLField(max_length=1000, assume_scheme="https")
    p256dh = forms.CharField(max_length=100)
    auth = forms.CharField(max_length=32)

    def clean_endpoint(self) -> str:
        endpoint: str = self.cleaned_data["endpoint"]
        if not webpush.endpoint_allowed(endpoint):
            raise forms.ValidationError(_("This browser's push service is not one we can send to."), code="service")
        return endpoint

    def clean_p256dh(self) -> str:
        value: str = self.cleaned_data["p256dh"].strip()
        if not webpush.valid_browser_key(value):
            raise forms.ValidationError(_("The browser's key is not valid."), code="key")
        return value

    def clean_auth(self) -> str:
        value: str = self.cleaned_data["auth"].strip()
        try:
            valid = len(webpush.b64url_decode(value)) == 16
        except ValueError:
            valid = False
        if not valid:
            raise forms.ValidationError(_("The browser's key is not valid."), code="auth")
        return value


_BROWSERS = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("SamsungBrowser/", "Samsung Internet"), ("Chrome/", "Chrome")]
_SYSTEMS = [("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"), ("Mac OS X", "Mac")]


def device_label(user_agent: str) -> str:
    """ "Firefox · Android": enough for a resident to tell their devices apart, nothing more."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    if not browser and re.search(r"Version/[\d.]+ .*Safari/", user_agent):
        browser = "Safari"
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if not system and "Linux" in user_agent:
        system = "Linux"
    # Names, not words: the same in Swedish and English ("" when unknown; the page says "a browser").
    return " · ".join(part for part in (browser, system) if part)
