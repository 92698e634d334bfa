"""Stage 5, domain policy over everything one cluster applies (all its layers together).

kfn checks each overlay while it renders; only here do the layers meet, so only here can we see
a GPU budget spent across layers, a Service IP outside the pool that another layer defines, or a
claim that no Velero Schedule backs up (tools/validate/velero.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from kfn import api
from tools.answers import parse_pool
from tools.catalog import Catalog, CatalogError
from tools.validate import catalog, velero
from tools.validate.problems import Problem
from tools.validate.quantity import quantity
from tools.manifests import Manifest, selector_matches

STAGE = "policy"
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet")


# --- LoadBalancer addresses ----------------------------------------------------


@dataclass(frozen=True)
class Pool:
    name: str
    text: str      # as written, for messages
    first: int
    last: int
    reserved: frozenset[int] = frozenset()  # in the range, but never handed out

    def __contains__(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return self.first <= int(ip) <= self.last


def address_range(text: str) -> tuple[int, int, frozenset[int]] | None:
    """A CIDR or ``start-stop`` range as integers, with the addresses no Service gets (the rule the bake
    checks the answers by: tools/answers.py parse_pool); None when it does not parse. A Service asking for
    a reserved address keeps <pending>."""
    try:
        pool = parse_pool(text, strict=False)
    except ValueError:
        return None
    return int(pool.first), int(pool.last), frozenset(int(a) for a in pool.reserved)


def pools(applied: list[Manifest]) -> list[Pool]:
    found = []
    for m in applied:
        spec = m.doc.get("spec") if isinstance(m.doc.get("spec"), dict) else {}
        texts: list[str] = []
        if m.kind == "CiliumLoadBalancerIPPool" and not spec.get("disabled"):
            for block in spec.get("blocks") or []:
                if isinstance(block, dict):
                    texts.append(block["cidr"] if block.get("cidr") else f"{block.get('start')}-{block.get('stop')}")
        elif m.kind == "IPAddressPool" and m.api_version.startswith("metallb.io/"):
            texts.extend(str(a) for a in spec.get("addresses") or [])
        for text in texts:
            bounds = address_range(str(text))
            if bounds:
                found.append(Pool(m.ident, str(text), *bounds))
    return found


def requested_addresses(m: Manifest) -> Iterator[tuple[str, tuple]]:
    """(address, field) for every LoadBalancer address a Service or a Gateway asks for. A Gateway names it
    in spec.addresses (Gateway API v1 GatewaySpec; Cilium's Gateway copies it to its Service), or in
    spec.infrastructure.annotations, which Envoy Gateway copies onto the Service it creates (MetalLB)."""
    if api.is_service(m.doc):
        yield from api.lb_ips(m.doc)
    elif m.kind == "Gateway" and m.api_version.startswith("gateway.networking.k8s.io/"):
        spec = m.doc.get("spec") if isinstance(m.doc.get("spec"), dict) else {}
        for i, address in enumerate(spec.get("addresses") or []):
            if isinstance(address, dict) and address.get("type", "IPAddress") == "IPAddress" and address.get("value"):
                yield str(address["value"]).strip(), ("spec", "addresses", i, "value")
        infrastructure = spec.get("infrastructure") if isinstance(spec.get("infrastructure"), dict) else {}
        service = {"kind": "Service", "metadata": {"annotations": infrastructure.get("annotations") or {}}}
        for text, path in api.lb_ips(service):
            yield text, ("spec", "infrastructure", *path[1:])


def check_addresses(applied: list[Manifest]) -> list[Problem]:
    """Every requested LoadBalancer address lies in a pool (kfn's checks catch duplicates)."""
    out = []
    available = pools(applied)
    pool_text = ", ".join(f"{p.text} ({p.name})" for p in available) or "none"
    for m in applied:
        for text, path in requested_addresses(m):
            field = api.field_path(*path)
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                out.append(Problem(m.file, m.ident, field, f"{text!r} is not an IP address", "write one IP address per Service", STAGE))
                continue
            if not any(ip in p for p in available):
                out.append(Problem(m.file, m.ident, field, f"{ip} is outside every LoadBalancer pool ({pool_text}), so it is never assigned", "pick a free address inside the pool, or widen the pool", STAGE))
            elif not any(ip in p and int(ip) not in p.reserved for p in available):
                out.append(Problem(m.file, m.ident, field, f"{ip} is the network or broadcast address of its pool ({pool_text}), which is never assigned", "pick an address between the first and the last of the pool", STAGE))
    return out


# --- network policies -----------------------------------------------------------

NETWORK_POLICY_KINDS = {("networking.k8s.io", "NetworkPolicy"): "podSelector", ("cilium.io", "CiliumNetworkPolicy"): "endpointSelector"}
# Node agents (device plugins and the like) usually run on the host network; the rule is about services.
POLICY_EXEMPT = ("DaemonSet",)


def policy_selectors(applied: list[Manifest]) -> list[tuple[Manifest, str, dict]]:
    """(policy, namespace, selector) for every selector naming pods; the namespace-wide `{}` of a
    default-deny is left out, because it says what is forbidden, not what a workload may do."""
    out = []
    for m in applied:
        key = NETWORK_POLICY_KINDS.get((m.api_version.rpartition("/")[0], m.kind))
        spec = m.doc.get("spec") if isinstance(m.doc.get("spec"), dict) else {}
        rules = [spec] + [r for r in m.doc.get("specs") or [] if isinstance(r, dict)] if key else []
        for rule in rules:
            selector = rule.get(key) or {}
            if selector.get("matchLabels") or selector.get("matchExpressions"):
                # Cilium accepts source-prefixed keys (k8s:app); the pod's own label has no prefix.
                labels = {str(k).removeprefix("k8s:"): v for k, v in (selector.get("matchLabels") or {}).items()}
                out.append((m, m.namespace or "default", {**selector, "matchLabels": labels}))
    return out


def check_network_policies(applied: list[Manifest]) -> list[Problem]:
    """Every workload has a policy written for it: under default-deny a new workload reaches nothing,
    without one it is open to every pod in the cluster; either way its flows were never decided."""
    out = []
    selecting = policy_selectors(applied)
    for m in applied:
        if not api.is_workload(m.doc) or m.kind in POLICY_EXEMPT:
            continue
        namespace = m.namespace or "default"
        template = (m.doc.get("spec") or {}).get("template") or {}
        if m.kind == "CronJob":
            template = (((m.doc.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        if not any(ns == namespace and selector_matches(sel, labels) for _, ns, sel in selecting):
            shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "no labels"
            out.append(Problem(m.file, m.ident, "spec.template.metadata.labels", f"no NetworkPolicy or CiliumNetworkPolicy in namespace {namespace} selects its pods ({shown}), so its traffic was never decided (default-deny cuts it off, no policy leaves it open)", "add its flows (ingress from its clients, egress to its backends) to its catalog entry (`clients`, `internet`; a service without one: templates/kubernetes/infrastructure/base/netpol/policies.yaml) and run `make render`", STAGE))
    return out


# --- workloads -----------------------------------------------------------------


def uses_gpu(container: dict, config: api.Config) -> bool:
    limits = (container.get("resources") or {}).get("limits") or {}
    return any(api.is_gpu_resource(str(k), config) for k in limits)


def workload_containers(applied: list[Manifest]) -> Iterator[tuple[Manifest, str, dict]]:
    """(workload, the container's field path, container) for every container of every workload."""
    for m in applied:
        if not api.is_workload(m.doc):
            continue
        base = ".".join(api.pod_spec_path(m.doc))
        for container in api.containers(api.pod_spec(m.doc) or {}):
            yield m, f"{base}.containers[{container.get('name')}]", container


def check_workloads(applied: list[Manifest], config: api.Config) -> list[Problem]:
    out = []
    for m, where, container in workload_containers(applied):
        limits = (container.get("resources") or {}).get("limits") or {}
        for resource in ("cpu", "memory"):
            if resource not in limits:
                out.append(Problem(m.file, m.ident, f"{where}.resources.limits.{resource}", "no limit, so one runaway pod can starve the node's AI workloads", f"set resources.limits.{resource}", STAGE))
        out.extend(Problem(m.file, m.ident, f"{where}.{field}", why, fix, STAGE) for field, why, fix in resource_problems(container))
        if m.kind not in LONG_RUNNING:
            continue
        wanted = ["livenessProbe", "readinessProbe"] + (["startupProbe"] if uses_gpu(container, config) else [])
        for probe in wanted:
            if probe not in container:
                out.append(Problem(m.file, m.ident, f"{where}.{probe}", "missing: a hung or still-loading model server gets traffic or is never restarted", "add the ai-gitops.dev/probes marker (a kfn profile) and run `make render`, or write the probe", STAGE))
    return out


def resource_problems(container: dict) -> list[tuple[str, str, str]]:
    """(field, why, fix) for quantities the API server rejects: bad syntax, or a limit below its request."""
    resources = container.get("resources") or {}
    parsed: dict[str, dict[str, Fraction]] = {}
    out = []
    for section in ("requests", "limits"):
        for name, value in (resources.get(section) or {}).items():
            amount = quantity(value)
            if amount is None:
                out.append((f"resources.{section}.{name}", f"{value!r} is not a Kubernetes quantity, so the API server rejects the pod",
                            "write a number with an optional suffix: Ki, Mi, Gi, Ti (powers of 1024), k, M, G, T, or m for CPU (e.g. 48Gi, 500m)"))
            else:
                parsed.setdefault(section, {})[name] = amount
    for name, request in (parsed.get("requests") or {}).items():
        limit = (parsed.get("limits") or {}).get(name)
        if limit is not None and limit < request:
            out.append((f"resources.limits.{name}", f"limit {resources['limits'][name]} is below the request {resources['requests'][name]}, so the API server rejects the pod",
                        "raise the limit to at least the request, or lower the request"))
    return out


# --- pod hardening ----------------------------------------------------------------

HARDENING_FIX = ("set the container's securityContext: allowPrivilegeEscalation: false, capabilities: {drop: [ALL]} "
                 "(as the workloads of templates/kubernetes/apps/base/ai do, through templates/macros/workload.j2)")


def check_hardening(applied: list[Manifest]) -> list[Problem]:
    """What every pod of the stack carries, so a workload added later cannot quietly skip it: no
    service-account token, RuntimeDefault seccomp, and per container no privilege escalation and no
    capabilities. Non-root and read-only root depend on the image, so they are not demanded here."""
    out = []
    for m in applied:
        if not api.is_workload(m.doc):
            continue
        base = ".".join(api.pod_spec_path(m.doc))
        pod = api.pod_spec(m.doc) or {}
        if pod.get("automountServiceAccountToken") is not False:
            out.append(Problem(m.file, m.ident, f"{base}.automountServiceAccountToken", "not false, so every pod carries a token for the Kubernetes API it does not use", "set automountServiceAccountToken: false in the pod spec", STAGE))
        pod_seccomp = ((pod.get("securityContext") or {}).get("seccompProfile") or {}).get("type")
        for key in ("initContainers", "containers"):
            for container in pod.get(key) or []:
                where = f"{base}.{key}[{container.get('name')}].securityContext"
                context = container.get("securityContext") or {}
                if context.get("allowPrivilegeEscalation") is not False:
                    out.append(Problem(m.file, m.ident, f"{where}.allowPrivilegeEscalation", f"is {context.get('allowPrivilegeEscalation', 'unset')}, so a setuid binary can gain privileges", HARDENING_FIX, STAGE))
                if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
                    out.append(Problem(m.file, m.ident, f"{where}.capabilities.drop", "does not drop ALL, so the container keeps the runtime's default capabilities", HARDENING_FIX, STAGE))
                if ((context.get("seccompProfile") or {}).get("type") or pod_seccomp) not in ("RuntimeDefault", "Localhost"):
                    out.append(Problem(m.file, m.ident, f"{where}.seccompProfile", "no seccomp profile, so every syscall is allowed", "set securityContext.seccompProfile.type: RuntimeDefault in the pod spec", STAGE))
    return out


# --- kfn's own checks, tree-wide ---------------------------------------------------

# How to fix what kfn's checks find: its results say what is wrong, keyed here by what they mention.
KFN_FIXES = (
    ("GPU budget", "lower GPU limits or replicas across both layers, or raise spec.gpu.physical / timeSlicingReplicas in the AIPatches config"),
    ("LoadBalancer IP", "give each LoadBalancer Service its own address"),
    ('bare "gpu"', "use the vendor's resource name, e.g. nvidia.com/gpu"),
    ("GPU request", "put GPUs in limits only, or make the request equal the limit"),
    ("emptyDir", "mount a PersistentVolumeClaim at the model path"),
    ("backup label", "drop the explicit backup label: kfn sets it from the data class"),
    # Warnings: kfn keeps a deprecated default working for one more release (kfn/README.md, "Compatibility").
    ("deprecated in kfn", "name it in the AIPatches config (the message says what to write), then `make render`"),
    ("is ignored on a", "move the marker to a kind it applies to, or drop it"),
)
KFN_FIX_OTHERWISE = "use a marker value kfn knows (see kfn/README.md) and run `make render`"


def is_config(m: Manifest) -> bool:
    return m.kind == api.CONFIG_KIND and m.api_version.startswith(api.GROUP + "/")


def cluster_config(sources: list[Manifest]) -> tuple[api.Config, list[Problem]]:
    """The cluster's AIPatches config, from its sources (templates/ rendered with its answers)."""
    mine = [m for m in sources if is_config(m)]
    if not mine:
        return api.Config(), []
    first = mine[0]
    problems = [
        Problem(m.file, m.ident, "spec", f"differs from {first.file}; the cluster's GPU budget must have one definition", "keep one AIPatches config per cluster", STAGE)
        for m in mine[1:] if m.doc.get("spec") != first.doc.get("spec")
    ]
    try:
        return api.parse_config(first.doc), problems
    except api.ConfigError as err:
        return api.Config(), problems + [Problem(first.file, first.ident, "spec", str(err), "fix the AIPatches config", STAGE)]


def kfn_fix(message: str) -> str:
    return next((fix for topic, fix in KFN_FIXES if topic in message), KFN_FIX_OTHERWISE)


def kfn_problems(applied: list[Manifest], config: api.Config, configs: tuple[Manifest, ...] = ()) -> list[Problem]:
    """kfn's own checks (``kfn.api.run_checks``) over one cluster's whole applied tree: errors, and warnings
    (`make render` cannot show them: kustomize prints a plugin's stderr only when the build fails).

    ``configs``: the AIPatches sources, where a warning about the config itself points.
    """
    by_ref: dict[tuple[str, str, str], Manifest] = {}
    for m in [*applied, *configs]:
        by_ref.setdefault((m.kind, m.namespace, m.name), m)
    out = []
    for found in api.run_checks([m.doc for m in applied], config):
        severity = found.get("severity")
        if severity not in ("error", "warning"):
            continue
        ref = found.get("resourceRef", {})
        m = by_ref.get((ref.get("kind", ""), ref.get("namespace", ""), ref.get("name", "")))
        file, ident = (m.file, m.ident) if m else ("-", f"{ref.get('kind')}/{ref.get('name')}")
        field = (found.get("field") or {}).get("path", "-")
        out.append(Problem(file, ident, field, found["message"], kfn_fix(found["message"]), STAGE, severity=severity))
    return out


def check(applied: list[Manifest], sources: list[Manifest], facts: Catalog | CatalogError | None) -> list[Problem]:
    """One cluster: what it applies, its sources, the catalog with its answers (None: it has none)."""
    config, out = cluster_config(sources)
    out.extend(kfn_problems(applied, config, tuple(m for m in sources if is_config(m))))
    out.extend(check_addresses(applied))
    out.extend(velero.check(applied, config.backup.label))
    out.extend(check_network_policies(applied))
    out.extend(check_hardening(applied))
    out.extend(check_workloads(applied, config))
    out.extend(catalog.check(applied, facts))
    return out
