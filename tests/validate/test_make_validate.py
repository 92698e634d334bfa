"""`make validate` in a baked repo: the untouched bake passes; each way of breaking it fails naming exactly that.

Every break is what a person would do to the repo (edit a file, run `make render` or forget to,
decrypt or re-encrypt with sops), and every assertion matches the specific problem line and the
stage that reports it, never just a non-zero exit.
"""

from __future__ import annotations


import pytest
import yaml

from tooling import age_identity
from validate_repo import TEMPLATE, Outcome, Repo, bake



def answers(repo: Repo) -> dict:
    return repo.answers


BASE = "templates/kubernetes/apps/base/ai"
INFRASTRUCTURE = "templates/kubernetes/infrastructure/base"


def rendered(repo, layer: str, name: str) -> str:
    return f"kubernetes/rendered/{repo.cluster}/{layer}/{name}"


def failing(repo, **stages: int) -> Outcome:
    """`make validate` fails, with exactly these problem counts per stage."""
    outcome = repo.validate()
    assert outcome.returncode != 0, outcome.stdout
    assert outcome.stages == stages, outcome.stdout
    return outcome


def add_to_core(repo, name: str, manifest: str) -> None:
    """A new base directory in the core layer (another overlay than the apps)."""
    directory = repo.file(f"templates/kubernetes/infrastructure/base/{name}")
    directory.mkdir()
    (directory / f"{name}.yaml").write_text(manifest)
    (directory / "kustomization.yaml").write_text(f"resources: [{name}.yaml]\n")
    include_in_core(repo, name)


def include_in_core(repo, base: str) -> None:
    """Add templates/kubernetes/infrastructure/base/<base> to the core layer's overlay."""
    storage = "  - ../../infrastructure/base/storage\n"
    repo.edit("templates/kubernetes/core/overlay/kustomization.yaml", storage, f"{storage}  - ../../infrastructure/base/{base}\n")


def test_untouched_bake_passes(repo):
    outcome = repo.validate()
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert outcome.stages == {}
    assert outcome.lines[-1].startswith("validate: OK, 5 stages, ")
    assert repo.validate().stdout == outcome.stdout  # the report depends only on the tree


@pytest.mark.parametrize("answers", [
    {"lb_provider": "metallb", "lb_pool": "10.10.2.24-10.10.2.30", "gpu_vendor": "amd", "gpu_count": "3", "enable_qdrant": True, "enable_litellm": True},
    {"gpu_vendor": "intel", "gpu_count": "3", "gpu_time_slicing_replicas": "1", "cluster_name": "lab", "namespace": "ml"},
], ids=["metallb-amd-every-service", "intel-lab-ml"])
def test_other_untouched_bakes_pass(answers, tmp_path):
    outcome = Repo(bake(tmp_path, **answers)).validate()
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert outcome.lines[-1].startswith("validate: OK, 5 stages, ")


def test_edited_base_without_render_is_drift(repo):
    base = f"{BASE}/open-webui/deployment.yaml"
    deployment = repo.load(base)[0]
    limits = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    before, limits["memory"] = limits["memory"], "7Gi" if limits["memory"] != "7Gi" else "8Gi"
    repo.file(base).write_text(yaml.safe_dump(deployment, sort_keys=False))
    outcome = failing(repo, drift=1)
    line = outcome.problem(rendered(repo, "apps", "ai/deployment-open-webui.yaml") + ": ")
    assert "differs from what `make render` produces" in line and "run `make render` and commit the result" in line
    diff = [" ".join(d.split()) for d in outcome.lines if d.startswith("    ")]  # the short diff under the line
    assert f"- memory: {before}" in diff and f"+ memory: {limits['memory']}" in diff
    assert repo.validate().stdout == outcome.stdout


def test_decrypted_secret_is_reported_in_source_and_render(repo):
    repo.sops("decrypt", "--in-place", repo.secret)
    repo.render()
    outcome = failing(repo, secrets=2)
    outcome.problem(f"{repo.secret}: Secret/open-webui-secrets: sops: not encrypted: a plaintext Secret is committed")
    outcome.problem(rendered(repo, "apps", "ai/secret-open-webui-secrets.yaml"), "plaintext Secret in the tree")


