"""A baked repo's rendered Deployments, run as local processes the way the kubelet would start them.

From `kubernetes/rendered/<cluster>/apps/` of a real bake this reads each container's env (Secret values
decrypted with the repo's own age key, in memory only), args, ConfigMap files, volumes and probes; maps
every in-cluster URL to 127.0.0.1 at the port the Service targets; gives each volume a directory, and
emulates `readOnlyRootFilesystem: true` with a private mount namespace in which the root filesystem is
read-only and only the volumes (an emptyDir at /tmp among them) are writable.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

from tooling import tool_env

LOOPBACK = "127.0.0.1"


@dataclass
class RenderedRepo:
    path: Path
    cluster: str
    namespace: str

    @cached_property
    def objects(self) -> dict[tuple[str, str], dict]:
        apps = self.path / "kubernetes" / "rendered" / self.cluster / "apps"
        found = {}
        for file in sorted(apps.rglob("*.yaml")):
            for doc in yaml.safe_load_all(file.read_text()):
                if doc and doc.get("kind") and doc["kind"] != "Kustomization":
                    found[(doc["kind"], doc["metadata"]["name"])] = doc
        return found

    def get(self, kind: str, name: str) -> dict:
        return self.objects[(kind, name)]

    def has(self, kind: str, name: str) -> bool:
        return (kind, name) in self.objects

    def secret(self, name: str) -> dict[str, str]:
        """A Secret's values, decrypted by sops with the repo's age key (stdout only, never a file)."""
        rendered = self.path / "kubernetes" / "rendered" / self.cluster / "apps" / self.namespace / f"secret-{name}.sops.yaml"
        result = subprocess.run(
            ["sops", "decrypt", "--input-type", "yaml", "--output-type", "yaml", str(rendered)],
            capture_output=True, text=True, env=tool_env(SOPS_AGE_KEY_FILE=str(self.path / "age.agekey")),
        )
        assert result.returncode == 0, f"sops decrypt {rendered.name}: {result.stderr}"
        return yaml.safe_load(result.stdout).get("stringData", {})

    def local_port(self, service: str) -> int:
        """The container port behind a Service's first port: where the process for it listens here."""
        port = self.get("Service", service)["spec"]["ports"][0]
        target = port.get("targetPort", port["port"])
        if isinstance(target, int):
            return target
        deployment = self.get("Deployment", service)
        return next(p["containerPort"] for c in deployment["spec"]["template"]["spec"]["containers"]
                    for p in c.get("ports", []) if p.get("name") == target)

    def to_loopback(self, text: str) -> str:
        """Every in-cluster URL of this namespace, pointed at the process serving it on 127.0.0.1."""
        pattern = re.compile(rf"http://([a-z0-9-]+)\.{re.escape(self.namespace)}\.svc\.cluster\.local(?::\d+)?")
        return pattern.sub(lambda m: f"http://{LOOPBACK}:{self.local_port(m.group(1))}", text)


