"""Stage 5 (policy), backups: what Velero's Schedules really copy, modelled on Velero's own code.

The model (vmware-tanzu/velero v1.18.1, commit 26ef8fa):
- a Schedule includes the objects its namespaces, resources and label selectors select;
- an included pod brings its volumes: with file-system backup every volume except hostPath, Secret,
  ConfigMap, projected and downwardAPI ones (internal/volumehelper/volume_policy_helper.go
  shouldIncludeVolumeInBackup), emptyDirs included, whatever the claims' labels; with CSI snapshots its
  claims, which pkg/backup/actions/pod_action.go adds as additional items;
- the Schedule's resource policy (a ConfigMap in its namespace, one data key, `version: v1`;
  internal/resourcepolicies/resource_policies.go) is asked first for every such volume: the first volume
  policy whose conditions all match decides, and `skip` keeps the volume's data out (ShouldPerformFSBackup,
  ShouldPerformSnapshot). `pvcLabels` needs Velero >= 1.16.
So a claim lands in a tier's backups through a pod even when its own tier label says otherwise: the rules
below check what each Schedule holds, not what it selects.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from kfn import api
from tools.manifests import Manifest, selector_matches
from tools.validate.problems import Problem

STAGE = "policy"
EXCLUDE_LABEL = "velero.io/exclude-from-backup"
VSC_LABEL = "velero.io/csi-volumesnapshot-class"
VOLUME_DATA_FIX = ("set spec.template.defaultVolumesToFsBackup: true (Velero node-agent) or snapshotVolumes: true with "
                   "snapshotMoveData: true and a VolumeSnapshotClass labelled velero.io/csi-volumesnapshot-class: \"true\"")
RESOURCE_ALIASES = {"persistentvolumeclaims": {"persistentvolumeclaims", "pvc"}, "pods": {"pods", "po"}}
# Pod volume sources file-system backup never copies (shouldIncludeVolumeInBackup).
NOT_COPIED = ("hostPath", "secret", "configMap", "projected", "downwardAPI")
EXCLUDES_ANNOTATION = "backup.velero.io/backup-volumes-excludes"


def velero_schedules(applied: list[Manifest]) -> list[Manifest]:
    return [m for m in applied if m.kind == "Schedule" and m.api_version.startswith("velero.io/")]


def template_of(schedule: Manifest) -> dict:
    return ((schedule.doc.get("spec") or {}).get("template") or {})


def schedule_selects(schedule: Manifest, namespace: str, labels: dict, resource: str = "persistentvolumeclaims") -> bool:
    """Whether a Velero Schedule's backups include an object of ``resource`` in ``namespace`` with ``labels``."""
    template = template_of(schedule)
    if (schedule.doc.get("spec") or {}).get("paused"):
        return False
    included = template.get("includedNamespaces") or []
    if included and "*" not in included and namespace not in included:
        return False
    if namespace in (template.get("excludedNamespaces") or []):
        return False
    names = RESOURCE_ALIASES[resource]
    resources = [str(r).lower() for r in template.get("includedResources") or template.get("includedNamespaceScopedResources") or []]
    if resources and "*" not in resources and not names & set(resources):
        return False
    excluded = [str(r).lower() for r in template.get("excludedResources") or template.get("excludedNamespaceScopedResources") or []]
    if names & set(excluded):
        return False
    alternatives = template.get("orLabelSelectors")
    if alternatives:
        return any(selector_matches(s or {}, labels) for s in alternatives)
    return selector_matches(template.get("labelSelector") or {}, labels)


def claims(applied: list[Manifest]) -> list[tuple[Manifest, str, dict, str]]:
    """(owner, field, claim metadata, namespace) for every PVC and StatefulSet claim template."""
    out = []
    for m in applied:
        if api.is_pvc(m.doc):
            out.append((m, "metadata.labels", m.doc.get("metadata") or {}, m.namespace or "default"))
        elif m.kind == "StatefulSet":
            for i, template in enumerate(api.claim_templates(m.doc)):
                out.append((m, f"spec.volumeClaimTemplates[{i}].metadata.labels", template.get("metadata") or {}, m.namespace or "default"))
    return out


