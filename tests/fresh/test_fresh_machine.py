"""A user's path on a fresh machine, as the README tells it: no test extra, a brand-new virtual environment,
the real date (not the test suite's fixed day), no API key.

1. The wheel carries the front-end bundle; `pip install "image_widget[notebooks]"` from it runs every notebook.
2. `bash scripts/demo.sh` in a new environment installs what the notebooks import, starts JupyterLab on the
   quickstart, and every notebook runs there too.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import processes, waiting

pytestmark = pytest.mark.fresh

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
INSTALL_TIMEOUT_S = 900


def _user_env(venv: Path, home: Path) -> dict[str, str]:
    """What a user's shell has: the venv first on PATH, no key, no test settings, private Jupyter dirs."""
    drop = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "IMAGE_WIDGET_TODAY", "IMAGE_WIDGET_DIR", "PYTHONPATH",
            "VIRTUAL_ENV", "PYTEST_CURRENT_TEST")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        path = home / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    return env


def _new_venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=120)
    return path


def _run_notebooks(venv: Path, env: dict[str, str], workdir: Path) -> None:
    """Every notebook, top to bottom, with that environment's own Jupyter and kernel."""
    for notebook in NOTEBOOKS:
        done = subprocess.run(
            [str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
             "--ExecutePreprocessor.timeout=300", "--output-dir", str(workdir / "executed"), str(notebook)],
            cwd=workdir, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, f"{notebook.name} failed in a fresh environment:\n{done.stderr[-4000:]}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)],
                   check=True, timeout=INSTALL_TIMEOUT_S, cwd=ROOT)
    (built,) = dist.glob("image_widget-*.whl")
    return built


def test_the_wheel_carries_the_bundle_and_runs_every_notebook(wheel: Path, tmp_path: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "image_widget/static/widget.js" in names
    assert "image_widget/static/widget.css" in names
    venv = _new_venv(tmp_path / "venv")
    env = _user_env(venv, tmp_path / "home")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{wheel}[notebooks]"],
                   check=True, timeout=INSTALL_TIMEOUT_S, env=env)
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import image_widget.widget as w; print(w._STATIC / 'widget.js'); "
                            "print(w.ImageWidget._esm is not w._FALLBACK_ESM)"],
                           env=env, capture_output=True, text=True, check=True, timeout=120, cwd=tmp_path)
    installed, uses_bundle = probe.stdout.split()
    assert installed.startswith(str(venv)), "the package is the one installed from the wheel"
    assert Path(installed).is_file()
    assert uses_bundle == "True", "the widget loads the bundle, not the fallback"
    _check_mcp_command_without_its_extra(venv, env, tmp_path)
    _run_notebooks(venv, env, tmp_path)


def _check_mcp_command_without_its_extra(venv: Path, env: dict[str, str], workdir: Path) -> None:
    """`image-widget mcp --help` works from the wheel; without the `mcp` extra the server says what to install."""
    command = str(venv / "bin" / "image-widget")
    helped = subprocess.run([command, "mcp", "--help"], env=env, cwd=workdir, capture_output=True, text=True,
                            timeout=60, check=False)
    assert helped.returncode == 0, helped.stderr
    assert "--max-cost" in helped.stdout
    missing = subprocess.run([command, "mcp"], env=env, cwd=workdir, capture_output=True, text=True, timeout=60,
                             check=False, stdin=subprocess.DEVNULL)
    assert missing.returncode == 2, missing.stderr
    assert 'pip install "image_widget[mcp]"' in missing.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str], str]]:
    """`bash scripts/demo.sh` in a new environment, left running as a user would have it."""
    venv = _new_venv(tmp_path / "venv")
    env = _user_env(venv, tmp_path / "home")
    port, token = _free_port(), secrets.token_hex(16)
    log = (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen(
        ["bash", "scripts/demo.sh", "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:

        def started() -> bool:
            assert demo.poll() is None, (tmp_path / "demo.log").read_text()[-4000:]
            return waiting.answers(f"{url}/api/status?token={token}", timeout=5)

        waiting.wait_until(started, "demo.sh to start JupyterLab", INSTALL_TIMEOUT_S, interval=1)
        # JupyterLab opened on a file serves that file's folder: the quickstart is at the top.
        yield venv, env, f"{url}/api/contents/quickstart.ipynb?token={token}&content=0"
    finally:
        processes.stop(demo, timeout=30)
        log.close()


def test_the_demo_command_installs_what_the_notebooks_need(demo_server: tuple[Path, dict[str, str], str],
                                                           tmp_path: Path) -> None:
    venv, env, quickstart = demo_server
    with urllib.request.urlopen(quickstart, timeout=10) as answer:
        assert answer.status == 200, "JupyterLab serves the quickstart notebook"
    extras = subprocess.run([str(venv / "bin" / "python"), "-c", "import pytest"], env=env, check=False,
                            capture_output=True, timeout=60)
    assert extras.returncode != 0, "the demo environment must not have the test extra"
    _run_notebooks(venv, env, tmp_path)
