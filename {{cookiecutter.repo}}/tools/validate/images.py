"""Image references a container runtime can pull, and pull the same way every time.

The API server stores any non-blank `image` string; a malformed one surfaces only on the node, as a pod
stuck in InvalidImageName. The grammar is distribution/reference's (regexp.go, the parser containerd and
CRI-O use): lower-case path components, an optional registry host[:port], a tag of at most 128 word
characters, dots and dashes, an optional digest. A reference without a tag, or tagged `latest`, pulls
whatever the registry points at that day: the manifests would stop saying what runs, so it must carry a
digest (`image:tag@sha256:...`); the one exception is an image the catalog marks `unpinned` (upstream
publishes no versioned tag), which gets a warning until its digest is pinned.
"""

from __future__ import annotations

import re

from kfn import api
from tools.manifests import Manifest
from tools.catalog import CATALOG, Catalog, CatalogError
from tools.validate.catalog import where
from tools.validate.policy import STAGE
from tools.validate.problems import Problem

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
REFERENCE = re.compile(
    rf"(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)
NAME_MAX = 255  # distribution/reference NameTotalLengthMax
FIX_GRAMMAR = "write registry/path:tag or registry/path:tag@sha256:<digest> with a lower-case path (as the catalog's images are)"
FIX_MOVING = "pin a versioned tag, or add the digest the tag points at today (image:tag@sha256:...)"


def reference_problem(image: object) -> tuple[str, str] | None:
    """(what, fix) when the reference cannot be pulled, or would not pull the same image tomorrow."""
    if image is None or image == "":
        # core/v1 Container.image: optional in a workload's template only so that a controller can set it;
        # the Pods made from it are refused without one.
        return "missing, so its Pods are refused (every container of a Pod needs an image)", "set the image in the manifest"
    text = image if isinstance(image, str) else ""
    match = REFERENCE.fullmatch(text)
    if match is None or len(match.group("name")) > NAME_MAX:
        return f"image {image!r} is not a valid image reference, so the node cannot pull it (InvalidImageName)", FIX_GRAMMAR
    if match.group("digest") is None and match.group("tag") in (None, "latest"):
        moving = "has no tag" if match.group("tag") is None else "is tagged latest"
        return f"image {text} {moving} and no digest, so what runs changes whenever the registry moves the tag", FIX_MOVING
    return None


def check(applied: list[Manifest], services: Catalog | CatalogError) -> list[Problem]:
    """Every container and init container of every workload (a catalog that cannot be read: the catalog
    check says why). A catalogued service's image is fixed in the catalog, which `make render` applies."""
    catalog = services if isinstance(services, Catalog) else None
    known_moving = catalog.unpinned_images() if catalog else set()
    keys = {(m.identity, path): catalog.image_key(service, m) for m, service, path, _ in catalog.containers(applied)} if catalog else {}
    out = []
    for m in applied:
        for path, container in api.all_containers(m.doc):
            image = container.get("image")
            found = reference_problem(image)
            if not found:
                continue
            severity = "warning" if image in known_moving and REFERENCE.fullmatch(str(image)) else "error"
            field = f"{where(path, container)}.image"
            key = keys.get((m.identity, path))
            what, fix = found if key is None else (found[0], f"{found[1]}: set {key} in {CATALOG}, then `make render`")
            out.append(Problem(m.file, m.ident, field, what, fix, STAGE, severity=severity, source=CATALOG if key else ""))
    return out
