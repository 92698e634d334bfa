"""Stage 1, Flux parity: build what kustomize-controller builds and check how the Kustomizations hang together.

kustomize-controller runs kustomize with plugins disabled and load restrictions off, and a path
without a kustomization file gets one generated from its YAML files and from its sub-directories
that have one (fluxcd/pkg kustomize generator). ``spec.targetNamespace``, ``spec.patches`` and
``spec.images`` are applied on top. We reproduce that with a wrapper kustomization in a temp dir
and the plain ``kubectl kustomize``, so what we validate afterwards is what Flux would apply.
Files the repo's `.sourceignore` excludes are not in the artifact Flux builds from, so the generator
never lists them (tools/validate/sourceignore.py). A kustomization file naming an excluded file is not
modelled: the repo's own kustomizations live under kubernetes/rendered/, which nothing excludes.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tools.manifests import RENDERED, Manifest, parse_documents
from tools.validate import tools
from tools.validate.problems import Problem
from tools.validate.repo import KUSTOMIZATION_FILES, YAML_SUFFIXES, Repo, has_kustomization
from tools.validate.schema import is_builtin_group, split_api_version
from tools.validate.sourceignore import FILE as SOURCE_IGNORE
from tools.validate.sourceignore import SourceIgnore

FLUX_KUSTOMIZATION = "kustomize.toolkit.fluxcd.io/"
FLUX_SOURCE = "source.toolkit.fluxcd.io/"
# Created by `flux bootstrap`, so it never appears in the repo before bootstrap.
BOOTSTRAP_SOURCE = "flux-system"
STAGE = "flux"
# Flux's own CRDs exist wherever a Kustomization of this repo can run at all.
FLUX_GROUP_SUFFIX = ".toolkit.fluxcd.io"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


@dataclass
class Build:
    """One path Flux builds: the cluster root or a Kustomization's spec.path."""

    path: str                     # repo-relative directory
    owner: Manifest | None        # the Flux Kustomization; None for the bootstrap root
    cluster: str
    docs: list[Manifest] = field(default_factory=list)
    error: str = ""
    listed: list[Path] | None = None  # what Flux's generator lists (None: the path has a kustomization file)


@dataclass
class FluxView:
    """Everything Flux would apply, per cluster, plus what went wrong getting there."""

    builds: list[Build]
    kustomizations: dict[str, list[Manifest]]  # cluster -> Flux Kustomizations
    sources: dict[str, list[Manifest]]         # cluster -> GitRepositories
    problems: list[Problem]

    def applied(self) -> list[Manifest]:
        return [m for b in self.builds for m in b.docs]


def is_flux_kustomization(m: Manifest) -> bool:
    return m.kind == "Kustomization" and m.api_version.startswith(FLUX_KUSTOMIZATION)


def spec_of(m: Manifest) -> dict:
    spec = m.doc.get("spec")
    return spec if isinstance(spec, dict) else {}


def ks_namespace(m: Manifest) -> str:
    return m.namespace or BOOTSTRAP_SOURCE


# --- building -----------------------------------------------------------------


def generated_resources(repo: Repo, directory: Path, ignore: SourceIgnore) -> list[Path]:
    """What Flux's generator lists for a directory without a kustomization file, in the artifact."""
    found: list[Path] = []
    for top, dirs, files in os.walk(directory):
        dirs.sort()
        keep = []
        for d in dirs:
            sub = Path(top, d)
            if ignore.excluded(repo.rel(sub)):
                continue
            if has_kustomization(sub):
                found.append(sub)
            else:
                keep.append(d)
        dirs[:] = keep
        found.extend(Path(top, f) for f in sorted(files) if f.endswith(YAML_SUFFIXES) and f not in KUSTOMIZATION_FILES and not ignore.excluded(repo.rel(Path(top, f))))
    return sorted(found)


def is_object(m: Manifest) -> bool:
    return bool(m.api_version and m.kind)


def not_for_flux(repo: Repo, build: Build) -> list[Problem]:
    """Files Flux's generator lists for ``build`` that would break or bypass it, each left out of the
    build so the other checks still see the rest: YAML that is not a Kubernetes object (kustomize fails
    on it, "missing Resource metadata", and Flux applies nothing of the path), and an encrypted Secret
    in a cluster's own directory (`flux bootstrap`'s Kustomization for it has no decryption)."""
    out, keep = [], []
    for path in build.listed or []:
        docs = repo.manifests(path) if path.is_file() else []
        rel = repo.rel(path)
        if path.is_file() and not all(is_object(m) for m in docs):
            out.append(Problem(rel, "-", "-", f"not a Kubernetes object, yet in the artifact Flux builds {build.path} from: its generated kustomization lists every YAML file (fluxcd/pkg kustomize generator) and the build fails, so Flux applies nothing of {build.path}", f"add it to {SOURCE_IGNORE} (`clusters/*/cluster.yaml` is there by default) so source-controller leaves it out", STAGE))
        elif build.owner is None and any(m.encrypted for m in docs):
            out.append(Problem(rel, "-", "-", f"encrypted Secret in the artifact under {build.path}: `flux bootstrap`'s Kustomization for that path has no decryption, so Flux applies it undecrypted or fails", f"add `clusters/*/secrets/` to {SOURCE_IGNORE}: Flux applies the rendered copy under {RENDERED}/", STAGE))
        else:
            keep.append(path)
    build.listed = keep
    return out