def is_excluded(labels: dict) -> bool:
    return str(labels.get(EXCLUDE_LABEL, "")).lower() == "true"


def check_backups(applied: list[Manifest], label: str) -> list[Problem]:
    out = []
    schedules = velero_schedules(applied)
    for owner, field, meta, namespace in claims(applied):
        labels = meta.get("labels") or {}
        if is_excluded(labels):
            continue
        tier = labels.get(label)
        if tier is None:
            out.append(Problem(owner.file, owner.ident, f"{field}.{label}", "no backup tier, so no backup will ever include this volume", f'add the ai-gitops.dev/data-class marker (models, data or cache) for kfn and run `make render`, or label it {EXCLUDE_LABEL}: "true" to opt out', STAGE))
        elif not any(schedule_selects(s, namespace, labels) for s in schedules):
            out.append(Problem(owner.file, owner.ident, f"{field}.{label}", f"tier {tier} but no Velero Schedule selects it in namespace {namespace}", f"add a Schedule whose template includes namespace {namespace} and selects {label}: {tier}", STAGE))
    return out


def pod_labels(workload: Manifest) -> dict:
    template = (workload.doc.get("spec") or {}).get("template") or {}
    return (template.get("metadata") or {}).get("labels") or {}


def mounting_pods(applied: list[Manifest], namespace: str, claim: str) -> list[tuple[Manifest, dict]]:
    """(workload, pod template labels) of every workload whose pods mount ``claim``."""
    out = []
    for m in applied:
        if not api.is_workload(m.doc) or (m.namespace or "default") != namespace:
            continue
        pod = api.pod_spec(m.doc) or {}
        if any((v.get("persistentVolumeClaim") or {}).get("claimName") == claim for v in pod.get("volumes") or []):
            out.append((m, pod_labels(m)))
    return out


def copies_volume_data(template: dict) -> tuple[bool, bool]:
    """(file-system backup, CSI snapshots moved off the cluster) of a Schedule's template."""
    fs_backup = template.get("defaultVolumesToFsBackup") is True
    moved = template.get("snapshotMoveData") is True and template.get("snapshotVolumes") is not False
    return fs_backup, moved


def check_volume_data(applied: list[Manifest]) -> list[Problem]:
    """Every Schedule copies volume data, not only YAML (velero issue 4575: snapshotVolumes without a
    snapshot provider for the storage skips every volume), and file-system backup sees each claim's pod."""
    out = []
    classes = [m for m in applied if m.kind == "VolumeSnapshotClass" and str(((m.doc.get("metadata") or {}).get("labels") or {}).get(VSC_LABEL)) == "true"]
    for schedule in velero_schedules(applied):
        fs_backup, moved = copies_volume_data(template_of(schedule))
        if not fs_backup and not moved:
            out.append(Problem(schedule.file, schedule.ident, "spec.template", "backs up no volume data: neither file-system backup nor CSI snapshots moved off the cluster, so its backups hold only YAML", VOLUME_DATA_FIX, STAGE))
        elif moved and not fs_backup and not classes:
            out.append(Problem(schedule.file, schedule.ident, "spec.template.snapshotMoveData", f"no VolumeSnapshotClass labelled {VSC_LABEL}: \"true\", so Velero takes no CSI snapshot to move", "add one for the storage's CSI driver (answer backup_method csi-snapshot does)", STAGE))
        if not fs_backup:
            continue
        for owner, field, meta, namespace in claims(applied):
            if owner.kind != "PersistentVolumeClaim" or not schedule_selects(schedule, namespace, meta.get("labels") or {}):
                continue
            pods = mounting_pods(applied, namespace, owner.name)
            if pods and not any(schedule_selects(schedule, namespace, labels, "pods") for _, labels in pods):
                names = ", ".join(m.ident for m, _ in pods)
                out.append(Problem(schedule.file, schedule.ident, "spec.template.orLabelSelectors", f"selects claim {owner.name} but not the pods that mount it ({names}); file-system backup reads volumes through pods, so its data is never copied", f"add a selector for the pods' labels (app.kubernetes.io/name of {names}) to orLabelSelectors", STAGE))
    return out


