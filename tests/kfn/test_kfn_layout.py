"""How kfn is put together: the YAML layer's one entry point, no import cycles, a lean fast path,
and a wheel that installs a working ``kfn``."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from kfn_testing import GPU_ITEM, HEAD, ROOT, run
from tooling import TEMPLATE

KFN = ROOT / "kfn"
MODULES = sorted(p.stem for p in KFN.glob("*.py") if p.stem != "__init__")
# The YAML layer: yamlio is its entry point; scalars and pyyaml_core sit below it.
YAML_LAYER = {"yamlio", "scalars", "pyyaml_core"}


def kfn_imports(module: str) -> set[str]:
    """The kfn modules a module imports anywhere in its body (lazy imports included)."""
    tree = ast.parse((KFN / f"{module}.py").read_text())
    for node in ast.walk(tree):  # names for type checkers only are not imports at run time
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "kfn":
            found |= {alias.name for alias in node.names if alias.name in MODULES}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kfn."):
            found.add(node.module.split(".")[1])
    return found - {"validate"}


def test_only_yamlio_reaches_into_the_yaml_backends() -> None:
    for module in MODULES:
        if module not in YAML_LAYER:
            assert not kfn_imports(module) & {"pyyaml_core", "scalars"}, f"kfn.{module} must go through kfn.yamlio"
    # No function-identity tests (``parser() is not parse_exact``): the backend is yamlio's business.
    for module in MODULES:
        for node in ast.walk(ast.parse((KFN / f"{module}.py").read_text())):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
                names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)] + [n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)]
                assert not any(name.startswith(("parse", "_parse")) for name in names), f"kfn.{module}: {ast.unparse(node)}"


def test_no_import_cycles() -> None:
    graph = {module: kfn_imports(module) for module in MODULES}

    def reach(start: str, node: str, seen: set[str]) -> bool:
        for nxt in graph.get(node, ()):
            if nxt == start or (nxt not in seen and (seen.add(nxt) or reach(start, nxt, seen))):
                return True
        return False

    assert [m for m in MODULES if reach(m, m, set())] == []


GENERATED_TOOLS = TEMPLATE / "{{cookiecutter.repo}}" / "tools"


def kfn_names_imported(path: Path) -> set[str]:
    """Every kfn module a file imports (``kfn.api``; ``kfn`` itself for ``import kfn``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "kfn"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "kfn":
            found |= {f"{node.module}.{alias.name}" if node.module == "kfn" else node.module for alias in node.names}
    return found


def test_the_generated_repos_tools_use_only_kfn_api() -> None:
    """kfn.api is the one kfn module the repo's validator may import; the rest are kfn's internals."""
    files = sorted(GENERATED_TOOLS.rglob("*.py"))
    assert files
    imported = {path.relative_to(GENERATED_TOOLS).as_posix(): kfn_names_imported(path) for path in files}
    assert {name for names in imported.values() for name in names} == {"kfn.api"}, imported


def test_kfn_api_exports_what_it_names() -> None:
    from kfn import api

    assert all(hasattr(api, name) for name in api.__all__)
    assert "api" not in kfn_imports("api")


FAST_INPUT = HEAD + GPU_ITEM + '- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: plain\n  data:\n    mode: "0644"\n'


def test_the_fast_path_imports_no_typing_pyyaml_or_yaml_rs_wrapper() -> None:
    probe = (
        "import io, sys\n"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(sys.argv[1].encode()))\n"
        "sys.argv = ['kfn']\n"
        "from kfn import cli\n"
        "out = io.BytesIO(); real = sys.stdout; sys.stdout = io.TextIOWrapper(out)\n"
        "code = cli.main(); sys.stdout.flush(); sys.stdout = real\n"
        "print(code, ' '.join(sorted(sys.modules)))\n"
    )
    done = run([sys.executable, "-c", probe, FAST_INPUT], env={"KFN_YAML": "yaml-rs"})
    code, modules = done.stdout.split(" ", 1)
    loaded = set(modules.split())
    assert code == "0", done.stderr
    assert "yaml_rs._yaml_rs" in loaded  # the fast parser did run
    assert not loaded & {"typing", "yaml", "yaml_rs", "kfn.pyyaml_core", "json"}, loaded & {"typing", "yaml", "yaml_rs", "kfn.pyyaml_core", "json"}


def test_the_wheel_installs_a_working_kfn(tmp_path: Path) -> None:
    """Build the wheel offline, install it without dependencies into a clean venv that sees only the
    already-installed PyYAML and yaml-rs (site-packages of this interpreter), and run ``kfn``."""
    wheels, source = tmp_path / "wheels", tmp_path / "source"
    # From the files git would publish, copied: a build in the checkout leaves build/ behind, whose
    # stale modules setuptools would pack into the next wheel.
    shutil.copytree(TEMPLATE, source)
    build = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(source)])
    assert build.returncode == 0, build.stderr
    wheel = next(wheels.glob("ai_gitops-*.whl"))
    packed = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in packed if n.startswith("kfn/validate")], "the repo's validator is not kfn's"
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    site = next((env_dir / "lib").glob("python*/site-packages"))
    deps = [Path(__import__(name).__file__).parent.parent for name in ("yaml", "yaml_rs")]
    (site / "deps.pth").write_text("".join(f"{d}\n" for d in sorted(set(map(str, deps)))))
    installed = run([sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python"), "install", "--no-deps", "--no-index", "-q", str(wheel)])
    assert installed.returncode == 0, installed.stderr
    kfn = env_dir / "bin" / "kfn"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    done = subprocess.run([str(kfn)], input=FAST_INPUT, capture_output=True, text=True, cwd=elsewhere, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "nvidia.com/gpu: 1" in done.stdout
    assert str(ROOT) not in (env_dir / "bin" / "kfn").read_text()
    plugin = run([str(env_dir / "bin" / "python"), "-c", "import kfn, pathlib; print(pathlib.Path(kfn.__file__).parent)"], cwd=elsewhere)
    home = Path(plugin.stdout.strip())
    assert home.is_relative_to(site), home  # the wheel's copy, not the checkout
    assert (home / "plugin" / "kfn.ai-gitops.dev" / "v1alpha1" / "aipatches" / "AIPatches").exists()
    assert shutil.which("kfn", path=str(env_dir / "bin"))
