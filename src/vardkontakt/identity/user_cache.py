"""The logged-in user of a request, with their patient or staff row, from the shared cache.

Every logged-in request needs the session's user (Django's ``auth.get_user``): without this, one
query joining three tables per request, the most frequent statement the platform sends. The user
is kept in the shared cache (Redis where VK_REDIS_URL is set, so every web node and worker shares
it; each process's memory otherwise) for ``USER_CACHE_SECONDS``, and read back together with a
token of that user's in one round trip (``get_many``). Any change to the user, their patient row
or their staff row replaces the token, at the save and again when it commits, so a copy loaded
before the change (even one stored after it) no longer matches and the next request reads the
database. Changes that send no signal (``QuerySet.update``, ``bulk_update``) call
``user_forget`` themselves; the time limit bounds anything missed.

Each request gets its own unpickled copy: what a request changes on ``request.user`` never
reaches another request.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache

from vardkontakt.core.compiled import CompiledRead
from vardkontakt.core.shared_version import forget_at_commit
from vardkontakt.identity.models import Patient, Staff, User

logger = logging.getLogger(__name__)

# The token outlives the copy: a token that expired would only mean one more database read.
TOKEN_SECONDS = 24 * 3600


def _fields_digest() -> str:
    fields = [f"{model.__name__}.{f.attname}" for model in (User, Patient, Staff) for f in model._meta.concrete_fields]
    return hashlib.sha256(",".join(fields).encode()).hexdigest()[:12]


# The copies are pickled model instances: a release whose models have other fields keeps its own
# (during a rolling upgrade both run). The token is shared, so a change made by either is seen by both.
FIELDS = _fields_digest()


def _keys(user_id: Any) -> tuple[str, str]:
    return f"auth-user-token:{user_id}", f"auth-user:{FIELDS}:{user_id}"


# Read on every miss (the first request after a login or a change, every request without the
# cache): built and compiled once per process (core/compiled.py), which was most of a miss's CPU.
_user_with_person: CompiledRead[User] = CompiledRead(
    User,
    lambda *, user_id: User.objects.select_related("patient", "staff").filter(pk=user_id)[:1],
    user_id=User._meta.pk,
)


def _load(user_id: Any) -> User | None:
    found = _user_with_person(user_id=user_id)
    return found[0] if found else None


def user_for_session(user_id: Any) -> User | None:
    """The user with ``patient`` and ``staff`` loaded, as the database has them now."""
    seconds = settings.USER_CACHE_SECONDS
    if not seconds:
        return _load(user_id)
    token_key, user_key = _keys(user_id)
    try:
        found = cache.get_many([token_key, user_key])
        token = found.get(token_key)
        if token is None:
            cache.add(token_key, uuid.uuid4().hex, timeout=TOKEN_SECONDS)
            token = cache.get(token_key)
    except Exception:  # the cache is down: the database, every time, until it is back
        logger.warning("user cache: the cache cannot be read", exc_info=True)
        return _load(user_id)
    kept = found.get(user_key)
    if token is not None and isinstance(kept, tuple) and kept[0] == token:
        return kept[1]
    # Read the token before the database: a change committed during the load replaces the token,
    # so this copy, stored under the old one, is never taken for current.
    user = _load(user_id)
    if user is not None and token is not None:
        try:
            cache.set(user_key, (token, user), timeout=seconds)
        except Exception:
            logger.warning("user cache: the cache cannot be written", exc_info=True)
    return user


def user_forget(user_ids: Iterable[Any]) -> None:
    """The next request of these users reads them from the database: now, and again at the
    commit of the change (a request between the two could have stored the old row)."""
    keys = [_keys(user_id)[0] for user_id in user_ids if user_id is not None]
    if not keys:
        return

    def replace() -> None:
        try:
            cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=TOKEN_SECONDS)
        except Exception:
            logger.warning("user cache: the cache cannot be written", exc_info=True)

    replace()
    forget_at_commit(replace)


def forget_on_change(sender: type, instance: Any, **_: object) -> None:
    """post_save and post_delete of User, Patient and Staff."""
    user_forget([instance.pk if isinstance(instance, User) else instance.user_id])
