"""Kubernetes resource quantities, as the API server parses them (k8s.io/apimachinery resource.Quantity).

`<sign><number><suffix>`: binary suffixes Ki Mi Gi Ti Pi Ei, decimal suffixes n u m "" k M G T P E, or a
decimal exponent e<n>/E<n>. Anything else (`48GB`, `1.5 Gi`, `10gi`) is rejected by the API server.
"""

from __future__ import annotations

import re
from fractions import Fraction

QUANTITY = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?")
BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def quantity(value: object) -> Fraction | None:
    """The quantity's exact value in base units, or None when the API server would reject it."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    match = QUANTITY.fullmatch(str(value))
    if not match:
        return None
    number, suffix = Fraction(match.group(1)), match.group(2) or ""
    if suffix in BINARY:
        return number * 1024 ** BINARY[suffix]
    if suffix in DECIMAL:
        return number * Fraction(10) ** DECIMAL[suffix]
    return number * Fraction(10) ** int(suffix[1:])
