"""A cluster's answers: their rules and what they decide. One module for the bake and the repo.

The template's hooks check the cookiecutter answers with it before anything is written, and `make
render`/`make validate` check each `clusters/<name>/cluster.yaml` with it (tools/clusters.py), so a
value the bake refuses is refused after an edit too, with the same line.

`problems(answers, catalog)` returns one line per bad answer, `key: value — why`. Closed questions
(choices, yes/no) are cookiecutter choice lists and booleans, which cookiecutter itself asks again on
a bad answer; they are checked here too because a replay file or a cluster.yaml can carry anything.

The decisions every file shares are made here too, not in Jinja: which services and Flux layers the
answers switch on, the GPU memory budget's settings, the speech-to-text model, the public URLs.

Standard library and PyYAML only: the hooks import it into cookiecutter's own interpreter.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from kfn.api import GPU_VENDORS  # kfn owns each vendor's GPU resource names
from tools import flows, gpu_budget, models

CATALOG_FILE = Path("catalog") / "services.yaml"
# The choice lists are cookiecutter.json's: read from it in the template checkout, and from the copy the
# bake writes into the generated repo (hooks/bake.py), so no list is kept twice.
CHOICES_FILE = Path(__file__).resolve().parent / "choices.json"
TEMPLATE_QUESTIONS = Path(__file__).resolve().parents[2] / "cookiecutter.json"


@lru_cache(maxsize=1)
def choices() -> dict[str, tuple[str, ...]]:
    """answer key -> its choices, as cookiecutter.json lists them (first: the default)."""
    if CHOICES_FILE.is_file():
        return choice_lists(json.loads(CHOICES_FILE.read_text(encoding="utf-8")))
    if not TEMPLATE_QUESTIONS.is_file():
        raise FileNotFoundError(f"{CHOICES_FILE.name}: missing from tools/ (the bake writes it from the template's cookiecutter.json; restore it from git)")
    return choice_lists(json.loads(TEMPLATE_QUESTIONS.read_text(encoding="utf-8")))


def choice_lists(questions: Mapping) -> dict[str, tuple[str, ...]]:
    """The choice questions of a cookiecutter.json: answer key -> its choices (first: the default)."""
    hidden = not_asked(questions)
    named = ((answer_name(k, hidden), v) for k, v in questions.items())
    return {name: tuple(v) for name, v in named if name and isinstance(v, list)}


NOT_ASKED = "_not_asked"  # cookiecutter.json's list of the answers an interactive bake asks nothing about
# The name an unasked answer has in an interactive bake: the template's hooks/questions.py renames it so, and
# cookiecutter renders a `__` key's default without asking (prompt.prompt_for_config).
UNASKED_PREFIX = "__"


def not_asked(questions: Mapping) -> tuple[str, ...]:
    """cookiecutter.json's `_not_asked`, in its order (anything but a list of names: none)."""
    listed = questions.get(NOT_ASKED)
    return tuple(key for key in listed if isinstance(key, str)) if isinstance(listed, list) else ()


def answer_name(key: str, hidden: Collection[str]) -> str | None:
    """The answer a cookiecutter key holds: its own name; `name` for the `__name` of an unasked answer;
    None for cookiecutter's private keys."""
    if key.startswith(UNASKED_PREFIX) and key[len(UNASKED_PREFIX):] in hidden:
        return key[len(UNASKED_PREFIX):]
    return None if key.startswith("_") else key


def public_answers(context: Mapping) -> dict:
    """A bake's answers under their own names, cookiecutter's private keys as they are. An answer an
    interactive bake did not ask arrives as `__key`; a choice then as its whole list, default first (any
    other list stays one, for the checks to refuse). A bake that has it under its own name too (a replay)
    counts that one."""
    hidden = not_asked(context)
    result: dict = {}
    for key, value in context.items():
        name = answer_name(key, hidden) or key
        if name != key:
            if name in context:
                continue
            value = value[0] if name in choices() and isinstance(value, list) and value else value
        result[name] = value
    return result


