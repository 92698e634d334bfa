"""Deterministic example resources for the benchmark: an AI stack repeated to any size.

The ``mixed`` workload: every block of ten resources holds three that kfn edits
(a GPU Deployment with probes, a model PVC, a StatefulSet with claim templates)
and seven it passes through, with unique names and LoadBalancer IPs so no check
fires. The ``all-edited`` workload repeats only the three kfn edits.

The ``realistic`` workload is what ``kpt fn render`` sends for a repo that runs
GPU services at scale: every item edited, each block an Ollama and a
faster-whisper Deployment (GPU and probe markers) with the claim each mounts
(a data-class marker), written as the template renders them (comments,
security contexts, resources) with the annotations kpt adds to every item
(``config.kubernetes.io/*``, ``internal.config.kubernetes.io/*``). Captured
from kpt 1.0.0-beta.56 (``kpt fn eval --exec``) on a default bake; names,
paths and ids numbered per block.
"""

from __future__ import annotations

_TEMPLATES = (
    """apiVersion: apps/v1
kind: Deployment
metadata:
  name: ollama-{i}
  namespace: ai
  labels:
    app: ollama-{i}
  annotations:
    ai-gitops.dev/gpu: "1"
    ai-gitops.dev/probes: ollama
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ollama-{i}
  template:
    metadata:
      labels:
        app: ollama-{i}
    spec:
      containers:
      - name: ollama
        image: ollama/ollama:0.9.0
        env:
        - name: OLLAMA_KEEP_ALIVE
          value: 5m
        - name: OLLAMA_NUM_PARALLEL
          value: "2"
        ports:
        - name: http
          containerPort: 11434
        resources:
          requests:
            cpu: 500m
            memory: 8Gi
        volumeMounts:
        - name: models
          mountPath: /root/.ollama
      volumes:
      - name: models
        persistentVolumeClaim:
          claimName: ollama-models-{i}
""",
    """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ollama-models-{i}
  namespace: ai
  annotations:
    ai-gitops.dev/data-class: models
spec:
  accessModes:
  - ReadWriteOnce
  resources:
    requests:
      storage: 100Gi
""",
    """apiVersion: v1
kind: Service
metadata:
  name: ollama-{i}
  namespace: ai
  annotations:
    lbipam.cilium.io/ips: 10.{a}.{b}.{c}
spec:
  type: LoadBalancer
  selector:
    app: ollama-{i}
  ports:
  - name: http
    port: 11434
    targetPort: http
""",
    """apiVersion: v1
kind: ConfigMap
metadata:
  name: settings-{i}
  namespace: ai
data:
  ENABLE_SIGNUP: "false"
  WEBUI_NAME: AI {i}
  DEFAULT_MODELS: llama3.2:3b
""",
    """apiVersion: apps/v1
kind: Deployment
metadata:
  name: webui-{i}
  namespace: ai
spec:
  replicas: 1
  selector:
    matchLabels:
      app: webui-{i}
  template:
    metadata:
      labels:
        app: webui-{i}
    spec:
      containers:
      - name: open-webui
        image: ghcr.io/open-webui/open-webui:main
        envFrom:
        - configMapRef:
            name: settings-{i}
        ports:
        - name: http
          containerPort: 8080
        readinessProbe:
          httpGet:
            path: /health/db
            port: 8080
""",
    """apiVersion: v1
kind: Service
metadata:
  name: webui-{i}
  namespace: ai
spec:
  selector:
    app: webui-{i}
  ports:
  - name: http
    port: 80
    targetPort: http
""",
    """apiVersion: v1
kind: ServiceAccount
metadata:
  name: runner-{i}
  namespace: ai
""",
    """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: scratch-{i}
  namespace: ai
spec:
  accessModes:
  - ReadWriteOnce
  resources:
    requests:
      storage: 1Gi
""",
    """apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: qdrant-{i}
  namespace: ai
  annotations:
    ai-gitops.dev/probes: qdrant
    ai-gitops.dev/data-class: data
spec:
  serviceName: qdrant-{i}
  replicas: 1
  selector:
    matchLabels:
      app: qdrant-{i}
  template:
    metadata:
      labels:
        app: qdrant-{i}
    spec:
      containers:
      - name: qdrant
        image: qdrant/qdrant:v1.15.0
        ports:
        - name: http
          containerPort: 6333
  volumeClaimTemplates:
  - metadata:
      name: storage
    spec:
      accessModes:
      - ReadWriteOnce
      resources:
        requests:
          storage: 10Gi
""",
    """apiVersion: v1
kind: ConfigMap
metadata:
  name: flags-{i}
  namespace: ai
data:
  legacy: "yes"
  mode: "0644"
""",
)
# kpt's per-item annotations (quoting and order as kpt 1.0.0-beta.56 writes them), indented as keys of metadata.annotations.
_KPT = """    config.kubernetes.io/index: '0'
    config.kubernetes.io/path: '{path}'
    internal.config.kubernetes.io/index: '0'
    internal.config.kubernetes.io/path: '{path}'
    internal.config.kubernetes.io/seqindent: 'wide'
    internal.config.kubernetes.io/annotations-migration-resource-id: '{n}'
    internal.config.kubernetes.io/id: '{id}'
    config.k8s.io/id: '{id}'
"""
_REALISTIC = (
    """# Ollama, cuda backend (image, port, paths: catalog/services.yaml).
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ollama-{i}
  namespace: ai
  labels:
    app.kubernetes.io/name: ollama-{i}
    app.kubernetes.io/part-of: ai-gitops
  annotations:
    # kfn adds the nvidia GPU limit, node selector and tolerations.
    ai-gitops.dev/gpu: "1"
    # kfn adds startup/liveness/readiness probes sized for model loading.
    ai-gitops.dev/probes: ollama
"""
    + _KPT.replace("{path}", "apps/ollama-{i}.yaml")
    + """spec:
  replicas: 1
  # The model volume is ReadWriteOnce: the old pod must let go before the new one starts.
  strategy:
    type: Recreate
  selector:
    matchLabels:
      app.kubernetes.io/name: ollama-{i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ollama-{i}
        app.kubernetes.io/part-of: ai-gitops
    spec:
      containers:
      - name: ollama
        image: ollama/ollama:0.33.0
        ports:
        - name: http
          containerPort: 11434
        env:
        - name: OLLAMA_KEEP_ALIVE
          value: 30m
        - name: OLLAMA_MAX_LOADED_MODELS
          value: "1"
        # The default is 1; two parallel requests fit a time-sliced GPU.
        - name: OLLAMA_NUM_PARALLEL
          value: "2"
        resources:
          requests:
            cpu: "2"
            memory: 12Gi
          limits:
            cpu: "6"
            memory: 20Gi
        volumeMounts:
        - name: ollama-models
          mountPath: /root/.ollama
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          # Read-only root: Ollama writes its models and key under $HOME/.ollama (the volume) and
          # temporary files under /tmp (an emptyDir, read-only-root.yaml patch); checked against its
          # docs (OLLAMA_MODELS, docs/faq), not yet on a running cluster.
          readOnlyRootFilesystem: true
      volumes:
      - name: ollama-models
        persistentVolumeClaim:
          claimName: ollama-models-{i}
      # No Kubernetes API access needed: no service-account token in the pod.
      automountServiceAccountToken: false
      securityContext:
        # The image runs as root upstream (catalog/services.yaml, with its source): no runAsNonRoot;
        # every container drops all capabilities instead.
        seccompProfile:
          type: RuntimeDefault
""",
    """# Ollama: /root/.ollama (models; facts: catalog/services.yaml)
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ollama-models-{i}
  namespace: ai
  labels:
    app.kubernetes.io/name: ollama-{i}
    app.kubernetes.io/part-of: ai-gitops
  annotations:
    # kfn turns the data class into the backup-tier label.
    ai-gitops.dev/data-class: models
    # Removing the file from git must not delete the data with it.
    kustomize.toolkit.fluxcd.io/prune: disabled
"""
    + _KPT.replace("{path}", "claims-{i}.yaml")
    + """spec:
  accessModes:
  - ReadWriteOnce
  storageClassName: longhorn
  resources:
    requests:
      storage: 100Gi
""",
    """# speaches (faster-whisper behind an OpenAI-compatible API), cuda (facts: catalog/services.yaml).
apiVersion: apps/v1
kind: Deployment
metadata:
  name: faster-whisper-{i}
  namespace: ai
  labels:
    app.kubernetes.io/name: faster-whisper-{i}
    app.kubernetes.io/part-of: ai-gitops
  annotations:
    ai-gitops.dev/gpu: "1"
    ai-gitops.dev/probes: faster-whisper
"""
    + _KPT.replace("{path}", "apps/faster-whisper-{i}.yaml")
    + """spec:
  replicas: 1
  strategy:
    type: Recreate
  selector:
    matchLabels:
      app.kubernetes.io/name: faster-whisper-{i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: faster-whisper-{i}
        app.kubernetes.io/part-of: ai-gitops
    spec:
      containers:
      - name: faster-whisper
        image: ghcr.io/speaches-ai/speaches:0.8.3-cuda-12.6.3
        ports:
        - name: http
          containerPort: 8000
        env:
        - name: WHISPER__INFERENCE_DEVICE
          value: cuda
        # float16 on the GPU (the default would compute in float32), int8 on the CPU.
        - name: WHISPER__COMPUTE_TYPE
          value: float16
        # Keep the model loaded between requests (seconds; -1: never unload).
        - name: STT_MODEL_TTL
          value: "-1"
        # The Gradio UI is not needed: Open WebUI is the front end.
        - name: ENABLE_UI
          value: "False"
        resources:
          requests:
            cpu: "2"
            memory: 4Gi
          limits:
            cpu: "4"
            memory: 8Gi
        volumeMounts:
        - name: whisper-models
          mountPath: /home/ubuntu/.cache/huggingface/hub
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          # Writable root filesystem: not verified read-only (uv's venv and Hugging Face write under $HOME).
          readOnlyRootFilesystem: false
      volumes:
      - name: whisper-models
        persistentVolumeClaim:
          claimName: whisper-models-{i}
      # No Kubernetes API access needed: no service-account token in the pod.
      automountServiceAccountToken: false
      securityContext:
        # The image runs as 1000 (catalog/services.yaml, with its source); fsGroup makes the claims writable for it.
        runAsNonRoot: true
        runAsUser: 1000
        fsGroup: 1000
        seccompProfile:
          type: RuntimeDefault
""",
    """# Speech to text (speaches, faster-whisper): /home/ubuntu/.cache/huggingface/hub (cache; facts: catalog/services.yaml)
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: whisper-models-{i}
  namespace: ai
  labels:
    app.kubernetes.io/name: faster-whisper-{i}
    app.kubernetes.io/part-of: ai-gitops
  annotations:
    # kfn turns the data class into the backup-tier label.
    ai-gitops.dev/data-class: cache
    # Removing the file from git must not delete the data with it.
    kustomize.toolkit.fluxcd.io/prune: disabled
"""
    + _KPT.replace("{path}", "claims-{i}.yaml")
    + """spec:
  accessModes:
  - ReadWriteOnce
  storageClassName: longhorn
  resources:
    requests:
      storage: 20Gi
""",
)
EDITED_PER_BLOCK = 3
# The templates kfn edits: an all-edited workload repeats only these.
_EDITED = (_TEMPLATES[0], _TEMPLATES[1], _TEMPLATES[8])
WORKLOADS = {"mixed": _TEMPLATES, "all-edited": _EDITED, "realistic": _REALISTIC}