# --- what each Schedule holds ------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """One volume whose data a Schedule copies: a claim (by name) or a pod's own volume (emptyDir, ...)."""

    pod: Manifest
    volume: str
    claim: str | None
    kind: str  # the pod volume's source: persistentVolumeClaim, emptyDir, ...


def volume_policies(schedule: Manifest, applied: list[Manifest]) -> tuple[list[dict], Problem | None]:
    """The volume policies of a Schedule's resourcePolicy, or the problem that makes Velero refuse them."""
    ref = template_of(schedule).get("resourcePolicy")
    if not ref:
        return [], None
    field = "spec.template.resourcePolicy"
    if str(ref.get("kind", "")).lower() != "configmap":
        return [], Problem(schedule.file, schedule.ident, f"{field}.kind", f"{ref.get('kind')!r} is not configmap, the only kind Velero reads", "set kind: configmap", STAGE)
    found = [m for m in applied if m.kind == "ConfigMap" and m.name == ref.get("name") and m.namespace == schedule.namespace]
    if not found:
        return [], Problem(schedule.file, schedule.ident, f"{field}.name", f"no ConfigMap {ref.get('name')} in namespace {schedule.namespace}, so Velero fails every backup of this Schedule", f"add the ConfigMap to the layer of the Schedule (namespace {schedule.namespace})", STAGE)
    data = found[0].doc.get("data") or {}
    try:
        policies = yaml.safe_load(next(iter(data.values()))) if len(data) == 1 else None
    except yaml.YAMLError:
        policies = None
    if not isinstance(policies, dict) or policies.get("version") != "v1":
        return [], Problem(found[0].file, found[0].ident, "data", "not one data key holding resource policies of version v1, so Velero fails every backup that names it", "keep one key whose value is YAML with version: v1 and volumePolicies", STAGE)
    return [p for p in policies.get("volumePolicies") or [] if isinstance(p, dict)], None


def conditions_match(conditions: dict, kind: str, claim: dict | None) -> bool:
    """The conditions of one volume policy against a volume. Conditions that depend on the live PV
    (capacity, csi, nfs, pvcPhase, a claim's volume type) are unknown offline and count as not matching,
    so the model never assumes a skip that might not happen."""
    for name, wanted in conditions.items():
        if name == "pvcLabels":
            labels = ((claim or {}).get("metadata") or {}).get("labels") or {}
            if claim is None or not all(str(labels.get(k)) == str(v) and k in labels for k, v in (wanted or {}).items()):
                return False
        elif name == "volumeTypes":
            if claim is not None or kind not in (wanted or []):
                return False
        elif name == "storageClass":
            if claim is None or ((claim.get("spec") or {}).get("storageClassName")) not in (wanted or []):
                return False
        else:
            return False
    return True


def skipped(policies: list[dict], kind: str, claim: dict | None) -> bool:
    """Whether the first matching volume policy keeps this volume's data out."""
    for policy in policies:
        if conditions_match(policy.get("conditions") or {}, kind, claim):
            return ((policy.get("action") or {}).get("type")) == "skip"
    return False


def held(schedule: Manifest, applied: list[Manifest], policies: list[dict]) -> list[Held]:
    """The volumes whose data a Schedule copies, through the pods it includes."""
    fs_backup, moved = copies_volume_data(template_of(schedule))
    pvcs = {(m.namespace, m.name): m.doc for m in applied if api.is_pvc(m.doc)}
    out = []
    for workload in applied:
        namespace = workload.namespace or "default"
        if not api.is_workload(workload.doc) or not schedule_selects(schedule, namespace, pod_labels(workload), "pods"):
            continue
        pod = api.pod_spec(workload.doc) or {}
        template = (workload.doc.get("spec") or {}).get("template") or {}
        excludes = str(((template.get("metadata") or {}).get("annotations") or {}).get(EXCLUDES_ANNOTATION, "")).split(",")
        for volume in pod.get("volumes") or []:
            kind = next((k for k in volume if k != "name"), "")
            claim_name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            claim = pvcs.get((namespace, claim_name)) if claim_name else None
            if claim is not None and is_excluded((claim.get("metadata") or {}).get("labels") or {}):
                continue
            copied = fs_backup and kind not in NOT_COPIED and volume.get("name") not in excludes
            snapshotted = moved and not fs_backup and claim_name is not None
            if (copied or snapshotted) and not skipped(policies, kind, claim):
                out.append(Held(workload, str(volume.get("name")), claim_name, kind))
    return out


