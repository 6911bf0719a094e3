"""Make a VAPID key pair for Web Push: the private key for VK_VAPID_PRIVATE_KEY (a secret; keep it
in a file named by VK_VAPID_PRIVATE_KEY_FILE), and the public key browsers subscribe with (the
application derives it from the private key; it is printed for reference)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from vardkontakt.notifications import webpush


class Command(BaseCommand):
    help = "Print a new VAPID key pair (P-256) for Web Push, base64url-encoded."

    def handle(self, *args: Any, **options: Any) -> None:
        key = webpush.new_private_key()
        self.stdout.write(f"VK_VAPID_PRIVATE_KEY={webpush.private_key_text(key)}")
        self.stdout.write(
            f"# public key (applicationServerKey): {webpush.b64url_encode(webpush.public_key_bytes(key))}"
        )
        self.stdout.write("# A new key pair makes every device's subscription useless: residents turn push on again.")