def test_secret_for_another_age_key(repo):
    recipient, _ = age_identity()
    plaintext = repo.sops("decrypt", repo.secret)
    foreign = repo.sops("--config", "/dev/null", "encrypt", "--age", recipient, "--encrypted-regex", "^(data|stringData)$",
                        "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin", stdin=plaintext)
    repo.file(repo.secret).write_text(foreign)
    repo.render()
    outcome = failing(repo, secrets=2)
    line = outcome.problem(f"{repo.secret}: Secret/open-webui-secrets: sops.age: encrypted for {recipient[:12]}")
    assert f"not for cluster {repo.cluster}'s recipient" in line
    outcome.problem(rendered(repo, "apps", "ai/secret-open-webui-secrets.sops.yaml"), "decrypts with none of age.agekey")


def test_duplicate_ip_across_layers(repo):
    ip = answers(repo)["open_webui_ip"]
    add_to_core(repo, "dashboard", f"""\
apiVersion: v1
kind: Service
metadata:
  name: dashboard
  namespace: monitoring
  annotations:
    lbipam.cilium.io/ips: "{ip}"
spec:
  type: LoadBalancer
  selector: {{app: dashboard}}
  ports: [{{port: 80}}]
""")
    repo.render()  # kfn renders each layer alone: it cannot see the clash
    outcome = failing(repo, policy=1)
    line = outcome.problem(f"LoadBalancer IP {ip} is already used by Service")
    assert "Service/" in line and "give each LoadBalancer Service its own address" in line


def test_duplicate_ip_in_one_layer_stops_the_render(repo):
    ip = answers(repo)["open_webui_ip"]
    repo.edit(f"{BASE}/services.yaml", answers(repo)["whisper_ip"], ip)
    assert repo.make("render").returncode != 0  # kfn refuses it while rendering the apps layer
    outcome = failing(repo, drift=1)
    line = outcome.problem("Makefile: -: render: `make render` fails on the current sources")
    assert f"LoadBalancer IP {ip} is already used by Service ai/open-webui" in line


def test_ip_outside_the_pool(repo):
    outside = "10.10.3.27"
    repo.edit(f"{BASE}/services.yaml", answers(repo)["whisper_ip"], outside)
    repo.render()
    outcome = failing(repo, policy=1)
    line = outcome.problem(rendered(repo, "apps", "ai/service-faster-whisper.yaml"), "Service/faster-whisper")
    assert f"{outside} is outside every LoadBalancer pool ({answers(repo)['lb_pool']}" in line
    # The line leads with the file to edit, then the rendered copy Flux applies.
    assert line.startswith(f"{BASE}/services.yaml (rendered: {rendered(repo, 'apps', 'ai/service-faster-whisper.yaml')}): ")


def test_extra_gpu_workload_over_budget(repo):
    add_to_core(repo, "comfyui", """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: comfyui
  namespace: ai
  annotations:
    ai-gitops.dev/gpu: "2"
    ai-gitops.dev/probes: "http:8188/"
spec:
  selector: {matchLabels: {app: comfyui}}
  template:
    metadata: {labels: {app: comfyui}}
    spec:
      containers:
        - name: comfyui
          image: example/comfyui:1.0
          resources:
            limits: {cpu: "2", memory: 8Gi}
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
      automountServiceAccountToken: false
      securityContext: {seccompProfile: {type: RuntimeDefault}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: comfyui, namespace: ai}
spec:
  podSelector: {matchLabels: {app: comfyui}}
  policyTypes: [Ingress]
""")
    repo.render()  # within budget for the core layer alone
    outcome = failing(repo, policy=1)
    capacity = int(answers(repo)["gpu_count"]) * int(answers(repo)["gpu_time_slicing_replicas"])
    line = outcome.problem(rendered(repo, "core", "ai/deployment-comfyui.yaml"), "GPU budget exceeded")
    assert f"= {capacity}" in line


