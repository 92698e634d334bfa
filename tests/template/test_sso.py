"""Single sign-on for Open WebUI (answers oidc_issuer_url, oidc_client_id, oidc_admin_role): bad answers
refused in one line, local login alone by default, the OIDC wiring read by the pinned Open WebUI, and the
client secret only in the SOPS Secret (from the bake's environment, never a file or argv)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from template_repo import CATALOG, Baked, container
from tooling import VENV

ISSUER = "https://id.example.org/realms/lab"
CLIENT_SECRET = "sso-test-client-secret-6f1c2a9e"
SSO = {"oidc_issuer_url": ISSUER, "oidc_client_id": "open-webui-lab", "oidc_admin_role": "ai-admin", "exposure": "gateway", "domain": "lab.example.org"}


def env(baked: Baked) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(baked.of_kind("Deployment")["open-webui"])["env"]}


@pytest.fixture(scope="module")
def sso_bake(cookies_session, tmp_path_factory) -> Baked:
    """A bake with single sign-on whose client secret comes from the bake's environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OIDC_CLIENT_SECRET", CLIENT_SECRET)
        result = cookies_session.bake(extra_context=SSO)
    assert result.exit_code == 0, result.exception
    return Baked(result.project_path, {**SSO, **result.context}, None)


@pytest.mark.parametrize(("answers", "line"), [
    ({"oidc_issuer_url": "http://id.example.org"}, "oidc_issuer_url: http://id.example.org — must be the provider's https:// issuer URL"),
    ({"oidc_issuer_url": f"{ISSUER}?tenant=1"}, f"oidc_issuer_url: {ISSUER}?tenant=1 — must be the provider's https:// issuer URL"),
    ({"oidc_issuer_url": ISSUER, "open_webui_auth": "no"}, f"oidc_issuer_url: {ISSUER} — single sign-on needs open_webui_auth yes"),
    ({"oidc_issuer_url": ISSUER, "oidc_client_id": "open webui"}, "oidc_client_id: open webui — must be the client id registered at the provider"),
    ({"oidc_issuer_url": ISSUER, "oidc_admin_role": "admin,ops"}, "oidc_admin_role: admin,ops — must be one role name"),
], ids=["http", "query", "auth-off", "client-id-space", "two-roles"])
def test_bad_sso_answers_are_refused_in_one_line(failed_bake, answers, line):
    stderr, left = failed_bake(**answers)
    problems = [p for p in stderr.splitlines() if "—" in p]
    assert len(problems) == 1 and problems[0].startswith(line), stderr
    assert not left


def test_local_login_stays_the_default(default_bake):
    names = set(env(default_bake))
    assert not {n for n in names if n.startswith(("OAUTH", "OPENID", "ENABLE_OAUTH"))}, names
    assert "sso.yaml" not in (default_bake.sources / "kubernetes/apps/base/ai/open-webui/kustomization.yaml").read_text()
    secret = yaml.safe_load(default_bake.sops_decrypt(default_bake.path / "clusters/production/secrets/open-webui.sops.yaml").stdout)
    assert sorted(secret["stringData"]) == ["WEBUI_SECRET_KEY"]


def test_sso_wires_open_webui_to_the_provider(sso_bake):
    wired = env(sso_bake)
    assert {k: wired[k] for k in ("WEBUI_URL", "OAUTH_PROVIDER_NAME", "OPENID_PROVIDER_URL", "OPENID_REDIRECT_URI", "OAUTH_CLIENT_ID")} == {
        "WEBUI_URL": "https://chat.lab.example.org",
        "OAUTH_PROVIDER_NAME": "id.example.org",
        "OPENID_PROVIDER_URL": f"{ISSUER}/.well-known/openid-configuration",
        "OPENID_REDIRECT_URI": "https://chat.lab.example.org/oauth/oidc/login/callback",
        "OAUTH_CLIENT_ID": "open-webui-lab",
    }
    assert wired["OAUTH_CLIENT_SECRET"] == {"secretKeyRef": {"name": "open-webui-secrets", "key": "OAUTH_CLIENT_SECRET"}}
    assert (wired["ENABLE_OAUTH_SIGNUP"], wired["ENABLE_OAUTH_ROLE_MANAGEMENT"], wired["OAUTH_ADMIN_ROLES"], wired["ENABLE_OAUTH_GROUP_MANAGEMENT"]) == ("True", "True", "ai-admin", "True")
    assert wired["WEBUI_AUTH"] == "True"
    readme = sso_bake.readme
    assert "register the redirect URI `https://chat.lab.example.org/oauth/oidc/login/callback`" in readme


