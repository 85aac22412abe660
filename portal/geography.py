"""Countries a partner can pick, the sales region each belongs to, and deal size bands."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

import pycountry

NORTH_AMERICA = {"US", "CA", "PM", "BM", "GL", "UM"}
LATAM = {
    "AG", "AI", "AR", "AW", "BB", "BL", "BO", "BQ", "BR", "BS", "BZ", "CL", "CO", "CR", "CU",
    "CW", "DM", "DO", "EC", "FK", "GD", "GF", "GP", "GS", "GT", "GY", "HN", "HT", "JM", "KN",
    "KY", "LC", "MF", "MQ", "MS", "MX", "NI", "PA", "PE", "PR", "PY", "SR", "SV", "SX", "TC",
    "TT", "UY", "VC", "VE", "VG", "VI",
}  # fmt: skip
APAC = {
    "AF", "AS", "AU", "BD", "BN", "BT", "CC", "CK", "CN", "CX", "FJ", "FM", "GU", "HK", "HM",
    "ID", "IN", "IO", "JP", "KH", "KI", "KP", "KR", "LA", "LK", "MH", "MM", "MN", "MO", "MP",
    "MV", "MY", "NC", "NF", "NP", "NR", "NU", "NZ", "PF", "PG", "PH", "PK", "PN", "PW", "SB",
    "SG", "TH", "TK", "TL", "TO", "TV", "TW", "VN", "VU", "WF", "WS",
}  # fmt: skip

SIZE_BANDS = (
    (Decimal("50000"), "Under 50K"),
    (Decimal("250000"), "50K-250K"),
    (Decimal("1000000"), "250K-1M"),
)


@cache
def countries() -> tuple[tuple[str, str], ...]:
    """(ISO code, name) for every country, sorted by name."""
    named = (
        (country.alpha_2, getattr(country, "common_name", country.name))
        for country in pycountry.countries
    )
    return tuple(sorted(named, key=lambda pair: pair[1]))


def country_name(code: str) -> str:
    return dict(countries()).get(code, code)


def region(country_code: str) -> str:
    if country_code in NORTH_AMERICA:
        return "North America"
    if country_code in LATAM:
        return "LATAM"
    if country_code in APAC:
        return "APAC"
    return "EMEA"


def size_band(value: Decimal) -> str:
    for ceiling, band in SIZE_BANDS:
        if value < ceiling:
            return band
    return "Over 1M"
