"""What makes a patient's file safe to keep and hand to staff: its type by content, images
re-encoded without metadata (EXIF location, comments), PDFs without active content, and a display
name that cannot pose as something else.

Every check answers with a reason code (``Refused``); attachments.py turns it into the message.
"""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

SIGNATURES = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
]
SUFFIX = {content_type: suffix for _, content_type, suffix in SIGNATURES}
# A photo from a phone is 12 to 50 megapixels; more is refused before it is decoded in full.
MAX_PIXELS = 60_000_000
# Names in a PDF that run code, open other programs or carry files inside the PDF.
FORBIDDEN_PDF_NAMES = {
    "/JS": "javascript",
    "/JavaScript": "javascript",
    "/Launch": "launch",
    "/EmbeddedFile": "embedded_file",
    "/EmbeddedFiles": "embedded_file",
    "/FileAttachment": "embedded_file",
}
_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
_STREAM = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


class Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def sniff(head: bytes) -> tuple[str, str] | None:
    for signature, content_type, suffix in SIGNATURES:
        if head.startswith(signature):
            return content_type, suffix
    return None


def display_name(name: str) -> str:
    """The sender's file name as text to show, never to use: the last path part, NFC, without
    control or formatting characters (a right-to-left override makes 'fdp.exe' read 'exe.pdf')."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    text = unicodedata.normalize("NFC", base)
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    cleaned = " ".join(kept.split()).strip(" .")
    return cleaned[:150] or "fil"


def clean_image(data: bytes, content_type: str) -> bytes:
    """The picture only: decoded and encoded again without EXIF (location, camera, time), XMP,
    comments or trailing data, turned upright as the EXIF orientation said."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise Refused("too_many_pixels")
            probe.load()
            image = ImageOps.exif_transpose(probe) or probe
            fmt = "PNG" if content_type == "image/png" else "JPEG"
            if fmt == "JPEG" and image.mode not in ("L", "RGB", "CMYK"):
                image = image.convert("RGB")
            if fmt == "PNG" and "transparency" in image.info:
                image = image.convert("RGBA")
            bare = image.copy()
    except Refused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise Refused("unreadable") from exc
    bare.info = {}
    out = io.BytesIO()
    if fmt == "JPEG":
        bare.save(out, format="JPEG", quality=90, optimize=True)
    else:
        bare.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _forbidden_in(value: object, seen: set[int], depth: int = 0) -> str | None:
    if depth > 64:
        return None
    if isinstance(value, IndirectObject):
        if value.idnum in seen:
            return None
        seen.add(value.idnum)
        try:
            value = value.get_object()
        except (PyPdfError, ValueError, KeyError, OSError):
            return None
    if isinstance(value, NameObject):
        return FORBIDDEN_PDF_NAMES.get(str(value))
    if isinstance(value, DictionaryObject):
        for key, item in value.items():
            found = FORBIDDEN_PDF_NAMES.get(str(key)) or _forbidden_in(item, seen, depth + 1)
            if found:
                return found
    if isinstance(value, ArrayObject):
        for item in value:
            found = _forbidden_in(item, seen, depth + 1)
            if found:
                return found
    return None


def _raw_names(data: bytes) -> str | None:
    """The names written in the file outside its streams (``#xx`` escapes decoded): finds what a
    reader tolerant of broken files would still act on."""
    for match in _NAME.finditer(_STREAM.sub(b"", data)):
        name = "/" + _HEX_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), match[1]).decode("latin-1")
        if name in FORBIDDEN_PDF_NAMES:
            return FORBIDDEN_PDF_NAMES[name]
    return None


def check_pdf(data: bytes) -> None:
    """Refuse JavaScript, launch actions and embedded files anywhere in the document, also inside
    compressed object streams; refuse what cannot be read (and so cannot be checked)."""
    found = _raw_names(data)
    if found:
        raise Refused(found)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Refused("encrypted")
        seen: set[int] = set()
        found = _forbidden_in(reader.trailer, seen)
        for number, generation in _object_ids(reader):
            if found:
                break
            found = _forbidden_in(IndirectObject(number, generation, reader), seen)
    except Refused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError, NotImplementedError) as exc:
        raise Refused("unreadable") from exc
    if found:
        raise Refused(found)


def _object_ids(reader: PdfReader) -> list[tuple[int, int]]:
    """Every object the cross-reference lists, those kept in object streams too."""
    ids = [(number, generation) for generation, numbers in reader.xref.items() for number in numbers]
    ids.extend((number, 0) for number in reader.xref_objStm)
    return ids
