"""The backup edit: the tier label for a data class on PVCs and claim templates."""

from __future__ import annotations

from collections.abc import Iterator

from kfn import selectors
from kfn.config import Config
from kfn.draft import Draft


def classified_claims(item: dict) -> Iterator[tuple[tuple, dict, str]]:
    """(path, claim, data class) for a PVC, or each claim template of a StatefulSet.

    A claim template's own marker wins over its StatefulSet's.
    """
    if selectors.is_pvc(item):
        value = selectors.marker(item, selectors.MARKER_DATA_CLASS)
        if value is not None:
            yield (), item, value
    elif selectors.kind_of(item) == "StatefulSet":
        outer = selectors.marker(item, selectors.MARKER_DATA_CLASS)
        for i, claim in selectors.claim_templates_at(item):
            own = selectors.marker(claim, selectors.MARKER_DATA_CLASS)
            value = outer if own is None else own  # an empty or unknown value of its own wins too: no label
            if value is not None:
                yield ("spec", "volumeClaimTemplates", i), claim, value


def add_backup_label(draft: Draft, config: Config) -> None:
    """Label each classified claim with its tier; an explicit label is left for checks to judge."""
    label = config.backup.label
    for path, claim, data_class in classified_claims(draft.root):
        tier = config.backup.tiers.get(data_class)
        meta = claim.get("metadata")
        labels = meta.get("labels") if isinstance(meta, dict) else None
        if tier is not None and not (isinstance(labels, dict) and label in labels):
            draft.own(*path, "metadata", "labels")[label] = tier
