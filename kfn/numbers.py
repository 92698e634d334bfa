"""Whole numbers from text, strictly: ASCII digits only, within stated bounds."""

from __future__ import annotations

import re

# Kubernetes' int32 fields (probe seconds, thresholds) end here; no count kfn takes comes near it.
MAX_INT = 2**31 - 1
# At most 10 digits: int() never meets a huge literal, and every bound below fits.
_DIGITS = re.compile(r"[0-9]{1,10}")


def whole_number(text: str, minimum: int, maximum: int) -> int | None:
    """``text`` as an int in ``minimum..maximum``, or None (no sign, no spaces, no non-ASCII digits)."""
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None
