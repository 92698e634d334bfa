"""Stage 3, secrets: nothing readable in git, everything encrypted for this repo's key, and decryptable as Flux does it."""

from __future__ import annotations

import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from tools.manifests import CRUFT_RECORD, RENDERED, SOPS_CONFIG, SOPS_SUFFIXES, Manifest
from tools.validate import tools
from tools.validate.problems import Problem
from tools.validate.repo import Repo

STAGE = "secrets"
ENCRYPTED_VALUE = re.compile(r"^ENC\[[A-Z0-9_]+,data:.*\]$", re.S)
PUBLIC_KEY_COMMENT = re.compile(r"^#\s*public key:\s*(age1[0-9a-z]+)\s*$", re.M)
# Key sources sops would also consult; decryption must prove the repo's own key works.
FOREIGN_KEY_VARS = ("SOPS_AGE_KEY", "SOPS_AGE_KEY_CMD", "SOPS_AGE_SSH_PRIVATE_KEY_FILE", "SOPS_AGE_RECIPIENTS")


def is_secret(m: Manifest) -> bool:
    return m.kind == "Secret" and m.api_version == "v1"


def creation_rules(repo: Repo) -> tuple[list[dict], list[Problem]]:
    path = repo.path(SOPS_CONFIG)
    fix = "create .sops.yaml with a creation_rules entry for kubernetes/.*\\.sops\\.ya?ml$ and the repo's age recipient"
    if not path.is_file():
        return [], [Problem(SOPS_CONFIG, "-", "-", "missing, so nothing says which key secrets are encrypted for", fix, STAGE)]
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        return [], [Problem(SOPS_CONFIG, "-", "-", f"not valid YAML: {' '.join(str(err).split())}", "fix the syntax", STAGE)]
    rules = config.get("creation_rules") if isinstance(config, dict) else None
    if not isinstance(rules, list) or not rules:
        return [], [Problem(SOPS_CONFIG, "-", "creation_rules", "no creation rules", fix, STAGE)]
    return [r for r in rules if isinstance(r, dict)], []


def matching_rule(rules: list[dict], rel: str) -> dict | None:
    """sops semantics: the first rule whose path_regex matches (a rule without one matches all)."""
    for rule in rules:
        regex = rule.get("path_regex")
        if regex is None or re.search(str(regex), rel):
            return rule
    return None


def rule_recipients(rule: dict) -> set[str]:
    found = {r.strip() for r in str(rule.get("age") or "").split(",") if r.strip()}
    for group in rule.get("key_groups") or []:
        found.update(str(r).strip() for r in (group or {}).get("age") or [])
    return found


def doc_recipients(m: Manifest) -> set[str]:
    return {str(e.get("recipient")) for e in (m.doc.get("sops") or {}).get("age") or [] if isinstance(e, dict)}


def plaintext_fields(m: Manifest) -> list[str]:
    """data/stringData keys whose value is not a sops ENC[...] blob (values are never printed)."""
    out = []
    for section in ("data", "stringData"):
        values = m.doc.get(section)
        if isinstance(values, dict):
            out.extend(f"{section}.{k}" for k, v in values.items() if not (isinstance(v, str) and ENCRYPTED_VALUE.match(v)))
    return out


def short(recipient: str) -> str:
    return recipient if len(recipient) <= 20 else recipient[:12] + "…" + recipient[-6:]


def check_sops_file(m: Manifest, rules: list[dict], rendered: bool) -> list[Problem]:
    """A *.sops.yaml document: encrypted, no clear values, and (for sources) for the repo's recipient.

    A rendered copy is the source file byte for byte (the drift stage proves it), so its
    recipients are judged at the source and its decryption by ``check_decryption``.
    """
    reencrypt = f"re-encrypt it: `sops encrypt -i {m.file}` (and rotate any value that was committed in clear)"
    if not m.encrypted:
        return [Problem(m.file, m.ident, "sops", "not encrypted: a plaintext Secret is committed", reencrypt, STAGE)]
    out = [Problem(m.file, m.ident, f, "plaintext value in an encrypted file", reencrypt, STAGE) for f in plaintext_fields(m)]
    if rendered:
        return out
    rule = matching_rule(rules, m.file)
    if rule is None:
        out.append(Problem(m.file, m.ident, "sops", f"no creation_rules entry in {SOPS_CONFIG} matches this path", f"move it under kubernetes/ or add a rule to {SOPS_CONFIG}", STAGE))
        return out
    wanted, actual = rule_recipients(rule), doc_recipients(m)
    missing, extra = sorted(wanted - actual), sorted(actual - wanted)
    updatekeys = "decrypt with the key it was made for and re-encrypt: `sops updatekeys " + m.file + "`, or recreate the value and `sops encrypt -i`"
    if missing:
        got = ", ".join(short(r) for r in sorted(actual)) or "no age recipient"
        out.append(Problem(m.file, m.ident, "sops.age", f"encrypted for {got}, not for the repo's recipient {', '.join(short(r) for r in missing)} from {SOPS_CONFIG}", updatekeys, STAGE))
    elif extra:
        out.append(Problem(m.file, m.ident, "sops.age", f"also encrypted for {', '.join(short(r) for r in extra)}, which {SOPS_CONFIG} does not name (a retired key still decrypts it)", updatekeys + "; after a leak use `make rotate-key`", STAGE))
    return out


