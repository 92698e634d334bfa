"""Who talks to whom, from catalog/services.yaml: the network-policy flow graph and Gatus's targets.

Both are decided here, in Python, rather than with list appends in the templates that write them
(templates/kubernetes/infrastructure/base/netpol/policies.yaml, .../apps/base/ai/gatus/config.yaml):
one rule, tested on its own, and read by every policy flavour (Cilium and Kubernetes) alike. Each end of
a flow is derived from the same list of ingress grants, so a client's egress and its server's ingress
always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# A deployed service's catalog entry by name, in catalog order (tools/answers.py `deployed`): the answers
# decide what is deployed, this module only what those services may say to each other.
Services = Mapping[str, Mapping]


@dataclass(frozen=True)
class Workload:
    """One pod kind's flows: a deployed service or one of its Jobs (the policies select it by name)."""

    name: str
    # (client, port): the workloads allowed in, each on this workload's container port.
    ingress: tuple[tuple[str, int], ...]
    # The container port LoadBalancer traffic reaches from anywhere (a service with an IP answer), else None.
    lb_port: int | None
    # (server, port): the workloads this one may connect to, the mirror of their ingress.
    egress: tuple[tuple[str, int], ...]
    # Whether it may reach the internet (80/443 outside the private ranges): model downloads.
    internet: bool


def network_flows(deployed: Services) -> list[Workload]:
    """Every deployed workload with its flows, in catalog order, each service before its Jobs.

    A service lets in its catalog `clients` that are deployed (a switched-off client gets no hole) and its
    own Jobs, which exist to talk to it; nothing else."""
    names = {n for name, svc in deployed.items() for n in (name, *(job["name"] for job in svc.get("jobs", [])))}
    grants: list[tuple[str, tuple[tuple[str, int], ...], int | None, bool]] = []
    for name, svc in deployed.items():
        jobs = svc.get("jobs", [])
        clients = [c for c in svc["clients"] if c in names] + [job["name"] for job in jobs]
        grants.append((name, tuple((client, svc["port"]) for client in clients), svc["port"] if svc["ip_answer"] else None, svc["internet"]))
        grants += [(job["name"], (), None, job["internet"]) for job in jobs]
    return [
        Workload(name, ingress, lb_port, tuple((server, port) for server, clients, _, _ in grants for client, port in clients if client == name), internet)
        for name, ingress, lb_port, internet in grants
    ]


def service_address(name: str, namespace: str, port: int) -> str:
    """host:port of a service for the workloads beside it: its Service's DNS name, the address the network
    policies' in-cluster flows cover (a LoadBalancer IP is not: traffic to it may leave the cluster)."""
    return f"{name}.{namespace}.svc.cluster.local:{port}"


@dataclass(frozen=True)
class Target:
    """One Gatus endpoint: a service checked through its Service DNS name."""

    name: str
    # "ui" for what users open (a service with a LoadBalancer IP answer), "api" for the rest.
    group: str
    url: str
    condition: str


def gatus_targets(deployed: Services, namespace: str) -> list[Target]:
    """What Gatus checks: every deployed service but itself, at its readiness route over HTTP or its port
    over TCP (catalog probes). Through the Service name, never a LoadBalancer IP: the network policies
    allow Gatus exactly its in-cluster flows (gatus is a client of each service in the catalog)."""
    targets = []
    for name, svc in deployed.items():
        if name == "gatus":
            continue
        address = service_address(name, namespace, svc["service_port"])
        if svc["probes"]["protocol"] == "http":
            url, condition = f"http://{address}{svc['probes']['readiness']}", "[STATUS] == 200"
        else:
            url, condition = f"tcp://{address}", "[CONNECTED] == true"
        targets.append(Target(name, "ui" if svc["ip_answer"] else "api", url, condition))
    return targets
