"""The service catalog (catalog/services.yaml) as this repo's tools read it after the bake.

Two kinds of fact live there. The live ones are set by `make render` on every render, whatever the
manifests under kubernetes/ say: each catalogued service's image for this repo's GPU vendor (every
container of its Deployment and of its Jobs) and each claim's size. The rest (ports, routes, users,
probes, flows) were written into the manifests when the repo was baked and are recorded here with their
sources. One module decides which workload belongs to which service, so the renderer that sets an
image and the validator that checks it can never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from kfn import api
from kfn.api import GPU_VENDORS  # kfn owns each vendor's GPU resource names
from tools import models
from tools.manifests import CRUFT_RECORD, Manifest

CATALOG = "catalog/services.yaml"
# resource prefix -> vendor, from kfn's GPU resource names ("nvidia.com/" -> nvidia, ...).
RESOURCE_PREFIXES = {r.rpartition("/")[0] + "/": vendor for vendor, spec in GPU_VENDORS.items() for r in spec["resources"]}
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet")
JOBS = ("Job", "CronJob")


class CatalogError(Exception):
    """A catalog or answers record the tools cannot use: one line naming the key and the value."""


@dataclass(frozen=True)
class Catalog:
    services: dict
    answers: dict  # the bake's answers (.cruft.json context.cookiecutter)

    @property
    def vendor(self) -> str:
        return str(self.answers.get("gpu_vendor") or "")

    def image(self, service: str) -> str:
        """The image `make render` gives every container of ``service`` in this repo."""
        run = ((self.services[service].get("images") or {}).get(self.vendor)) or {}
        image = run.get("image") if isinstance(run, dict) else None
        if not isinstance(image, str) or not image.strip():
            raise CatalogError(f"{CATALOG}: services.{service}.images.{self.vendor}.image: {image!r} is not an image reference")
        return image

    def own_job(self, service: str, m: Manifest) -> tuple[int, dict] | None:
        """(index, entry) of the `jobs` entry of ``service`` that names the Job ``m`` and its own image."""
        for i, job in enumerate(self.services[service].get("jobs") or []):
            if m.kind in JOBS and job.get("name") == m.name and job.get("image"):
                return i, job
        return None

    def image_key(self, service: str, m: Manifest) -> str:
        """The catalog key that sets the image of ``m``, a workload of ``service``: a Job's own `image`
        where its `jobs` entry has one (a small tool image), else the service's image for this vendor."""
        own = self.own_job(service, m)
        return f"services.{service}.jobs[{own[0]}].image" if own else f"services.{service}.images.{self.vendor}.image"

    def image_for(self, service: str, m: Manifest) -> tuple[str, str]:
        """(image, the catalog key that sets it) for the containers of ``m``, a workload of ``service``."""
        own = self.own_job(service, m)
        return (str(own[1]["image"]) if own else self.image(service)), self.image_key(service, m)

    def owner(self, m: Manifest) -> str | None:
        """The catalogued service a workload belongs to: its Deployment (named after it) or one of its `jobs`."""
        if not api.is_workload(m.doc):
            return None
        if m.kind in LONG_RUNNING and m.name in self.services:
            return m.name
        if m.kind in JOBS:
            return next((name for name, s in self.services.items() if m.name in {j.get("name") for j in s.get("jobs") or []}), None)
        return None

    def claim_sizes(self) -> dict[str, str]:
        """claim -> size: the volume's `size`, else the cluster's answer its `size_answer` names."""
        sizes = {}
        for name, service in self.services.items():
            for i, volume in enumerate(service.get("volumes") or []):
                size = volume.get("size") or self.answers.get(str(volume.get("size_answer")))
                if not isinstance(size, str) or not size:
                    where = f"services.{name}.volumes[{i}]"
                    raise CatalogError(f"{CATALOG}: {where}: no size (set `size: 20Gi`, or `size_answer` naming an answer of clusters/<name>/cluster.yaml)")
                sizes[str(volume.get("claim"))] = size
        return sizes

    def size_answers(self) -> dict[str, str]:
        """claim -> the answer that sizes it, for the claims whose volume has no `size` of its own."""
        return {str(v.get("claim")): str(v["size_answer"]) for s in self.services.values() for v in s.get("volumes") or [] if not v.get("size") and v.get("size_answer")}

    def containers(self, manifests: list[Manifest]) -> Iterator[tuple[Manifest, str, tuple, dict]]:
        """(workload, service, path in the workload, container) for every container of a catalogued service."""
        for m in manifests:
            service = self.owner(m)
            if service is not None:
                for path, container in api.all_containers(m.doc):
                    yield m, service, path, container

    def gpu_vendors_by_image(self) -> dict[str, set[str]]:
        """image -> the vendors whose GPU it has a backend for (empty: the image only runs on the CPU)."""
        found: dict[str, set[str]] = {}
        for service in self.services.values():
            for vendor, run in (service.get("images") or {}).items():
                vendors = found.setdefault(str(run.get("image")), set())
                if run.get("backend") != "cpu":
                    vendors.add(vendor)
        return found

    def unpinned_images(self) -> set[str]:
        """The images of services whose upstream publishes only a moving tag (the catalog's `unpinned`)."""
        return {str(run.get("image")) for s in self.services.values() if s.get("unpinned") for run in (s.get("images") or {}).values()}

    def gpu_vendors(self, service: str) -> set[str]:
        """The vendors whose GPU ``service``'s images have a backend for."""
        images = self.services[service].get("images") or {}
        return {vendor for vendor, run in images.items() if run.get("backend") != "cpu"}


def read_yaml(path: Path, what: str) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise CatalogError(f"{what}: not valid YAML{where}") from None


def load(root: Path) -> Catalog:
    """The catalog and the bake's answers of the repo at ``root`` (an empty catalog when it has none)."""
    path = root / CATALOG
    document = read_yaml(path, CATALOG) if path.is_file() else {}
    services = (document or {}).get("services") if isinstance(document, dict) else None
    if document and not isinstance(services, dict):
        raise CatalogError(f"{CATALOG}: services: must be a mapping of service name to its facts")
    for name, service in (services or {}).items():
        if not isinstance(service, dict):
            raise CatalogError(f"{CATALOG}: services.{name}: must be a mapping")
    record = root / CRUFT_RECORD
    try:
        answers = json.loads(record.read_text(encoding="utf-8"))["context"]["cookiecutter"] if record.is_file() else {}
    except (ValueError, KeyError, TypeError):
        raise CatalogError(f"{CRUFT_RECORD}: context.cookiecutter: not the answers record cruft writes") from None
    answers = answers if isinstance(answers, dict) else {}
    if answers and (root / models.MODELS_FILE).is_file():
        # The models are live data (catalog/models.yaml): what the answer said at the bake no longer counts.
        try:
            answers = {**answers, "ollama_models": ",".join(models.load(root).ollama)}
        except models.ModelsError as err:
            raise CatalogError(str(err)) from None
    return Catalog(services or {}, answers)


def resource_vendor(resource: str) -> str | None:
    """The vendor a GPU resource name belongs to, by the device plugins' resource prefixes (kfn's list)."""
    return next((vendor for prefix, vendor in RESOURCE_PREFIXES.items() if resource.startswith(prefix)), None)