MAX_GPU_MEMORY_GB = 1024
MIN_KUBERNETES_MINOR = 30
MAX_GPUS = 64
MAX_SHARING = 64

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
GIT_URL = re.compile(r"(https?|ssh)://[^\s/]+/\S+")
QUANTITY = re.compile(r"[1-9][0-9]*(Mi|Gi|Ti)")
KUBERNETES_VERSION = re.compile(r"1\.([0-9]+)")
# OAuth client ids are printable ASCII without spaces (RFC 6749 appendix A.1 allows %x20-7E; a space
# would not survive Open WebUI's env handling); Open WebUI splits role lists at ','.
OIDC_CLIENT_ID = re.compile(r"[!-~]{1,255}")
OIDC_ROLE = re.compile(r"[^,\s]{1,255}")
# Kubernetes label syntax (apimachinery validation IsQualifiedName / IsValidLabelValue).
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "flux-system")
# clusters/<name>/ holds one cluster; names a tool would take for something else are refused.
RESERVED_CLUSTER_NAMES = ("base", "rendered", "overlay")

Check = Callable[[str], "str | None"]


def load_catalog(path: Path) -> dict:
    """The service catalog at `path` (`{{cookiecutter.repo}}/catalog/services.yaml` in the template), read
    afresh on every call: `cruft update` bakes the old and the new template commit from the same path in
    one process, so anything keyed by the path would hand the new bake the old catalog."""
    return parse_catalog(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def parse_catalog(text: str) -> dict:
    """Parsed once per distinct content (a bake renders dozens of files that each ask for it)."""
    return yaml.safe_load(text)


def boolean_answers(catalog: Mapping) -> tuple[str, ...]:
    switches = sorted({s["enabled_by"] for s in catalog["services"].values() if s.get("enabled_by")})
    return (*switches, "open_webui_auth")


def enabled(answers: Mapping[str, object], flag: str | None) -> bool:
    return flag is None or answers.get(flag) is True


def deployed(answers: Mapping[str, object], catalog: Mapping) -> dict[str, dict]:
    """The catalog entries this bake deploys, by name, in catalog order."""
    return {name: s for name, s in catalog["services"].items() if enabled(answers, s.get("enabled_by"))}


# The Flux layers, in the order the Makefile renders them: core and apps, then the add-ons nothing
# depends on (kubernetes/<layer>/<cluster>/ overlays, clusters/<cluster>/*.yaml Kustomizations).
LAYERS = ("core", "apps", "lb", "gpu", "backup", "netpol", "gateway")


def active_layers(answers: Mapping[str, object]) -> list[str]:
    """The layers a bake has: the time-slicing layer only where NVIDIA GPUs are shared, the gateway only
    with exposure gateway. The Makefile, the Flux add-ons, the README and the bake's pruning read this."""
    switched = {
        "gpu": answers["gpu_vendor"] == "nvidia" and str(answers["gpu_time_slicing_replicas"]) != "1",
        "gateway": answers["exposure"] == "gateway",
    }
    return [layer for layer in LAYERS if switched.get(layer, True)]


def gpu_plan(answers: Mapping[str, object], catalog: Mapping) -> gpu_budget.Plan | None:
    """The GPU memory budget of these answers, None when Ollama runs on the CPU."""
    if answers["gpu_vendor"] == "none":
        return None
    return gpu_budget.plan(answers, catalog["services"], gpu_workloads(answers, catalog))


def gpu_settings(answers: Mapping[str, object], catalog: Mapping) -> dict[str, str]:
    """The runtime settings the manifests read: Ollama's, speaches' TTL, SD.Next's memory mode."""
    found = gpu_plan(answers, catalog)
    return found.settings if found else gpu_budget.cpu_settings(catalog["services"]["ollama"])


def sso_provider(answers: Mapping[str, object]) -> str:
    """The name Open WebUI shows on its single sign-on button: the issuer's host ("" without SSO)."""
    return urlsplit(str(answers.get("oidc_issuer_url") or "")).hostname or ""


def backend(answers: Mapping[str, object], catalog: Mapping, name: str) -> str:
    """What service `name` runs on with this cluster's GPU vendor: its image's backend there (cuda, rocm,
    vulkan, or cpu where the image has no build for that vendor's GPUs; catalog images.<vendor>)."""
    return catalog["services"][name]["images"][answers["gpu_vendor"]]["backend"]


def on_gpu(answers: Mapping[str, object], catalog: Mapping, name: str) -> bool:
    """Whether service `name` holds a GPU on this cluster: the one test behind the kfn GPU marker, the GPU
    memory budget and the GPU-or-CPU settings of the manifests."""
    return backend(answers, catalog, name) != "cpu"


def gpu_workloads(answers: Mapping[str, object], catalog: Mapping) -> list[str]:
    """The deployed services that hold a GPU of the chosen vendor: those whose image has a GPU backend for it."""
    return [name for name in deployed(answers, catalog) if on_gpu(answers, catalog, name)]


def one_of(choices: tuple[str, ...]) -> Check:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}"


