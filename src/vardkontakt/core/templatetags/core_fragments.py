"""Parts of a page that are the same for every reader of one language and kind, rendered once per
process: ``{% once_per_language "header" user_kind %}…{% endonce_per_language %}``.

The base template's head, header and footer were about two thirds of its CPU (URLs reversed,
static paths, some twenty translations) on every page (issue 20). The text rendered is kept per
(this tag in this template, the language, the URL prefix, and the tag's other arguments, resolved
per request): whatever else the fragment shows must be the same for everyone, always, in this
process. So never put inside it a name, a CSRF token, the request's path, messages, banners,
counts or anything read from the database; a value that may change (the footer's support hours)
is given as an argument, so that a new value is a new fragment.

The key holds the template's own node, so a template parsed again (DEBUG, no cached loader) starts
afresh; a test that changes settings starts afresh (``setting_changed``).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.core.signals import setting_changed
from django.template.base import FilterExpression, Node, NodeList, Parser, Token
from django.template.context import Context
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

# Far more than the fragments times languages times kinds times footer hours there are: past it
# something keys by a value that keeps changing, and starting afresh bounds the memory.
MAX_KEPT = 1000

_kept: dict[tuple[Any, ...], SafeString] = {}


def forget_all(**_: object) -> None:
    _kept.clear()


setting_changed.connect(forget_all, dispatch_uid="core_fragments.forget_all")


class OncePerLanguageNode(Node):
    # Not searched for blocks: {% extends %} walks every node of the parent template on every
    # render to find them, and a fragment holds none (the tag refuses one).
    child_nodelists = ()

    def __init__(self, name: str, keys: list[FilterExpression], nodelist: NodeList) -> None:
        self.name = name
        self.keys = keys
        self.nodelist = nodelist

    def render(self, context: Context) -> SafeString:
        key = (self, get_language(), get_script_prefix(), *(str(k.resolve(context)) for k in self.keys))
        found = _kept.get(key)
        if found is None:
            found = mark_safe(self.nodelist.render(context))  # noqa: S308 - the template's own output
            if len(_kept) >= MAX_KEPT:
                _kept.clear()
            _kept[key] = found
        return found

    def __repr__(self) -> str:
        return f"<OncePerLanguageNode {self.name}>"


@register.tag("once_per_language")
def once_per_language(parser: Parser, token: Token) -> OncePerLanguageNode:
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError(f"{bits[0]} takes a quoted name, then the values it depends on")
    nodelist = parser.parse(("endonce_per_language",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        # A block's content is the child template's, per page: it cannot be kept for everyone.
        raise template.TemplateSyntaxError(f"{bits[0]} cannot hold a {{% block %}}")
    return OncePerLanguageNode(bits[1][1:-1], [parser.compile_filter(bit) for bit in bits[2:]], nodelist)
