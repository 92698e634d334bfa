"""Stage 3, secrets: nothing readable in git, each cluster's Secrets encrypted for its key, and decryptable as Flux does it.

A cluster's encrypted Secrets live in clusters/<name>/secrets/ (templates/ holds only their recipes,
Jinja with <random:...>/<env:...> markers, which the scan of the tree leaves out); kubernetes/rendered/<name>/
holds byte-for-byte copies, which Flux applies."""

from __future__ import annotations

import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from tools import clusters
from tools.clusters import ANSWERS_FILE, CLUSTERS, SECRETS_DIR
from tools.secret_recipes import FROM_ENVIRONMENT, PLACEHOLDER
from tools.manifests import RENDERED, SOPS_CONFIG, SOPS_SUFFIXES, Manifest
from tools.validate import tools
from tools.validate.origin import rendered_cluster
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
    fix = "run `make render`: it writes .sops.yaml with one creation rule per cluster (its age_public_key)"
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
        out.append(Problem(m.file, m.ident, "sops", f"no creation_rules entry in {SOPS_CONFIG} matches this path", f"keep it in clusters/<name>/secrets/ and run `make render` (it writes the rule)", STAGE))
        return out
    wanted, actual = rule_recipients(rule), doc_recipients(m)
    parts = m.file.split("/")
    owner = f"cluster {parts[1]}" if len(parts) > 2 and parts[0] == CLUSTERS.as_posix() else "its rule"
    missing, extra = sorted(wanted - actual), sorted(actual - wanted)
    updatekeys = "decrypt with the key it was made for and re-encrypt: `sops updatekeys " + m.file + "`, or recreate the value and `sops encrypt -i`"
    if missing:
        got = ", ".join(short(r) for r in sorted(actual)) or "no age recipient"
        out.append(Problem(m.file, m.ident, "sops.age", f"encrypted for {got}, not for {owner}'s recipient {', '.join(short(r) for r in missing)} from {SOPS_CONFIG}", updatekeys, STAGE))
    elif extra:
        out.append(Problem(m.file, m.ident, "sops.age", f"also encrypted for {', '.join(short(r) for r in extra)}, which {SOPS_CONFIG} does not name (a retired key still decrypts it)", updatekeys + "; after a leak use `make rotate-key`", STAGE))
    return out


def check_cluster_recipients(rules: list[dict], answers: dict[str, dict]) -> list[Problem]:
    """Each cluster's age_public_key (its cluster.yaml) is the recipient .sops.yaml's rule for its
    Secrets encrypts for: `make render` writes the rule from the answer, and a Secret made or rotated
    for one while Flux decrypts with the other never decrypts."""
    if not rules:
        return []
    out = []
    for name, found in sorted(answers.items()):
        where = (CLUSTERS / name / ANSWERS_FILE).as_posix()
        recipient = str(found.get("age_public_key") or "")
        rule = matching_rule(rules, (CLUSTERS / name / SECRETS_DIR / "x.sops.yaml").as_posix())
        configured = rule_recipients(rule) if rule else set()
        if rule is None:
            out.append(Problem(SOPS_CONFIG, "-", "creation_rules", f"no rule matches {CLUSTERS / name / SECRETS_DIR}/, so sops cannot encrypt cluster {name}'s Secrets", "run `make render` (it writes one rule per cluster)", STAGE))
        elif recipient not in configured:
            out.append(Problem(where, "-", "age_public_key", f"is {short(recipient) or 'empty'}, but {SOPS_CONFIG} encrypts cluster {name}'s Secrets for {', '.join(short(r) for r in sorted(configured)) or 'no age recipient'}", f"run `make render` to write {SOPS_CONFIG} from the answer (`make rotate-key CLUSTER={name}` keeps key, answer and Secrets in step)", STAGE))
    return out