def wrapper_kustomization(target: Path, spec: dict, wrapper_dir: Path, listed: list[Path] | None) -> dict:
    """A kustomization in ``wrapper_dir`` that builds ``target`` the way kustomize-controller does."""
    targets = [target] if listed is None else listed
    out: dict = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(t, wrapper_dir) for t in targets],
    }
    if spec.get("targetNamespace"):
        out["namespace"] = spec["targetNamespace"]
    if spec.get("patches"):
        out["patches"] = spec["patches"]
    if spec.get("images"):
        out["images"] = spec["images"]
    return out


def origin_index(repo: Repo, directory: Path) -> dict[tuple[str, str], str]:
    """(kind, name) -> the file under ``directory`` that defines it, to attribute built objects."""
    index: dict[tuple[str, str], str] = {}
    for m in repo.all_manifests(repo.yaml_files_under(directory)):
        index.setdefault((m.kind, m.name), m.file)
    return index


def run_build(repo: Repo, build: Build) -> None:
    target = repo.path(build.path)
    spec = spec_of(build.owner) if build.owner else {}
    with tempfile.TemporaryDirectory(prefix="flux-build-") as tmp:
        wrapper = Path(tmp)
        (wrapper / "kustomization.yaml").write_text(yaml.safe_dump(wrapper_kustomization(target, spec, wrapper, build.listed)))
        result = tools.kustomize(wrapper)
    if result.returncode != 0:
        build.error = tools.first_error_line(result.stderr)
        return
    index = origin_index(repo, target)
    built = parse_documents(result.stdout, build.path)
    build.docs = [Manifest(m.doc, index.get((m.kind, m.name), build.path), m.text) for m in built]


def resolve_path(repo: Repo, spec_path: object) -> Path | None:
    """spec.path relative to the source root; None when it leaves the repo."""
    rel = str(spec_path or ".").lstrip("/") or "."
    target = (repo.root / rel).resolve()
    return target if target.is_relative_to(repo.root) else None


def collect(repo: Repo) -> FluxView:
    """Find every cluster and its Flux objects, and build every path Flux would build."""
    problems: list[Problem] = []
    clusters_dir = repo.path("clusters")
    clusters = sorted(p for p in clusters_dir.iterdir() if p.is_dir()) if clusters_dir.is_dir() else []
    if not clusters:
        problems.append(Problem("clusters", "-", "-", "no cluster directory", "create clusters/<name>/ with the Flux Kustomizations (`flux bootstrap --path=clusters/<name>` reconciles it)", STAGE))
    ignore = SourceIgnore(repo.root)
    builds: list[Build] = []
    kustomizations: dict[str, list[Manifest]] = {}
    sources: dict[str, list[Manifest]] = {}
    for cluster_dir in clusters:
        cluster = cluster_dir.name
        docs = repo.all_manifests([p for p in repo.yaml_files_under(cluster_dir) if not ignore.excluded(repo.rel(p))])
        kustomizations[cluster] = [m for m in docs if is_flux_kustomization(m)]
        sources[cluster] = [m for m in docs if m.kind == "GitRepository" and m.api_version.startswith(FLUX_SOURCE)]
        builds.append(Build(repo.rel(cluster_dir), None, cluster))
        for ks in kustomizations[cluster]:
            spec_path = spec_of(ks).get("path")
            target = resolve_path(repo, spec_path)
            if target is None:
                problems.append(Problem(ks.file, ks.ident, "spec.path", f"{spec_path} points outside the repository", "use a path inside the repo, such as ./kubernetes/rendered/<cluster>/apps", STAGE))
            elif not target.is_dir():
                problems.append(Problem(ks.file, ks.ident, "spec.path", f"{spec_path} does not exist", "point it at an existing directory, or run `make render` if it is a rendered path", STAGE))
            elif ignore.excluded(repo.rel(target)):
                problems.append(Problem(ks.file, ks.ident, "spec.path", f"{spec_path} is excluded by {SOURCE_IGNORE}, so it is not in the artifact Flux builds from", f"point it at kubernetes/rendered/{cluster}/<layer>, or drop the pattern from {SOURCE_IGNORE}", STAGE))
            elif repo.rel(target) not in {b.path for b in builds if b.cluster == cluster}:
                # `flux bootstrap` adds a Kustomization for the cluster directory itself: built once.
                builds.append(Build(repo.rel(target), ks, cluster))
    for b in builds:
        if not has_kustomization(repo.path(b.path)):
            b.listed = generated_resources(repo, repo.path(b.path), ignore)
            problems.extend(not_for_flux(repo, b))
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda b: run_build(repo, b), builds))
    for b in builds:
        if b.error:
            where, ident = (b.owner.file, b.owner.ident) if b.owner else (b.path, "-")
            problems.append(Problem(where, ident, "spec.path" if b.owner else "-", f"kustomize build of {b.path} fails as Flux runs it (no plugins): {b.error}", "fix the manifests so `kubectl kustomize` builds the path without plugins", STAGE))
    return FluxView(builds, kustomizations, sources, problems)


