"""Security: servers the harness starts bind 127.0.0.1 by default and keep MLflow's
allowed-hosts check; nothing the harness reads back is unpickled; no shell command is built
from a string.

The code checks parse the product code (``bench``, ``nn_core``, ``experiments``,
``scripts``) with ``ast``, so docstrings and comments that name a pattern do not count."""

from __future__ import annotations

import ast
import http.client
import sys
from pathlib import Path

import pytest

from .util import REPO

PRODUCT = ("bench", "nn_core", "experiments", "scripts")


def product_files() -> list[Path]:
    files = [p for d in PRODUCT for p in (REPO / d).rglob("*.py")]
    assert len(files) > 30, files
    return sorted(files)


def calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return "?"


def keyword(call, name):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def findings(check) -> list[str]:
    out = []
    for path in product_files():
        tree = ast.parse(path.read_text(), str(path))
        for call in calls(tree):
            problem = check(call, dotted(call.func))
            if problem:
                out.append(f"{path.relative_to(REPO)}:{call.lineno}: {problem}")
    return out


# -- servers bind 127.0.0.1 ----------------------------------------------------------------------

def test_the_mlflow_ui_binds_loopback_by_default_and_keeps_host_checks():
    from bench.cli import build_parser
    from bench.ui import ui_command, ui_environment
    args = build_parser().parse_args(["ui"])
    assert args.host == "127.0.0.1"
    cmd = ui_command(args.tracking_uri, args.host, args.port)
    assert isinstance(cmd, list) and cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert "--disable-security-middleware" not in cmd
    if "--allowed-hosts" in cmd:
        assert "*" not in cmd[cmd.index("--allowed-hosts") + 1]
    env = ui_environment({})
    assert "*" not in env.get("MLFLOW_SERVER_ALLOWED_HOSTS", "")
    assert env.get("MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE", "false").lower() != "true"


def test_optuna_dashboard_binds_loopback_by_default():
    # The server itself is started for real, and loaded in Chromium, in
    # tests/bench/ui/test_dashboard.py.
    from bench.cli import build_parser
    assert build_parser().parse_args(["dashboard"]).host == "127.0.0.1"


def test_the_running_ui_server_refuses_a_foreign_host_header(mlflow_server):
    """DNS rebinding: a page on another origin that resolves to 127.0.0.1 reaches the
    server with its own Host header. The server (the harness's `ui` command line) must
    refuse it and still serve requests addressed to itself."""
    def status(host_header):
        conn = http.client.HTTPConnection("127.0.0.1", mlflow_server.port, timeout=10)
        try:
            conn.request("GET", "/api/2.0/mlflow/experiments/search?max_results=1",
                         headers={"Host": host_header})
            return conn.getresponse().status
        finally:
            conn.close()
    assert status(f"127.0.0.1:{mlflow_server.port}") == 200
    assert status(f"localhost:{mlflow_server.port}") == 200
    refused = status("attacker.example")
    assert refused in (400, 403), refused


# -- nothing is unpickled --------------------------------------------------------------------------

UNPICKLERS = {"pickle.load", "pickle.loads", "cPickle.load", "cPickle.loads", "dill.load",
              "dill.loads", "joblib.load", "pd.read_pickle", "pandas.read_pickle",
              "torch.load", "cloudpickle.load", "cloudpickle.loads", "shelve.open",
              "marshal.load", "marshal.loads", "yaml.unsafe_load", "pickle.Unpickler"}


def test_product_code_never_unpickles():
    def check(call, name):
        if name in UNPICKLERS:
            return f"{name}()"
        flag = keyword(call, "allow_pickle")
        if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is False):
            return f"{name}(allow_pickle={ast.unparse(flag)})"
        if name in ("np.load", "numpy.load"):
            if not (isinstance(flag, ast.Constant) and flag.value is False):
                return "np.load() without allow_pickle=False"
        if name == "yaml.load":
            loader = keyword(call, "Loader")
            if loader is None or "Safe" not in ast.unparse(loader):
                return "yaml.load() without a safe Loader"
        return None
    assert findings(check) == []


def test_the_scan_finds_what_it_looks_for(tmp_path, monkeypatch):
    """The scanners are not vacuous: planted examples are found."""
    bad = tmp_path / "bench"
    bad.mkdir()
    (bad / "x.py").write_text(
        "import numpy as np, pickle, subprocess, os\n"
        "np.load('a')\nnp.load('b', allow_pickle=True)\npickle.loads(b'')\n"
        "subprocess.run('ls ' + x, shell=True)\nos.system('ls')\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "product_files",
                        lambda: sorted(tmp_path.rglob("*.py")))
    assert len(findings(_pickle_check())) == 3
    assert len(findings(_shell_check)) == 2


def _pickle_check():
    # the same rules as test_product_code_never_unpickles, for the planted-example test
    def check(call, name):
        flag = keyword(call, "allow_pickle")
        if name in UNPICKLERS:
            return name
        if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is False):
            return name
        if name in ("np.load", "numpy.load") and flag is None:
            return name
        return None
    return check


# -- no shell strings ----------------------------------------------------------------------------

SHELL_CALLS = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput",
               "os.spawnl", "os.spawnlp", "os.execl", "os.execlp", "pty.spawn"}


def _shell_check(call, name):
    if name in SHELL_CALLS:
        return f"{name}()"
    shell = keyword(call, "shell")
    if shell is not None and not (isinstance(shell, ast.Constant) and shell.value is False):
        return f"{name}(shell={ast.unparse(shell)})"
    if name in ("eval", "exec"):
        return f"{name}()"
    return None


def test_product_code_builds_no_shell_strings():
    assert findings(_shell_check) == []


def test_subprocess_commands_are_argument_lists():
    """Every subprocess call in product code passes a list (or a name bound to one), never
    a string built at run time."""
    def check(call, name):
        if name.split(".")[-1] in ("run", "call", "check_call", "check_output", "Popen") and \
                name.startswith("subprocess"):
            first = call.args[0] if call.args else keyword(call, "args")
            if isinstance(first, (ast.JoinedStr, ast.BinOp, ast.Constant)) and not (
                    isinstance(first, ast.Constant) and isinstance(first.value, (list, tuple))):
                return f"{name}({ast.unparse(first)[:60]})"
        return None
    assert findings(check) == []


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
def test_binding_elsewhere_is_explicit_and_warned_about(host, capsys, monkeypatch):
    import bench.ui as ui
    monkeypatch.setattr(ui.subprocess, "Popen", _FakePopen)
    monkeypatch.setattr(ui, "wait_until_up", lambda *a, **k: False)
    monkeypatch.setattr(ui, "_stop", lambda proc, timeout=10.0: None)  # nothing was started
    ui.serve_ui("sqlite:///unused.db", host, 5999)
    assert "warning" in capsys.readouterr().err


class _FakePopen:
    pid = -1  # never signalled: _stop is replaced above

    def __init__(self, cmd, **kwargs):
        self.cmd = cmd

    def wait(self, timeout=None):
        return 0

    def poll(self):
        return 0
