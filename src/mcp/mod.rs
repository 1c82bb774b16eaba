//! MCP: tools for coding agents — a Model Context Protocol server over stdio. Messages are
//! JSON-RPC 2.0, one per line on stdin and stdout (nothing else ever goes to stdout; logs go
//! to stderr); each tool call answers from the catalogue after bringing it up to date with
//! the files the agent may just have written. No async runtime: one request at a time.

mod tools;

use std::io::{BufRead, Write};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{Map, Value, json};

use crate::engine::{Catalogue, ScanRequest, Silent};

/// The protocol versions served, latest first; a client asking for another gets the latest.
pub const PROTOCOL_VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];

/// A tool call within this long of the last scan's end does not scan again: an agent's
/// questions come in bursts, and a scan of an unchanged large tree costs about 0.1 s.
const FRESH_FOR: Duration = Duration::from_secs(1);

const INSTRUCTIONS: &str = "cpt knows every function of this repository and which ones are \
copies of each other. Before writing a new function, call find_similar with its code: if \
something like it already exists, reuse or extend that instead of adding a copy. \
clones_for_file shows the duplicated code of a file you are about to change, check_diff shows \
the copies your uncommitted changes add, and clone_class tells the history of one clone \
class. Answers reflect files just written: the catalogue is rescanned before each call.";

/// The server's state: the tree, its catalogue and when it was last brought up to date.
pub struct Server<'a> {
    scan: ScanRequest,
    /// The scan started with the server, until a tool call waits for it.
    first_scan: Option<JoinHandle<Result<Duration>>>,
    last_scan: Option<Instant>,
    log: &'a mut dyn Write,
}

impl<'a> Server<'a> {
    pub fn new(scan: ScanRequest, log: &'a mut dyn Write) -> Server<'a> {
        Server {
            scan,
            first_scan: None,
            last_scan: None,
            log,
        }
    }

    /// Start the first scan in the background: the client's `initialize` and `tools/list`
    /// are answered at once, however long a first scan of a large tree takes.
    fn start_scan(&mut self) {
        let scan = self.scan.clone();
        self.first_scan = Some(std::thread::spawn(move || {
            let started = Instant::now();
            Catalogue::scan(&scan, &Silent)?;
            Ok(started.elapsed())
        }));
    }

    /// Bring the catalogue up to date with the tree (unless a scan just finished) and open it.
    fn catalogue(&mut self) -> Result<Catalogue> {
        if let Some(first) = self.first_scan.take() {
            match first.join() {
                Ok(Ok(took)) => {
                    self.last_scan = Some(Instant::now());
                    self.log(&format!("first scan done in {} ms", took.as_millis()));
                }
                // The scan below tries again, and its error is the call's.
                Ok(Err(e)) => self.log(&format!("scan failed: {}", crate::sys::one_line(&e))),
                Err(_) => self.log("the first scan panicked"),
            }
        }
        if self.last_scan.is_none_or(|t| t.elapsed() >= FRESH_FOR) {
            Catalogue::scan(&self.scan, &Silent)?;
            self.last_scan = Some(Instant::now());
        }
        Catalogue::open(&self.scan.db())
    }

    fn log(&mut self, line: &str) {
        // Logging is best effort: a closed stderr must not end the session.
        let _ = writeln!(self.log, "cpt mcp: {line}");
    }

    /// The reply to one line of input, if it calls for one.
    pub fn handle(&mut self, line: &[u8]) -> Option<Value> {
        let parsed = std::str::from_utf8(line)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(text).ok());
        let Some(message) = parsed else {
            return Some(error(
                Value::Null,
                PARSE_ERROR,
                "parse error: a line is one JSON-RPC message",
            ));
        };
        let Value::Object(message) = message else {
            return Some(error(
                Value::Null,
                INVALID_REQUEST,
                "invalid request: one JSON-RPC object per line (batches are not supported)",
            ));
        };
        let id = message.get("id").cloned();
        let Some(method) = message.get("method").and_then(Value::as_str) else {
            // A response to a request of ours (there are none) is ignored.
            let response = message.contains_key("result") || message.contains_key("error");
            return match id {
                Some(id) if !response => {
                    Some(error(id, INVALID_REQUEST, "invalid request: no method"))
                }
                _ => None,
            };
        };
        let params = match message.get("params") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(params)) => params.clone(),
            Some(_) => {
                return id.map(|id| error(id, INVALID_PARAMS, "invalid params: not an object"));
            }
        };
        // Notifications (initialized, cancelled, …) get no reply, and need no action: requests
        // are answered one at a time, so there is nothing in flight to cancel.
        let id = id?;
        let result = match method {
            "initialize" => Ok(initialize(&params)),
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({ "tools": tools::list() })),
            "tools/call" => self.call(&params),
            _ => Err((METHOD_NOT_FOUND, format!("method not found: {method}"))),
        };
        Some(match result {
            Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
            Err((code, message)) => error(id, code, &message),
        })
    }

    /// `tools/call`: a tool's failure is a result with `isError`, which the agent reads; only
    /// a request that names no tool is a protocol error.
    fn call(&mut self, params: &Map<String, Value>) -> Result<Value, (i64, String)> {
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return Err((
                INVALID_PARAMS,
                "invalid params: tools/call needs the tool's `name`".into(),
            ));
        };
        let arguments = match params.get("arguments") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(arguments)) => arguments.clone(),
            Some(_) => {
                return Err((
                    INVALID_PARAMS,
                    "invalid params: `arguments` is not an object".into(),
                ));
            }
        };
        let started = Instant::now();
        let outcome = tools::call(self, name, &arguments);
        let elapsed = started.elapsed().as_millis();
        Ok(match outcome {
            Ok(structured) => {
                self.log(&format!("{name}: answered in {elapsed} ms"));
                let text = serde_json::to_string(&structured).expect("JSON values serialize");
                json!({
                    "content": [{ "type": "text", "text": text }],
                    "structuredContent": structured,
                    "isError": false,
                })
            }
            Err(e) => {
                let line = crate::sys::one_line(&e);
                self.log(&format!("{name}: {line}"));
                json!({
                    "content": [{ "type": "text", "text": line }],
                    "isError": true,
                })
            }
        })
    }
}

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// `initialize`: the version the client asks for when it is one of ours, else the latest.
fn initialize(params: &Map<String, Value>) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = PROTOCOL_VERSIONS
        .iter()
        .find(|v| Some(**v) == asked)
        .unwrap_or(&PROTOCOL_VERSIONS[0]);
    json!({
        "protocolVersion": version,
        "capabilities": { "tools": { "listChanged": false } },
        "serverInfo": {
            "name": "cpt",
            "title": "cpt — the Code Periodic Table",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "instructions": INSTRUCTIONS,
    })
}