# --- checks -------------------------------------------------------------------


def check_fields(ks: Manifest, view: FluxView, cluster: str) -> list[Problem]:
    spec = spec_of(ks)
    out = []
    if spec.get("prune") is not True:
        state = "not set" if "prune" not in spec else f"is {spec.get('prune')!r}"
        out.append(Problem(ks.file, ks.ident, "spec.prune", f"{state}, so manifests removed from git stay in the cluster", "set `prune: true`", STAGE))
    ref = spec.get("sourceRef") or {}
    names = {m.name for m in view.sources.get(cluster, [])} | {BOOTSTRAP_SOURCE}
    if ref.get("kind") == "GitRepository" and ref.get("name") not in names:
        out.append(Problem(ks.file, ks.ident, "spec.sourceRef.name", f"GitRepository {ref.get('name')!r} is not defined in clusters/{cluster}/", f"use one of: {', '.join(sorted(names))}", STAGE))
    decryption = spec.get("decryption")
    built = next((b for b in view.builds if b.owner is ks), None)
    has_encrypted = built is not None and any(m.encrypted for m in built.docs)
    if decryption is None and has_encrypted:
        out.append(Problem(ks.file, ks.ident, "spec.decryption", f"{built.path} contains SOPS-encrypted Secrets but Flux is not told to decrypt them", "add `decryption: {provider: sops, secretRef: {name: sops-age}}`", STAGE))
    elif decryption is not None:
        if (decryption or {}).get("provider") != "sops":
            out.append(Problem(ks.file, ks.ident, "spec.decryption.provider", f"is {(decryption or {}).get('provider')!r}", "set `provider: sops`", STAGE))
        if not ((decryption or {}).get("secretRef") or {}).get("name"):
            out.append(Problem(ks.file, ks.ident, "spec.decryption.secretRef.name", "no decryption Secret is referenced, so Flux has no age key", "set `secretRef: {name: sops-age}` (create it with `make flux-secret`)", STAGE))
    return out


def dependency_keys(ks: Manifest) -> list[tuple[str, str]]:
    return [
        (str(d.get("namespace") or ks_namespace(ks)), str(d.get("name")))
        for d in spec_of(ks).get("dependsOn") or []
        if isinstance(d, dict)
    ]


