"""kfn benchmark (``make bench``): one run, same machine, figures side by side.

1. kfn on ResourceLists of 10, 1 000 and 10 000 items against a bare parse+emit
   of the same list with each installed YAML library (the fastest is the bar).
   Then kfn against yaml_rs at 10 000 and 50 000 items on the realistic, the
   mixed and the all-edited workload (bench/workload.py), in paired runs (kfn
   and the bar in turn, medians): time, CPU, peak memory and time per item.
2. ``kubectl kustomize`` of the same resources with and without the kfn legacy
   plugin at 10, 300 and 1 000 resources, and kfn's own share of the build.
3. kfn on 10 items against ``python -c 'import yaml'`` (start-up cost).

Every figure times a fresh process (time.perf_counter around it), so start-up
is always included: section 1, 2 and 3 keep the best of a few runs, the
workload table the median of paired runs. kfn is byte-compiled first, as every
package it is compared with was on install. Timed runs are never part of the
test suite. ``python -m bench.run workloads`` (or parse-emit, kustomize,
startup) runs the named sections only.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.workload import CONFIG, EDITED_PER_BLOCK, resource_list, stream

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PLUGIN_HOME = ROOT / "kfn" / "plugin"
KFN = [str(BIN / "kfn")] if (BIN / "kfn").exists() else [sys.executable, "-m", "kfn.cli"]
PY = sys.executable

# Bare parse+emit of a whole ResourceList: stdin text -> Python data -> stdout text.
BARE = {
    "yaml_rs": "import sys, yaml_rs; sys.stdout.write(yaml_rs.dumps(yaml_rs.loads(sys.stdin.read())))",
    "ryaml": "import sys, ryaml; sys.stdout.write(ryaml.dumps(ryaml.loads(sys.stdin.read())))",
    "PyYAML C": "import sys, yaml; yaml.dump(yaml.load(sys.stdin, Loader=yaml.CSafeLoader), sys.stdout, Dumper=yaml.CSafeDumper)",
}
# Text -> C++ tree -> text, no Python objects: shown for reference, not a bar a
# Python function that edits data could ever meet.
TREE_ONLY = {
    "rapidyaml (tree only)": "import sys, ryml; sys.stdout.write(ryml.emit_yaml(ryml.parse_in_arena(sys.stdin.buffer.read())))",
}
IMPORTS = {"yaml_rs": "yaml_rs", "ryaml": "ryaml", "PyYAML C": "yaml", "rapidyaml (tree only)": "ryml"}


def best(cmd: list[str], stdin: Path | None, repeat: int, env: dict | None = None, cwd: Path | None = None) -> float:
    """Best wall time of ``repeat`` runs; the command must succeed."""
    times = []
    for _ in range(repeat):
        with open(stdin or os.devnull, "rb") as source:
            start = time.perf_counter()
            done = subprocess.run(cmd, stdin=source, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
            times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"bench: {' '.join(cmd)} failed: {done.stderr.decode()[-500:]}")
    return min(times)


def compile_kfn() -> None:
    """Write kfn's bytecode cache once, as pip does for the libraries measured here.

    kfn is an editable checkout, and containers often set PYTHONDONTWRITEBYTECODE:
    Python would then recompile kfn's source in every timed run (about 20 ms),
    a cost that neither an installed package nor a second run on a user's
    machine pays, while the bars (yaml_rs, PyYAML) load their bytecode.
    """
    subprocess.run([PY, "-m", "compileall", "-q", "-l", str(ROOT / "kfn")], check=True)


def installed(module: str) -> bool:
    return subprocess.run([PY, "-c", f"import {module}"], capture_output=True).returncode == 0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def bench_parse_emit(work: Path, sizes: tuple[int, ...]) -> list[str]:
    lines = ["## kfn vs bare parse+emit (seconds, best of N fresh processes)", ""]
    libs = [name for name in {**BARE, **TREE_ONLY} if installed(IMPORTS[name])]
    lines.append("| items | kfn | " + " | ".join(libs) + " | kfn / fastest bare |")
    lines.append("|---:|---:|" + "---:|" * len(libs) + "---:|")
    verdicts = []
    for size in sizes:
        path = work / f"rl-{size}.yaml"
        path.write_text(resource_list(size, CONFIG))
        repeat = 7 if size <= 10 else 5 if size <= 1000 else 3
        kfn = best(KFN, path, repeat)
        row = {}
        for name in libs:
            code = {**BARE, **TREE_ONLY}[name]
            row[name] = best([PY, "-c", code], path, 1 if name == "PyYAML C" and size > 1000 else repeat)
        fastest_name = min((n for n in row if n in BARE), key=row.get)
        ratio = kfn / row[fastest_name]
        lines.append(f"| {size:,} | {kfn:.3f} | " + " | ".join(f"{row[n]:.3f}" for n in libs) + f" | {ratio:.2f}x ({fastest_name}) |")
        if size == max(sizes):
            verdicts.append(f"- kfn within 1.5x of the fastest bare parse+emit at {size:,} items: {ratio:.2f}x -> {verdict(ratio <= 1.5)}")
    lines += ["", f"Items: every block of 10 holds {EDITED_PER_BLOCK} resources kfn edits (GPU Deployment + probes, model PVC, StatefulSet).", ""]
    return lines + verdicts


def measured(cmd: list[str], stdin: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak resident MB) of one fresh process; the command must succeed."""
    with open(stdin, "rb") as source:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, stdin=source, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not all children's
        wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed (wait status {status})")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # KiB on Linux


