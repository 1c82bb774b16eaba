//! `cpt lsp`: a session with the built binary over stdio, as an editor drives it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{binary, clones, py_function, write};

/// A client: the server's process, its framed messages as they arrive, and what it asked.
struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Requests the server sent (answered with `null`), by method.
    asked: Vec<Value>,
    /// Notifications the server sent that no wait consumed yet.
    seen: Vec<Value>,
}

fn url(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl Client {
    fn start(root: &Path, capabilities: Value) -> Client {
        let mut child = binary()
            .arg("lsp")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cpt lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    let (name, value) = line.split_once(": ").expect("a header line");
                    assert!(
                        name.eq_ignore_ascii_case("content-length")
                            || name.eq_ignore_ascii_case("content-type"),
                        "stdout carries only the protocol: {line:?}"
                    );
                    if name.eq_ignore_ascii_case("content-length") {
                        length = Some(value.parse::<usize>().unwrap());
                    }
                }
                let mut body = vec![0; length.expect("Content-Length")];
                reader.read_exact(&mut body).unwrap();
                let message: Value = serde_json::from_slice(&body).expect("JSON body");
                if tx.send(message).is_err() {
                    return;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            incoming,
            next_id: 0,
            asked: Vec::new(),
            seen: Vec::new(),
        };
        let init = client.request(
            "initialize",
            json!({"processId": null, "rootUri": url(root), "capabilities": capabilities,
                   "workspaceFolders": [{"uri": url(root), "name": "tree"}]}),
        );
        assert!(
            init["result"]["capabilities"]["codeLensProvider"].is_object(),
            "{init}"
        );
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = serde_json::to_string(&message).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Wait for a message that `want` accepts, answering the server's requests on the way.
    fn wait(&mut self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&want) {
            return self.seen.remove(i);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = match self.incoming.recv_timeout(left) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {what} within 30 s; saw {:?}", self.seen)
                }
                Err(RecvTimeoutError::Disconnected) => panic!("the server ended before {what}"),
            };
            if message.get("method").is_some() && message.get("id").is_some() {
                self.asked.push(message.clone());
                let id = message["id"].clone();
                self.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));
                if want(&message) {
                    return message;
                }
                continue;
            }
            if want(&message) {
                return message;
            }
            if message.get("method").is_some() {
                self.seen.push(message);
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(method, |m| m["id"] == id && m.get("method").is_none())
    }

    /// The next diagnostics published for `uri` that `want` accepts.
    fn diagnostics(&mut self, uri: &str, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let m = self.wait("diagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && want(m["params"]["diagnostics"].as_array().unwrap())
        });
        m["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn open(&mut self, path: &Path) {
        let text = std::fs::read_to_string(path).unwrap();
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": url(path), "languageId": "python", "version": 1, "text": text}}),
        );
    }

    /// `shutdown`, then `exit`: the exit code.
    fn finish(mut self) -> i32 {
        let response = self.request("shutdown", Value::Null);
        assert!(response.get("error").is_none(), "{response}");
        self.notify("exit", Value::Null);
        let code = self.wait_exit();
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(
            stderr.contains("cpt lsp: workspace"),
            "logs go to stderr: {stderr}"
        );
        code
    }

    fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().expect("exited");
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn lines_of(d: &Value) -> (u64, u64) {
    (
        d["range"]["start"]["line"].as_u64().unwrap() + 1,
        d["range"]["end"]["line"].as_u64().unwrap() + 1,
    )
}