def matches(pattern: re.Pattern[str], why: str, max_len: int = 253) -> Check:
    def check(value: str) -> str | None:
        return None if len(value) <= max_len and pattern.fullmatch(value) else why

    return check


def integer(low: int, high: int) -> Check:
    def check(value: str) -> str | None:
        if not re.fullmatch(r"[0-9]+", value) or not low <= int(value) <= high:
            return f"must be a whole number from {low} to {high}"
        return None

    return check


def git_branch(value: str) -> str | None:
    """The rules of `git check-ref-format --branch` that matter for a branch name."""
    bad = (
        not value
        or value.startswith(("-", "/", "."))
        or value.endswith(("/", ".", ".lock"))
        or ".." in value
        or "//" in value
        or "@{" in value
        or re.search(r"[\x00-\x20~^:?*\[\\\x7f]", value)
    )
    return "is not a valid git branch name" if bad else None


def kubernetes_version(value: str) -> str | None:
    match = KUBERNETES_VERSION.fullmatch(value)
    if not match or int(match.group(1)) < MIN_KUBERNETES_MINOR:
        return f"must be a minor version like 1.33, at least 1.{MIN_KUBERNETES_MINOR}"
    return None


dns_label = matches(DNS1123_LABEL, "must be a DNS-1123 label (a-z, 0-9, '-', at most 63)", 63)


def cluster_name(value: str) -> str | None:
    if value in RESERVED_CLUSTER_NAMES:
        return "is a directory name the layout already uses"
    return dns_label(value)


def namespace(value: str) -> str | None:
    if value in RESERVED_NAMESPACES:
        return "is reserved by Kubernetes or Flux"
    return dns_label(value)


def model_problems(answers: Mapping[str, object]) -> list[str]:
    value = answers.get("ollama_models")
    if not isinstance(value, str):
        return [f"ollama_models: {value} — must be given as text"]
    bad = [m for m in (m.strip() for m in value.split(",")) if m and models.name_problem(m)]
    return [f"ollama_models: {value} — has invalid model names: {', '.join(repr(m) for m in bad)}"] if bad else []


# bech32 (BIP 173), the encoding of age recipients.
BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, gen in enumerate(generator):
            checksum ^= gen if (top >> bit) & 1 else 0
    return checksum


def age_recipient(value: str) -> str | None:
    if not value:
        return None  # empty: the post-generation hook creates a key pair
    why = "must be an age X25519 recipient: age1 followed by 58 bech32 characters"
    if not re.fullmatch(f"age1[{BECH32_CHARSET}]{{58}}", value):
        return why
    hrp, data = "age", [BECH32_CHARSET.index(c) for c in value[4:]]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    return None if _bech32_polymod(expanded + data) == 1 else "has a bad bech32 checksum (typo?)"


