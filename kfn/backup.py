"""The backup edit: the tier label for a data class on PVCs and claim templates."""

from __future__ import annotations

from typing import Iterator

from kfn import selectors
from kfn.config import Config


def classified_claims(item: dict) -> Iterator[tuple[tuple, dict, str]]:
    """(path, claim, data class) for a PVC, or each claim template of a StatefulSet.

    A claim template's own marker wins over its StatefulSet's.
    """
    if selectors.is_pvc(item):
        value = selectors.marker(item, selectors.MARKER_DATA_CLASS)
        if value is not None:
            yield (), item, value
    elif item.get("kind") == "StatefulSet":
        outer = selectors.marker(item, selectors.MARKER_DATA_CLASS)
        for i, claim in enumerate(selectors.claim_templates(item)):
            value = selectors.marker(claim, selectors.MARKER_DATA_CLASS) or outer
            if value is not None:
                yield ("spec", "volumeClaimTemplates", i), claim, value


def add_backup_label(item: dict, config: Config) -> None:
    """Label each classified claim with its tier; an explicit label is left for checks to judge."""
    for _, claim, data_class in classified_claims(item):
        tier = config.backup.tiers.get(data_class)
        if tier is not None:
            labels = claim.setdefault("metadata", {}).setdefault("labels", {})
            labels.setdefault(config.backup.label, tier)
