#!/usr/bin/env python3
"""Latency of `cpt lsp` as an editor sees it: from a `didChange` of an open file (a function
pasted at its end, unsaved) to the `publishDiagnostics` that reports it, over N edits.

    python3 benches/lsp/latency.py --cpt target/release/cpt --root TREE --file REL --from REL2 [--edits 50]

TREE is scanned first (its catalogue is TREE/.cpt/cpt.db). Prints the median and p95 in ms,
beside the server's start (initialize to the end of the first scan's progress). The server
waits for 40 ms of quiet before checking unsaved text; that delay is part of the figure.
"""
import argparse, json, os, statistics, subprocess, sys, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpt", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--file", required=True, help="a file of TREE, relative to it")
    ap.add_argument("--from", dest="source", required=True,
                    help="another file of TREE whose first top-level function is pasted")
    ap.add_argument("--edits", type=int, default=50)
    args = ap.parse_args()
    root = os.path.realpath(args.root)
    args.cpt = os.path.realpath(args.cpt)
    subprocess.run([args.cpt, "scan", root, "-q"], check=True)
    p = subprocess.Popen([args.cpt, "lsp"], cwd=root, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def send(m):
        b = json.dumps(m).encode()
        p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(b) + b)
        p.stdin.flush()

    def recv():
        length = None
        while True:
            line = p.stdout.readline()
            if not line:
                sys.exit("the server ended")
            line = line.strip()
            if not line:
                break
            k, v = line.split(b": ", 1)
            if k.lower() == b"content-length":
                length = int(v)
        m = json.loads(p.stdout.read(length))
        if "id" in m and "method" in m:
            send({"jsonrpc": "2.0", "id": m["id"], "result": None})
        return m

    uri = "file://" + os.path.join(root, args.file)
    t0 = time.perf_counter()
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
          "params": {"processId": None, "rootUri": "file://" + root,
                     "capabilities": {"window": {"workDoneProgress": True}}}})
    while recv().get("id") != 1:
        pass
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    while True:
        m = recv()
        if m.get("method") == "$/progress" and m["params"]["value"]["kind"] == "end":
            break
    start_ms = (time.perf_counter() - t0) * 1000
    text = open(os.path.join(root, args.file), encoding="utf-8").read()
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
          "params": {"textDocument": {"uri": uri, "languageId": "x", "version": 1, "text": text}}})
    while recv().get("method") != "textDocument/publishDiagnostics":
        pass
    # The first top-level function of at least 8 lines of another file, pasted at the end.
    lines = open(os.path.join(root, args.source), encoding="utf-8").read().splitlines(keepends=True)
    paste = None
    for i, l in enumerate(lines):
        s = l.lstrip()
        if (s.startswith("def ") or s.startswith("func ") or s.startswith("fn ")) and l == s:
            j = i + 1
            while j < len(lines) and (lines[j].startswith((" ", "\t", "}")) or not lines[j].strip()):
                j += 1
            if j - i >= 8:
                paste = "".join(lines[i:j])
                break
    if paste is None:
        sys.exit("no top-level function of 8 lines or more to paste")
    times = []
    for n in range(args.edits):
        edited = text + "\n\n" + paste.replace("(", f"_{n}(", 1)
        t = time.perf_counter()
        send({"jsonrpc": "2.0", "method": "textDocument/didChange",
              "params": {"textDocument": {"uri": uri, "version": n + 2},
                         "contentChanges": [{"text": edited}]}})
        while True:
            m = recv()
            if m.get("method") == "textDocument/publishDiagnostics" and any(
                    d["data"]["live"] for d in m["params"]["diagnostics"]):
                break
        times.append((time.perf_counter() - t) * 1000)
        # Back to the saved text before the next edit.
        send({"jsonrpc": "2.0", "method": "textDocument/didChange",
              "params": {"textDocument": {"uri": uri, "version": n + 2},
                         "contentChanges": [{"text": text}]}})
        while True:
            m = recv()
            if m.get("method") == "textDocument/publishDiagnostics" and not any(
                    d["data"]["live"] for d in m["params"]["diagnostics"]):
                break
    send({"jsonrpc": "2.0", "id": 9, "method": "shutdown"})
    while recv().get("id") != 9:
        pass
    send({"jsonrpc": "2.0", "method": "exit"})
    p.wait()
    times.sort()
    print(f"{args.file}: {len(text.splitlines())} lines; start (initialize to scanned) {start_ms:.0f} ms")
    print(f"didChange to diagnostics over {len(times)} edits: median {statistics.median(times):.1f} ms, "
          f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms (40 ms of it the quiet wait)")


if __name__ == "__main__":
    main()
