"""What a partner may attach: the file's type, read from its first bytes (never from its name
or the type the browser declares), and a filename Salesforce and every device can keep.

A small signature table rather than a library: the four accepted types have fixed
signatures, and the maintained detector (puremagic 2) needs Python 3.12 while its
3.11 release misses HEIF files whose major brand is `mif1`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# ContentVersion.Title holds 255 characters and PathOnClient 500; the name is both.
MAX_FILENAME_LENGTH = 255
# Salesforce takes files up to 2 GB in a multipart upload (the gateway's way), but the
# portal holds a file in memory while it sends it: MAX_ATTACHMENT_BYTES stays far below.
SALESFORCE_MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024
HEAD_BYTES = 64  # enough for every signature below
FALLBACK_NAME = "attachment"

# Major brands of HEIF images coded with HEVC (HEIC); `mif1`/`msf1` are generic HEIF brands
# whose compatible brands then say what is inside (AVIF files use them too).
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
GENERIC_HEIF_BRANDS = {b"mif1", b"msf1"}

# Bidirectional controls can make a name ending in "fdp.exe" after a right-to-left override
# (U+202E) read as one ending in "exe.pdf".
BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


@dataclass(frozen=True)
class FileKind:
    name: str
    label: str
    mimetype: str
    extensions: tuple[str, ...]


KINDS = {
    "pdf": FileKind("pdf", "PDF", "application/pdf", ("pdf",)),
    "png": FileKind("png", "PNG", "image/png", ("png",)),
    "jpeg": FileKind("jpeg", "JPEG", "image/jpeg", ("jpg", "jpeg", "jpe", "jfif")),
    "heic": FileKind("heic", "HEIC", "image/heic", ("heic", "heif")),
}
KNOWN_EXTENSIONS = {extension for kind in KINDS.values() for extension in kind.extensions}


def _heic(head: bytes) -> bool:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(head[:4], "big")
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
    return major in HEIC_BRANDS or (major in GENERIC_HEIF_BRANDS and bool(compatible & HEIC_BRANDS))


def kind_of(head: bytes) -> FileKind | None:
    """The kind of file that starts with `head`, if it is one the portal knows."""
    if head.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if head.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if _heic(head):
        return KINDS["heic"]
    return None


def allowed_kind(head: bytes, allowed: list[str]) -> FileKind | None:
    kind = kind_of(head)
    return kind if kind is not None and kind.name in allowed else None


def describe(allowed: list[str]) -> str:
    """ "PDF, PNG, JPEG or HEIC"."""
    labels = [KINDS[name].label for name in allowed if name in KINDS]
    return " or ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)


def clean_filename(name: str | None, kind: FileKind) -> str:
    """A filename that keeps what the person sees (Unicode, NFC) and nothing that can hurt.

    No folders, no control or bidirectional characters, no leading dots, never empty, at
    most MAX_FILENAME_LENGTH characters, and an extension that matches the file's bytes.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(char for char in text if unicodedata.category(char) != "Cc")
    text = text.translate(BIDI_CONTROLS).strip().lstrip(".").rstrip(". ")
    stem, dot, extension = text.rpartition(".")
    if not dot:
        stem, extension = text, ""
    if extension.lower() not in kind.extensions:
        if extension.lower() not in KNOWN_EXTENSIONS:
            stem = text
        extension = kind.extensions[0]
    stem = stem.strip() or FALLBACK_NAME
    return f"{stem[: MAX_FILENAME_LENGTH - len(extension) - 1]}.{extension}"