def node_selector(value: str) -> dict[str, str]:
    """The gpu_node_selector answer, ``key=value,key=value``, as a mapping (empty: no selector)."""
    pairs = [pair.strip() for pair in value.split(",") if pair.strip()]
    return dict(pair.split("=", 1) for pair in pairs)  # checked by gpu_node_selector before any file renders


def gpu_node_selector(value: str) -> str | None:
    """Each pair a label key (``[prefix/]name``) and value as Kubernetes validates them."""
    for pair in (pair.strip() for pair in value.split(",") if pair.strip()):
        key, _, label = pair.partition("=")
        prefix, _, name = key.rpartition("/")
        if "=" not in pair or not LABEL_NAME.fullmatch(name) or (prefix and not (len(prefix) <= 253 and DNS1123_SUBDOMAIN.fullmatch(prefix))):
            return f'"{pair}" is not key=value with a label key ([prefix/]name); use key=value pairs separated by commas, or leave it empty'
        if not LABEL_VALUE.fullmatch(label):
            return f'"{pair}": the value is not a label value (up to 63 letters, digits, "-", "_", ".")'
    return None


SIMPLE_CHECKS: dict[str, Check] = {
    "repo": dns_label,
    "cluster_name": cluster_name,
    "namespace": namespace,
    "git_url": matches(GIT_URL, "must be an https://, http:// or ssh:// URL (Flux accepts no scp-style host:path)"),
    "git_branch": git_branch,
    "gpu_runtime_class": lambda value: None if not value else matches(DNS1123_SUBDOMAIN, "must be empty or a RuntimeClass name (DNS-1123 subdomain)")(value),
    "gpu_node_selector": gpu_node_selector,
    # ROCm's gfx target as major.minor.stepping (ollama docs/gpu.mdx "Overrides on Linux": 10.3.0, 11.0.0, ...).
    "amd_gfx_version": lambda value: None if not value or re.fullmatch(r"[0-9]{1,2}\.[0-9]\.[0-9]", value) else "must be a ROCm gfx version like 10.3.0, or empty",
    "gpu_count": integer(0, MAX_GPUS),
    "gpu_time_slicing_replicas": integer(1, MAX_SHARING),
    "gpu_memory_gb": integer(1, MAX_GPU_MEMORY_GB),
    "storage_class": matches(DNS1123_SUBDOMAIN, "must be a DNS-1123 subdomain (a StorageClass name)"),
    "domain": matches(DNS1123_SUBDOMAIN, "must be a DNS domain (lowercase DNS-1123 subdomain, e.g. ai.example.com)"),
    "gateway_class": matches(DNS1123_SUBDOMAIN, "must be a GatewayClass name (DNS-1123 subdomain)"),
    "cluster_issuer": matches(DNS1123_SUBDOMAIN, "must be a ClusterIssuer name (DNS-1123 subdomain)"),
    "age_public_key": age_recipient,
    "kubernetes_version": kubernetes_version,
}


def choice_checks() -> dict[str, Check]:
    return {key: one_of(values) for key, values in choices().items()}


def size_checks(catalog: Mapping) -> dict[str, Check]:
    """A check for every answer a catalogued volume takes its size from (`size_answer`)."""
    keys = sorted({str(v["size_answer"]) for s in catalog["services"].values() for v in s.get("volumes") or [] if v.get("size_answer")})
    return {key: matches(QUANTITY, "must be a size like 20Gi (Mi, Gi or Ti)") for key in keys}


def checked_keys(catalog: Mapping) -> set[str]:
    """Every answer a rule here reads on its own (the complex checks read these too)."""
    return {*SIMPLE_CHECKS, *choice_checks(), *size_checks(catalog), *boolean_answers(catalog)}


def csi_driver_problems(answers: Mapping[str, str]) -> list[str]:
    """csi-snapshot needs the driver name for its VolumeSnapshotClass (Velero picks the class by driver)."""
    driver = answers.get("csi_driver", "")
    if not isinstance(driver, str):
        return [f"csi_driver: {driver} — must be given as text"]
    if answers.get("backup_method") != "csi-snapshot":
        return []
    if not driver:
        return [f"csi_driver: (empty) — backup_method csi-snapshot needs the CSI driver of StorageClass {answers.get('storage_class')} (its `provisioner`, e.g. driver.longhorn.io)"]
    if not DNS1123_SUBDOMAIN.fullmatch(driver) or len(driver) > 63:
        return [f"csi_driver: {driver} — must be a CSI driver name like driver.longhorn.io (DNS-1123 subdomain, at most 63)"]
    return []