def source_secrets(repo: Repo, cluster: str) -> dict[tuple[str, str, str], tuple[str, bytes]]:
    """identity -> (file, bytes) of the encrypted Secrets cluster ``cluster`` keeps (clusters/<name>/secrets/)."""
    found = {}
    for path in sorted(repo.path((CLUSTERS / cluster / SECRETS_DIR).as_posix()).glob("*.sops.y*ml")):
        for m in repo.manifests(path):
            found[m.identity] = (m.file, path.read_bytes())
    return found


def check_rendered_copies(repo: Repo) -> list[Problem]:
    """Every encrypted Secret under kubernetes/rendered/<name>/ is its cluster's source file, byte for byte
    (`make render` copies it: kustomize would re-order the keys the sops MAC covers)."""
    out = []
    rendered = repo.path(RENDERED)
    for cluster_dir in sorted(p for p in rendered.iterdir() if p.is_dir()) if rendered.is_dir() else []:
        sources = source_secrets(repo, cluster_dir.name)
        for path in (p for p in repo.yaml_files_under(cluster_dir) if p.name.endswith(SOPS_SUFFIXES)):
            for m in (d for d in repo.manifests(path) if d.encrypted):
                source = sources.get(m.identity)
                if source is None:
                    out.append(Problem(m.file, m.ident, "-", f"no encrypted source for it in {CLUSTERS / cluster_dir.name / SECRETS_DIR}/", "run `make render` (it makes the Secret from its recipe in templates/, or removes this copy)", STAGE))
                elif path.read_bytes() != source[1]:
                    out.append(Problem(m.file, m.ident, "-", f"differs from its source {source[0]}: Flux would apply another Secret than the one you edit", "run `make render` and commit the result; edit Secrets with `make secret-edit`", STAGE, source=source[0]))
    return out


def check_recipes(root: Path, answers: dict[str, dict]) -> list[Problem]:
    """A recipe (templates/.../<service>/secret.sops.yaml) holds markers, not values: each value of its
    Secret, rendered for each cluster, has a <random:...> or <env:...> marker, else the literal is in git
    in clear and in every cluster made from it."""
    catalog = clusters.load_catalog(root)
    recipes = [r for r in clusters.template_files(root, clusters.SERVICE_TEMPLATES) if clusters.is_recipe(r)]
    out = []
    for name, found in sorted(answers.items()):
        for recipe in (r for r in recipes if not clusters.switched_off(r, found, catalog)):
            try:
                document = yaml.safe_load(clusters.recipe_text(name, found, recipe, root))
            except (clusters.ClusterError, yaml.YAMLError):
                continue  # the workspace render of the same template says why
            if not isinstance(document, dict):
                continue
            ident = f"{document.get('kind')}/{(document.get('metadata') or {}).get('name')}"
            for section in ("data", "stringData"):
                for key, value in (document.get(section) or {}).items():
                    if not (PLACEHOLDER.search(str(value)) or FROM_ENVIRONMENT.search(str(value))):
                        out.append(Problem(recipe.as_posix(), ident, f"{section}.{key}", "a literal value in a Secret recipe: git keeps it in clear, and every cluster's Secret gets it",
                                           "write a marker instead, <random:hex:32> (or <env:NAME> for a value only you know), and rotate the value if it was real", STAGE))
            out.extend(missing_keys(root, name, recipe, document, ident))
    return out


def missing_keys(root: Path, name: str, recipe: Path, document: dict, ident: str) -> list[Problem]:
    """Keys the recipe now has and the cluster's Secret lacks: an answer switched on later (single sign-on's
    OAUTH_CLIENT_SECRET) or a template update. A render never re-makes an existing Secret, and a pod whose
    env names the missing key does not start. sops leaves the key names in clear, so no key is needed."""
    held = root / clusters.secret_path(name, recipe)
    try:
        encrypted = yaml.safe_load(held.read_text()) if held.is_file() else None
    except yaml.YAMLError:
        return []  # the sops-file checks say why
    if not isinstance(encrypted, dict):
        return []
    out = []
    for section in ("data", "stringData"):
        have = encrypted.get(section) if isinstance(encrypted.get(section), dict) else {}
        for key in sorted(set(document.get(section) or {}) - set(have)):
            out.append(Problem(held.relative_to(root).as_posix(), ident, f"{section}.{key}", f"missing: the recipe ({recipe.as_posix()}) has it, and the pod that reads it does not start without it",
                               f"add it: make secret-edit FILE={held.relative_to(root).as_posix()}", STAGE))
    return out


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


