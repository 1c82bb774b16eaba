//! `cpt mcp`: real sessions with the built binary over its stdin and stdout — the protocol
//! (version negotiation, notifications, errors), every tool, a file written after the start
//! seen by the next call, and a clean exit at the end of input.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use serde_json::{Value, json};

use crate::common::{binary, git, path_str, py_function, write};

/// A running `cpt mcp` and the messages it wrote.
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Session {
    fn start(root: &Path, log: &Path) -> Session {
        let mut child = binary()
            .args(["mcp", path_str(root)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .expect("cpt mcp starts");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Session {
            child,
            stdin,
            stdout,
            next_id: 1,
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// The next line of stdout, which must be one JSON-RPC message.
    fn receive(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let message: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"));
        assert_eq!(message["jsonrpc"], "2.0", "{message}");
        message
    }

    /// Send a request and return its response (which must answer it).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        self.send(&message.to_string());
        let reply = self.receive();
        assert_eq!(reply["id"], id, "{reply}");
        reply
    }

    fn notify(&mut self, method: &str) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method }).to_string());
    }

    /// `tools/call`: the result, whose text content must be its structured content.
    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        let reply = self.request(
            "tools/call",
            json!({ "name": tool, "arguments": arguments }),
        );
        let result = reply["result"].clone();
        assert!(result.is_object(), "{reply}");
        let text = result["content"][0]["text"].as_str().unwrap();
        assert_eq!(result["content"][0]["type"], "text");
        if result["isError"] == false {
            let parsed: Value = serde_json::from_str(text).unwrap();
            assert_eq!(parsed, result["structuredContent"]);
        } else {
            assert_eq!(text.lines().count(), 1, "{text}");
        }
        result
    }

    /// A successful call's structured answer.
    fn answer(&mut self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments);
        assert_eq!(result["isError"], false, "{tool}: {result}");
        result["structuredContent"].clone()
    }

    /// A failed call's one line.
    fn failure(&mut self, tool: &str, arguments: Value) -> String {
        let result = self.call(tool, arguments);
        assert_eq!(result["isError"], true, "{tool}: {result}");
        result["content"][0]["text"].as_str().unwrap().to_string()
    }

    /// Close stdin: the server must exit 0 having written nothing more but JSON lines.
    fn finish(mut self) {
        drop(self.stdin.take());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stdout, &mut rest).unwrap();
        for line in rest.lines() {
            let _: Value = serde_json::from_str(line).expect("stdout carries only JSON lines");
        }
        let status = self.child.wait().unwrap();
        assert_eq!(status.code(), Some(0));
    }
}

fn paths(copies: &Value) -> Vec<&str> {
    copies
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect()
}

