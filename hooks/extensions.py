"""Jinja extension for cookiecutter.json defaults, the template's files and the hook scripts.

`template_root`: cookiecutter renders each hook script while its working directory is the template
checkout (`hooks.run_hook_from_repo_dir` enters `repo_dir` before it builds the Jinja environment),
and that checkout is a temporary copy whenever `hooks/pre_prompt.py` exists. The working directory
at the time the environment is built is therefore the only place that names the right copy; the
module's own location does not, since a process that bakes twice keeps the first import.

`catalog()`: the service catalog, `{{cookiecutter.repo}}/catalog/services.yaml` of the template being
rendered. It is looked up when a template calls it: cookiecutter renders the project's files from inside
`{{cookiecutter.repo}}/` (`generate_files` enters `template_dir`) and the hooks from the checkout root.

`deployed_services(cookiecutter)` and `layers(cookiecutter)`: which services and which Flux layers the
answers switch on, decided once in hooks/answers.py for every file.

`node_selector`: the gpu_node_selector answer (`key=value,...`) as a mapping.

`public_url(cookiecutter, name)`: the origin users open a service at (README, Open WebUI's WEBUI_URL).

`litellm_model(name)`: how LiteLLM routes an Ollama model (chat or embedding), hooks/models.py.

`gpu_plan` and `gpu_settings` (each taking the answers): the GPU memory budget with the runtime settings
derived from it; `sso_provider`: the single sign-on provider's name. Decided once in hooks/answers.py.

`lb_pool_ip(n)`: the n-th usable address of an `lb_pool` answer, so the IP prompts offer addresses
inside the pool the user just entered ("" when the pool is not valid: the pre-generation check says why).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jinja2.ext import Extension

sys.path.insert(0, str(Path(__file__).resolve().parent))

from answers import active_layers, deployed, gpu_plan, gpu_settings, load_catalog, load_gpu_budget, node_selector, nth_pool_address, sso_provider  # noqa: E402
from models import litellm_model  # noqa: E402

CATALOG = Path("catalog") / "services.yaml"
GPU_BUDGET = Path("tools") / "gpu_budget.py"
PROJECT_TEMPLATE = "{{cookiecutter.repo}}"


def project_file(relative: Path) -> Path:
    """A file of the project template being rendered (see the module docstring for where that is)."""
    here = Path.cwd()
    for candidate in (here / relative, here / PROJECT_TEMPLATE / relative):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no {relative} below {here}: the extension is for rendering the ai-gitops template")


def catalog() -> dict:
    return load_catalog(project_file(CATALOG))


def gpu_budget():
    """tools/gpu_budget.py of the template being rendered."""
    return load_gpu_budget(project_file(GPU_BUDGET))


def deployed_services(answers: dict) -> dict[str, dict]:
    """The catalog entries the answers deploy, by name, in catalog order."""
    return deployed(answers, catalog())


def stt_model(answers: dict) -> str:
    """The speech-to-text model id for the whisper_model answer ("auto": by whether speaches gets a GPU)."""
    whisper = catalog()["services"]["faster-whisper"]
    choice = answers["whisper_model"]
    if choice == "auto":
        choice = "auto-cpu" if whisper["images"][answers["gpu_vendor"]]["backend"] == "cpu" else "auto-gpu"
    return whisper["models"][choice]


def public_url(answers: dict, name: str) -> str:
    """The origin a browser uses for a service: https://<host>.<domain> through the Gateway, http://<its IP>
    on its LoadBalancer (with the Service port unless 80), "" for a service with neither."""
    svc = catalog()["services"][name]
    if answers["exposure"] == "gateway" and svc.get("host"):
        return f"https://{svc['host']}.{answers['domain']}"
    if svc["ip_answer"]:
        port = "" if svc["service_port"] == 80 else f":{svc['service_port']}"
        return f"http://{answers[svc['ip_answer']]}{port}"
    return ""


def with_budget(derive):
    """A GPU budget derivation of hooks/answers.py with this template's catalog and budget rule filled in."""
    return lambda answers: derive(answers, catalog(), gpu_budget())


class TemplateGlobals(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.globals["template_root"] = os.getcwd()
        environment.globals["catalog"] = catalog
        environment.globals["stt_model"] = stt_model
        environment.globals["deployed_services"] = deployed_services
        environment.globals["layers"] = active_layers
        environment.globals["litellm_model"] = litellm_model
        environment.globals["public_url"] = public_url
        environment.globals["gpu_plan"] = with_budget(gpu_plan)
        environment.globals["gpu_settings"] = with_budget(gpu_settings)
        environment.globals["sso_provider"] = sso_provider
        environment.filters["lb_pool_ip"] = nth_pool_address
        environment.filters["node_selector"] = node_selector