def check_recorded_recipient(repo: Repo, rules: list[dict]) -> list[Problem]:
    """.cruft.json records the recipient the repo was baked (or rotated) for; `cruft update` and a re-bake
    use it, so it must be the one .sops.yaml encrypts for."""
    path = repo.path(CRUFT_RECORD)
    if not path.is_file() or not rules:
        return []
    try:
        recorded = str(json.loads(path.read_text(encoding="utf-8"))["context"]["cookiecutter"].get("age_public_key") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return [Problem(CRUFT_RECORD, "-", "context.cookiecutter", "not the answers record cruft writes", f"restore {CRUFT_RECORD} from git", STAGE)]
    rule = matching_rule(rules, "kubernetes/x.sops.yaml")
    configured = rule_recipients(rule) if rule else set()
    if configured and recorded not in configured:
        return [Problem(CRUFT_RECORD, "-", "context.cookiecutter.age_public_key", f"records {short(recorded) or 'no recipient'}, but {SOPS_CONFIG} encrypts for {', '.join(short(r) for r in sorted(configured))}: a template update would re-bake for the wrong key", f"set it to the recipient in {SOPS_CONFIG} (`make rotate-key` keeps both in step)", STAGE)]
    return []


def check_plaintext(m: Manifest, where: str) -> Problem:
    return Problem(m.file, m.ident, "-", f"plaintext Secret {where}: Flux would apply it as is and git keeps it forever", "put it in a *.sops.yaml file encrypted with `sops encrypt -i`, then rotate the values", STAGE)


def age_public_key(key_file: Path) -> str:
    """The recipient of the identity in ``key_file`` (from the file's own comment or pyrage)."""
    text = key_file.read_text(encoding="utf-8")
    found = PUBLIC_KEY_COMMENT.search(text)
    if found:
        return found.group(1)
    try:
        import pyrage
    except ImportError:
        return ""
    for line in text.splitlines():
        if line.startswith("AGE-SECRET-KEY-"):
            return str(pyrage.x25519.Identity.from_str(line.strip()).to_public())
    return ""


def committed_text(repo: Repo, m: Manifest) -> Manifest:
    """The document as committed in its file: kustomize re-orders keys, which the sops MAC covers."""
    path = repo.path(m.file)
    found = repo.manifests(path) if path.is_file() else []
    return next((d for d in found if d.ident == m.ident and d.encrypted), m)


def decrypt_problem(m: Manifest, key_file: Path, env: dict[str, str], public: str) -> Problem | None:
    """Run the real ``sops decrypt`` on one applied Secret; the plaintext stays in a pipe."""
    result = tools.run([tools.tool("sops"), "decrypt", "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin"], stdin=m.text, env=env)
    if result.returncode == 0:
        return None
    if public and public not in doc_recipients(m):
        what = f"does not decrypt with {key_file.name} ({short(public)}): it is encrypted for {', '.join(short(r) for r in sorted(doc_recipients(m))) or 'no age key'}"
        fix = "re-encrypt the source *.sops.yaml for the repo key and run `make render`"
    elif "MAC" in result.stderr:
        what = "sops MAC check fails on what Flux applies: a transformer changed the encrypted Secret"
        fix = "keep kustomize transformers (namespace, labels, kfn) off encrypted Secrets, or encrypt with `mac_only_encrypted: true`, then `make render`"
    else:
        what = f"sops cannot decrypt it: {tools.first_error_line(result.stderr)}"
        fix = f"re-encrypt it for the key in {key_file.name} and run `make render`"
    return Problem(m.file, m.ident, "sops", what, fix, STAGE)


def check_decryption(repo: Repo, applied: list[Manifest], key_file: Path) -> list[Problem]:
    encrypted = [committed_text(repo, m) for m in applied if is_secret(m) and m.encrypted]
    if not key_file.is_file() or not encrypted:
        return []
    public = age_public_key(key_file)
    with tempfile.TemporaryDirectory(prefix="sops-home-") as home:
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN_KEY_VARS}
        env.update(SOPS_AGE_KEY_FILE=str(key_file), HOME=home, XDG_CONFIG_HOME=home)
        with ThreadPoolExecutor(max_workers=4) as pool:
            found = pool.map(lambda m: decrypt_problem(m, key_file, env, public), encrypted)
            return [p for p in found if p is not None]


def check(repo: Repo, applied: list[Manifest], key_file: Path) -> list[Problem]:
    """Stage 3; ``key_file`` (the age identity, usually git-ignored) enables the decryption check."""
    rules, out = creation_rules(repo)
    out.extend(check_recorded_recipient(repo, rules))
    sops_files = {p for p in repo.yaml_files if p.name.endswith(SOPS_SUFFIXES) and p.name != SOPS_CONFIG}
    rendered = repo.path(RENDERED)
    for path in repo.yaml_files:
        for m in repo.manifests(path):
            if path in sops_files:
                out.extend(check_sops_file(m, rules, path.is_relative_to(rendered)))
            elif is_secret(m) and not m.encrypted:
                out.append(check_plaintext(m, "in the tree"))
    reported = {(p.file, p.resource) for p in out}
    for m in applied:
        if is_secret(m) and not m.encrypted and (m.file, m.ident) not in reported:
            out.append(check_plaintext(m, "in what Flux applies (a secretGenerator or an unencrypted file)"))
            reported.add((m.file, m.ident))
    out.extend(check_decryption(repo, applied, key_file))
    return out