@dataclass(frozen=True)
class Pool:
    """The address range of an LB pool and the addresses in it no Service may use."""

    first: ipaddress.IPv4Address | ipaddress.IPv6Address
    last: ipaddress.IPv4Address | ipaddress.IPv6Address
    reserved: frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address]

    def why_not_usable(self, ip: ipaddress.IPv4Address) -> str | None:
        if not self.first <= ip <= self.last:
            return "is outside lb_pool"
        if ip in self.reserved:
            return "is the network or broadcast address of lb_pool"
        return None


def parse_pool(text: str, strict: bool = True) -> Pool:
    """A CIDR (`10.10.2.24/29`) or an inclusive range (`10.10.2.25-10.10.2.30`); ValueError otherwise.
    `strict` is the answer's rule (IPv4, no host bits); `make validate` reads a rendered pool leniently
    (IPv6 too), as the LB implementations do. The one rule of which addresses a pool never hands out."""
    if "-" in text:
        start, _, stop = text.partition("-")
        parse = ipaddress.IPv4Address if strict else ipaddress.ip_address
        first, last = parse(start.strip()), parse(stop.strip())
        if first.version != last.version or first > last:
            raise ValueError("range start is after its end")
        return Pool(first, last, frozenset())
    network = ipaddress.IPv4Network(text, strict=True) if strict else ipaddress.ip_network(text.strip(), strict=False)
    # Cilium LB IPAM skips a CIDR's network and broadcast address unless the pool sets allowFirstLastIPs
    # (cilium.io/v2 CiliumLoadBalancerIPPool, default "No"): IPv4 /30 and wider.
    wide = network.version == 4 and network.prefixlen <= 30
    reserved = frozenset({network.network_address, network.broadcast_address}) if wide else frozenset()
    return Pool(network.network_address, network.broadcast_address, reserved)


def nth_pool_address(pool_text: str, n: int) -> str:
    """The n-th (1-based) address of the pool a Service may use, or "" if there is none."""
    try:
        pool = parse_pool(str(pool_text))
    except ValueError:
        return ""
    usable = [pool.first + offset for offset in range(min(int(pool.last) - int(pool.first) + 1, n + 2))]
    usable = [ip for ip in usable if ip not in pool.reserved]
    return str(usable[n - 1]) if len(usable) >= n else ""


def lb_problems(answers: Mapping[str, str], catalog: Mapping) -> list[str]:
    problems: list[str] = []
    pool_text = answers.get("lb_pool", "")
    try:
        pool: Pool | None = parse_pool(pool_text)
    except ValueError as err:
        pool = None
        problems.append(f"lb_pool: {pool_text} — must be an IPv4 CIDR or a start-stop range ({err})")
    seen: dict[ipaddress.IPv4Address, str] = {}
    for service in catalog["services"].values():
        key = service.get("ip_answer")
        if not key or not enabled(answers, service.get("enabled_by")):
            continue
        text = answers.get(key, "")
        if not text and pool is None:
            continue  # its default is derived from the pool, whose own line says what is wrong
        try:
            ip = ipaddress.IPv4Address(text)
        except ValueError:
            problems.append(f"{key}: {text} — must be an IPv4 address")
            continue
        why = pool.why_not_usable(ip) if pool else None
        if why:
            problems.append(f"{key}: {text} — {why} {pool_text}")
        if ip in seen:
            problems.append(f"{key}: {text} — is already used by {seen[ip]}")
        seen.setdefault(ip, key)
    return problems


