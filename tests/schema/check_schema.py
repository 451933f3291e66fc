#!/usr/bin/python3
"""make check-schema: the JSON Schemas in docs/schema/ against the files
upsim's loader accepts and rejects.

- the schemas are valid draft 2020-12 schemas;
- every scenario in scenarios/ and tests/data/valid/ validates against
  upsim-scenario.schema.json, every fleet file in scenarios/fleets/
  against upsim-fleet.schema.json;
- every tests/data/invalid/X.json (the loader rejects each one, X.err says
  why) fails the scenario schema, except those in EXCEPTIONS: files whose
  only faults a JSON Schema cannot see. An exception that starts failing
  the schema is an error too, so the list stays honest;
- tests/schema/semantic/*.json: files the loader rejects for one semantic
  reason each (phases that do not exist, weights adding up to 0, ...);
  each must pass the schema, and with UPSIM_BIN set, upsim validate must
  reject it (exit 2): what the schema leaves to the loader, shown;
- with UPSIM_BIN set, `upsim schema` and `upsim schema --fleet` print
  exactly the files of docs/schema (the binary carries them).

Run with Debian's python3 (python3-jsonschema): /usr/bin/python3.
"""
import glob
import json
import os
import subprocess
import sys

import jsonschema

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
os.chdir(ROOT)

# tests/data/invalid files the schema cannot reject, with why.
EXCEPTIONS = {
    "duplicate_key.json": "duplicate keys: JSON parsers keep the last one; jansson's JSON_REJECT_DUPLICATES refuses them",
    "syntax_trailing_comma.json": "not JSON at all: the editor's JSON parser reports it, before any schema",
}
# Exceptions that are not even JSON: the check is that they still fail to parse.
NOT_JSON = {"syntax_trailing_comma.json"}

failures = []


def fail(msg):
    failures.append(msg)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def validator(path):
    schema = load(path)
    cls = jsonschema.validators.validator_for(schema)
    if cls is not jsonschema.Draft202012Validator:
        fail(f"{path}: not a draft 2020-12 schema")
    cls.check_schema(schema)
    return cls(schema)


def errors(v, doc):
    return sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))


def where(e):
    return ".".join(str(p) for p in e.absolute_path) or "(root)"


scenario = validator("docs/schema/upsim-scenario.schema.json")
fleet = validator("docs/schema/upsim-fleet.schema.json")

counts = {"valid": 0, "invalid": 0, "exceptions": 0, "semantic": 0}

valid = sorted(glob.glob("scenarios/*.json") + glob.glob("tests/data/valid/*.json"))
if len(valid) < 10:
    fail(f"only {len(valid)} valid scenarios found: is this the upsim tree?")
for path in valid:
    errs = errors(scenario, load(path))
    for e in errs[:5]:
        fail(f"{path}: the loader accepts it, the schema says {where(e)}: {e.message}")
    counts["valid"] += 1
# "$schema" is allowed at the top (for editors): the library stays valid with it.
doc = load("scenarios/healthy.json")
doc["$schema"] = "https://upsim.dev/schema/upsim-scenario.schema.json"
for e in errors(scenario, doc):
    fail(f"healthy.json with \"$schema\": {where(e)}: {e.message}")

fleets = sorted(glob.glob("scenarios/fleets/*.json"))
if not fleets:
    fail("no fleet file in scenarios/fleets/")
for path in fleets:
    for e in errors(fleet, load(path))[:5]:
        fail(f"{path}: the fleet schema says {where(e)}: {e.message}")
    # A fleet file is not a scenario, and the reverse: the two schemas differ.
    if not errors(scenario, load(path)):
        fail(f"{path}: a fleet file passes the scenario schema")
if not errors(fleet, load("scenarios/healthy.json")):
    fail("scenarios/healthy.json passes the fleet schema")

invalid = sorted(glob.glob("tests/data/invalid/*.json"))
if len(invalid) < 10:
    fail(f"only {len(invalid)} invalid cases found")
names = {os.path.basename(p) for p in invalid}
for name in sorted(set(EXCEPTIONS) - names):
    fail(f"EXCEPTIONS names {name}, which is not in tests/data/invalid/")
for path in invalid:
    name = os.path.basename(path)
    if not os.path.exists(path[:-5] + ".err"):
        fail(f"{path}: no .err beside it")
    try:
        doc = load(path)
    except ValueError:
        if name not in NOT_JSON:
            fail(f"{path}: not JSON, but not listed in NOT_JSON")
        counts["exceptions"] += 1
        continue
    if name in NOT_JSON:
        fail(f"{path}: listed as not JSON, but it parses: move it out of NOT_JSON")
        continue
    errs = errors(scenario, doc)
    if name in EXCEPTIONS:
        counts["exceptions"] += 1
        if errs:
            fail(f"{path}: listed as an exception ({EXCEPTIONS[name]}) but the schema "
                 f"rejects it ({where(errs[0])}: {errs[0].message}): drop it from EXCEPTIONS")
    elif not errs:
        fail(f"{path}: the loader rejects it ({open(path[:-5] + '.err').readline().strip()}), the schema accepts it")
    else:
        counts["invalid"] += 1

upsim = os.environ.get("UPSIM_BIN")
semantic = sorted(glob.glob("tests/schema/semantic/*.json"))
for path in semantic:
    errs = errors(scenario, load(path))
    if errs:
        fail(f"{path}: a semantic case the schema now rejects ({where(errs[0])}: {errs[0].message}): "
             "move it to tests/data/invalid/ with an .err")
    if upsim:
        r = subprocess.run([upsim, "validate", path], capture_output=True, text=True, timeout=10)
        if r.returncode != 2:
            fail(f"{path}: upsim validate exits {r.returncode}, expected 2 (the loader must reject it)")
    counts["semantic"] += 1

if upsim:
    for flag, path in (([], "docs/schema/upsim-scenario.schema.json"),
                       (["--fleet"], "docs/schema/upsim-fleet.schema.json")):
        r = subprocess.run([upsim, "schema"] + flag, capture_output=True, timeout=10)
        if r.returncode != 0 or r.stdout != open(path, "rb").read():
            fail(f"upsim schema {' '.join(flag)}: exit {r.returncode}, and not the bytes of {path}")

for f in failures:
    print("check-schema: " + f, file=sys.stderr)
if failures:
    sys.exit(1)
print("check-schema: ok ({valid} valid, {invalid} invalid rejected, {exceptions} exceptions, "
      "{semantic} semantic cases)".format(**counts))
