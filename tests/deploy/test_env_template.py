"""deploy/vardkontakt.env.example documents every setting the code reads, and only those."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
TEMPLATE = ROOT / "deploy" / "vardkontakt.env.example"
READERS = {"env_str", "env_bool", "env_int", "env_list", "_required"}
# Read by libraries rather than by our code: dj-database-url and gunicorn.
LIBRARY_SETTINGS = {"DATABASE_URL", "FORWARDED_ALLOW_IPS"}


def names_read_by(path: Path) -> set[str]:
    """NAME in env_str("NAME", ...) and friends, and in os.environ.get("NAME", ...)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
            continue
        function = node.func
        called = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
        reads_environ = called == "get" and "environ" in ast.unparse(function)
        if called in READERS or reads_environ:
            found.add(str(node.args[0].value))
    return found


def documented() -> set[str]:
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", TEMPLATE.read_text(encoding="utf-8"), re.M))


def named_by_the_units() -> set[str]:
    """${NAME} in the command lines of the units that read this template's file
    (vardkontakt-realtime.service's address); the migrate unit's come from migrate.env."""
    texts = [unit.read_text(encoding="utf-8") for unit in (ROOT / "deploy" / "systemd").glob("*.service")]
    return {
        name
        for text in texts
        if "EnvironmentFile=/etc/vardkontakt/vardkontakt.env" in text and "migrate.env" not in text
        for name in re.findall(r"\$\{([A-Z][A-Z0-9_]+)\}", text)
    }


def read_by_the_code() -> set[str]:
    return (
        names_read_by(ROOT / "src" / "vardkontakt" / "settings.py")
        | names_read_by(ROOT / "deploy" / "gunicorn.conf.py")
        | named_by_the_units()
    )


def test_every_setting_the_code_reads_is_in_the_template():
    missing = sorted((read_by_the_code() | LIBRARY_SETTINGS) - documented())
    assert missing == [], f"add these to {TEMPLATE.name}, with what they mean: {missing}"


def test_the_template_names_no_setting_the_code_does_not_read():
    stale = sorted(documented() - read_by_the_code() - LIBRARY_SETTINGS)
    assert stale == [], f"no code reads these any more: {stale}"


def test_the_probe_finds_the_settings_it_should():
    # Guards the AST walk itself: a change in how settings.py reads the environment must not
    # make the test above vacuous.
    names = read_by_the_code()
    assert {"DJANGO_SECRET_KEY", "VK_SITE_URL", "VK_EMAIL_BACKEND", "VK_WEB_THREADS"} <= names
    assert len(names) > 50