/// A whole session on a git repository with one planted copy: every tool answers from the
/// catalogue, failures are results the agent reads, protocol errors are JSON-RPC errors.
#[test]
fn a_session_answers_every_tool_and_sees_files_written_since() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir(&root).unwrap();
    git(&root, &["init", "-q", "-b", "main"]);
    write(&root, ".gitignore", ".cpt/\n");
    write(&root, "a.py", py_function("merge_ranges", 1));
    write(&root, "pkg/b.py", py_function("merge_spans", 1));
    write(&root, "c.py", py_function("fold_text", 2));
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "start"]);
    let log = dir.path().join("stderr.txt");
    let mut s = Session::start(&root, &log);

    let init = s.request(
        "initialize",
        json!({
            "protocolVersion": "2025-03-26",
            "capabilities": {},
            "clientInfo": { "name": "test", "version": "1" }
        }),
    );
    assert_eq!(init["result"]["protocolVersion"], "2025-03-26");
    assert_eq!(init["result"]["serverInfo"]["name"], "cpt");
    assert_eq!(
        init["result"]["capabilities"]["tools"]["listChanged"],
        false
    );
    assert!(
        init["result"]["instructions"]
            .as_str()
            .unwrap()
            .contains("find_similar")
    );
    // A notification gets no reply: the next line answers the next request.
    s.notify("notifications/initialized");
    assert_eq!(s.request("ping", json!({}))["result"], json!({}));

    let list = s.request("tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "find_similar",
            "clones_for_file",
            "clone_class",
            "stats",
            "check_diff"
        ]
    );
    for tool in tools {
        assert_eq!(tool["annotations"]["readOnlyHint"], true, "{tool}");
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{tool}");
        assert!(tool["title"].is_string() && tool["description"].is_string());
    }

    // Before writing a function: a renamed copy of a.py's finds both copies and their class.
    let found = s.answer(
        "find_similar",
        json!({ "code": py_function("my_merge", 1), "language": "python" }),
    );
    let unit = &found["units"][0];
    assert_eq!(unit["name"], "my_merge");
    assert_eq!(unit["total"], 2);
    assert_eq!(unit["truncated"], false);
    assert_eq!(paths(&unit["matches"]), ["a.py", "pkg/b.py"]);
    assert_eq!(unit["matches"][0]["clone_type"], "T2");
    let class_id = unit["matches"][0]["class_id"].as_str().unwrap().to_string();
    assert_eq!(class_id.len(), 16);
    let limited = s.answer(
        "find_similar",
        json!({ "code": py_function("my_merge", 1), "language": "python", "limit": 1 }),
    );
    assert_eq!(limited["units"][0]["total"], 2);
    assert_eq!(limited["units"][0]["truncated"], true);
    assert_eq!(limited["units"][0]["matches"].as_array().unwrap().len(), 1);
    // Code without a function big enough is an answer, not an error.
    let nothing = s.answer(
        "find_similar",
        json!({ "code": "x = 1\n", "language": "python" }),
    );
    assert_eq!(nothing["units"], json!([]));
    assert!(nothing["note"].as_str().unwrap().contains("no function"));

    let file = s.answer("clones_for_file", json!({ "path": "a.py" }));
    assert_eq!(file["total"], 1);
    let class = &file["classes"][0];
    assert_eq!(class["id"], class_id.as_str());
    assert_eq!(paths(&class["in_this_file"]), ["a.py"]);
    assert_eq!(paths(&class["elsewhere"]), ["pkg/b.py"]);
    let absolute = root.join("pkg/b.py");
    let file = s.answer("clones_for_file", json!({ "path": path_str(&absolute) }));
    assert_eq!(file["path"], "pkg/b.py");
    assert_eq!(file["total"], 1);
    assert_eq!(
        s.answer("clones_for_file", json!({ "path": "c.py" }))["total"],
        0
    );

    let detail = s.answer("clone_class", json!({ "id": &class_id[..6] }));
    assert_eq!(detail["class"]["id"], class_id.as_str());
    assert_eq!(detail["class"]["copies_total"], 2);
    assert_eq!(paths(&detail["class"]["copy_list"]), ["a.py", "pkg/b.py"]);
    let created = &detail["history"][0];
    assert_eq!(created["event"], "created");
    assert_eq!(created["copies"], 2);
    assert!(created["scan_id"].as_i64().unwrap() >= 1);
    let at = created["at"].as_str().unwrap();
    assert!(
        at.len() == 24 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
        "{at}"
    );

    let stats = s.answer("stats", json!({}));
    assert_eq!(stats["files"], 3);
    assert_eq!(stats["clone_classes"], 1);
    assert_eq!(stats["languages"]["python"]["files"], 3);

    let clean = s.answer("check_diff", json!({}));
    assert_eq!(clean["passed"], true, "{clean}");
    assert_eq!(clean["rev"], "HEAD");
    assert_eq!(clean["total"], 0);

    // An agent writes a copy of c.py's function: the next call (a scan is skipped for 1 s
    // after the last) sees it, and check_diff names the new copy.
    write(&root, "d.py", py_function("fold_words", 2));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let dirty = s.answer("check_diff", json!({ "base": "main" }));
    assert_eq!(dirty["passed"], false, "{dirty}");
    assert_eq!(dirty["untracked_files"], 1);
    assert_eq!(dirty["total"], 1);
    let failing = &dirty["failing"][0];
    assert_eq!(paths(&failing["in_change"]), ["d.py"]);
    assert_eq!(paths(&failing["elsewhere"]), ["c.py"]);
    assert!(
        failing["why"]
            .as_str()
            .unwrap()
            .contains("changed since main")
    );
    assert_eq!(s.answer("stats", json!({}))["clone_classes"], 2);

    // Failures are results the agent reads, one line each.
    assert!(
        s.failure("no_such_tool", json!({}))
            .contains("unknown tool")
    );
    assert!(
        s.failure(
            "find_similar",
            json!({ "code": "x", "language": "python", "limit": "ten" })
        )
        .contains("limit")
    );
    assert!(
        s.failure("find_similar", json!({ "code": "x" }))
            .contains("`language` is required")
    );
    assert!(
        s.failure("stats", json!({ "verbose": true }))
            .contains("unknown argument")
    );
    assert!(
        s.failure("find_similar", json!({ "code": "x", "language": "cobol" }))
            .contains("unknown language")
    );
    assert!(
        s.failure("clones_for_file", json!({ "path": "nope.py" }))
            .contains("nope.py")
    );
    assert!(
        s.failure("clones_for_file", json!({ "path": "/elsewhere/a.py" }))
            .contains("outside")
    );
    assert!(
        s.failure("clone_class", json!({ "id": "ffffffffffffffff" }))
            .contains("no such")
    );
    assert!(
        s.failure("check_diff", json!({ "base": "no-such-branch" }))
            .contains("no merge base")
    );

    // Protocol errors.
    let unknown = s.request("resources/list", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    let bad_params = s.request("tools/call", json!({ "arguments": {} }));
    assert_eq!(bad_params["error"]["code"], -32602);
    s.send("this is not json");
    let garbage = s.receive();
    assert_eq!(garbage["error"]["code"], -32700);
    assert_eq!(garbage["id"], Value::Null);
    assert_eq!(s.request("ping", json!({}))["result"], json!({}));
    s.finish();
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("cpt mcp: serving"), "{log}");
}

/// A client asking for a version the server does not speak gets the latest; requests before
/// `initialize` are served; the end of input ends the server with 0.
#[test]
fn an_unknown_protocol_version_gets_the_latest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    write(&root, "a.py", py_function("merge_ranges", 1));
    let log = dir.path().join("stderr.txt");
    let mut s = Session::start(&root, &log);
    let stats = s.answer("stats", json!({}));
    assert_eq!(stats["files"], 1);
    let init = s.request("initialize", json!({ "protocolVersion": "1999-01-01" }));
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    s.finish();
}