@dataclass
class Pod:
    """One container of a rendered Deployment, laid out on this machine under `root`."""

    repo: RenderedRepo
    name: str
    root: Path
    process: subprocess.Popen | None = None

    @property
    def workload(self) -> dict:
        return self.repo.get("Deployment", self.name)

    @property
    def pod_spec(self) -> dict:
        return self.workload["spec"]["template"]["spec"]

    @property
    def container(self) -> dict:
        return self.pod_spec["containers"][0]

    @property
    def annotations(self) -> dict[str, str]:
        return self.workload["spec"]["template"]["metadata"].get("annotations", {})

    @property
    def read_only_root(self) -> bool:
        return self.container.get("securityContext", {}).get("readOnlyRootFilesystem") is True

    def volume_dir(self, mount_path: str) -> Path:
        return self.root / "volumes" / mount_path.strip("/").replace("/", "_")

    @cached_property
    def mounts(self) -> dict[str, Path]:
        """Each volumeMount's path in the container -> its directory here (ConfigMap files written into it)."""
        volumes = {v["name"]: v for v in self.pod_spec.get("volumes", [])}
        mounts = {}
        for mount in self.container.get("volumeMounts", []):
            directory = self.volume_dir(mount["mountPath"])
            directory.mkdir(parents=True, exist_ok=True)
            source = volumes[mount["name"]]
            if "configMap" in source:
                for key, value in self.repo.get("ConfigMap", source["configMap"]["name"])["data"].items():
                    (directory / key).write_text(self.repo.to_loopback(value))
            mounts[mount["mountPath"]] = directory
        return mounts

    @property
    def config_text(self) -> str:
        """The files of the ConfigMaps the container mounts, as it reads them."""
        volumes = {v["name"]: v for v in self.pod_spec.get("volumes", [])}
        maps = [volumes[m["name"]]["configMap"]["name"] for m in self.container.get("volumeMounts", []) if "configMap" in volumes[m["name"]]]
        return "".join(self.repo.to_loopback(v) for name in maps for v in self.repo.get("ConfigMap", name)["data"].values())

    def local_path(self, text: str) -> str:
        """A value naming a path under a volume mount, with that mount's directory here."""
        for mount_path, directory in sorted(self.mounts.items(), key=lambda m: -len(m[0])):
            if text == mount_path or text.startswith(mount_path + "/"):
                return str(directory) + text[len(mount_path):]
        return text

    def local_paths_in(self, text: str) -> str:
        """A command line with every volume mount path in it replaced by that mount's directory here."""
        for mount_path, directory in sorted(self.mounts.items(), key=lambda m: -len(m[0])):
            text = re.sub(rf"{re.escape(mount_path)}(?=[/'\" ]|$)", str(directory), text)
        return text

    @cached_property
    def env(self) -> dict[str, str]:
        """The container's env as the kubelet resolves it, URLs and paths mapped to this machine."""
        resolved = {}
        for entry in self.container.get("env", []):
            if "value" in entry:
                value = str(entry["value"])
            else:
                ref = entry["valueFrom"]["secretKeyRef"]
                value = self.repo.secret(ref["name"])[ref["key"]]
            resolved[entry["name"]] = self.local_path(self.repo.to_loopback(value))
        return resolved

    @property
    def args(self) -> list[str]:
        return [self.local_path(a) for a in self.container.get("args", [])]

    def probe(self, kind: str) -> dict:
        return self.container[f"{kind}Probe"]

    def probe_url(self, kind: str) -> str:
        get = self.probe(kind)["httpGet"]
        return f"http://{LOOPBACK}:{get['port']}{get['path']}"

    def start(self, command: list[str], image_env: dict[str, str], log_name: str = "server.log") -> None:
        """Start the server: the image's env, then the manifest's."""
        home = self.root / "home"
        home.mkdir(parents=True, exist_ok=True)
        tmp = self.mounts.get("/tmp") or self.root / "no-tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        env = {"PATH": f"{Path(command[0]).parent}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": "/tmp",
               **{k: self.local_path(v) for k, v in image_env.items()}, **self.env}
        if self.read_only_root:
            # Like the kubelet: the whole root read-only, the volumes (and an emptyDir at /tmp) writable mounts.
            volumes = " ".join(f'"{d}"' for m, d in self.mounts.items() if m != "/tmp")
            script = (f'set -e; for v in {volumes}; do mount --bind "$v" "$v"; done; '
                      + (f'mount --bind "{tmp}" /tmp; ' if "/tmp" in self.mounts else "")
                      + 'mount -o remount,bind,ro /; exec "$@"')
            command = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", *command]
        else:
            env["TMPDIR"] = str(tmp)
        log = (self.root / log_name).open("ab")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(home))

    def log(self, log_name: str = "server.log") -> str:
        return (self.root / log_name).read_text(errors="replace")

    def wait_until_started(self) -> float:
        """Poll the startup probe as the kubelet would, within its budget; returns the seconds it took."""
        probe = self.probe("startup")
        budget = probe.get("failureThreshold", 3) * probe.get("periodSeconds", 10)
        started = time.monotonic()
        while time.monotonic() - started < budget:
            assert self.process and self.process.poll() is None, f"{self.name} exited:\n{self.log()[-4000:]}"
            if http_status(self.probe_url("startup")) == 200:
                return time.monotonic() - started
            time.sleep(1)
        raise AssertionError(f"{self.name}: startup probe {self.probe_url('startup')} not 200 within {budget} s:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def run_backup_hook(pod: Pod, path_dirs: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """The pod's Velero pre-backup hook as Velero execs it in the container, its paths mapped to the volumes here."""
    command = [pod.local_paths_in(arg) for arg in json.loads(pod.annotations["pre.hook.backup.velero.io/command"])]
    return subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={"PATH": ":".join([*path_dirs, "/usr/bin", "/bin"]), **env})


def http_status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0