def test_flux_kustomization_with_missing_path(repo):
    repo.edit(f"clusters/{repo.cluster}/apps.yaml", f"rendered/{repo.cluster}/apps", "rendered/staging/apps")
    outcome = failing(repo, flux=1, drift=1)  # the file is generated from templates/flux/ too
    outcome.problem(f"clusters/{repo.cluster}/apps.yaml: Kustomization/apps: spec.path: ./kubernetes/rendered/staging/apps does not exist")


def test_depends_on_cycle(repo):
    path = repo.file(f"clusters/{repo.cluster}/core.yaml")
    path.write_text(path.read_text().replace("  prune: true\n", "  prune: true\n  dependsOn:\n    - name: apps\n"))
    outcome = failing(repo, flux=1, drift=1)
    line = outcome.problem("spec.dependsOn: dependency cycle")
    assert "apps -> core -> apps" in line or "core -> apps -> core" in line


def test_custom_resource_in_a_layer_the_apps_need(repo):
    include_in_core(repo, "network")  # the LB pool's CRDs come from Cilium, not from this repo
    repo.render()
    outcome = failing(repo, flux=2)
    pool = outcome.problem(rendered(repo, "core", "_cluster/ciliumloadbalancerippool-"), "apiVersion:")
    assert "cilium.io/v2 CiliumLoadBalancerIPPool is in layer 'core', which the apps need" in pool
    assert "stops every object in 'core'" in pool and "move it to an add-on layer of its own" in pool
    outcome.problem(rendered(repo, "core", "_cluster/ciliuml2announcementpolicy-"), "CiliumL2AnnouncementPolicy is in layer 'core'")


def test_wrong_api_version_of_a_builtin_kind(repo):
    # faster-whisper: no kustomize patch targets it (a patch would no longer find an apps/v1beta1 Deployment)
    repo.edit(f"{BASE}/faster-whisper/deployment.yaml", "apiVersion: apps/v1", "apiVersion: apps/v1beta1")
    repo.render()
    outcome = failing(repo, schema=1)
    line = outcome.problem(rendered(repo, "apps", "ai/deployment-faster-whisper.yaml"), "Deployment/faster-whisper: apiVersion:")
    assert "no schema for apps/v1beta1 Deployment" in line and "use apiVersion apps/v1" in line


def test_wrong_api_version_of_a_crd(repo):
    repo.edit("templates/kubernetes/infrastructure/base/network/lb-pool.yaml", "apiVersion: cilium.io/v2\n", "apiVersion: cilium.io/v2alpha1\n")
    repo.render()
    outcome = failing(repo, schema=1)
    line = outcome.problem("CiliumLoadBalancerIPPool/", "apiVersion:")
    assert "no schema for cilium.io/v2alpha1 CiliumLoadBalancerIPPool" in line and "use apiVersion cilium.io/v2" in line


def test_unknown_field_in_a_flux_kustomization(repo):
    repo.edit(f"clusters/{repo.cluster}/apps.yaml", "  prune: true\n", "  prune: true\n  prunne: false\n")
    outcome = failing(repo, drift=1, schema=1)
    outcome.problem("Kustomization/apps: spec: Additional properties are not allowed ('prunne' was unexpected)")


def test_claim_without_backup_tier(repo):
    repo.edit("templates/kubernetes/infrastructure/base/storage/claims.yaml", "    ai-gitops.dev/data-class: models\n", "")
    repo.render()
    outcome = failing(repo, policy=1)
    line = outcome.problem("PersistentVolumeClaim/ollama-models", "no backup tier")
    assert "metadata.labels.backup.velero.io/backup-tier" in line and "ai-gitops.dev/data-class" in line


def test_tier_that_no_schedule_selects(repo):
    schedules = "templates/kubernetes/infrastructure/base/backup/velero-schedules.yaml"
    repo.edit(schedules, "backup.velero.io/backup-tier: Daily", "backup.velero.io/backup-tier: Weekly")
    repo.edit(schedules, "values: [ollama, stable-diffusion, faster-whisper]", "values: [comfyui]")  # nor the pods of the tier
    repo.render()
    outcome = failing(repo, policy=2)
    for claim in ("whisper-models", "ollama-models"):
        line = outcome.problem(f"PersistentVolumeClaim/{claim}")
        assert f"tier Daily but no Velero Schedule selects it in namespace {answers(repo)['namespace']}" in line


