"""What the login flow tells the rest of the platform. Identity sits low in the layers, so it
announces logins instead of calling the apps that keep records of them (operations listens)."""

from __future__ import annotations

from django.dispatch import Signal

# A person's login completed and the session is theirs. Sent with user=User, acr=str.
login_completed = Signal()

# A login was refused after the ID token was verified, so `subject` is who tried. Sent with
# side=oidc.Side, subject=str (personnummer or HSA-id as the provider gave it), reason=oidc.Refusal, acr=str.
login_refused = Signal()
