"""The students' lab (`make lab`, course/lab.py): no nbgrader tools, and saves never reach lectures/.

Starts the real ``jupyter lab`` command line of :func:`course.lab.lab_command` headless on a free localhost
port, on a working copy of ``lectures/`` made by :func:`course.lab.sync_working_copy`, and asks the server
what a browser would get: the page config (which lab extensions are disabled), nbgrader's URLs, and a save
through the contents API (what JupyterLab's autosave sends). A second server without the students'
settings shows that the checks see nbgrader when it is there. A slow test looks at both labs in headless
Chromium: the menu bar and the side panels a person sees.
"""

import contextlib
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from jupyter_core.paths import jupyter_config_path, jupyter_path
from jupyter_server.extension.config import ExtensionConfigManager
from jupyterlab_server.config import get_federated_extensions

from course.lab import SERVER_CONFIG, SETTINGS, lab_command, sync_working_copy
from tests.test_lab_widgets import _free_port, _headless_lab, _launch, _playwright, _wait_for_server

LECTURES = Path(__file__).resolve().parent.parent / "lectures"
STUDENT_SETTINGS = LECTURES / SETTINGS
NOTEBOOK = "07_1_lrp.ipynb"
# every URL nbgrader's four server extensions add (formgrader, assignment_list, course_list, validate_assignment)
NBGRADER_URLS = ["/formgrader", "/nbgrader_version", "/assignments", "/formgraders"]
NBGRADER_LOADED = re.compile(r"nbgrader\.server_extensions\.\w+ \| extension was successfully loaded")


def _installed_nbgrader_server_extensions():
    enabled = ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()
    return sorted(name for name in enabled if name.split(".")[0] == "nbgrader")


def _installed_nbgrader_lab_extensions():
    return sorted(name for name in get_federated_extensions(jupyter_path("labextensions")) if "nbgrader" in name)


def _disabled(config) -> set:
    """The names in a page config's disabledExtensions (a list, or a dict of name -> bool)."""
    disabled = config["disabledExtensions"]
    return {k for k, v in disabled.items() if v} if isinstance(disabled, dict) else set(disabled)


class Server:
    def __init__(self, base, token, log):
        self.base, self.token, self.log = base, token, log

    def status(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"{self.base}{path}?token={self.token}", timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def page_config(self) -> dict:
        """The JSON JupyterLab's page reads its settings from (disabled extensions among them)."""
        with urllib.request.urlopen(f"{self.base}/lab?token={self.token}", timeout=20) as response:
            html = response.read().decode()
        found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
        assert found, html[:2000]
        return json.loads(found.group(1))

    def save(self, path: str, nb) -> int:
        """PUT a notebook as JupyterLab's (auto)save does."""
        body = json.dumps({"type": "notebook", "format": "json", "content": nb}).encode()
        request = urllib.request.Request(
            f"{self.base}/api/contents/{path}?token={self.token}",
            data=body,
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code


@contextlib.contextmanager
def _serve(cmd, home: Path, cwd: Path):
    """Run a ``jupyter lab`` command line with an empty Jupyter home, headless; stop it on exit."""
    port, token = _free_port(), secrets.token_hex(16)
    env, options = _headless_lab(home, port, token)
    cmd = cmd + options
    log, base = home / "jupyter-lab.log", f"http://127.0.0.1:{port}"
    home.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out, subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd) as proc:
        try:
            _wait_for_server(f"{base}/api/status?token={token}", proc, log)
            yield Server(base, token, log)
        finally:  # Popen's exit then waits for it
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=20)
            proc.kill()


@pytest.fixture(scope="module")
def student_lab(tmp_path_factory):
    """`make lab`'s server: the working copy of lectures/ and the students' settings."""
    tmp = tmp_path_factory.mktemp("student_lab")
    workdir = tmp / "lab"
    sync_working_copy(LECTURES, workdir)
    with _serve(lab_command(workdir, STUDENT_SETTINGS), tmp / "jupyter", cwd=tmp) as server:
        server.workdir = workdir
        yield server


# ---------------------------------------------------------------- the settings, as files


def test_student_settings_turn_off_every_installed_nbgrader_server_extension():
    installed = _installed_nbgrader_server_extensions()
    assert installed, "nbgrader (a dependency) should have enabled its server extensions in this environment"
    config = json.loads((STUDENT_SETTINGS / SERVER_CONFIG).read_text())["ServerApp"]["jpserver_extensions"]
    assert {name: config.get(name) for name in installed} == {name: False for name in installed}


def test_student_settings_disable_every_installed_nbgrader_lab_extension():
    installed = _installed_nbgrader_lab_extensions()
    assert installed, "nbgrader (a dependency) should have installed its JupyterLab extension"
    assert set(installed) <= _disabled(json.loads((STUDENT_SETTINGS / "page_config.json").read_text()))


def test_lab_command_passes_extra_arguments_and_serves_the_working_copy(tmp_path):
    cmd = lab_command(tmp_path / "lab", STUDENT_SETTINGS, ["--no-browser"])
    assert cmd[-1] == "--no-browser"
    assert f"--ServerApp.root_dir={(tmp_path / 'lab').resolve()}" in cmd
    assert not any(str(LECTURES) == arg.split("=", 1)[-1] for arg in cmd)