/// The whole life of a session: the scan at start with progress, diagnostics on open with the
/// other copy as related information, code lens and actions, go-to-copy through the client,
/// unsaved edits checked from the index and never written, saves and changes on disk brought
/// into the catalogue, `cpt/similar`, accept, and a clean shutdown.
#[test]
fn a_session_shows_copies_as_you_type_and_save() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let a = root.join("a.py");
    write(&root, "a.py", py_function("merge_ranges", 1));
    write(&root, "b.py", py_function("merge_spans", 1));
    write(&root, "c.py", py_function("fold_text", 2));
    let mut client = Client::start(
        &root,
        json!({"window": {"workDoneProgress": true, "showDocument": {"support": true}},
               "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}),
    );
    // The scan at start reports progress.
    client.wait("progress end", |m| {
        m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
    });
    assert!(
        client
            .asked
            .iter()
            .any(|r| r["method"] == "window/workDoneProgress/create")
    );
    assert!(
        root.join(".cpt/cpt.db").is_file(),
        "the workspace was scanned"
    );
    client.open(&a);
    let uri = url(&a);
    let diags = client.diagnostics(&uri, |d| !d.is_empty());
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert_eq!(d["source"], "cpt");
    assert_eq!(d["severity"], 3);
    assert!(
        d["message"].as_str().unwrap().contains("also at b.py:1"),
        "{d}"
    );
    assert_eq!(
        d["relatedInformation"][0]["location"]["uri"],
        url(&root.join("b.py"))
    );
    let class_id = d["data"]["classId"].as_str().unwrap().to_string();
    assert_eq!(class_id.len(), 16);
    let lenses = client.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let lens = &lenses["result"][0];
    assert_eq!(lens["command"]["title"], "1 other copy: b.py:1");
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let titles: Vec<&str> = actions["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "cpt: go to the copy at b.py:1",
            "cpt: ignore this copy (add a `cpt: ignore` comment)",
            &format!("cpt: accept clone class {class_id} as it is"),
        ]
    );
    let edit = &actions["result"][1]["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], "# cpt: ignore\n");
    // Go to the other copy: the server asks the client to show it.
    client.request("workspace/executeCommand", lens["command"].clone());
    let show = client
        .asked
        .iter()
        .find(|m| m["method"] == "window/showDocument")
        .expect("the server asked the client to show the copy");
    assert_eq!(show["params"]["uri"], url(&root.join("b.py")));
    // Typing (unsaved): two lines added above the copy, and a pasted copy of c.py's function
    // at the end. The copy moves; the paste is found from the index.
    let before = clones(&root.join(".cpt/cpt.db"));
    let typed = format!(
        "import os\nimport sys\n{}\n\n{}",
        py_function("merge_ranges", 1),
        py_function("fold_words", 2)
    );
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": typed}]}),
    );
    let diags = client.diagnostics(&uri, |d| d.len() == 2);
    let moved = diags.iter().find(|d| d["data"]["live"] == false).unwrap();
    let pasted = diags.iter().find(|d| d["data"]["live"] == true).unwrap();
    assert_eq!(lines_of(moved).0, 3, "{moved}");
    assert!(lines_of(pasted).0 > lines_of(moved).1, "{pasted}");
    assert!(
        pasted["message"].as_str().unwrap().contains("(unsaved)"),
        "{pasted}"
    );
    assert_eq!(
        pasted["relatedInformation"][0]["location"]["uri"],
        url(&root.join("c.py"))
    );
    assert_eq!(
        clones(&root.join(".cpt/cpt.db")),
        before,
        "unsaved text is not catalogued"
    );
    // `cpt/similar` on the pasted function, as typed.
    let line = lines_of(pasted).0 - 1;
    let similar = client.request(
        "cpt/similar",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": 4}}),
    );
    assert_eq!(similar["result"]["matches"][0]["path"], "c.py", "{similar}");
    // Saved: the catalogue has the new class; the diagnostics come from it.
    std::fs::write(&a, &typed).unwrap();
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    let diags = client.diagnostics(&uri, |d| {
        d.len() == 2 && d.iter().all(|d| d["data"]["live"] == false)
    });
    assert!(diags.iter().all(|d| d["data"]["classId"].is_string()));
    assert_eq!(
        clones(&root.join(".cpt/cpt.db"))["patterns"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Another tool writes a third copy: the client says so, and the class grows.
    write(&root, "d.py", py_function("merge_more", 1));
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": url(&root.join("d.py")), "type": 1}]}),
    );
    let diags = client.diagnostics(&uri, |d| {
        d.iter()
            .any(|d| d["relatedInformation"].as_array().unwrap().len() == 2)
    });
    assert_eq!(diags.len(), 2);
    // Accept the class from the editor.
    let grown = diags
        .iter()
        .find(|d| d["relatedInformation"].as_array().unwrap().len() == 2)
        .unwrap();
    let id = grown["data"]["classId"].as_str().unwrap();
    let done = client.request(
        "workspace/executeCommand",
        json!({"command": "cpt.accept", "arguments": [id]}),
    );
    assert!(done.get("error").is_none(), "{done}");
    assert!(
        std::fs::read_to_string(root.join("cpt-accepted.toml"))
            .unwrap()
            .contains(id)
    );
    let unknown = client.request("textDocument/references", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    assert_eq!(client.finish(), 0);
}

/// Without `workspace/didChangeWatchedFiles` the server watches the tree itself; without
/// `shutdown`, `exit` ends it with 1.
#[test]
fn the_server_watches_the_tree_when_the_client_does_not_and_exit_without_shutdown_is_1() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, "a.py", py_function("merge_ranges", 1));
    write(&root, "c.py", py_function("fold_text", 2));
    let mut client = Client::start(&root, json!({}));
    let a = root.join("a.py");
    client.open(&a);
    let uri = url(&a);
    client.diagnostics(&uri, |d| d.is_empty());
    write(&root, "b.py", py_function("merge_spans", 1));
    let diags = client.diagnostics(&uri, |d| d.len() == 1);
    assert!(diags[0]["message"].as_str().unwrap().contains("b.py:1"));
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit(), 1);
}

/// A client that pulls diagnostics gets them as answers, not notifications.
#[test]
fn a_client_that_pulls_gets_diagnostics_as_answers() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, "a.py", py_function("merge_ranges", 1));
    write(&root, "b.py", py_function("merge_spans", 1));
    let mut client = Client::start(
        &root,
        json!({"textDocument": {"diagnostic": {"dynamicRegistration": false}}}),
    );
    let a = root.join("a.py");
    client.open(&a);
    let report = client.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": url(&a)}}),
    );
    assert_eq!(report["result"]["kind"], "full");
    assert_eq!(
        report["result"]["items"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    assert!(
        !client
            .seen
            .iter()
            .any(|m| m["method"] == "textDocument/publishDiagnostics"),
        "no pushed diagnostics"
    );
    assert_eq!(client.finish(), 0);
}