def test_the_client_secret_is_only_in_the_sops_secret(sso_bake):
    path = sso_bake.path / "clusters" / sso_bake.cluster / "secrets" / "open-webui.sops.yaml"
    secret = yaml.safe_load(sso_bake.sops_decrypt(path).stdout)
    assert secret["stringData"]["OAUTH_CLIENT_SECRET"] == CLIENT_SECRET
    assert not [p for p in sso_bake.worktree_files() if CLIENT_SECRET.encode() in p.read_bytes()]
    assert CLIENT_SECRET.encode() not in sso_bake.git_objects()
    assert sso_bake.make("validate").returncode == 0


@pytest.fixture(scope="module")
def open_webui_settings(tmp_path_factory) -> set[str]:
    """Every environment variable the pinned Open WebUI reads (its wheel from the package index)."""
    version = CATALOG["open-webui"]["images"]["none"]["image"].rsplit(":v", 1)[1]
    target = tmp_path_factory.mktemp("open-webui")
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(target), f"open-webui=={version}"], check=True)
    read = re.compile(r"""(?:getenv|environ\.get|environ\[)\(?\s*['"]([A-Z][A-Z0-9_]*)['"]""")
    names: set[str] = set()
    with zipfile.ZipFile(next(target.glob("open_webui-*.whl"))) as wheel:
        for member in wheel.namelist():
            if member.startswith("open_webui/") and member.endswith(".py"):
                names |= set(read.findall(wheel.read(member).decode("utf-8", "replace")))
    return names


def test_every_open_webui_setting_is_read_by_the_pinned_version(sso_bake, open_webui_settings):
    unknown = sorted(set(env(sso_bake)) - open_webui_settings)
    assert not unknown, f"not read by the pinned Open WebUI: {unknown}"


def test_sso_switched_on_later_names_the_secret_key_to_add(bakery, tmp_path):
    """A render never re-makes an existing Secret: turning single sign-on on in cluster.yaml leaves the
    Open WebUI Secret without OAUTH_CLIENT_SECRET, which its pod needs. make validate names the key and the
    command; adding it (value through stdin, never argv) makes the repo valid again."""
    repo = bakery("default").copy(tmp_path)
    answers = repo.answers_file
    answers.write_text(answers.read_text().replace("oidc_issuer_url: ''", f"oidc_issuer_url: {ISSUER}"))
    assert repo.make("render").returncode == 0
    secret = "clusters/production/secrets/open-webui.sops.yaml"
    validate = repo.make("validate")
    assert validate.returncode != 0
    line = next(l for l in validate.stdout.splitlines() if l.startswith(f"{secret}: Secret/open-webui-secrets: stringData.OAUTH_CLIENT_SECRET: missing"))
    assert f"make secret-edit FILE={secret}" in line
    added = subprocess.run(["sops", "set", "--value-stdin", secret, '["stringData"]["OAUTH_CLIENT_SECRET"]'], cwd=repo.path, input=json.dumps(CLIENT_SECRET),
                           capture_output=True, text=True, env={**os.environ, "SOPS_AGE_KEY_FILE": str(repo.private_key), "PATH": f"{VENV / 'bin'}:{os.environ['PATH']}"})
    assert added.returncode == 0, added.stderr
    assert repo.make("render").returncode == 0
    validate = repo.make("validate")
    assert validate.returncode == 0, validate.stdout