def test_make_lab_hands_lab_args_to_jupyter():
    out = subprocess.run(
        ["make", "-n", "lab", "LAB_ARGS=--no-browser --ServerApp.port=8899"],
        cwd=LECTURES.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "-m course.lab --no-browser --ServerApp.port=8899" in out, out


# ---------------------------------------------------------------- the running server


@pytest.mark.slow  # a JupyterLab server
def test_student_lab_page_disables_nbgrader_extensions(student_lab):
    config = student_lab.page_config()
    served = [ext["name"] for ext in config["federated_extensions"]]
    installed = _installed_nbgrader_lab_extensions()
    assert set(installed) <= set(served)  # the check below is about extensions the page would otherwise load
    assert set(installed) <= _disabled(config), config["disabledExtensions"]


@pytest.mark.slow  # a JupyterLab server
def test_student_lab_serves_no_nbgrader_handlers(student_lab):
    assert {url: student_lab.status(url) for url in NBGRADER_URLS} == {url: 404 for url in NBGRADER_URLS}
    assert student_lab.status("/api/status") == 200
    assert not NBGRADER_LOADED.search(student_lab.log.read_text())


@pytest.mark.slow  # a JupyterLab server
def test_an_autosave_in_the_lab_changes_the_working_copy_never_lectures(student_lab):
    committed = LECTURES / NOTEBOOK
    before = hashlib.sha256(committed.read_bytes()).hexdigest()
    nb = nbformat.read(student_lab.workdir / NOTEBOOK, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    first.execution_count = 1
    first.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran in the lab\n")]
    assert student_lab.save(NOTEBOOK, nb) == 200
    saved = nbformat.read(student_lab.workdir / NOTEBOOK, as_version=4)
    assert next(c for c in saved.cells if c.cell_type == "code").outputs[0].text == "ran in the lab\n"
    assert hashlib.sha256(committed.read_bytes()).hexdigest() == before
    # the server cannot reach lectures/ at all: its root is the working copy
    assert student_lab.save(f"../lectures/{NOTEBOOK}", nb) in (400, 403, 404)
    assert hashlib.sha256(committed.read_bytes()).hexdigest() == before
    # and the next `make lab` keeps what the lab saved (the lecture did not change)
    assert sync_working_copy(LECTURES, student_lab.workdir).actions[NOTEBOOK] == "unchanged"
    assert nbformat.read(student_lab.workdir / NOTEBOOK, as_version=4) == saved


def _plain_lab(tmp_path):
    """`jupyter lab` as installed, without the students' settings."""
    (tmp_path / "root").mkdir(parents=True)
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={tmp_path / 'root'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return _serve(cmd, tmp_path / "jupyter", cwd=tmp_path)


def _menus_and_panels(server, tmp_path):
    """The main menu bar's labels and the side bars' panel ids, as Chromium shows them once the lab is up."""
    with _playwright().sync_playwright() as p:
        context, page = _launch(p, tmp_path)
        try:
            page.goto(f"{server.base}/lab?token={server.token}")
            page.wait_for_selector("#jp-MainMenu .lm-MenuBar-itemLabel >> text=Help", timeout=120_000)
            page.wait_for_selector(".jp-SideBar .lm-TabBar-tab", timeout=60_000)
            page.wait_for_timeout(2000)  # plugins that add menus/panels after the first paint
            menus = page.eval_on_selector_all("#jp-MainMenu .lm-MenuBar-itemLabel", "es => es.map(e => e.textContent)")
            panels = page.eval_on_selector_all(".jp-SideBar .lm-TabBar-tab", "es => es.map(e => e.dataset.id || '')")
            return menus, panels
        finally:
            context.close()


@pytest.mark.slow
def test_a_student_sees_no_nbgrader_menu_or_panel_and_a_plain_lab_shows_both(student_lab, tmp_path):
    menus, panels = _menus_and_panels(student_lab, tmp_path / "student")
    assert "File" in menus and "filebrowser" in panels  # the page did load
    assert not [m for m in menus if "nbgrader" in m.lower()], menus
    assert not [t for t in panels if "nbgrader" in t.lower()], panels
    with _plain_lab(tmp_path / "plain") as plain:
        menus, panels = _menus_and_panels(plain, tmp_path / "plain")
    assert "Nbgrader" in menus and any("nbgrader" in t.lower() for t in panels), (menus, panels)


@pytest.mark.slow  # a JupyterLab server
def test_without_the_student_settings_the_same_checks_see_nbgrader(tmp_path):
    """The control: plain `jupyter lab` in this environment loads nbgrader, and the checks above notice."""
    with _plain_lab(tmp_path) as server:
        assert server.status("/nbgrader_version") != 404
        assert NBGRADER_LOADED.search(server.log.read_text())
        assert not set(_installed_nbgrader_lab_extensions()) & _disabled(server.page_config())