def paired(cmd: list[str], bar: list[str], stdin: Path, pairs: int) -> dict[str, float]:
    """Medians over ``pairs`` runs of ``cmd`` and ``bar`` in turn (A B A B ..., after one of each unmeasured).

    On a shared machine the speed drifts between seconds; a ratio taken pair by
    pair compares two processes that ran side by side.
    """
    measured(cmd, stdin), measured(bar, stdin)  # warm-up: page cache, bytecode
    runs = [(measured(cmd, stdin), measured(bar, stdin)) for _ in range(pairs)]
    median = statistics.median
    ratios = [a[0] / b[0] for a, b in runs]
    return {
        "kfn s": median(a[0] for a, _ in runs),
        "bar s": median(b[0] for _, b in runs),
        "ratio": median(ratios),
        "ratio min": min(ratios),
        "ratio max": max(ratios),
        "cpu ratio": median(a[1] / b[1] for a, b in runs),
        "kfn MB": median(a[2] for a, _ in runs),
        "bar MB": median(b[2] for _, b in runs),
    }


def write_list_apart(path: Path, size: int, workload: str) -> None:
    """Write a workload's ResourceList from a child process, so this one stays small.

    A child started by vfork and exec reports at least its parent's peak resident
    size as its own (Linux keeps the larger of the two), so a bench process that
    had built a 100 MB list in memory would put that floor under every figure.
    """
    code = "import sys; from bench.workload import CONFIG, resource_list; open(sys.argv[1], 'w').write(resource_list(int(sys.argv[2]), CONFIG, sys.argv[3]))"
    subprocess.run([PY, "-c", code, str(path), str(size), workload], check=True, cwd=ROOT)


# Each workload's target for kfn's wall time against the bare yaml_rs parse+emit, at 10 000 items.
WORKLOAD_TARGETS = {"realistic": 1.5, "mixed": 1.2, "all-edited": 1.5}
PAIRS = {10_000: 9, 50_000: 3}


