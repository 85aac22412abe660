"""Validators for what people type, shared by every form and JSON route."""

from __future__ import annotations

import unicodedata

from wtforms.validators import ValidationError

LINE_BREAKS = "\t\n\r"
CONTROL_CHARACTERS_MESSAGE = (
    "This contains invisible control characters that cannot be stored. "
    "Delete them, or type the text again."
)


def has_control_characters(text: str, multiline: bool = False) -> bool:
    """True if `text` holds a control character (NUL, escape, bell...), line breaks and tabs
    excepted in multi-line text."""
    allowed = LINE_BREAKS if multiline else ""
    return any(unicodedata.category(char) == "Cc" and char not in allowed for char in text)


class Printable:
    """Refuses control characters: Salesforce cannot keep them, and a person cannot see
    them. Everything else, emoji and right-to-left text included, is kept as typed."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, form, field):
        text = field.data if isinstance(field.data, str) else ""
        if has_control_characters(text, self.multiline):
            raise ValidationError(CONTROL_CHARACTERS_MESSAGE)