def schedule_tiers(schedule: Manifest, label: str) -> set[str]:
    """The tiers a Schedule is for: the values of the tier label its selectors ask for."""
    template = template_of(schedule)
    tiers = set()
    for selector in [template.get("labelSelector") or {}, *(template.get("orLabelSelectors") or [])]:
        if label in (selector.get("matchLabels") or {}):
            tiers.add(str(selector["matchLabels"][label]))
        for expr in selector.get("matchExpressions") or []:
            if expr.get("key") == label and expr.get("operator") == "In":
                tiers |= {str(v) for v in expr.get("values") or []}
    return tiers


def check_tiers(applied: list[Manifest], label: str) -> list[Problem]:
    """A tier's backups hold that tier's volumes and nothing else: no claim of another tier (a year of
    GFS copies of a re-downloadable model store), no emptyDir scratch; and every tiered claim whose pod a
    Schedule of its tier includes is really copied by one."""
    out = []
    pvcs = {(m.namespace, m.name): m for m in applied if api.is_pvc(m.doc)}
    holders: dict[tuple[str, str], set[str]] = {}
    working = []
    for schedule in velero_schedules(applied):
        policies, problem = volume_policies(schedule, applied)
        if problem:  # Velero fails the whole backup: what it would copy does not matter
            out.append(problem)
            continue
        working.append(schedule)
        tiers = schedule_tiers(schedule, label)
        for volume in held(schedule, applied, policies):
            where = f"volume {volume.volume} of {volume.pod.ident}"
            if volume.claim is None:
                if tiers and volume.kind == "emptyDir":
                    out.append(Problem(schedule.file, schedule.ident, "spec.template.resourcePolicy", f"copies {where} (an emptyDir: scratch) into every {'/'.join(sorted(tiers))} backup", "skip it with a volume policy (conditions: {volumeTypes: [emptyDir]}, action: {type: skip}) in the Schedule's resourcePolicy ConfigMap (Velero >= 1.16)", STAGE))
                continue
            claim = pvcs.get((volume.pod.namespace, volume.claim))
            tier = (((claim.doc.get("metadata") or {}).get("labels") or {}) if claim else {}).get(label)
            holders.setdefault((volume.pod.namespace, volume.claim), set()).update(tiers)
            if tiers and tier is not None and str(tier) not in tiers:  # an untiered claim: check_backups names it
                out.append(Problem(schedule.file, schedule.ident, "spec.template.resourcePolicy", f"copies claim {volume.claim} (tier {tier}) through {volume.pod.ident}, which it includes for its {'/'.join(sorted(tiers))} claims, so tier {tier} data is kept as {'/'.join(sorted(tiers))}", f"skip it with a volume policy (conditions: {{pvcLabels: {{{label}: {tier}}}}}, action: {{type: skip}}) in the Schedule's resourcePolicy ConfigMap (Velero >= 1.16), or mount the claim in a pod of its own", STAGE))
    for (namespace, name), claim in sorted(pvcs.items()):
        labels = (claim.doc.get("metadata") or {}).get("labels") or {}
        tier = labels.get(label)
        if tier is None or is_excluded(labels) or str(tier) in holders.get((namespace, name), set()):
            continue
        schedules = [s for s in working if str(tier) in schedule_tiers(s, label)
                     and any(copies_volume_data(template_of(s)))  # otherwise check_volume_data names it
                     and any(schedule_selects(s, namespace, pl, "pods") for _, pl in mounting_pods(applied, namespace, name))]
        if schedules:
            names = ", ".join(s.ident for s in schedules)
            out.append(Problem(claim.file, claim.ident, f"metadata.labels.{label}", f"tier {tier}, but no Schedule of that tier copies its data ({names} include its pods and skip it)", "remove the volume policy that skips it from the Schedule's resourcePolicy ConfigMap", STAGE))
    return out


def check(applied: list[Manifest], label: str) -> list[Problem]:
    return check_backups(applied, label) + check_volume_data(applied) + check_tiers(applied, label)
