"""Channel conflicts: two partners registering the same end customer.

A customer is recognised by its registrable domain (`emea.acme.co.uk` and
`www.acme.co.uk` are both `acme.co.uk`) or by its name without case, punctuation
or legal suffixes (`ACME, Inc.` and `Acme` are the same).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import tldextract

LEGAL_SUFFIXES = {
    "ab", "ag", "as", "asa", "bv", "co", "company", "corp", "corporation", "gmbh", "inc",
    "incorporated", "kg", "kk", "limited", "llc", "llp", "lp", "ltd", "nv", "oy", "oyj", "plc",
    "pte", "pty", "sa", "sarl", "sas", "spa", "srl", "ug",
}  # fmt: skip


@cache
def _extractor() -> tldextract.TLDExtract:
    # The public suffix list bundled with the package: no download at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def domain_key(domain: str | None) -> str:
    """The registrable domain of a website, or '' when there is none."""
    host = (domain or "").strip().lower().rstrip(".")
    if not host:
        return ""
    parts = _extractor()(host)
    return parts.top_domain_under_public_suffix or ""


def name_key(name: str | None) -> str:
    """A company name reduced to what identifies it."""
    text = unicodedata.normalize("NFKD", name or "").casefold()
    text = "".join(char for char in text if not unicodedata.combining(char))
    words = re.findall(r"[^\W_]+", text)
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)[:255]
