"""upsim check from pytest: one pytest test per probe.

Copy this file next to your tests (it needs only pytest and the standard
library), then, in your conftest.py:

    from upsim_fixture import upsim_check, probe_params, assert_probe

    def pytest_generate_tests(metafunc):
        if "upsim_probe" in metafunc.fixturenames:
            result = upsim_check(["scenarios/edge.json"], gateway="edge-nginx",
                                 through="http://127.0.0.1:8081",
                                 listen="127.0.0.1:8080")
            metafunc.parametrize("upsim_probe", probe_params(result))

and in a test file:

    def test_gateway(upsim_probe):
        assert_probe(upsim_probe)

upsim check runs once, while pytest collects (your gateway must be up by
then: start it in the CI job, or in pytest_configure), and every probe
becomes a test named after its file, method and path. A probe that fails
fails its test with upsim's reason, what the scenario wanted and what the
gateway did; a skipped probe is skipped. A usage or scenario error (upsim
check's exit 2) raises UpsimCheckError with upsim's message.
"""

import json
import os
import socket
import subprocess

import pytest

__all__ = ["UpsimCheckError", "upsim_check", "probe_params", "probe_id",
           "assert_probe", "free_port"]


class UpsimCheckError(Exception):
    """upsim check could not judge: usage or scenario error, a crash, or no
    answer in time. Carries upsim's stderr."""


def free_port(host="127.0.0.1"):
    """A port the kernel says is free now on host (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def upsim_check(scenarios, *, gateway, through, listen="127.0.0.1:8080",
                gateway_log=None, junit=None, extra_args=(),
                upsim=None, timeout=600):
    """Run `upsim check --json` and return its result as a dict.

    scenarios: scenario file paths. gateway: the name in their expect
    blocks. through: the gateway's URL as a client reaches it. listen:
    the upstream address the gateway's config names. gateway_log: its
    error log (for "log" expectations). junit: also write JUnit XML there.
    upsim: the binary (default $UPSIM, else "upsim" on PATH). timeout:
    seconds before the run is killed (then UpsimCheckError).

    The dict is upsim's --json output ("gateway", "through", "passed",
    "failed", "skipped", "recorded", "probes": [...]) plus "exit" (0 all
    held, 1 one did not) and "stderr" (the report's text lines).
    """
    upsim = upsim or os.environ.get("UPSIM", "upsim")
    cmd = [upsim, "check", "--json", "--gateway", gateway,
           "--through", through, "--listen", listen]
    if gateway_log:
        cmd += ["--gateway-log", str(gateway_log)]
    if junit:
        cmd += ["--junit", str(junit)]
    cmd += [str(a) for a in extra_args]
    cmd += [str(s) for s in scenarios]
    try:
        run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise UpsimCheckError(f"{' '.join(cmd)}: no result after {timeout} s\n"
                              f"{e.stderr or ''}") from None
    if run.returncode not in (0, 1):
        raise UpsimCheckError(f"{' '.join(cmd)}: exit {run.returncode}\n{run.stderr}")
    try:
        result = json.loads(run.stdout)
    except ValueError:
        raise UpsimCheckError(f"{' '.join(cmd)}: exit {run.returncode} without "
                              f"JSON on stdout\n{run.stderr}") from None
    result["exit"] = run.returncode
    result["stderr"] = run.stderr
    return result


def probe_id(probe):
    """'edge.json GET /api/orders' (and ' x20' for a repeated probe)."""
    name = f"{os.path.basename(probe['file'])} {probe['method']} {probe['request']}"
    if probe.get("repeat", 1) > 1:
        name += f" x{probe['repeat']}"
    return name


def probe_params(result):
    """The probes of an upsim_check() result as pytest.param()s, with
    readable ids, for metafunc.parametrize."""
    return [pytest.param(p, id=probe_id(p)) for p in result["probes"]]


def assert_probe(probe):
    """Fail (with upsim's reason, want and got) if the probe failed, skip
    if upsim skipped it; a passed or recorded probe passes."""
    if probe["result"] == "skip":
        pytest.skip(probe.get("skipped", "skipped by upsim check"))
    if probe["result"] == "fail":
        pytest.fail(f"{probe_id(probe)}: {probe.get('why')}\n"
                    f"  want {probe.get('want')}\n"
                    f"  got  {probe.get('got')}", pytrace=False)
