"""The harness recipes under test (make check-harness): a real nginx, the
team's gateway "edge-nginx" of docs/harness.md, started from nginx.conf on
loopback with kernel-chosen free ports before pytest collects (the probes
become tests at collection), and stopped when pytest ends, pass or fail.

UPSIM names the upsim binary (the Makefile passes ./upsim)."""

import atexit
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest

from upsim_fixture import free_port, probe_params, upsim_check

HERE = pathlib.Path(__file__).resolve().parent


class Nginx:
    """nginx in the foreground with HERE/nginx.conf, its upstream and
    listen addresses swapped for free ports, everything in a temp dir."""

    def __init__(self):
        self.upstream = f"127.0.0.1:{free_port()}"
        self.port = free_port()
        self.through = f"http://127.0.0.1:{self.port}"
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="upsim-harness-"))
        self.error_log = self.dir / "error.log"
        conf = (HERE / "nginx.conf").read_text()
        for old, new in (("127.0.0.1:8080", self.upstream),
                         ("127.0.0.1:8081", f"127.0.0.1:{self.port}")):
            assert old in conf, f"nginx.conf no longer names {old}"
            conf = conf.replace(old, new)
        (self.dir / "nginx.conf").write_text(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        globals_ = "daemon off;"
        if os.getuid() == 0:  # the worker would be "nobody", unable to write DIR
            import grp, pwd
            globals_ += (f" user {pwd.getpwuid(os.getuid()).pw_name}"
                         f" {grp.getgrgid(os.getgid()).gr_name};")
        self.proc = subprocess.Popen(
            [nginx, "-p", f"{self.dir}/", "-c", str(self.dir / "nginx.conf"),
             "-e", "stderr", "-g", globals_],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        atexit.register(self.stop)
        # nginx writes its pid file once it listens: wait for it, 5 s at most.
        deadline = time.monotonic() + 5
        while not (self.dir / "nginx.pid").is_file():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise pytest.UsageError(f"nginx did not start: {self.proc.stderr.read()}")
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


def pytest_configure(config):
    if shutil.which("nginx") is None and not os.access("/usr/sbin/nginx", os.X_OK):
        raise pytest.UsageError("nginx is not installed (Debian: nginx-light)")
    config.edge_nginx = Nginx()


def pytest_unconfigure(config):
    gw = getattr(config, "edge_nginx", None)
    if gw is not None:
        gw.stop()


def check_edge(config, scenarios, **kw):
    """upsim_check against the test's nginx."""
    gw = config.edge_nginx
    return upsim_check(scenarios, gateway="edge-nginx", through=gw.through,
                       listen=gw.upstream, gateway_log=gw.error_log,
                       timeout=120, **kw)


# The recipe of docs/harness.md: upsim check once, one test per probe.
def pytest_generate_tests(metafunc):
    if "upsim_probe" in metafunc.fixturenames:
        result = check_edge(metafunc.config, [HERE / "edge.json"])
        metafunc.parametrize("upsim_probe", probe_params(result))


@pytest.fixture
def edge_nginx(request):
    return request.config.edge_nginx


@pytest.fixture
def check(request):
    return lambda scenarios, **kw: check_edge(request.config, scenarios, **kw)
