"""Rotate one cluster's age key: new identity, its Secrets re-keyed with a new SOPS data key, old key aside.

Usage: make rotate-key CLUSTER=<name> (CLUSTER may be left out in a repo with one cluster).
`python -m tools.rotate_key --key-file [CLUSTER]` and `--key-file-of FILE` print the key file that
decrypts a cluster's Secrets, or one Secret file's (for `make flux-secret` and `make secret-show/edit`).

A cluster's key is clusters/<name>/age.agekey when it has its own, else the repo's age.agekey (the bake
writes that one, `make add-cluster` shares it). `sops updatekeys` alone re-wraps the same data key for
the new recipient, so the old key plus the old `sops:` stanza from git history would still decrypt the
new ciphertext; `sops rotate` then replaces the data key itself. Every Secret is re-keyed in a scratch
copy first: a failure leaves the repo as it was. Other clusters' Secrets and output are not touched.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from tools import clusters
from tools.sops_files import AGE_KEY, CRUFT, ROOT, SOPS_CONFIG, SopsError, new_identity, read_identity, run_sops, secret_files, sops_config_text

RECIPIENT_LINE = re.compile(r"^age_public_key:.*$", re.M)


def one_cluster(name: str) -> str:
    every = clusters.names()
    if not name and len(every) == 1:
        return every[0]
    if name not in every:
        raise SopsError(f"CLUSTER: {name or '(not set)'} — name one of the clusters: {', '.join(every)}")
    return name


def key_file(name: str) -> Path:
    """The key file holding the identity of cluster `name`'s recipient."""
    recipient = clusters.recipients()[name]
    for path in (clusters.cluster_dir(name) / "age.agekey", AGE_KEY):
        if path.is_file() and read_identity(path)[0] == recipient:
            return path
    raise SopsError(f"no key for cluster {name}'s recipient {recipient} (clusters/{name}/age.agekey or {AGE_KEY.name})")


def rekey(path: Path, keys: str) -> Path:
    """A re-keyed copy of `path` beside it (its name still matches .sops.yaml's path_regex)."""
    scratch = path.with_name(f".rotating.{path.name}")
    scratch.write_bytes(path.read_bytes())
    relative = str(scratch.relative_to(ROOT))
    run_sops(["updatekeys", "--yes", relative], keys=keys)
    run_sops(["rotate", "--in-place", relative], keys=keys)
    return scratch


def new_key_path(name: str, old: Path, shared: bool) -> Path:
    """Where the cluster's new key goes: where its old one was, unless other clusters still use that one."""
    return clusters.cluster_dir(name) / "age.agekey" if shared and old == AGE_KEY else old


def set_recipient(name: str, recipient: str) -> None:
    path = clusters.cluster_dir(name) / clusters.ANSWERS_FILE
    path.write_text(RECIPIENT_LINE.sub(f"age_public_key: {recipient}", path.read_text(), count=1))
    record = json.loads(CRUFT.read_text())
    if record["context"]["cookiecutter"].get("cluster_name") == name:  # the bake's cluster: keep cruft's record in step
        record["context"]["cookiecutter"]["age_public_key"] = recipient
        CRUFT.write_text(json.dumps(record, indent=4) + "\n")


def rotate(name: str) -> tuple[str, str, Path, Path]:
    old_key = key_file(name)
    old_recipient, old_identity = read_identity(old_key)
    shared = any(r == old_recipient for other, r in clusters.recipients().items() if other != name)
    target = new_key_path(name, old_key, shared)
    staging = target.with_name("age.agekey.new")
    new_recipient = new_identity(staging)
    _, new_secret = read_identity(staging)
    old_config = SOPS_CONFIG.read_text() if SOPS_CONFIG.is_file() else None
    scratches: list[tuple[Path, Path]] = []
    try:
        SOPS_CONFIG.write_text(sops_config_text({**clusters.recipients(), name: new_recipient}))
        for path in secret_files(name):
            scratches.append((rekey(path, f"{old_identity}\n{new_secret}\n"), path))
    except BaseException:
        SOPS_CONFIG.write_text(old_config) if old_config is not None else SOPS_CONFIG.unlink()
        staging.unlink()
        for leftover in ROOT.glob(f"clusters/{name}/secrets/.rotating.*"):  # also one whose re-keying failed half-way
            leftover.unlink()
        raise
    for scratch, path in scratches:
        scratch.replace(path)
    set_recipient(name, new_recipient)
    kept = old_key.with_name(f"age-old-{old_recipient[4:12]}.agekey")
    if target == old_key:
        old_key.replace(kept)
    else:
        kept = old_key  # still the key of the clusters that share it
    staging.replace(target)
    return old_recipient, new_recipient, kept, target


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["--key-file"]:
            print(key_file(one_cluster(argv[1] if len(argv) > 1 else "")).relative_to(ROOT))
            return 0
        if argv[:1] == ["--key-file-of"] and len(argv) == 2:
            parts = Path(argv[1]).parts
            if len(parts) < 2 or parts[0] != "clusters":
                raise SopsError(f"FILE: {argv[1]} — name a cluster's Secret, clusters/<name>/secrets/<service>.sops.yaml")
            print(key_file(one_cluster(parts[1])).relative_to(ROOT))
            return 0
        name = one_cluster(argv[0] if argv else "")
        old, new, kept, target = rotate(name)
    except (SopsError, clusters.ClusterError) as err:
        lookup = argv[:1] in (["--key-file"], ["--key-file-of"])
        print(f"age key: {err}" if lookup else f"rotate-key: {err}; nothing was changed", file=sys.stderr)
        return 1
    except Exception as err:  # one line, whichever tool failed; the repo is as it was
        print(f"rotate-key: {err or type(err).__name__}; nothing was changed", file=sys.stderr)
        return 1
    print(f"rotated cluster {name}: {len(secret_files(name))} Secrets re-encrypted with new data keys for {new}")
    print(f"new key: {target.relative_to(ROOT)} (git-ignored); old key ({old}) in {kept.relative_to(ROOT)}: delete it once nothing needs it")
    print(f"next: make render validate && make flux-secret CLUSTER={name} && git commit -am 'Rotate the age key of {name}'")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