def gpu_problems(answers: Mapping[str, str], catalog: Mapping) -> list[str]:
    """More GPU workloads than GPUs × sharing leaves pods Pending forever; catch it now.

    Only called once the answers it reads passed their own checks.
    """
    vendor = answers["gpu_vendor"]
    count, sharing = answers["gpu_count"], answers["gpu_time_slicing_replicas"]
    if vendor == "none":
        return []
    if int(count) == 0:
        return [f"gpu_count: {count} — must be at least 1 with gpu_vendor {vendor}"]
    slots = int(count) * gpu_budget.pods_per_gpu(answers)
    workloads = gpu_workloads(answers, catalog)
    if len(workloads) <= slots:
        return []
    sharing_note = f"{count} GPU(s), AMD GPUs are not shared," if vendor == "amd" else f"{count} GPU(s) × {sharing} replicas"
    return [
        f"gpu_count: {count} — {len(workloads)} GPU workloads ({', '.join(workloads)}) "
        f"need {len(workloads)} GPU slots but {sharing_note} gives {slots}; raise gpu_count"
        + ("" if vendor == "amd" else " or gpu_time_slicing_replicas")
        + " or disable a service"
    ]


GPU_BUDGET_INPUTS = ("gpu_vendor", "gpu_count", "gpu_time_slicing_replicas")
GPU_MEMORY_INPUTS = (*GPU_BUDGET_INPUTS, "gpu_memory_gb", "ollama_models", "whisper_model")


def gpu_memory_problems(answers: Mapping[str, str], catalog: Mapping) -> list[str]:
    """The services sharing one GPU plus the largest model must fit in gpu_memory_gb (tools/gpu_budget.py)."""
    found = gpu_plan(answers, catalog)
    why = found.problem() if found else None
    return [why] if why else []


def sso_problems(answers: Mapping[str, object]) -> list[str]:
    """Single sign-on: an OIDC issuer (https, no query or fragment: OpenID Connect Discovery 1.0 §3),
    a client id, and Open WebUI's login switched on (SSO is a way to log in)."""
    issuer, client, role = (answers.get(k, "") for k in ("oidc_issuer_url", "oidc_client_id", "oidc_admin_role"))
    for key, value in (("oidc_issuer_url", issuer), ("oidc_client_id", client), ("oidc_admin_role", role)):
        if not isinstance(value, str):
            return [f"{key}: {value} — must be given as text"]
    if not issuer:
        return []
    parts = urlsplit(issuer)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or " " in issuer:
        return [f"oidc_issuer_url: {issuer} — must be the provider's https:// issuer URL without query or fragment (empty: no single sign-on)"]
    if answers.get("open_webui_auth") is not True:
        return [f"oidc_issuer_url: {issuer} — single sign-on needs open_webui_auth yes"]
    if not OIDC_CLIENT_ID.fullmatch(client):
        return [f"oidc_client_id: {client} — must be the client id registered at the provider (printable, no spaces)"]
    if role and not OIDC_ROLE.fullmatch(role):
        return [f"oidc_admin_role: {role} — must be one role name (no spaces or commas), or empty"]
    return []


def problems(answers: Mapping[str, str], catalog: Mapping) -> list[str]:
    """Every problem with the answers, one `key: value — why` line each, in prompt order."""
    found, bad_keys = [], set()
    for key in boolean_answers(catalog):
        if not isinstance(answers.get(key), bool):
            found.append(f"{key}: {answers.get(key)} — must be yes or no")
            bad_keys.add(key)
    for key, check in {**SIMPLE_CHECKS, **choice_checks(), **size_checks(catalog)}.items():
        value = answers.get(key)
        why = check(value) if isinstance(value, str) else "must be given as text"
        if why:
            found.append(f"{key}: {value} — {why}")
            bad_keys.add(key)
    found += model_problems(answers)
    found += lb_problems(answers, catalog)
    found += csi_driver_problems(answers)
    found += sso_problems(answers)
    if not bad_keys & {*GPU_BUDGET_INPUTS, *boolean_answers(catalog)}:
        found += gpu_problems(answers, catalog)
    if not bad_keys & {*GPU_MEMORY_INPUTS, *boolean_answers(catalog)}:
        found += gpu_memory_problems(answers, catalog)
    return found


