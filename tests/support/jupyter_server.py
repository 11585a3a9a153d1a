"""A throwaway Jupyter server (JupyterLab or Notebook 7) for browser tests, benchmarks and screenshots.

Set up as BROWSER-TESTS.md found reliable here: every Jupyter folder in a temp dir, a token, no news or
update checks, the kernel importing the package from the work tree, and no OpenAI settings inherited
(so the kernel uses its own offline emulator unless `env` says otherwise).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import waiting

SRC = Path(__file__).resolve().parents[2] / "src"
SERVER_START_S = 90.0
_NOT_INHERITED = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "IMAGE_WIDGET_DIR", "JUPYTER_PATH")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class JupyterServer:
    """One Jupyter server process and what a caller needs to reach it."""

    kind: str  # "lab" or "notebook"
    url: str
    token: str
    root: Path
    log: Path
    proc: subprocess.Popen[bytes]

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(no log)"

    def shutdown_sessions(self, notebook: str) -> None:
        """Stop the kernel of one notebook, so kernels do not pile up."""
        try:
            for session in self.api("GET", "/api/sessions"):
                if session.get("path", "").endswith(notebook):
                    self.api("DELETE", f"/api/sessions/{session['id']}")
        except (OSError, urllib.error.URLError, ValueError):
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def _write_settings(settings: Path, save_widget_state: bool) -> None:
    files: dict[str, Any] = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"autoStartDefaultKernel": True},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
    }
    if save_widget_state:
        files["@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings"] = {"saveState": True}
    for name, value in files.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def start_server(kind: str, base: Path, *, env: Mapping[str, str] | None = None, save_widget_state: bool = False,
                 timeout: float = SERVER_START_S) -> JupyterServer:
    """Start `jupyter lab` (kind "lab") or Notebook 7 ("notebook") with everything under `base`."""
    root = base / "root"
    dirs = {name: base / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for path in (root, *dirs.values()):
        path.mkdir(parents=True, exist_ok=True)
    _write_settings(dirs["settings"], save_widget_state)
    token = secrets.token_hex(16)
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    clean.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        IPYTHONDIR=str(dirs["ipython"]),
        # The kernel imports the package from the work tree (CI also installs it with pip -e).
        PYTHONPATH=os.pathsep.join([str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])]),
        PYTHONUNBUFFERED="1",
    )
    clean.update(env or {})
    module = "jupyterlab" if kind == "lab" else "notebook"
    cmd = [sys.executable, "-m", module, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", "--allow-root", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--expose-app-in-browser"]
    if kind == "lab":
        cmd += ["--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = base / f"{kind}-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=clean, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = JupyterServer(kind, f"http://127.0.0.1:{port}", token, root, log, proc)

    def answers() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter {kind} exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            server.api("GET", "/api/status")
        except (OSError, urllib.error.URLError):
            return False
        return True

    try:
        waiting.wait_until(answers, f"jupyter {kind} to answer", timeout, interval=0.2)
    except AssertionError:
        server.stop()
        raise RuntimeError(f"jupyter {kind} did not answer within {timeout:.0f} s:\n{server.log_tail()}") from None
    return server


def write_notebook(root: Path, name: str, cells: list[str]) -> Path:
    """A notebook of code cells with the python3 kernel, ready to open."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    path = root / name
    nbformat.write(nb, path)
    return path