/// Serve `scan.root` over `input` and `output` until `input` ends. The catalogue is brought
/// up to date in the background from the start (the first tool call waits for it); a scan
/// that fails is logged, and each tool call tries again (its failure then is the call's
/// error).
pub fn serve(
    scan: ScanRequest,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
    log: &mut dyn Write,
) -> Result<()> {
    let mut server = Server::new(scan, log);
    let line = format!(
        "serving {} (catalogue {})",
        server.scan.root.display(),
        server.scan.db().display()
    );
    server.log(&line);
    server.start_scan();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            // A first scan still running is cut short with the process, which a scan
            // survives (it loses at most the batch in flight; the next one finishes it).
            return Ok(());
        }
        let message = line.trim_ascii();
        if message.is_empty() {
            continue;
        }
        if let Some(reply) = server.handle(message) {
            let text = serde_json::to_string(&reply).expect("JSON values serialize");
            writeln!(output, "{text}")?;
            output.flush()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_reply(line: &str) -> Option<Value> {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Vec::new();
        let mut server = Server::new(
            ScanRequest {
                root: dir.path().to_path_buf(),
                ..ScanRequest::default()
            },
            &mut log,
        );
        server.handle(line.as_bytes())
    }

    #[test]
    fn the_protocol_version_is_the_clients_when_served_else_the_latest() {
        for (asked, answered) in [
            ("2024-11-05", "2024-11-05"),
            ("2025-03-26", "2025-03-26"),
            ("2025-06-18", "2025-06-18"),
            ("1999-01-01", "2025-06-18"),
        ] {
            let reply = server_reply(&format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"{asked}"}}}}"#
            ))
            .unwrap();
            assert_eq!(reply["result"]["protocolVersion"], answered);
        }
    }

    #[test]
    fn notifications_and_responses_get_no_reply_and_bad_lines_get_errors() {
        assert_eq!(
            server_reply(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            None
        );
        assert_eq!(
            server_reply(r#"{"jsonrpc":"2.0","id":3,"result":{}}"#),
            None
        );
        let code = |line: &str| server_reply(line).unwrap()["error"]["code"].clone();
        assert_eq!(code("{not json"), -32700);
        assert_eq!(code("[1, 2]"), -32600);
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":"a","method":"nope"}"#),
            -32601
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}"#),
            -32602
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":3}"#),
            -32602
        );
        let reply = server_reply(r#"{"jsonrpc":"2.0","id":"x","method":"ping"}"#).unwrap();
        assert_eq!(reply, json!({"jsonrpc": "2.0", "id": "x", "result": {}}));
    }
}
