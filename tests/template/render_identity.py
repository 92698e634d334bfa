"""Is a template refactor a pure refactor? Bake every answer set before and after, and compare what was rendered.

kustomize drops comments, so moving blocks into macros or computation into Python must leave every
rendered file identical for every answer set. Two steps, because "before" is another checkout:

    git clone -q . /tmp/before && cp tests/template/render_identity.py /tmp/before/tests/template/
    .venv/bin/python /tmp/before/tests/template/render_identity.py bake /tmp/render-before
    .venv/bin/python tests/template/render_identity.py bake /tmp/render-after
    .venv/bin/python tests/template/render_identity.py compare /tmp/render-before /tmp/render-after

`bake` bakes the template of the checkout the script sits in (its git-visible files, as tooling does),
one directory per case of template_repo.CASES plus EXTRA_CASES. `compare` compares
`kubernetes/rendered/**` (without `*.sops.yaml`: fresh ciphertext every bake), `clusters/*/*.yaml`
(without cluster.yaml, which records the age recipient) and the clusters' README.md, prints each
difference, exits 1 on any.
"""

from __future__ import annotations

import difflib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from template_repo import ALL_ON, CASES, GATEWAY, bake_context, run  # noqa: E402
from tooling import TEMPLATE, VENV  # noqa: E402

# What CASES does not reach: a Gateway in front of MetalLB with a GPU vendor, and CSI snapshots.
EXTRA_CASES: dict[str, dict[str, str]] = {
    "nvidia-metallb-gateway-csi": {"gpu_vendor": "nvidia", "lb_provider": "metallb", **ALL_ON, **GATEWAY,
                                   "backup_method": "csi-snapshot"},
    "amd-cilium-all-csi": {"gpu_vendor": "amd", "lb_provider": "cilium", **ALL_ON, "gpu_count": "2",
                           "backup_method": "csi-snapshot"},
}


def bake(out: Path) -> None:
    """Bake every case into out/<case>/ (the generated repo is out/<case>/<repo>)."""
    keys = Path(tempfile.mkdtemp(prefix="render-identity-keys-"))
    for name, answers in {**CASES, **EXTRA_CASES}.items():
        context, _ = bake_context(answers, keys)
        target = out / name
        target.mkdir(parents=True, exist_ok=False)
        command = [str(VENV / "bin" / "cookiecutter"), "--no-input", "-o", str(target), str(TEMPLATE),
                   *(f"{key}={value}" for key, value in context.items())]
        result = run(command, target, VENV=str(VENV))
        if result.returncode != 0:
            sys.exit(f"bake {name} failed:\n{result.stderr[-3000:]}")
        print(f"baked {name}", flush=True)


def compared_files(repo: Path) -> dict[str, Path]:
    """The files a pure refactor must leave identical, by path relative to the generated repo."""
    rendered = [p for p in (repo / "kubernetes" / "rendered").rglob("*") if p.is_file() and not p.name.endswith(".sops.yaml")]
    flux = [p for p in repo.glob("clusters/*/*.yaml") if p.name != "cluster.yaml"] + list(repo.glob("clusters/*/README.md"))
    return {str(p.relative_to(repo)): p for p in [*rendered, *flux]}


def compare(before: Path, after: Path) -> int:
    cases = sorted(p.name for p in before.iterdir() if p.is_dir())
    files = differences = 0
    for case in cases:
        (old_repo,), (new_repo,) = list((before / case).iterdir()), list((after / case).iterdir())
        old, new = compared_files(old_repo), compared_files(new_repo)
        for name in sorted(old.keys() | new.keys()):
            files += 1
            if name not in old or name not in new:
                differences += 1
                print(f"{case}: {name} only {'after' if name in new else 'before'}")
                continue
            a, b = old[name].read_text().splitlines(), new[name].read_text().splitlines()
            if a != b or old[name].read_bytes() != new[name].read_bytes():
                differences += 1
                print(f"{case}: {name} differs")
                print("\n".join(difflib.unified_diff(a, b, "before", "after", lineterm="", n=1)))
    print(f"{len(cases)} cases, {files} files compared, {differences} differ")
    return 1 if differences else 0


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["bake", out]:
            bake(Path(out))
        case ["compare", before, after]:
            sys.exit(compare(Path(before), Path(after)))
        case _:
            sys.exit(__doc__)