def gpu_resource(answers: Mapping[str, object]) -> str:
    """The resource a GPU pod of this cluster requests ("" without GPUs): kfn's vendor default, Intel's
    by the kernel driver answer."""
    vendor = str(answers["gpu_vendor"])
    if vendor not in GPU_VENDORS:
        return ""
    resources = GPU_VENDORS[vendor]["resources"]
    return next((r for r in resources if r.rpartition("/")[2] == answers.get("intel_gpu_driver")), resources[0]) if vendor == "intel" else resources[0]


def stt_model(answers: Mapping[str, object], catalog: Mapping) -> str:
    """The speech-to-text model id for the whisper_model answer ("auto": by whether speaches gets a GPU)."""
    choice = answers["whisper_model"]
    if choice == "auto":
        choice = "auto-gpu" if on_gpu(answers, catalog, "faster-whisper") else "auto-cpu"
    return catalog["services"]["faster-whisper"]["models"][choice]


def public_url(answers: Mapping[str, object], catalog: Mapping, name: str) -> str:
    """The origin a browser uses for a service: https://<host>.<domain> through the Gateway, http://<its IP>
    on its LoadBalancer (with the Service port unless 80), "" for a service with neither."""
    svc = catalog["services"][name]
    if answers["exposure"] == "gateway" and svc.get("host"):
        return f"https://{svc['host']}.{answers['domain']}"
    if svc["ip_answer"]:
        port = "" if svc["service_port"] == 80 else f":{svc['service_port']}"
        return f"http://{answers[svc['ip_answer']]}{port}"
    return ""


def service_url(answers: Mapping[str, object], catalog: Mapping, name: str) -> str:
    """The origin another workload uses for a service: http://<name>.<namespace>.svc.cluster.local:<Service
    port> (public_url is the browser's)."""
    return f"http://{flows.service_address(name, str(answers['namespace']), catalog['services'][name]['service_port'])}"


# The annotation each LoadBalancer implementation reads a Service's requested address from
# (Cilium LB IPAM docs "Requesting IPs"; MetalLB docs "Requesting specific IPs", >= 0.13).
LB_IP_ANNOTATIONS = {"cilium": "lbipam.cilium.io/ips", "metallb": "metallb.io/loadBalancerIPs"}


def template_globals(catalog: Mapping) -> dict[str, object]:
    """What every Jinja template of the ai-gitops layout may call: the bake's files (cookiecutter, through
    hooks/extensions.py) and each cluster's files (`make render`, through tools/clusters.py) alike."""
    return {
        "catalog": lambda: catalog,
        "deployed_services": lambda answers: deployed(answers, catalog),
        "layers": active_layers,
        "gpu_resource": gpu_resource,
        "pods_per_gpu": gpu_budget.pods_per_gpu,
        "gpu_plan": lambda answers: gpu_plan(answers, catalog),
        "gpu_settings": lambda answers: gpu_settings(answers, catalog),
        "stt_model": lambda answers: stt_model(answers, catalog),
        "public_url": lambda answers, name: public_url(answers, catalog, name),
        "service_url": lambda answers, name: service_url(answers, catalog, name),
        "backend": lambda answers, name: backend(answers, catalog, name),
        "on_gpu": lambda answers, name: on_gpu(answers, catalog, name),
        "network_flows": lambda answers: flows.network_flows(deployed(answers, catalog)),
        "gatus_targets": lambda answers: flows.gatus_targets(deployed(answers, catalog), str(answers["namespace"])),
        "sso_provider": sso_provider,
        "lb_ip_annotation": LB_IP_ANNOTATIONS,
        "ollama_model_list": lambda answers: models.from_answer(answers["ollama_models"]),
    }


TEMPLATE_FILTERS = {"lb_pool_ip": nth_pool_address, "node_selector": node_selector, "public_answers": public_answers}
