"""Render each layer overlay with kfn into kubernetes/rendered/<cluster>/<layer>/, the files Flux applies.

Usage: python -m tools.render [--print] CLUSTER LAYER... (the Makefile passes both; --print writes
each layer's build to stdout instead, for `make build`).

One file per resource, `<namespace>/<kind>-<name>.yaml`, sliced byte for byte from the
kustomize output, plus a kustomization.yaml listing them. SOPS-encrypted Secrets are the
exception: kustomize re-orders their keys, which breaks the SOPS MAC for `sops -d` (Flux
itself skips the MAC check), so their source file is written unchanged instead, after
checking that no transformer changed their content. A layer is replaced only when it
rendered completely.

The catalog's live facts (tools/catalog.py: each service's image for this repo's GPU vendor, each
claim's size) are applied last, whatever the manifests say: as JSON 6902 patches that kustomize itself
applies to the built layer, so the output keeps kustomize's formatting and nothing else changes. The
renderer does it, not a kustomization `images:` list or kfn: `images:` matches by the image name a
manifest already carries (a changed registry or a missing image would slip through) and would be a
second file to keep in step with the catalog; kfn sees only its functionConfig, which the bake wrote.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tools import answers as rules
from tools import clusters, manifests, models, secret_recipes
from tools.catalog import CATALOG, Catalog, CatalogError
from tools.catalog import load as load_catalog
from tools.manifests import Identity, Manifest
from tools.sops_files import SOPS_CONFIG, SopsError, write_sops_config

ROOT = Path(__file__).resolve().parent.parent
RENDERED = ROOT / manifests.RENDERED


class RenderError(Exception):
    pass


def build(overlay: Path, name: str = "") -> str:
    """The kustomize build of an overlay with the kfn plugin (this repo's kfn unless the caller set another)."""
    command = ["kubectl", "kustomize", "--enable-alpha-plugins", str(overlay)]
    env = {"KUSTOMIZE_PLUGIN_HOME": str(ROOT / "kfn" / "plugin"), **os.environ}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode:
        raise RenderError(f"{name or overlay.relative_to(ROOT)}: kustomize build failed:\n{result.stderr.strip()}")
    return result.stdout


def catalog_patch(m: Manifest, catalog: Catalog, sizes: dict[str, str]) -> list[dict]:
    """JSON 6902 operations that give ``m`` the catalog's image (every container of a service's
    workloads) and claim size; none when it already has them."""
    ops = []
    for _, service, path, container in catalog.containers([m]):
        image, _ = catalog.image_for(service, m)
        if container.get("image") != image:
            ops.append({"op": "add", "path": "/" + "/".join(map(str, (*path, "image"))), "value": image})
    if m.kind == "PersistentVolumeClaim" and m.name in sizes:
        resources = (m.doc.get("spec") or {}).get("resources") or {}
        if (resources.get("requests") or {}).get("storage") != sizes[m.name]:
            ops.append({"op": "add", "path": "/spec/resources", "value": {**resources, "requests": {**(resources.get("requests") or {}), "storage": sizes[m.name]}}})
    return ops


def apply_catalog(layer: str, output: str, catalog: Catalog) -> str:
    """The layer's build with the catalog's live facts applied by kustomize (unchanged when it has them)."""
    sizes = catalog.claim_sizes()
    patches = []
    for m in manifests.parse_documents(output, layer):
        ops = catalog_patch(m, catalog, sizes)
        if ops:
            target = {"kind": m.kind, "name": m.name, **({"namespace": m.namespace} if m.namespace else {})}
            patches.append({"target": target, "patch": json.dumps(ops)})
    if not patches:
        return output
    with tempfile.TemporaryDirectory(prefix="render-catalog-") as tmp:
        (Path(tmp) / "built.yaml").write_text(output)
        (Path(tmp) / "kustomization.yaml").write_text(yaml.safe_dump({"resources": ["built.yaml"], "patches": patches}))
        return build(Path(tmp), f"{layer} with {CATALOG}")


def encrypted_sources(secret_files: list[Path]) -> dict[Identity, Manifest]:
    """The cluster's encrypted Secrets (clusters/<name>/secrets/), by identity."""
    sources = {}
    for path in secret_files:
        for m in manifests.parse_documents(path.read_text(), str(path.relative_to(ROOT))):
            if m.encrypted:
                sources[m.identity] = m
    return sources


def file_name(kind: str, namespace: str, name: str, encrypted: bool) -> str:
    suffix = ".sops.yaml" if encrypted else ".yaml"
    return f"{namespace or '_cluster'}/{kind.lower()}-{name}{suffix}"


def split(layer: str, output: str, sources: dict[Identity, Manifest]) -> dict[str, str]:
    """File name → content for every resource in one layer's build output."""
    files: dict[str, str] = {}
    for built in manifests.parse_documents(output, layer):
        kind, namespace, name = built.identity
        text = built.text
        if built.encrypted:
            source = sources.get(built.identity)
            if source is None:
                raise RenderError(f"{layer}: encrypted {kind} {namespace}/{name} has no *.sops.yaml source file")
            if built.doc != source.doc:
                raise RenderError(
                    f"{source.file}: a kustomize transformer changed this encrypted {kind}; "
                    "set its namespace and labels in the file itself, not in a kustomization"
                )
            text = source.text
        name_in_layer = file_name(kind, namespace, name, built.encrypted)
        if name_in_layer in files:
            raise RenderError(f"{layer}: two resources render to {name_in_layer}")
        files[name_in_layer] = text
    return files


def kustomization(files: dict[str, str]) -> str:
    resources = "".join(f"  - {name}\n" for name in sorted(files))
    return (
        "# Generated by `make render`: do not edit, edit the overlays and render again.\n"
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n" + resources
    )


def write_layer(target: Path, files: dict[str, str]) -> None:
    """Replace `target` with exactly `files`, never leaving a half-written layer behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for name, content in {**files, "kustomization.yaml": kustomization(files)}.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        os.chmod(staging, 0o755)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@dataclass
class Cluster:
    """One cluster's answers and its templates rendered into a scratch workspace kustomize builds."""

    name: str
    answers: dict
    workspace: Path
    catalog: Catalog
    secrets: list[Path] = field(default_factory=list)  # its encrypted Secrets the workspace uses
    switched_off: list[Path] = field(default_factory=list)  # those of services it does not deploy
    messages: list[str] = field(default_factory=list)

    @property
    def layers(self) -> list[str]:
        return rules.active_layers(self.answers)

    def output(self, layer: str) -> str:
        """What `make build` prints for one layer, and what `make render` slices into files."""
        return apply_catalog(layer, build(self.workspace / "kubernetes" / layer / clusters.OVERLAY, f"{self.name}/{layer}"), self.catalog)

    def outputs(self) -> dict[str, str]:
        """Every layer's output, in layer order. The layers build side by side: each is kustomize and kfn
        processes over its own overlay, nothing shared; a failure is the first failing layer's, as in turn."""
        with ThreadPoolExecutor(max_workers=min(len(self.layers), os.cpu_count() or 1) or 1) as pool:
            return dict(zip(self.layers, pool.map(self.output, self.layers)))


def prepare(name: str, workspace: Path, catalog: Catalog, make_secrets: bool) -> Cluster:
    """Render cluster `name`'s templates into `workspace`; with `make_secrets`, encrypt the Secrets it lacks."""
    answers = clusters.load(name)
    cluster = Cluster(name, answers, workspace, dataclasses.replace(catalog, answers=answers))
    missing = clusters.workspace(name, answers, workspace)
    if missing and not make_secrets:
        raise RenderError(f"clusters/{name}/secrets: no {', '.join(clusters.secret_path(name, r).name for r in missing)} yet: run make render")
    for recipe in missing:
        cluster.messages += secret_recipes.make(name, answers, recipe)
        clusters.place_secret(name, recipe, workspace)
    services = clusters.load_catalog()
    for recipe in (r for r in clusters.template_files(ROOT, clusters.SERVICE_TEMPLATES) if clusters.is_recipe(r)):
        held = ROOT / clusters.secret_path(name, recipe)
        (cluster.switched_off if clusters.switched_off(recipe, answers, services) else cluster.secrets).append(held)
    return cluster


def render_one(cluster: Cluster) -> None:
    sources = encrypted_sources(cluster.secrets)
    # Build every layer before writing any, so a failure leaves rendered/ as it was.
    rendered = {layer: split(layer, output, sources) for layer, output in cluster.outputs().items()}
    target = RENDERED / cluster.name
    for layer, files in rendered.items():
        write_layer(target / layer, files)
        print(f"rendered kubernetes/rendered/{cluster.name}/{layer}: {len(files)} resources")
    # A layer the answers no longer switch on (exposure back to loadbalancer, GPUs no longer shared)
    # must not linger: Flux would keep applying it through its old Kustomization.
    for stale in sorted(p for p in target.iterdir() if p.is_dir() and p.name not in rendered):
        shutil.rmtree(stale)
        print(f"removed kubernetes/rendered/{cluster.name}/{stale.name}: no longer a layer")
    for path in clusters.write_flux_files(cluster.name, cluster.answers):
        print(f"wrote {path}")
    for message in [*cluster.messages, *secret_recipes.prune(cluster.switched_off)]:
        print(message)


def chosen(names: list[str]) -> list[str]:
    every = clusters.names()
    if not every:
        hint = "; a repo generated before several clusters: make adopt" if (ROOT / manifests.CRUFT_RECORD).is_file() else ""
        raise RenderError(f"no cluster: clusters/<name>/cluster.yaml (make add-cluster NAME=...{hint})")
    unknown = [n for n in names if n not in every]
    if unknown:
        raise RenderError(f"CLUSTER: {', '.join(unknown)}: no such cluster (clusters: {', '.join(every)})")
    return names or every


def render(names: list[str]) -> None:
    names = chosen(names)
    if write_sops_config(clusters.recipients()):
        print(f"wrote {SOPS_CONFIG.name}: one creation rule per cluster")
    catalog = load_catalog(ROOT)
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"render-{name}-") as tmp:
            render_one(prepare(name, Path(tmp), catalog, make_secrets=True))
    # A cluster removed from clusters/ must not keep rendered output Flux could still be pointed at.
    for stale in sorted(p for p in RENDERED.iterdir() if p.is_dir() and p.name not in clusters.names()) if RENDERED.is_dir() else []:
        shutil.rmtree(stale)
        print(f"removed kubernetes/rendered/{stale.name}: no such cluster")


def show(names: list[str]) -> None:
    catalog = load_catalog(ROOT)
    for name in chosen(names):
        with tempfile.TemporaryDirectory(prefix=f"build-{name}-") as tmp:
            cluster = prepare(name, Path(tmp), catalog, make_secrets=False)
            for layer, output in cluster.outputs().items():
                print(f"# cluster {name}, layer {layer}")
                print(output, end="", flush=True)


def main(argv: list[str]) -> int:
    printing = argv[:1] == ["--print"]
    argv = argv[printing:]
    if any(a.startswith("-") for a in argv):
        print("usage: python -m tools.render [--print] [CLUSTER...]", file=sys.stderr)
        return 2
    try:
        (show if printing else render)(argv)
    except (RenderError, CatalogError, clusters.ClusterError, SopsError, models.ModelsError) as err:
        print(f"render: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