def test_tier_without_a_volume_data_path(repo):
    """snapshotVolumes alone backs up no data on storage without a snapshot provider (velero issue 4575)."""
    repo.freeze(SCHEDULES)
    path = repo.file(SCHEDULES)
    head, daily = path.read_text().split(f"name: {answers(repo)['namespace']}-daily\n")
    daily = daily.replace("    defaultVolumesToFsBackup: true\n    snapshotVolumes: false\n", "    snapshotVolumes: true\n")
    path.write_text(f"{head}name: {answers(repo)['namespace']}-daily\n{daily}")
    repo.render()
    outcome = failing(repo, policy=1)
    line = outcome.problem(rendered(repo, "backup", f"velero/schedule-{answers(repo)['namespace']}-daily.yaml"), "spec.template:")
    assert "backs up no volume data" in line and "defaultVolumesToFsBackup: true" in line


def test_schedule_that_misses_the_pods_of_its_claims(repo):
    repo.edit("templates/kubernetes/infrastructure/base/backup/velero-schedules.yaml", "values: [ollama", "values: [llama")
    repo.render()
    outcome = failing(repo, policy=1)
    line = outcome.problem("Schedule/ai-daily", "selects claim ollama-models but not the pods that mount it (Deployment/ollama)")
    assert "add a selector for the pods' labels" in line


SCHEDULES = "templates/kubernetes/infrastructure/base/backup/velero-schedules.yaml"
SKIP_DAILY_CLAIMS = """      - conditions:
          pvcLabels:
            backup.velero.io/backup-tier: Daily
        action:
          type: skip
"""
SKIP_EMPTYDIRS = """      - conditions:
          volumeTypes: [emptyDir]
        action:
          type: skip
"""


def test_gfs_backups_that_copy_a_daily_claim_through_its_pod(repo):
    """Stable Diffusion's pod mounts its outputs (GFS) and its models (Daily): the GFS Schedules include
    the pod, and Velero copies every volume of an included pod unless a volume policy skips it."""
    repo.edit(SCHEDULES, SKIP_DAILY_CLAIMS, "")
    repo.render()
    outcome = failing(repo, policy=3)
    for schedule in ("gfs-daily", "gfs-weekly", "gfs-monthly"):
        line = outcome.problem(f"Schedule/ai-{schedule}", "copies claim stable-diffusion-models (tier Daily) through Deployment/stable-diffusion")
        assert "pvcLabels: {backup.velero.io/backup-tier: Daily}" in line and "Velero >= 1.16" in line


def test_backups_that_copy_emptydirs(repo):
    repo.edit(SCHEDULES, SKIP_EMPTYDIRS, "")  # the first tier's ConfigMap: GFS
    repo.render()
    scratch = [(name, v["name"]) for name in ("open-webui", "stable-diffusion")  # the pods with GFS claims
               for v in repo.load(rendered(repo, "apps", f"ai/deployment-{name}.yaml"))[0]["spec"]["template"]["spec"]["volumes"] if "emptyDir" in v]
    assert ("stable-diffusion", "dshm") in scratch
    outcome = failing(repo, policy=3 * len(scratch))
    for schedule in ("gfs-daily", "gfs-weekly", "gfs-monthly"):
        for name, volume in scratch:
            outcome.problem(f"Schedule/ai-{schedule}", f"copies volume {volume} of Deployment/{name} (an emptyDir: scratch)")


def test_volume_policy_that_skips_its_own_tier(repo):
    repo.freeze(SCHEDULES)
    path = repo.file(SCHEDULES)
    head, daily = path.read_text().rsplit("name: ai-daily-volumes\n", 1)  # the ConfigMap, after the Schedule
    path.write_text(head + "name: ai-daily-volumes\n" + daily.replace("backup.velero.io/backup-tier: GFS", "backup.velero.io/backup-tier: Daily"))
    repo.render()
    outcome = failing(repo, policy=4)  # three Daily claims no longer copied, and the GFS outputs copied into Daily
    for claim in ("ollama-models", "stable-diffusion-models", "whisper-models"):
        line = outcome.problem(f"PersistentVolumeClaim/{claim}", "tier Daily, but no Schedule of that tier copies its data")
        assert "Schedule/ai-daily include its pods and skip it" in line
    outcome.problem("Schedule/ai-daily", "copies claim stable-diffusion-data (tier GFS)")


