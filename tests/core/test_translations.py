"""Swedish first, English second: the Swedish catalogue is complete and current."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.PACKAGE_DIR) / "locale" / "sv" / "LC_MESSAGES" / "django.po"


def entries(po: str, *, strict: bool = True) -> dict[str, str]:
    found = {}
    for block in po.split("\n\n"):
        msgid = re.search(r'^msgid "(.*)"$', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? "(.*)"$', block, re.M)
        if msgid and msgid[1]:
            assert not strict or "#, fuzzy" not in block, block
            found[msgid[1]] = msgstr[1] if msgstr else ""
    return found


def test_every_message_has_a_swedish_translation():
    untranslated = [msgid for msgid, msgstr in entries(CATALOGUE.read_text()).items() if not msgstr]
    assert untranslated == []


def test_the_catalogue_holds_every_message_in_the_code(tmp_path):
    source = Path(settings.PACKAGE_DIR)
    copy = tmp_path / "vardkontakt"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "*.mo"))
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "sv", "--no-location", "--no-wrap", "-v", "0"],
        cwd=copy,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "vardkontakt.settings", "VK_DEMO": "true", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    fresh = entries((copy / "locale" / "sv" / "LC_MESSAGES" / "django.po").read_text(), strict=False)
    committed = entries(CATALOGUE.read_text())
    assert sorted(set(fresh) - set(committed)) == [], "run makemessages and translate the new messages"