def find_cycles(graph: dict[tuple[str, str], list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    """Every elementary cycle found by depth-first search, each reported once."""
    cycles: list[list[tuple[str, str]]] = []
    seen: set[frozenset] = set()
    state: dict[tuple[str, str], int] = {}
    stack: list[tuple[str, str]] = []

    def visit(node: tuple[str, str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    cycles.append(cycle)
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def check_dependencies(items: list[Manifest], cluster: str) -> list[Problem]:
    out = []
    by_key = {(ks_namespace(m), m.name): m for m in items}
    for ks in items:
        for ns, name in dependency_keys(ks):
            if (ns, name) not in by_key:
                known = ", ".join(sorted(n for _, n in by_key)) or "none"
                out.append(Problem(ks.file, ks.ident, "spec.dependsOn", f"Kustomization {ns}/{name} does not exist in clusters/{cluster}/, so this one never becomes ready", f"depend on an existing Kustomization ({known})", STAGE))
    graph = {key: dependency_keys(m) for key, m in by_key.items()}
    for cycle in find_cycles(graph):
        first = by_key[cycle[0]]
        chain = " -> ".join(n for _, n in cycle + cycle[:1])
        out.append(Problem(first.file, first.ident, "spec.dependsOn", f"dependency cycle {chain}: none of them will ever reconcile", "remove one dependsOn entry to break the cycle (apps depend on core, not the reverse)", STAGE))
    return out


def installed_kinds(view: FluxView, cluster: str) -> set[tuple[str, str]]:
    """(group, kind) of every CustomResourceDefinition this cluster's layers install."""
    found = set()
    for b in view.builds:
        for m in b.docs if b.cluster == cluster else []:
            spec = m.doc.get("spec") or {}
            if m.kind == "CustomResourceDefinition" and isinstance(spec, dict):
                found.add((str(spec.get("group")), str((spec.get("names") or {}).get("kind"))))
    return found


def needed_by_apps(items: list[Manifest], view: FluxView) -> dict[tuple[str, str], Manifest]:
    """The Kustomizations that build workloads, and every one they depend on, directly or not."""
    by_key = {(ks_namespace(m), m.name): m for m in items}
    builds = {id(b.owner): b for b in view.builds if b.owner is not None}
    todo = [k for k, m in by_key.items() if any(d.kind in WORKLOAD_KINDS for d in getattr(builds.get(id(m)), "docs", []))]
    needed: dict[tuple[str, str], Manifest] = {}
    while todo:
        key = todo.pop()
        if key in needed or key not in by_key:
            continue
        needed[key] = by_key[key]
        todo.extend(dependency_keys(by_key[key]))
    return needed


def check_blocking_kinds(items: list[Manifest], view: FluxView, cluster: str) -> list[Problem]:
    """kustomize-controller dry-runs every object of a stage and applies nothing when one fails
    (fluxcd/pkg ssa ApplyAll): a custom resource whose CRD is missing stops its whole layer, and a
    layer the apps need must therefore hold only built-in kinds (or kinds this repo installs)."""
    installed = installed_kinds(view, cluster)
    builds = {id(b.owner): b for b in view.builds if b.owner is not None}
    out = []
    for ks in needed_by_apps(items, view).values():
        for m in getattr(builds.get(id(ks)), "docs", []):
            group = split_api_version(m.api_version)[0]
            if is_builtin_group(group) or group.endswith(FLUX_GROUP_SUFFIX) or (group, m.kind) in installed:
                continue
            out.append(Problem(m.file, m.ident, "apiVersion", f"{m.api_version} {m.kind} is in layer '{ks.name}', which the apps need; its CRD is not installed by this repo, and one object Flux cannot dry-run stops every object in '{ks.name}' (and so the apps)", "move it to an add-on layer of its own (a Flux Kustomization nothing the apps need depends on), like lb or backup", STAGE))
    return out


def check_duplicates(items: list[Manifest]) -> list[Problem]:
    out, seen = [], {}
    for ks in items:
        key = (ks_namespace(ks), ks.name)
        if key in seen:
            out.append(Problem(ks.file, ks.ident, "metadata.name", f"also defined in {seen[key]}; Flux keeps only one of them", "give each Kustomization a unique name", STAGE))
        seen.setdefault(key, ks.file)
    return out


def check_paths(items: list[Manifest], view: FluxView, cluster: str) -> list[Problem]:
    """A cluster's Kustomizations apply only what `make render` rendered for it (and validate checked
    with its answers): kubernetes/rendered/<cluster>/, or the cluster's own directory (bootstrap's)."""
    own = f"{RENDERED}/{cluster}"
    built = {id(b.owner) for b in view.builds if b.owner is not None}
    out = []
    for ks in (k for k in items if id(k) in built):  # a path that is not there: collect() names it
        spec_path = spec_of(ks).get("path")
        rel = os.path.normpath(str(spec_path or ".").lstrip("/"))
        if rel in (own, f"clusters/{cluster}") or rel.startswith(own + "/"):
            continue
        parts = rel.split("/")
        other = parts[2] if rel.startswith(RENDERED + "/") and len(parts) > 2 else None
        what = (f"{spec_path} is cluster {other}'s rendered output: Flux would apply {other}'s manifests (its images, addresses, Secrets) to cluster {cluster}"
                if other else f"{spec_path} is not cluster {cluster}'s rendered output ({own}/): Flux would apply what `make render` did not render for it")
        out.append(Problem(ks.file, ks.ident, "spec.path", what, f"point it at ./{own}/<layer> (the Flux objects come from templates/flux/: edit there, then `make render`)", STAGE))
    return out


def check(view: FluxView) -> list[Problem]:
    out = list(view.problems)
    for cluster, items in sorted(view.kustomizations.items()):
        if not items:
            out.append(Problem(f"clusters/{cluster}", "-", "-", "no Flux Kustomization (kustomize.toolkit.fluxcd.io/v1)", "add the core and apps Kustomizations pointing at kubernetes/rendered/<cluster>/", STAGE))
        for ks in items:
            out.extend(check_fields(ks, view, cluster))
        out.extend(check_paths(items, view, cluster))
        out.extend(check_dependencies(items, cluster))
        out.extend(check_blocking_kinds(items, view, cluster))
        out.extend(check_duplicates(items))
    return out
