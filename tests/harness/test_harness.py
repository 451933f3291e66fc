"""docs/harness.md's recipes, run as written against a real nginx."""

import json
import os
import pathlib
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from upsim_fixture import assert_probe, free_port, probe_id, probe_params

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EDGE = HERE / "edge.json"
MUST_FAIL = HERE / "must-fail.json"


def class_name(path):
    """A testcase's classname: the file without .json, its / as dots and
    its other dots as _ (reporters read dots as packages)."""
    stem = path[:-5] if path.endswith(".json") else path
    return stem.replace(".", "_").replace("/", ".")


# One test per probe of edge.json: every expectation there holds on nginx.

def test_edge_nginx(upsim_probe):
    assert_probe(upsim_probe)


def test_edge_probes_are_all_there(check):
    # Four probes, by name: a probe lost by upsim would not show as a test.
    ids = sorted(probe_id(p) for p in check([EDGE])["probes"])
    assert ids == ["edge.json GET /", "edge.json GET /api/reset",
                   "edge.json GET /api/slow", "edge.json POST /api/busy"]


def test_failing_probe_fails_its_test(check):
    result = check([MUST_FAIL])
    assert result["exit"] == 1, result["stderr"]
    assert (result["passed"], result["failed"]) == (1, 1), result["stderr"]
    by_id = {p.id: p.values[0] for p in probe_params(result)}
    assert set(by_id) == {"must-fail.json GET /cut", "must-fail.json GET /fine"}
    cut = by_id["must-fail.json GET /cut"]
    assert cut["result"] == "fail"
    assert cut["why"], cut
    # The test of the failing probe fails, with upsim's reason in its message.
    with pytest.raises(pytest.fail.Exception) as failed:
        assert_probe(cut)
    assert cut["why"] in str(failed.value)
    assert "want 200" in str(failed.value)
    # The passing one passes.
    assert_probe(by_id["must-fail.json GET /fine"])


def test_junit_agrees_with_json(check, tmp_path):
    junit = tmp_path / "out.xml"
    result = check([EDGE, MUST_FAIL], junit=junit)
    assert result["exit"] == 1
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == int(root.get("tests")) == len(result["probes"]) == 6
    failures = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert len(failures) == int(root.get("failures")) == result["failed"] == 1
    assert len(skipped) == int(root.get("skipped")) == result["skipped"] == 0
    for suite in root.findall("testsuite"):
        own = suite.findall("testcase")
        assert int(suite.get("tests")) == len(own)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in own)
        assert int(suite.get("skipped")) == sum(c.find("skipped") is not None for c in own)
    assert {s.get("name") for s in root.findall("testsuite")} == {str(EDGE), str(MUST_FAIL)}
    for case in cases:
        assert case.get("classname") and case.get("name"), ET.tostring(case)
        float(case.get("time"))
    # The same probes, case for case, as --json gave them.
    json_names = sorted((class_name(p["file"]), f"edge-nginx {p['method']} {p['request']}")
                        for p in result["probes"])
    assert sorted((c.get("classname"), c.get("name")) for c in cases) == json_names
    failed = [p for p in result["probes"] if p["result"] == "fail"]
    [case] = failures
    assert (case.get("classname"), case.get("name")) == \
        (class_name(failed[0]["file"]), f"edge-nginx {failed[0]['method']} {failed[0]['request']}")
    failure = case.find("failure")
    assert failure.get("message") == failed[0]["why"]
    assert f"want: {failed[0]['want']}" in failure.text
    assert f"got: {failed[0]['got']}" in failure.text


def run_shell_recipe(tmp_path, *scenarios):
    junit = tmp_path / "upsim-junit.xml"
    env = dict(os.environ, JUNIT=str(junit), UPSTREAM=f"127.0.0.1:{free_port()}",
               GATEWAY_PORT=str(free_port()))
    run = subprocess.run([str(HERE / "check-gateway.sh"), *map(str, scenarios)],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=120)
    return run, junit


def test_shell_recipe_passes(tmp_path):
    run, junit = run_shell_recipe(tmp_path)
    assert run.returncode == 0, run.stdout
    root = ET.parse(junit).getroot()
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "4", "0")
    assert "4 passed, 0 failed" in run.stdout


def test_shell_recipe_fails(tmp_path):
    run, junit = run_shell_recipe(tmp_path, MUST_FAIL)
    assert run.returncode == 1, run.stdout
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures")) == ("2", "1")


def test_shell_recipe_scenario_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"upsim": 1, "rulez": []}')
    run, _ = run_shell_recipe(tmp_path, bad)
    assert run.returncode == 2, run.stdout


# docs/harness.md shows these files whole: what it shows is what runs here.
@pytest.mark.parametrize("name", ["nginx.conf", "check-gateway.sh", "edge.json"])
def test_docs_show_the_files_as_they_are(name):
    doc = (ROOT / "docs" / "harness.md").read_text()
    m = re.search(r"<!-- file: tests/harness/%s -->\n```[a-z]*\n(.*?)```\n" % re.escape(name),
                  doc, re.S)
    assert m, f"docs/harness.md does not show tests/harness/{name}"
    assert m.group(1) == (HERE / name).read_text()


def test_record_pins_what_the_gateway_did(check, tmp_path):
    # A copy of edge.json whose first rule's probe has no expectation yet,
    # and whose /api/reset block has another gateway's: --record fills in
    # edge-nginx's entries and keeps every other key where it was.
    doc = json.loads(EDGE.read_text())
    rules = doc["rules"]
    rules[0]["expect"] = {k: v for k, v in rules[0]["expect"].items() if k != "edge-nginx"}
    reset = next(r for r in rules if r["expect"].get("request", r["match"].get("path")) == "/api/reset")
    reset["expect"]["other-proxy"] = {"status": 418, "log": "kept"}
    copy = tmp_path / "edge-record.json"
    copy.write_text(json.dumps(doc, indent=2))
    keys_before = [list(r.keys()) for r in rules]
    result = check([copy], extra_args=["--record"])
    assert result["exit"] == 0, result["stderr"]
    assert result["recorded"] == 1, result["stderr"]
    again = json.loads(copy.read_text())
    assert [list(r.keys()) for r in again["rules"]] == keys_before
    recorded = again["rules"][0]["expect"]["edge-nginx"]
    probe = next(p for p in result["probes"] if p["result"] == "recorded")
    assert recorded["status"] == probe["tries"][0]["status"]
    assert recorded["attempts"] == probe["tries"][0]["attempts"]
    reset_again = next(r for r in again["rules"] if r is not None and
                       r["expect"].get("request", r["match"].get("path")) == "/api/reset")
    assert reset_again["expect"]["other-proxy"] == {"status": 418, "log": "kept"}
    # The recorded file now passes as it stands.
    assert check([copy])["exit"] == 0
