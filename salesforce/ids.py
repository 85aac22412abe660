"""Salesforce record IDs: 15 case-sensitive characters plus a 3-character checksum suffix."""

import re

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ID_PATTERN = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")


def suffix(short_id: str) -> str:
    """The three characters that make a 15-character ID unique without regard to case."""
    characters = []
    for start in range(0, 15, 5):
        bits = 0
        for position, char in enumerate(short_id[start : start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        characters.append(SUFFIX_ALPHABET[bits])
    return "".join(characters)


def to_18(record_id: str) -> str:
    if len(record_id) == 18:
        return record_id
    return record_id + suffix(record_id)


def is_valid(record_id: str) -> bool:
    """True when `record_id` has the shape of an ID, and its suffix (if any) matches."""
    if not isinstance(record_id, str) or not ID_PATTERN.match(record_id):
        return False
    return len(record_id) == 15 or suffix(record_id[:15]) == record_id[15:]


def make(prefix: str, sequence: int) -> str:
    """The 18-character ID of the `sequence`-th record of the object with key `prefix`."""
    digits = ""
    while sequence:
        sequence, remainder = divmod(sequence, 62)
        digits = BASE62[remainder] + digits
    return to_18(prefix + "Hs0" + digits.rjust(9, "0"))
