"""The repo's service catalog (catalog/services.yaml), as the policy stage reads it: which vendor's GPU
each catalogued image can use. Images the catalog does not list are the user's own and not judged."""

from __future__ import annotations

from pathlib import Path

import yaml

CATALOG = "catalog/services.yaml"
# The vendor a GPU resource name belongs to (the device plugins' resource prefixes).
RESOURCE_VENDORS = {"nvidia.com/": "nvidia", "amd.com/": "amd", "gpu.intel.com/": "intel"}


def load(root: Path) -> dict:
    path = root / CATALOG
    if not path.is_file():
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return document.get("services") or {} if isinstance(document, dict) else {}


def gpu_vendors_by_image(services: dict) -> dict[str, set[str]]:
    """image -> the vendors whose GPU it has a backend for (empty: the image only runs on the CPU)."""
    found: dict[str, set[str]] = {}
    for service in services.values():
        for vendor, run in (service.get("images") or {}).items():
            vendors = found.setdefault(str(run.get("image")), set())
            if run.get("backend") != "cpu":
                vendors.add(vendor)
    return found


def resource_vendor(resource: str) -> str | None:
    return next((vendor for prefix, vendor in RESOURCE_VENDORS.items() if resource.startswith(prefix)), None)


def unpinned_images(services: dict) -> set[str]:
    """The images of services whose upstream publishes only a moving tag (the catalog's `unpinned`)."""
    return {str(run.get("image")) for s in services.values() if s.get("unpinned") for run in (s.get("images") or {}).values()}
