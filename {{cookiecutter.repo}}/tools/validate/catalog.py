"""The policy stage's catalog checks: every container of a catalogued service runs the catalog's image
for the cluster's GPU vendor (its cluster.yaml) and every catalogued claim has its size (what `make render` sets), and no GPU goes to an image without a backend for
its vendor. Workloads the catalog does not own are judged by their image when it is a catalogued one;
other images are the user's own and not judged."""

from __future__ import annotations

from pathlib import Path

from kfn import api
from tools.clusters import ANSWERS_FILE, CLUSTERS
from tools.catalog import CATALOG, Catalog, CatalogError, resource_vendor
from tools.catalog import load as read_catalog
from tools.manifests import Manifest
from tools.validate.problems import Problem

STAGE = "policy"


def where(path: tuple, container: dict) -> str:
    """spec.template.spec.containers[name]: the field path as the other policy checks write it."""
    *pod, field, _ = path
    return ".".join(map(str, pod)) + f".{field}[{container.get('name')}]"


def check_images(applied: list[Manifest], catalog: Catalog) -> list[Problem]:
    """A rendered image that is not the catalog's: a hand edit under rendered/, or a render from an older catalog."""
    out = []
    for m, service, path, container in catalog.containers(applied):
        (wanted, key), image = catalog.image_for(service, m), container.get("image")
        if image != wanted:
            out.append(Problem(m.file, m.ident, f"{where(path, container)}.image", f"service {service}: runs {image} but {CATALOG} sets {wanted} ({key})",
                               f"change the image in {CATALOG} only, then `make render`", STAGE, source=CATALOG))
    return out


def check_sizes(applied: list[Manifest], catalog: Catalog) -> list[Problem]:
    """A rendered claim whose size is not the catalog's: its volume's size, or the cluster's answer it names
    (then the file to edit is the cluster's cluster.yaml)."""
    sizes, answers = catalog.claim_sizes(), catalog.size_answers()
    answers_file = (CLUSTERS / str(catalog.answers.get("cluster_name")) / ANSWERS_FILE).as_posix()
    out = []
    for m in applied:
        if m.kind == "PersistentVolumeClaim" and m.name in sizes:
            size = (((m.doc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
            if size == sizes[m.name]:
                continue
            key = answers.get(m.name)
            source, by = (answers_file, f"its answer {key}") if key else (CATALOG, CATALOG)
            out.append(Problem(m.file, m.ident, "spec.resources.requests.storage", f"claim {m.name}: requests {size} but {by} sizes it {sizes[m.name]}",
                               f"change {key} in {answers_file}, then `make render`" if key else f"change the size in {CATALOG}, then `make render`", STAGE, source=source))
    return out


def check_gpu_images(applied: list[Manifest], catalog: Catalog) -> list[Problem]:
    """A GPU given to an image without a backend for that vendor sits idle while the work runs on the CPU,
    or the server crash-loops looking for its runtime. A catalogued service is judged by its entry whatever
    image it runs; any other workload by its image when the catalog lists that image."""
    by_image = catalog.gpu_vendors_by_image()
    owned = {(m.identity, path): service for m, service, path, _ in catalog.containers(applied)}
    out = []
    for m in applied:
        for path, container in api.all_containers(m.doc):
            service = owned.get((m.identity, path))
            image = str(container.get("image"))
            if service is None and image not in by_image:
                continue
            can_use = catalog.gpu_vendors(service) if service else by_image[image]
            for resource in (container.get("resources") or {}).get("limits") or {}:
                vendor = resource_vendor(str(resource))
                if vendor is None or vendor in can_use:
                    continue
                subject = f"service {service}: image {image}" if service else f"image {image}"
                can = ", ".join(sorted(can_use)) or "no GPU vendor"
                out.append(Problem(m.file, m.ident, f"{where(path, container)}.resources.limits.{resource}", f"{subject} has no {vendor} GPU backend ({CATALOG} lists {can}), so the GPU it holds is never used",
                                   f"remove the GPU (the ai-gitops.dev/gpu marker) or use the catalog's {vendor} image for this service", STAGE))
    return out


def load(root: Path) -> Catalog | CatalogError:
    """The catalog, or why it cannot be read (reported once by `check`, not raised in a stage's thread)."""
    try:
        return read_catalog(root)
    except CatalogError as err:
        return err


def check(applied: list[Manifest], catalog: Catalog | CatalogError | None) -> list[Problem]:
    """``catalog`` carries the answers of the cluster ``applied`` belongs to (None: it has none to judge by)."""
    if catalog is None:
        return []
    try:
        if isinstance(catalog, CatalogError):
            raise catalog
        return check_images(applied, catalog) + check_sizes(applied, catalog) + check_gpu_images(applied, catalog)
    except CatalogError as err:
        file, _, why = str(err).partition(": ")
        return [Problem(file, "-", "-", why, "fix the entry it names, then `make render`", STAGE)]