def identities(key_file: Path) -> str:
    return "".join(line.strip() + "\n" for line in key_file.read_text(encoding="utf-8").splitlines() if line.strip().startswith("AGE-SECRET-KEY-"))


def decrypt_problem(m: Manifest, names: str, env: dict[str, str], publics: set[str], sources: dict) -> Problem | None:
    """Run the real ``sops decrypt`` on one applied Secret; the plaintext stays in a pipe."""
    result = tools.run([tools.tool("sops"), "decrypt", "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin"], stdin=m.text, env=env)
    if result.returncode == 0:
        return None
    source = sources.get(m.identity, ("", b""))[0]
    edit = source or "the source *.sops.yaml"
    if publics and not publics & doc_recipients(m):
        what = f"decrypts with none of {names} ({', '.join(short(r) for r in sorted(publics))}): it is encrypted for {', '.join(short(r) for r in sorted(doc_recipients(m))) or 'no age key'}"
        fix = f"re-encrypt {edit} for its cluster's key (`make rotate-key`), or put that cluster's key in clusters/<name>/age.agekey"
    elif "MAC" in result.stderr:
        what = "sops MAC check fails on what Flux applies: a transformer changed the encrypted Secret"
        fix = "keep kustomize transformers (namespace, labels, kfn) off encrypted Secrets, or encrypt with `mac_only_encrypted: true`, then `make render`"
    else:
        what = f"sops cannot decrypt it: {tools.first_error_line(result.stderr)}"
        fix = f"re-encrypt {edit} for its cluster's key and run `make render`"
    return Problem(m.file, m.ident, "sops", what, fix, STAGE, source=source)


def check_decryption(repo: Repo, applied: list[Manifest], key_files: list[Path]) -> list[Problem]:
    """Every encrypted Secret Flux applies decrypts with one of ``key_files``, which reach sops through
    the environment only (SOPS_AGE_KEY), never a command line."""
    encrypted = [committed_text(repo, m) for m in applied if is_secret(m) and m.encrypted]
    keys = [k for k in key_files if k.is_file()]
    if not keys or not encrypted:
        return []
    publics = {r for r in map(age_public_key, keys) if r}
    names = ", ".join(repo.rel(k) for k in keys)
    sources = {cluster: source_secrets(repo, cluster) for cluster in {rendered_cluster(m.file) or "" for m in encrypted} - {""}}
    with tempfile.TemporaryDirectory(prefix="sops-home-") as home:
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN_KEY_VARS and k != "SOPS_AGE_KEY_FILE"}
        env.update(SOPS_AGE_KEY="".join(map(identities, keys)), HOME=home, XDG_CONFIG_HOME=home)
        with ThreadPoolExecutor(max_workers=4) as pool:
            found = pool.map(lambda m: decrypt_problem(m, names, env, publics, sources.get(rendered_cluster(m.file) or "", {})), encrypted)
            return [p for p in found if p is not None]


def check(repo: Repo, applied: list[Manifest], key_files: list[Path], answers: dict[str, dict]) -> list[Problem]:
    """Stage 3; ``key_files`` (the age identities, usually git-ignored) enable the decryption check,
    ``answers`` (cluster -> its answers) the recipient check."""
    rules, out = creation_rules(repo)
    out.extend(check_cluster_recipients(rules, answers))
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
    out.extend(check_rendered_copies(repo))
    out.extend(check_recipes(repo.root, answers))
    out.extend(check_decryption(repo, applied, key_files))
    return out
