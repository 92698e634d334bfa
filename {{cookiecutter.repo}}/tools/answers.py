"""The answers this repo was generated from, as the repo's tools read them: one place.

Today they are the cookiecutter context recorded in .cruft.json (the answers record `cruft update` keeps).
`make validate` (the GPU memory budget) and `make preflight` read them only through `recorded()`, so a
per-cluster answers file can replace the record here alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from tools.manifests import CRUFT_RECORD


class AnswersError(Exception):
    pass


def recorded(root: Path) -> dict:
    """The answers in `root`'s .cruft.json; AnswersError (one line) when it is missing or not cruft's format."""
    path = root / CRUFT_RECORD
    try:
        answers = json.loads(path.read_text(encoding="utf-8"))["context"]["cookiecutter"]
    except FileNotFoundError:
        raise AnswersError(f"{CRUFT_RECORD}: missing; it records the answers this repo was generated from (restore it from git)") from None
    except (ValueError, KeyError, TypeError) as err:
        raise AnswersError(f"{CRUFT_RECORD}: not the answers record cruft writes ({type(err).__name__}: {err}); restore it from git") from None
    if not isinstance(answers, dict):
        raise AnswersError(f"{CRUFT_RECORD}: context.cookiecutter is not a mapping; restore it from git")
    return answers
