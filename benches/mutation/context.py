#!/usr/bin/env python3
"""The mutation benchmark in context: one language's planted pairs scanned together with a
real code base (by default the one its originals were drawn from), as a developer's copy
lives among its original's siblings.

The planted tree (`cargo bench --bench mutation -- generate`) keeps apart functions that look
alike, so a planted pair is alone in its neighbourhood. Real copies are not: the original has
siblings (overloads, the other handlers of one switch, the same helper in another module),
and whatever decides between a copy and a family of look-alikes meets them. This script
copies the language's rounds of TREE to OUT, puts CONTEXT (a directory of real code) inside
every round as `context/`, and writes a manifest of that language's pairs alone. Score it
with the usual scorer:

    python3 benches/mutation/context.py --tree /tmp/mut --lang python \\
        --context "$(python3 -c 'import sysconfig;print(sysconfig.get_paths()["stdlib"])')" \\
        --out /tmp/mutctx
    cargo bench --bench mutation -- score --tree /tmp/mutctx --tool cpt

Controls are left out of the manifest: when the context is the code base the originals came
from, a control's original is there too and is rightly reported as its exact copy. Context
files are copied without `site-packages`, `node_modules`, `__pycache__` and compiled files.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

SKIPPED = ("site-packages", "node_modules", "__pycache__", "*.pyc", ".git", ".cpt")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", required=True, type=Path, help="a generated planted tree")
    parser.add_argument("--lang", required=True, help="language id (python, java, ...)")
    parser.add_argument("--context", required=True, type=Path, help="real code to add")
    parser.add_argument("--out", required=True, type=Path, help="new tree (must not exist)")
    args = parser.parse_args()

    manifest = json.loads((args.tree / "manifest.json").read_text())
    roots = [r for r in manifest["roots"] if r.split("/")[0] == args.lang]
    if not roots:
        print(f"context.py: {args.tree}: no rounds of {args.lang}", file=sys.stderr)
        return 2
    if not args.context.is_dir():
        print(f"context.py: {args.context}: not a directory", file=sys.stderr)
        return 2
    if args.out.exists():
        print(f"context.py: {args.out}: exists; give a new directory", file=sys.stderr)
        return 2
    for root in roots:
        shutil.copytree(args.tree / root, args.out / root)
        shutil.copytree(
            args.context,
            args.out / root / "context",
            ignore=shutil.ignore_patterns(*SKIPPED),
            symlinks=False,
            ignore_dangling_symlinks=True,
        )
    manifest["roots"] = roots
    manifest["pairs"] = [p for p in manifest["pairs"] if p["language"] == args.lang]
    manifest["controls"] = []
    manifest["languages"] = {
        k: v for k, v in manifest["languages"].items() if k == args.lang
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest))
    print(
        f"{args.out}: {len(manifest['pairs'])} {args.lang} pairs in {len(roots)} round(s), "
        f"each with {args.context} as context/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