def bench_workloads(work: Path, sizes: tuple[int, ...]) -> list[str]:
    """kfn against a bare yaml_rs parse+emit in paired whole-process runs: time, CPU, peak memory."""
    bar = [PY, "-c", BARE["yaml_rs"]]
    lines = ["## kfn vs bare yaml_rs parse+emit per workload: paired runs (medians)", ""]
    lines.append("| workload | items | pairs | kfn s | yaml_rs s | time ratio (min-max) | CPU ratio | kfn MB | yaml_rs MB | memory ratio | kfn µs/item |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for workload, target in WORKLOAD_TARGETS.items():
        per_item = []
        for size in sizes:
            path = work / f"rl-{workload}-{size}.yaml"
            write_list_apart(path, size, workload)
            m = paired(KFN, bar, path, PAIRS.get(size, 3))
            per_item.append(m["kfn s"] / size * 1e6)
            memory = m["kfn MB"] / m["bar MB"]
            lines.append(
                f"| {workload} | {size:,} | {PAIRS.get(size, 3)} | {m['kfn s']:.3f} | {m['bar s']:.3f} | {m['ratio']:.2f}x ({m['ratio min']:.2f}-{m['ratio max']:.2f})"
                f" | {m['cpu ratio']:.2f}x | {m['kfn MB']:.0f} | {m['bar MB']:.0f} | {memory:.2f}x | {per_item[-1]:.1f} |"
            )
            if size == 10_000:
                verdicts.append(f"- {workload}, 10,000 items: time {m['ratio']:.2f}x of yaml_rs (median of {PAIRS[size]} pairs; target <= {target}x) -> {verdict(m['ratio'] <= target)}")
            verdicts.append(f"- {workload}, {size:,} items: peak memory {memory:.2f}x of yaml_rs (target <= 2x) -> {verdict(memory <= 2)}")
        growth = per_item[-1] / per_item[0]
        verdicts.append(f"- {workload}: time per item at {sizes[-1]:,} vs {sizes[0]:,} items {growth:.2f}x (linear: <= 1.25x) -> {verdict(growth <= 1.25)}")
    notes = [
        "",
        "Workloads (bench/workload.py): realistic = what kpt sends for a repo of GPU services, every item edited (an Ollama and a",
        "faster-whisper Deployment with GPU and probe markers, each with its labelled claim; comments and kpt's annotations kept);",
        f"mixed = {EDITED_PER_BLOCK} of every 10 items edited; all-edited = only the three kinds kfn edits, short items.",
        "Time: wall seconds of the whole process; CPU: user + system. Memory: peak resident set size (ru_maxrss), interpreter included;",
        f"no figure can read below this bench process's own peak, {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (see write_list_apart).",
        "",
    ]
    return lines + notes + verdicts


def kustomize_dir(work: Path, size: int, with_plugin: bool) -> Path:
    overlay = work / f"kustomize-{size}-{'kfn' if with_plugin else 'plain'}"
    overlay.mkdir()
    (overlay / "resources.yaml").write_text(stream(size))
    text = "resources:\n- resources.yaml\n"
    if with_plugin:
        (overlay / "aipatches.yaml").write_text(CONFIG)
        text += "transformers:\n- aipatches.yaml\n"
    (overlay / "kustomization.yaml").write_text(text)
    return overlay


def timing_plugin_home(work: Path, log: Path) -> Path:
    """A plugin home whose AIPatches runs the real plugin and logs its wall time."""
    home = work / "timed-plugin"
    target = home / "kfn.ai-gitops.dev" / "v1alpha1" / "aipatches"
    target.mkdir(parents=True)
    real = PLUGIN_HOME / "kfn.ai-gitops.dev" / "v1alpha1" / "aipatches" / "AIPatches"
    wrapper = target / "AIPatches"
    wrapper.write_text(
        f"#!{PY}\nimport subprocess, sys, time\n"
        f"start = time.perf_counter()\ndone = subprocess.run([{str(real)!r}, *sys.argv[1:]])\n"
        f"open({str(log)!r}, 'a').write(f'{{time.perf_counter() - start}}\\n')\nsys.exit(done.returncode)\n"
    )
    wrapper.chmod(0o755)
    return home


def in_process(text: str, config: Path) -> float:
    """kfn's work on a stream without interpreter start-up (best of 3, this process)."""
    from kfn import legacy

    config.write_text(CONFIG)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        legacy.run(text, str(config))
        times.append(time.perf_counter() - start)
    return min(times)


def bench_kustomize(work: Path, sizes: tuple[int, ...]) -> list[str]:
    kubectl = shutil.which("kubectl", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if kubectl is None:
        return ["## kubectl kustomize", "", "skipped: kubectl not on PATH"]
    lines = ["## kubectl kustomize with and without the kfn plugin (seconds)", ""]
    lines += [
        "| resources | build without kfn | build with kfn | kfn inside the build | kfn share | of which processing |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    log = work / "plugin-times.txt"
    timed_home = timing_plugin_home(work, log)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    verdicts = []
    for size in sizes:
        plain = best([kubectl, "kustomize", str(kustomize_dir(work, size, False))], None, 3, env)
        overlay = kustomize_dir(work, size, True)
        cmd = [kubectl, "kustomize", "--enable-alpha-plugins", str(overlay)]
        with_kfn = best(cmd, None, 3, {**env, "KUSTOMIZE_PLUGIN_HOME": str(PLUGIN_HOME)})
        log.write_text("")
        best(cmd, None, 3, {**env, "KUSTOMIZE_PLUGIN_HOME": str(timed_home)})
        own = min(float(t) for t in log.read_text().split())
        share = own / with_kfn
        processing = in_process(stream(size), work / "aipatches.yaml")
        lines.append(f"| {size:,} | {plain:.3f} | {with_kfn:.3f} | {own:.3f} | {share:.1%} | {processing:.3f} |")
        if size >= 300:
            verdicts.append(f"- kfn's own time under 10% of the kustomize build at {size:,} resources: {share:.1%} -> {verdict(share < 0.10)}")
    lines += ["", "kfn inside the build: wall time of the plugin process (start-up included); processing: the same work in-process.", ""]
    return lines + verdicts


def bench_startup(work: Path) -> list[str]:
    path = work / "rl-10.yaml"
    kfn = best(KFN, path, 15)
    bare = best([PY, "-c", "import yaml"], None, 15)
    ratio = kfn / bare
    return [
        "## start-up (seconds)",
        "",
        "| kfn on 10 items | python -c 'import yaml' | ratio |",
        "|---:|---:|---:|",
        f"| {kfn:.3f} | {bare:.3f} | {ratio:.2f}x |",
        "",
        f"- kfn on 10 items within 2x of `python -c 'import yaml'`: {ratio:.2f}x -> {verdict(ratio <= 2.0)}",
    ]


def main() -> int:
    started = time.perf_counter()
    print(f"kfn benchmark: {sys.executable} ({sys.version.split()[0]}), {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    print(f"kfn command: {' '.join(KFN)}; YAML backend: {os.environ.get('KFN_YAML', 'yaml-rs')}")
    compile_kfn()
    print(f"kfn bytecode: compiled before timing (PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', 'unset')})\n")
    sections = {
        "parse-emit": lambda work: bench_parse_emit(work, (10, 1000, 10000)),
        "workloads": lambda work: bench_workloads(work, (10_000, 50_000)),
        "kustomize": lambda work: bench_kustomize(work, (10, 300, 1000)),
        "startup": bench_startup,
    }
    wanted = sys.argv[1:] or list(sections)
    unknown = [name for name in wanted if name not in sections]
    if unknown:
        raise SystemExit(f"bench: unknown section {', '.join(unknown)} (have: {', '.join(sections)})")
    with tempfile.TemporaryDirectory(prefix="kfn-bench-") as tmp:
        work = Path(tmp)
        if "startup" in wanted and "parse-emit" not in wanted:
            (work / "rl-10.yaml").write_text(resource_list(10, CONFIG))  # parse-emit writes it otherwise
        for name in wanted:
            print("\n".join(sections[name](work)) + "\n", flush=True)
    print(f"total bench time {time.perf_counter() - started:.0f} s, load {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
