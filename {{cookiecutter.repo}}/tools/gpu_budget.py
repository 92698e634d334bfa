"""The GPU memory budget: what the services sharing one GPU need, and the runtime settings that keep them inside it.

NVIDIA time-slicing shares a card with no memory isolation: services that each fit alone can run out of
memory together. Up to `gpu_time_slicing_replicas` GPU pods may land on the same card (the device plugin
gives no placement guarantee), so the worst case is Ollama's largest model plus the largest other GPU
services that can share its card. Every figure comes from the catalog (catalog/services.yaml, with sources).

Standard library only: the template's answer checks (hooks/answers.py, in cookiecutter's interpreter) load
this file from the template, and `make validate` imports it here, so the bake and the repo apply one rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

GIB = 1024**3
# speaches' WHISPER__TTL (seconds): -1 keeps the model loaded, 300 is its default idle unload.
KEEP_LOADED, UNLOAD_IDLE = -1, 300
# Ollama's keep-alive: its default 5m where the card is shared, longer where Ollama has it alone.
KEEP_ALIVE_SHARED, KEEP_ALIVE_ALONE = "5m", "30m"
SD_MODES = ("none", "medvram", "lowvram")
# The environment variable that sets each lighter mode (vladmandic/sdnext modules/cmd_args.py: SD_MEDVRAM, SD_LOWVRAM).
SD_MODE_VARIABLES = {mode: f"SD_{mode.upper()}" for mode in SD_MODES[1:]}
FIX = "raise gpu_memory_gb, pick smaller models or a smaller whisper_model, or disable a service"
SIZE_TAG = re.compile(r"(?:(\d+)x)?(\d+(?:\.\d+)?)([bm])")


@dataclass(frozen=True)
class Need:
    """GiB one thing holds on a GPU (a model, or a service's own model), and where the figure comes from."""

    service: str  # the catalog name of the service holding it
    what: str
    gib: float
    why: str


@dataclass
class Plan:
    """The worst case on one GPU and the settings derived from it."""

    gpu_memory_gb: int
    models: list[Need]
    unknown_models: list[str]
    others: list[Need]          # the non-Ollama GPU services that can share Ollama's card (worst case)
    sd_mode: str                # SD.Next memory mode: none, medvram or lowvram
    shared: bool                # whether another GPU service can share Ollama's card
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def largest_model(self) -> Need | None:
        return max(self.models, key=lambda n: n.gib, default=None)

    def held(self) -> dict[str, Need]:
        """What each service counted in the worst case holds, by catalog name."""
        return {n.service: n for n in [self.largest_model, *self.others] if n}

    @property
    def needed(self) -> float:
        largest = self.largest_model
        return round((largest.gib if largest else 0) + sum(n.gib for n in self.others), 1)

    @property
    def fits(self) -> bool:
        return self.needed <= self.gpu_memory_gb

    def shortfall(self) -> str | None:
        """What does not fit, with the GiB needed, or None when the worst case fits."""
        if self.fits:
            return None
        parts = " + ".join(f"{n.what} {n.gib:g}" for n in [self.largest_model, *self.others] if n)
        return f"the services that can share one GPU need {self.needed:g} GiB ({parts})"

    def problem(self) -> str | None:
        """The bake's line: naming gpu_memory_gb and the GiB needed, with the fix."""
        short = self.shortfall()
        return f"gpu_memory_gb: {self.gpu_memory_gb} — {short}; {FIX}" if short else None

    def arithmetic(self) -> list[str]:
        """The sum as the README shows it, one line per term."""
        largest = self.largest_model
        lines = [f"{n.what}: {n.gib:g} GiB ({n.why})" for n in ([largest] if largest else []) + self.others]
        lines += [f"{name}: size unknown, not counted" for name in self.unknown_models]
        return lines


def parse_models(text: str) -> list[str]:
    return [m.strip() for m in str(text).split(",") if m.strip()]


def model_need(name: str, ollama: Mapping) -> Need | None:
    """Weights (parameters × bits per weight) plus the context allowance of its parallel requests."""
    memory = ollama["gpu_memory"]
    base, _, tag = name.partition(":")
    tag = tag.lower()
    params = quant = None
    if tag and tag != "latest":
        size = SIZE_TAG.match(tag)
        if size:
            experts, count, unit = size.groups()
            params = float(count) * (int(experts) if experts else 1) / (1000 if unit == "m" else 1)
        quant = next((q for q in memory["bits_per_weight"] if tag.endswith(q)), None)
    default = memory["defaults"].get(base.rsplit("/", 1)[-1])
    if params is None and default:
        params = float(default[0])
        quant = quant or default[1]
    if params is None:
        return None
    quant = quant or memory["default_quantisation"].lower()
    bits = float(memory["bits_per_weight"][quant])
    context = float(memory["context_gib_per_request"]) * int(memory["parallel_requests"])
    gib = round(params * 1e9 * bits / 8 / GIB + context, 1)
    return Need("ollama", name, gib, f"{params:g}B parameters × {bits:g} bits ({quant}) + {context:g} GiB context")


def whisper_need(answers: Mapping, whisper: Mapping) -> Need:
    choice = answers["whisper_model"]
    model = whisper["models"]["auto-gpu" if choice == "auto" else choice]
    compute = whisper["compute_type"]["gpu"]
    return Need("faster-whisper", "speech to text", float(whisper["gpu_memory"][model][compute]), f"{model}, {compute}")


def sd_need(sd: Mapping, mode: str) -> Need:
    memory = sd["gpu_memory"]
    checkpoint = memory["checkpoint_class"]
    return Need("stable-diffusion", "Stable Diffusion", float(memory["classes"][checkpoint][mode]), f"{checkpoint} checkpoint, SD.Next memory mode {mode}")


def pods_per_gpu(answers: Mapping) -> int:
    """How many GPU pods may share one card: the sharing answer, except that AMD's device plugin hands
    out whole GPUs (ROCm k8s-device-plugin: no time-slicing; kfn/README.md "Vendor defaults")."""
    return 1 if answers["gpu_vendor"] == "amd" else int(answers["gpu_time_slicing_replicas"])


def plan(answers: Mapping, services: Mapping, gpu_services: list[str], sd_mode: str | None = None) -> Plan | None:
    """The budget of a bake: `gpu_services` are the deployed services holding a GPU (tools/answers.py
    gpu_workloads). None without Ollama on a GPU (CPU only): nothing shares a card. The bake chooses
    SD.Next's memory mode; `make validate` passes the one the manifests set (`sd_mode`)."""
    if "ollama" not in gpu_services:
        return None
    ollama = services["ollama"]
    memory = int(answers.get("gpu_memory_gb", 24))
    names = parse_models(answers.get("ollama_models", ""))
    needs = {name: model_need(name, ollama) for name in names}
    models = [n for n in needs.values() if n]
    unknown = [name for name, n in needs.items() if n is None]
    per_card = pods_per_gpu(answers)
    # SD.Next's lighter memory modes trade speed for memory: the first one that fits is chosen.
    modes = [sd_mode] if sd_mode else SD_MODES if "stable-diffusion" in gpu_services else SD_MODES[:1]
    candidates = [_plan(answers, services, gpu_services, memory, models, unknown, per_card, mode) for mode in modes]
    result = next((c for c in candidates if c.fits), candidates[-1])
    result.settings = settings(result, ollama, services)
    return result


def _plan(answers, services, gpu_services, memory, models, unknown, per_card, sd_mode) -> Plan:
    others = []
    if "stable-diffusion" in gpu_services:
        others.append(sd_need(services["stable-diffusion"], sd_mode))
    if "faster-whisper" in gpu_services:
        others.append(whisper_need(answers, services["faster-whisper"]))
    sharing = sorted(others, key=lambda n: -n.gib)[: max(per_card - 1, 0)]
    return Plan(memory, models, unknown, sharing, sd_mode, bool(sharing))


def settings(p: Plan, ollama: Mapping, services: Mapping) -> dict[str, str]:
    """The runtime settings the manifests read (each service's deployment.yaml)."""
    others = sum(n.gib for n in p.others)
    room = p.gpu_memory_gb - others
    loaded, used = 0, 0.0
    for need in sorted(p.models, key=lambda n: -n.gib):
        if used + need.gib > room:
            break
        loaded, used = loaded + 1, used + need.gib
    return {
        "OLLAMA_MAX_LOADED_MODELS": str(max(loaded, 1)),
        "OLLAMA_GPU_OVERHEAD": str(int(others * GIB)),
        "OLLAMA_KEEP_ALIVE": KEEP_ALIVE_SHARED if p.shared else KEEP_ALIVE_ALONE,
        "OLLAMA_NUM_PARALLEL": str(ollama["gpu_memory"]["parallel_requests"]),
        "WHISPER__TTL": str(UNLOAD_IDLE if p.shared else KEEP_LOADED),
        "SD_MEMORY_MODE": p.sd_mode,
        "SD_MEMORY_VARIABLE": SD_MODE_VARIABLES.get(p.sd_mode, ""),
    }


def cpu_settings(ollama: Mapping) -> dict[str, str]:
    """Without a GPU for Ollama nothing shares a card: the defaults of the alone case."""
    return {
        "OLLAMA_MAX_LOADED_MODELS": "1",
        "OLLAMA_GPU_OVERHEAD": "0",
        "OLLAMA_KEEP_ALIVE": KEEP_ALIVE_ALONE,
        "OLLAMA_NUM_PARALLEL": str(ollama["gpu_memory"]["parallel_requests"]),
        "WHISPER__TTL": str(KEEP_LOADED),
        "SD_MEMORY_MODE": "none",
        "SD_MEMORY_VARIABLE": "",
    }