def test_resource_policy_naming_a_missing_configmap(repo):
    repo.edit(SCHEDULES, "      name: ai-daily-volumes\n    ttl", "      name: ai-daily-policies\n    ttl")
    repo.render()
    outcome = failing(repo, policy=1)
    line = outcome.problem("Schedule/ai-daily", "resourcePolicy.name")
    assert "no ConfigMap ai-daily-policies in namespace velero, so Velero fails every backup of this Schedule" in line


def test_workload_without_a_network_policy(repo):
    policies = "templates/kubernetes/infrastructure/base/netpol/policies.yaml"
    kept = [d for d in repo.load(policies) if d["metadata"]["name"] != "faster-whisper"]
    repo.file(policies).write_text(yaml.safe_dump_all(kept, sort_keys=False))
    repo.render()
    outcome = failing(repo, policy=1)
    line = outcome.problem(rendered(repo, "apps", "ai/deployment-faster-whisper.yaml"), "spec.template.metadata.labels:")
    assert "no NetworkPolicy or CiliumNetworkPolicy in namespace ai selects its pods (app.kubernetes.io/name=faster-whisper" in line
    assert "add its flows" in line and "netpol/policies.yaml" in line


def test_container_with_privilege_escalation(repo):
    # The template frozen to the YAML it renders (the shared hardening macro's block), then edited as a user would.
    repo.edit(f"{BASE}/open-webui/deployment.yaml", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true")
    repo.render()
    outcome = failing(repo, policy=1)
    line = outcome.problem(rendered(repo, "apps", "ai/deployment-open-webui.yaml"), "containers[open-webui].securityContext.allowPrivilegeEscalation: is True")
    assert "set the container's securityContext: allowPrivilegeEscalation: false" in line


def test_workload_without_hardening(repo):
    add_to_core(repo, "tool", """\
apiVersion: batch/v1
kind: Job
metadata: {name: tool, namespace: ai}
spec:
  template:
    metadata: {labels: {app.kubernetes.io/name: ollama-pull-models}}
    spec:
      restartPolicy: Never
      containers:
        - name: tool
          image: example/tool:1.0
          resources: {limits: {cpu: 100m, memory: 64Mi}}
""")
    repo.render()
    outcome = failing(repo, policy=4)
    for field in ("automountServiceAccountToken: not false", "containers[tool].securityContext.allowPrivilegeEscalation: is unset",
                  "containers[tool].securityContext.capabilities.drop: does not drop ALL", "containers[tool].securityContext.seccompProfile: no seccomp profile"):
        outcome.problem(rendered(repo, "core", "ai/job-tool.yaml"), field)


def test_workload_without_probes(repo):
    repo.edit(f"{BASE}/open-webui/deployment.yaml", "  annotations:\n    ai-gitops.dev/probes: open-webui\n", "")
    repo.render()
    outcome = failing(repo, policy=2)
    for probe in ("livenessProbe", "readinessProbe"):
        outcome.problem("Deployment/open-webui", f"containers[open-webui].{probe}: missing")


@pytest.mark.parametrize(
    ("image", "says"),
    [
        ("example/tool:1.0:2.0", "is not a valid image reference"),  # two tags
        ("Example/Tool:1.0", "is not a valid image reference"),  # upper case
        ("example/tool:latest", "is tagged latest and no digest"),
        ("example/tool", "has no tag and no digest"),
        ("''", "missing, so its Pods are refused"),
    ],
)
def test_image_reference_that_cannot_pull_or_moves(repo, image, says):
    add_to_core(repo, "tool", f"""\
apiVersion: batch/v1
kind: Job
metadata: {{name: tool, namespace: ai}}
spec:
  template:
    metadata: {{labels: {{app: tool}}}}
    spec:
      restartPolicy: Never
      initContainers:
        - name: fetch
          image: {image}
          resources: {{limits: {{cpu: 100m, memory: 64Mi}}}}
          securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}
      containers:
        - name: tool
          image: example/tool:1.0@sha256:{"0" * 64}
          resources: {{limits: {{cpu: 100m, memory: 64Mi}}}}
          securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}
      automountServiceAccountToken: false
      securityContext: {{seccompProfile: {{type: RuntimeDefault}}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: tool, namespace: ai}}
spec:
  podSelector: {{matchLabels: {{app: tool}}}}
  policyTypes: [Ingress]
""")
    repo.render()
    outcome = failing(repo, policy=1)
    line = outcome.problem(rendered(repo, "core", "ai/job-tool.yaml"), "spec.template.spec.initContainers[fetch].image")
    assert says in line and line.startswith("templates/kubernetes/infrastructure/base/tool/tool.yaml (rendered: ")


def test_sd_next_latest_is_a_warning_until_pinned(repo):
    """SD.Next publishes only :latest (the catalog says so): the bake passes with a warning naming the fix."""
    outcome = repo.validate()
    assert outcome.returncode == 0, outcome.stdout
    line = outcome.problem("warning: ", "deployment-stable-diffusion.yaml", "image vladmandic/sdnext-cuda:latest is tagged latest")
    assert "add the digest the tag points at today" in line


def test_kfn_deprecated_default_is_a_warning(repo):
    """A kfn config that leaves a profile to kfn's deprecated built-in renders the same, and `make validate`
    passes with kfn's warning (kustomize hides a plugin's warnings from `make render`)."""
    repo.freeze("templates/kubernetes/kfn/overlay/ai-patches.yaml")
    config = repo.file("templates/kubernetes/kfn/overlay/ai-patches.yaml")
    text = config.read_text()
    start = text.index("\n    ollama:\n")
    config.write_text(text[:start] + text[text.index("\n    open-webui:\n"):])
    repo.render()
    outcome = repo.validate()
    assert outcome.returncode == 0, outcome.stdout
    line = outcome.problem("warning: ", "Deployment/ollama", 'probe profile "ollama" is a built-in, deprecated in kfn 0.2.0')
    assert "name it in the AIPatches config" in line


@pytest.mark.parametrize("lb_provider", ["cilium", "metallb"])
def test_gateway_address_outside_the_pool(tmp_path, lb_provider):
    """The Gateway's address (spec.addresses for Cilium, the Envoy Service annotation for MetalLB) is held
    to the pool like a Service's."""
    repo = Repo(bake(tmp_path, exposure="gateway", lb_provider=lb_provider))
    gateway = "templates/kubernetes/infrastructure/base/gateway/gateway.yaml"
    repo.edit(gateway, f'"{answers(repo)["open_webui_ip"]}"', '"10.10.3.30"')
    repo.render()
    outcome = failing(repo, policy=1)
    field = "spec.addresses[0].value" if lb_provider == "cilium" else 'spec.infrastructure.annotations["metallb.io/loadBalancerIPs"]'
    line = outcome.problem("Gateway/ai", field)
    assert "10.10.3.30 is outside every LoadBalancer pool" in line and line.startswith(f"{gateway} (rendered: ")


def test_literal_value_in_a_secret_recipe(repo):
    """A recipe in templates/ holds markers; a literal there is in git in clear (and in every cluster made from it)."""
    recipe = repo.file(f"{BASE}/open-webui/secret.sops.yaml")
    recipe.write_text(recipe.read_text().replace("WEBUI_SECRET_KEY: <random:hex:32>", "WEBUI_SECRET_KEY: hunter2hunter2"))
    outcome = failing(repo, secrets=1)
    line = outcome.problem(f"{BASE}/open-webui/secret.sops.yaml: Secret/open-webui-secrets: stringData.WEBUI_SECRET_KEY: a literal value in a Secret recipe")
    assert "hunter2" not in outcome.stdout and "<random:hex:32>" in line
