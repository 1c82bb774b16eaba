#!/usr/bin/env python3
"""Make the seed corpora under fuzz/corpus/ from the repository's fixtures and README.

Usage: fuzz/make_seeds.py PATH/TO/cpt   (a release build: cargo build --release)

Index files and event logs come from `cpt scan` runs on small trees copied from fixtures/;
cpt.toml seeds from README.md's example and the shapes the tests use; source seeds are the
fixtures of every language, each with a few edits. Re-running replaces the corpora.
"""

import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile

FUZZ = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(FUZZ)
FIXTURES = os.path.join(REPO, "fixtures")
# The order of lang::all() (BUILT_IN in src/lang.rs): the fingerprint target's first byte.
LANGS = ["rust", "python", "javascript", "typescript", "tsx", "go", "java", "c", "cpp"]


def corpus(target):
    """The target's seed directory, emptied but for the `json-*` seeds: event logs in the
    JSON form written before the binary encoding, which this script can no longer make."""
    path = os.path.join(FUZZ, "corpus", target)
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if not name.startswith("json-"):
            os.remove(os.path.join(path, name))
    return path


def write(dir, name, data):
    with open(os.path.join(dir, name), "wb") as f:
        f.write(data)


def scan(cpt, root):
    subprocess.run([cpt, "scan", root, "--quiet"], check=True, stdout=subprocess.DEVNULL)


def tree(langs, files=None):
    """A temporary tree with the fixtures of `langs` (all their files, or those named)."""
    root = tempfile.mkdtemp(prefix="cpt-seed-")
    for lang in langs:
        for name in sorted(os.listdir(os.path.join(FIXTURES, lang))):
            if name.endswith(".toml") or (files and name not in files):
                continue
            shutil.copy(os.path.join(FIXTURES, lang, name), os.path.join(root, f"{lang}-{name}"))
    return root


def edit_first_function(root):
    """Change one file a little, so that the next scan writes a delta segment."""
    name = sorted(n for n in os.listdir(root) if not n.startswith("."))[0]
    path = os.path.join(root, name)
    with open(path, "rb") as f:
        text = f.read()
    with open(path, "wb") as f:
        f.write(text.replace(b"return", b"return  ", 1) + b"\n")


def index_and_events(cpt):
    index_dir, event_dir = corpus("index_reader"), corpus("event_log")
    trees = [
        ("python", ["python"], None),
        ("rust-go", ["rust", "go"], ["original.rs", "renamed.rs", "original.go", "copies.go"]),
        ("c-java-ts", ["c", "java", "typescript"], ["original.c", "renamed.java", "copies.ts"]),
        ("big", ["python", "javascript", "tsx", "cpp"], None),
    ]
    for name, langs, files in trees:
        root = tree(langs, files)
        try:
            scan(cpt, root)
            cat = os.path.join(root, ".cpt")
            with open(os.path.join(cat, "cpt.index"), "rb") as f:
                base = f.read()
            # Flag 1: sealed again after each mutation; flag 0: as is.
            write(index_dir, f"{name}-sealed", b"\x01" + base)
            write(index_dir, f"{name}-raw", b"\x00" + base)
            edit_first_function(root)
            scan(cpt, root)
            delta_path = os.path.join(cat, "cpt.index-delta")
            if os.path.exists(delta_path):
                with open(os.path.join(cat, "cpt.index"), "rb") as f:
                    base = f.read()
                with open(delta_path, "rb") as f:
                    delta = f.read()
                write(index_dir, f"{name}-delta", b"\x03" + struct.pack("<I", len(base)) + base + delta)
            db = sqlite3.connect(os.path.join(cat, "cpt.db"))
            # JSON events are text, binary ones bytes; the target splits its input on
            # newlines, so binary events holding a newline byte are left out.
            events = [
                row[0] if isinstance(row[0], bytes) else row[0].encode()
                for row in db.execute("SELECT data FROM events ORDER BY seq")
            ]
            events = [e for e in events if b"\n" not in e]
            db.close()
            for i in range(0, len(events), 64):
                write(event_dir, f"{name}-{i // 64}", b"\n".join(events[i : i + 64]))
        finally:
            shutil.rmtree(root)
    write(index_dir, "empty", b"")
    write(event_dir, "empty", b"")


def configs():
    dir = corpus("config_toml")
    with open(os.path.join(REPO, "README.md")) as f:
        readme = f.read()
    example = re.search(r"```toml\n(\[scan\].*?)```", readme, re.S).group(1)
    write(dir, "readme", example.encode())
    for i, text in enumerate(
        [
            "",
            '[scan]\nexclude = ["vendor/**"]\n',
            "[scan]\nmin_tokens = 30\nmin_lines = 4\n",
            '[scan]\nmin_tokens = "many"\n',
            "[scan]\nmin_similarity = 1.5\n",
            "[scan]\nnear_miss = false\n",
            '[report]\ntests = "exclude"\nnoise = true\n',
            '[report]\ntests = "sometimes"\n',
            "[unknown]\nkey = 1\n",
            '[scan]\nexclude = ["{a,b", "**/[!x]*.py", "!keep/**"]\n',
        ]
    ):
        write(dir, f"example-{i}", text.encode())


def sources():
    dir = corpus("fingerprint_reparse")
    for lang_dir in sorted(os.listdir(FIXTURES)):
        if lang_dir not in LANGS:
            continue
        lang = LANGS.index(lang_dir)
        for name in sorted(os.listdir(os.path.join(FIXTURES, lang_dir))):
            if name.endswith(".toml"):
                continue
            with open(os.path.join(FIXTURES, lang_dir, name), "rb") as f:
                text = f.read()
            middle = len(text) // 2
            line = text.find(b"\n", middle) + 1
            # (thresholds | kind << 2, a, b, inserted text): see fuzz_targets/fingerprint_reparse.rs
            edits = [
                (1, line, 0, b"\n"),  # a blank line: every unit below moves
                (2, middle, 7, b""),  # a cut through the middle
                (1 | 1 << 2, 1, 0, b""),  # the second unit deleted
                (1 | 2 << 2, 0, 0, b""),  # the first unit repeated
                (0 | 3 << 2, middle, 0, b""),  # a name changed
            ]
            for i, (choice, a, b, insert) in enumerate(edits):
                header = bytes([lang, choice]) + struct.pack("<HHH", a, b, len(insert))
                write(dir, f"{lang_dir}-{name}-{i}", header + text + insert)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    cpt = os.path.abspath(sys.argv[1])
    index_and_events(cpt)
    configs()
    sources()


if __name__ == "__main__":
    main()
