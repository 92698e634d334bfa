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

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from tools import manifests
from tools.catalog import CATALOG, Catalog, CatalogError
from tools.catalog import load as load_catalog
from tools.manifests import Identity, Manifest

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / manifests.KUBERNETES
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


def encrypted_sources() -> dict[Identity, Manifest]:
    """Every hand-kept encrypted Secret under kubernetes/ (outside rendered/), by identity."""
    sources = {}
    for path in sorted(KUBERNETES.rglob("*.sops.y*ml")):
        if RENDERED not in path.parents:
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


def layer_output(cluster: str, layer: str, catalog: Catalog) -> str:
    """What `make build` prints for one layer, and what `make render` slices into files."""
    return apply_catalog(layer, build(KUBERNETES / layer / cluster), catalog)


def render(cluster: str, layers: list[str]) -> None:
    sources = encrypted_sources()
    catalog = load_catalog(ROOT)
    # Build every layer before writing any, so a failure leaves rendered/ as it was.
    rendered = {layer: split(layer, layer_output(cluster, layer, catalog), sources) for layer in layers}
    for layer, files in rendered.items():
        write_layer(RENDERED / cluster / layer, files)
        print(f"rendered kubernetes/rendered/{cluster}/{layer}: {len(files)} resources")
    # A layer the Makefile no longer lists (a template update that split `infrastructure`, an add-on
    # switched off) must not linger: Flux would keep applying it through its old Kustomization.
    for stale in sorted(p for p in (RENDERED / cluster).iterdir() if p.is_dir() and p.name not in rendered):
        shutil.rmtree(stale)
        print(f"removed kubernetes/rendered/{cluster}/{stale.name}: no longer a layer")
    applied = {identity for files in rendered.values() for identity in identities(files)}
    prune_left_behind([m for identity, m in sources.items() if identity not in applied])


def identities(files: dict[str, str]) -> set[Identity]:
    return {m.identity for name, text in files.items() if name.endswith(manifests.SOPS_SUFFIXES) for m in manifests.parse_documents(text, name)}


def prune_left_behind(unapplied: list[Manifest]) -> None:
    """An encrypted Secret no layer applies, alone in its directory, is what a template update that
    switches a service off leaves: cruft deletes the service's files but cannot apply the deletion of a
    file whose content (ciphertext) differs from the template's recipe. It is removed here, so neither
    Flux nor `make rotate-key` keeps it; one that shares its directory with other files is the user's
    and is only named."""
    for m in unapplied:
        path = ROOT / m.file
        others = [p for p in path.parent.iterdir() if not p.name.endswith(manifests.SOPS_SUFFIXES)]
        if others:
            print(f"note: {m.file}: no layer applies this encrypted {m.kind}; delete it if nothing needs it")
            continue
        path.unlink()
        if not any(path.parent.iterdir()):
            path.parent.rmdir()
        print(f"removed {m.file}: no layer applies it (its service is switched off)")


def show(cluster: str, layers: list[str]) -> None:
    catalog = load_catalog(ROOT)
    for layer in layers:
        print(f"# kubernetes/{layer}/{cluster}")
        print(layer_output(cluster, layer, catalog), end="", flush=True)


def main(argv: list[str]) -> int:
    printing = argv[:1] == ["--print"]
    argv = argv[printing:]
    if len(argv) < 2:
        print("usage: python -m tools.render [--print] CLUSTER LAYER...", file=sys.stderr)
        return 2
    try:
        (show if printing else render)(argv[0], argv[1:])
    except (RenderError, CatalogError) as err:
        print(f"render: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
