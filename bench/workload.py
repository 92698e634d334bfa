"""Deterministic example resources for the benchmark: an AI stack repeated to any size.

The ``mixed`` workload: every block of ten resources holds three that kfn edits
(a GPU Deployment with probes, a model PVC, a StatefulSet with claim templates)
and seven it passes through, with unique names and LoadBalancer IPs so no check
fires. The ``all-edited`` workload repeats only the three kfn edits.
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
EDITED_PER_BLOCK = 3
# The templates kfn edits: an all-edited workload repeats only these.
_EDITED = (_TEMPLATES[0], _TEMPLATES[1], _TEMPLATES[8])
WORKLOADS = {"mixed": _TEMPLATES, "all-edited": _EDITED}


def documents(count: int, workload: str = "mixed") -> list[str]:
    """``count`` resources as YAML documents (no separators)."""
    templates = WORKLOADS[workload]
    out = []
    for n in range(count):
        block = n // len(templates)
        out.append(templates[n % len(templates)].format(i=block, a=block // 65536, b=block // 256 % 256, c=block % 256))
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


CONFIG = """apiVersion: kfn.ai-gitops.dev/v1alpha1
kind: AIPatches
metadata:
  name: ai-patches
spec:
  gpu:
    vendor: nvidia
"""