def documents(count: int, workload: str = "mixed") -> list[str]:
    """``count`` resources as YAML documents (no separators)."""
    templates = WORKLOADS[workload]
    out = []
    for n in range(count):
        block = n // len(templates)
        text = templates[n % len(templates)]
        out.append(text.format(i=block, n=n, id=n + 1, a=block // 65536, b=block // 256 % 256, c=block % 256))
    return out


def stream(count: int) -> str:
    return "---\n".join(documents(count))


def resource_list(count: int, config: str = "", workload: str = "mixed") -> str:
    """A block-style ResourceList as kpt sends it (compact sequences)."""
    items = "".join("- " + doc.replace("\n", "\n  ").rstrip(" ") for doc in documents(count, workload))
    body = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items
    if config:
        body += "functionConfig:\n" + "".join("  " + line for line in config.splitlines(True))
    return body


# The functionConfig the template renders for a default bake (kubernetes/kfn/<cluster>/ai-patches.yaml:
# profiles and tiers from catalog/services.yaml), with a GPU budget large enough for every list here.
CONFIG = """apiVersion: kfn.ai-gitops.dev/v1alpha1
kind: AIPatches
metadata:
  name: ai-patches
spec:
  gpu:
    vendor: nvidia
    # The nvidia.com/gpu request alone places a GPU pod on a node that has one. A selector
    # (answer gpu_node_selector) only narrows that, and needs whatever sets its labels on the nodes.
    nodeSelector: {}
    # A GPU budget that holds every workload of the 50 000-item lists (25 000 GPUs), so no check fires.
    physical: 100000
    timeSlicingReplicas: 1
  backup:
    label: backup.velero.io/backup-tier
    # By what a loss costs: data (Open WebUI, Qdrant, Stable Diffusion outputs) cannot be
    # downloaded again and gets the long GFS retention; models and caches can, and get Daily (3 days).
    # The Schedules in kubernetes/infrastructure/base/backup/ select these tiers.
    tiers:
      data: GFS
      models: Daily
      cache: Daily
  # One profile per service, from catalog/services.yaml: the port, the routes the image answers without
  # credentials, and how long its first start may take (startup failureThreshold × 10 s).
  probes:
    ollama:
      port: 11434
      protocol: http
      startup: {path: /api/version, failureThreshold: 30}
      liveness: {path: /}
      readiness: {path: /api/version}
    open-webui:
      port: 8080
      protocol: http
      startup: {path: /health, failureThreshold: 60}
      liveness: {path: /health}
      readiness: {path: /health/db}
    stable-diffusion:
      port: 7860
      protocol: tcp
      startup: {failureThreshold: 120}
    faster-whisper:
      port: 8000
      protocol: http
      startup: {path: /health, failureThreshold: 30}
      liveness: {path: /health}
      readiness: {path: /health}
    qdrant:
      port: 6333
      protocol: http
      startup: {path: /livez, failureThreshold: 30}
      liveness: {path: /livez}
      readiness: {path: /readyz}
    litellm:
      port: 4000
      protocol: http
      startup: {path: /health/liveliness, failureThreshold: 30}
      liveness: {path: /health/liveliness}
      readiness: {path: /health/readiness}
    gatus:
      port: 8080
      protocol: http
      startup: {path: /health, failureThreshold: 6}
      liveness: {path: /health}
      readiness: {path: /health}
"""
