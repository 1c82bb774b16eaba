//! `cpt lsp`: a language server over stdio (the synchronous `lsp-server` crate). It keeps the
//! workspace's catalogue up to date (a scan at start, then the files saved or changed on disk)
//! and shows each copy of a clone class in the open files: diagnostics with the other copies
//! as related information, a code lens, code actions (go to a copy, a `cpt: ignore` comment,
//! accept the class), and the custom request `cpt/similar`. Unsaved text is checked as it is
//! typed, from the index, and never written into the catalogue. Nothing but the protocol goes
//! to stdout; logs go to stderr.

mod findings;

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use crossbeam_channel::{Receiver, select};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::Url;
use serde_json::{Value, json};

use crate::engine::view::{Class, CloneType, Filter, TestPolicy};
use crate::engine::{Catalogue, Progress, ScanRequest, SimilarRequest, SimilarTarget};
use findings::Finding;

/// Unsaved edits are checked once the client has been quiet this long.
const LIVE_DELAY: Duration = Duration::from_millis(40);
/// Files changed on disk are scanned once no change has come for this long.
const DISK_DELAY: Duration = Duration::from_millis(200);

/// What the client asked for in `initializationOptions` (or `workspace/didChangeConfiguration`
/// under `cpt`).
#[derive(Clone, Debug)]
struct Settings {
    /// LSP severity: 2 warning, 3 information, 4 hint.
    severity: u32,
    min_lines: Option<u32>,
    min_tokens: Option<u32>,
    types: Vec<CloneType>,
    tests: TestPolicy,
    hover: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            severity: 3,
            min_lines: None,
            min_tokens: None,
            types: Vec::new(),
            tests: TestPolicy::Include,
            hover: false,
        }
    }
}

impl Settings {
    /// Read the keys given; the others keep their values.
    fn update(&mut self, v: &Value) {
        if let Some(s) = v.get("severity").and_then(Value::as_str) {
            self.severity = match s {
                "warning" => 2,
                "hint" => 4,
                _ => 3,
            };
        }
        if let Some(n) = v.get("minLines").and_then(Value::as_u64) {
            self.min_lines = Some(n as u32);
        }
        if let Some(n) = v.get("minTokens").and_then(Value::as_u64) {
            self.min_tokens = Some(n as u32);
        }
        if let Some(list) = v.get("types").and_then(Value::as_array) {
            self.types = list
                .iter()
                .filter_map(Value::as_str)
                .filter_map(CloneType::parse)
                .collect();
        }
        if let Some(t) = v.get("tests").and_then(Value::as_str) {
            self.tests = match t {
                "exclude" => TestPolicy::Exclude,
                "only" => TestPolicy::Only,
                _ => TestPolicy::Include,
            };
        }
        if let Some(h) = v.get("hover").and_then(Value::as_bool) {
            self.hover = h;
        }
    }

    fn filter(&self) -> Filter {
        Filter {
            types: self.types.clone(),
            min_lines: self.min_lines,
            min_tokens: self.min_tokens,
            tests: self.tests,
            ..Filter::default()
        }
    }
}

/// An open document.
struct Doc {
    text: String,
    /// Relative to the root (`/`-separated); none outside it.
    rel: Option<String>,
    /// Its findings as last computed.
    findings: Vec<Finding>,
}

/// What the client can do.
#[derive(Default)]
struct Client {
    progress: bool,
    pull: bool,
    watched_files: bool,
    show_document: bool,
    lens_refresh: bool,
    diagnostic_refresh: bool,
}

struct Server<'c> {
    conn: &'c Connection,
    root: PathBuf,
    db: PathBuf,
    settings: Settings,
    client: Client,
    docs: HashMap<Url, Doc>,
    /// The reported classes under the settings' filter, as of the last scan.
    classes: Vec<Class>,
    /// The catalogue, open for reading from the first scan on (it keeps the buffers' last
    /// trees, to parse the next version of each from).
    catalogue: Option<Catalogue>,
    shutdown: bool,
    next_id: i32,
    log: Log<'c>,
}

/// Where log lines go (stderr).
type Log<'a> = &'a (dyn Fn(&str) + Sync);

/// Serve the protocol on stdin/stdout until `exit`. Returns the process's exit code: 0 after
/// a `shutdown` request, 1 otherwise.
pub fn run(log: &mut (dyn Write + Send)) -> Result<i32> {
    let (connection, io_threads) = Connection::stdio();
    let log = Mutex::new(log);
    let say = |line: &str| {
        let _ = writeln!(log.lock().expect("log lock"), "cpt lsp: {line}");
    };
    let code = serve(&connection, &say)?;
    drop(connection);
    io_threads.join().context("the protocol's threads failed")?;
    Ok(code)
}

fn serve(conn: &Connection, log: Log<'_>) -> Result<i32> {
    let (id, params) = conn
        .initialize_start()
        .map_err(|e| anyhow::anyhow!("before initialize: {e}"))?;
    let root = workspace_root(&params)?;
    let mut settings = Settings::default();
    if let Some(options) = params.get("initializationOptions") {
        settings.update(options);
    }
    let caps = &params["capabilities"];
    let client = Client {
        progress: caps["window"]["workDoneProgress"] == true,
        pull: caps["textDocument"]["diagnostic"].is_object(),
        watched_files: caps["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] == true,
        show_document: caps["window"]["showDocument"]["support"] == true,
        lens_refresh: caps["workspace"]["codeLens"]["refreshSupport"] == true,
        diagnostic_refresh: caps["workspace"]["diagnostics"]["refreshSupport"] == true,
    };
    let mut capabilities = json!({
        "positionEncoding": "utf-16",
        "textDocumentSync": {"openClose": true, "change": 1, "save": {"includeText": false}},
        "codeLensProvider": {"resolveProvider": false},
        "codeActionProvider": {"codeActionKinds": ["quickfix", "source"]},
        "executeCommandProvider": {"commands": ["cpt.goToCopy", "cpt.accept"]},
        "experimental": {"cptSimilar": true},
    });
    if client.pull {
        capabilities["diagnosticProvider"] = json!({"identifier": "cpt", "interFileDependencies": true, "workspaceDiagnostics": false});
    }
    if settings.hover {
        capabilities["hoverProvider"] = json!(true);
    }
    conn.initialize_finish(
        id,
        json!({
            "capabilities": capabilities,
            "serverInfo": {"name": "cpt", "version": env!("CARGO_PKG_VERSION")},
        }),
    )
    .map_err(|e| anyhow::anyhow!("initialize: {e}"))?;
    let db = crate::engine::ScanRequest {
        root: root.clone(),
        ..Default::default()
    }
    .db();
    let mut server = Server {
        conn,
        root,
        db,
        settings,
        client,
        docs: HashMap::new(),
        classes: Vec::new(),
        catalogue: None,
        shutdown: false,
        next_id: 0,
        log,
    };
    server.log(&format!("workspace {}", server.root.display()));
    server.scan(None);
    let (disk_tx, disk_rx) = crossbeam_channel::unbounded::<PathBuf>();
    // Changes on disk: from the client when it can watch files, else from a watcher of our own.
    let _watcher = if server.client.watched_files {
        server.request(
            "client/registerCapability",
            json!({"registrations": [{
                "id": "cpt-watched-files",
                "method": "workspace/didChangeWatchedFiles",
                "registerOptions": {"watchers": [{"globPattern": "**/*"}]},
            }]}),
        );
        None
    } else {
        own_watcher(&server.root, disk_tx)
            .map_err(|e| server.log(&format!("cannot watch the workspace: {e}")))
            .ok()
    };
    server.run(&disk_rx)
}

/// The workspace's root: its first folder, else `rootUri`, else `rootPath`.
fn workspace_root(params: &Value) -> Result<PathBuf> {
    let uri = params["workspaceFolders"][0]["uri"]
        .as_str()
        .or_else(|| params["rootUri"].as_str());
    let root = match uri {
        Some(uri) => Url::parse(uri)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .with_context(|| format!("initialize: {uri} is not a file URI"))?,
        None => match params["rootPath"].as_str() {
            Some(p) => PathBuf::from(p),
            None => std::env::current_dir().context("cannot read the current directory")?,
        },
    };
    Ok(root.canonicalize().unwrap_or(root))
}

/// A watcher of `root` sending the paths that change (outside `.cpt/` and `.git/`).
fn own_watcher(
    root: &Path,
    tx: crossbeam_channel::Sender<PathBuf>,
) -> notify::Result<notify::RecommendedWatcher> {
    use notify::Watcher;
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            for path in event.paths {
                let skip = path
                    .components()
                    .any(|c| c.as_os_str() == ".cpt" || c.as_os_str() == ".git");
                if !skip {
                    let _ = tx.send(path);
                }
            }
        }
    })?;
    watcher.watch(root, notify::RecursiveMode::Recursive)?;
    Ok(watcher)
}

/// `$/progress` reports of a scan.
struct ScanProgress<'s> {
    sender: &'s crossbeam_channel::Sender<Message>,
    token: Option<String>,
    total: Mutex<(u64, u64, Instant)>,
    log: Log<'s>,
}

impl ScanProgress<'_> {
    fn send(&self, value: Value) {
        if let Some(token) = &self.token {
            let _ = self.sender.send(Message::Notification(Notification::new(
                "$/progress".to_string(),
                json!({"token": token, "value": value}),
            )));
        }
    }
}

impl Progress for ScanProgress<'_> {
    fn start(&self, files: u64) {
        self.total.lock().expect("progress lock").0 = files;
        self.send(
            json!({"kind": "report", "message": format!("0/{files} files"), "percentage": 0}),
        );
    }

    fn advance(&self) {
        let mut t = self.total.lock().expect("progress lock");
        t.1 += 1;
        if t.2.elapsed() > Duration::from_millis(250) {
            t.2 = Instant::now();
            let pct = (t.1 * 100).checked_div(t.0).unwrap_or(0).min(100);
            self.send(json!({"kind": "report", "message": format!("{}/{} files", t.1, t.0), "percentage": pct}));
        }
    }

    fn warn(&self, message: &str) {
        (self.log)(&format!("warning: {message}"));
    }

    fn finish(&self) {}
}

impl Server<'_> {
    fn log(&self, line: &str) {
        (self.log)(line);
    }

    fn send(&self, message: Message) {
        let _ = self.conn.sender.send(message);
    }

    fn notify(&self, method: &str, params: Value) {
        self.send(Message::Notification(Notification::new(
            method.to_string(),
            params,
        )));
    }

    /// Send a request to the client (its answer is read and ignored by the loop).
    fn request(&mut self, method: &str, params: Value) {
        self.next_id += 1;
        let id = RequestId::from(format!("cpt-{}", self.next_id));
        self.send(Message::Request(Request::new(
            id,
            method.to_string(),
            params,
        )));
    }

    /// Bring the catalogue up to date (the whole tree, or these paths), then reload the
    /// classes and show every open document's findings again.
    fn scan(&mut self, paths: Option<&[String]>) {
        let token = self.client.progress.then(|| "cpt-scan".to_string());
        if let Some(token) = &token {
            self.request("window/workDoneProgress/create", json!({"token": token}));
        }
        let progress = ScanProgress {
            sender: &self.conn.sender,
            token: token.clone(),
            total: Mutex::new((0, 0, Instant::now())),
            log: self.log,
        };
        let title = if paths.is_some() {
            "cpt: updating"
        } else {
            "cpt: scanning"
        };
        progress
            .send(json!({"kind": "begin", "title": title, "cancellable": false, "percentage": 0}));
        let request = ScanRequest {
            root: self.root.clone(),
            db: Some(self.db.clone()),
            ..Default::default()
        };
        let outcome = match paths {
            None => Catalogue::scan(&request, &progress),
            Some(paths) => Catalogue::scan_paths(&request, paths, &progress),
        };
        let message = match &outcome {
            Ok(s) => format!("{} files, {} clone classes", s.files, s.patterns),
            Err(e) => format!("failed: {}", crate::sys::one_line(e)),
        };
        progress.send(json!({"kind": "end", "message": message}));
        if let Err(e) = outcome {
            self.log(&format!("scan failed: {}", crate::sys::one_line(&e)));
            return;
        }
        self.reload();
    }

    /// The catalogue, opened the first time it is asked for.
    fn catalogue(&mut self) -> Result<&Catalogue> {
        if self.catalogue.is_none() {
            self.catalogue = Some(Catalogue::open(&self.db)?);
        }
        Ok(self.catalogue.as_ref().expect("just opened"))
    }

    /// Read the classes again and refresh every open document.
    fn reload(&mut self) {
        let filter = self.settings.filter();
        match self.catalogue().and_then(|c| c.classes(&filter)) {
            Ok(classes) => self.classes = classes,
            Err(e) => self.log(&format!(
                "cannot read the catalogue: {}",
                crate::sys::one_line(&e)
            )),
        }
        let uris: Vec<Url> = self.docs.keys().cloned().collect();
        for uri in uris {
            self.refresh(&uri);
        }
        if self.client.lens_refresh {
            self.request("workspace/codeLens/refresh", Value::Null);
        }
        if self.client.pull && self.client.diagnostic_refresh {
            self.request("workspace/diagnostic/refresh", Value::Null);
        }
    }

    /// Compute a document's findings again and publish them (unless the client pulls).
    fn refresh(&mut self, uri: &Url) {
        let Some((rel, text)) = self.docs.get(uri).map(|d| (d.rel.clone(), d.text.clone())) else {
            return;
        };
        let findings = match rel {
            None => Vec::new(),
            Some(rel) => {
                let on_disk = std::fs::read(self.root.join(&rel)).unwrap_or_default();
                let saved = findings::saved(&self.classes, &rel);
                if on_disk != text.as_bytes() {
                    let answers = self.buffer_answers(&rel, &text);
                    findings::live(
                        saved,
                        &String::from_utf8_lossy(&on_disk),
                        &text,
                        answers,
                        &rel,
                        &self.settings.filter(),
                    )
                } else {
                    saved
                }
            }
        };
        let doc = self.docs.get_mut(uri).expect("present");
        doc.findings = findings;
        if !self.client.pull {
            let diagnostics = self.diagnostics(uri);
            self.notify(
                "textDocument/publishDiagnostics",
                json!({"uri": uri, "diagnostics": diagnostics}),
            );
        }
    }

    /// The index's answers for each unit of an unsaved version of `rel`.
    fn buffer_answers(&mut self, rel: &str, text: &str) -> Vec<crate::engine::view::SimilarAnswer> {
        let request = SimilarRequest {
            target: SimilarTarget::Buffer {
                file: self.root.join(rel),
                source: text.as_bytes().to_vec(),
                line: None,
                lang: None,
            },
            limit: 20,
            min_similarity: None,
        };
        let quiet = |_: &str| {};
        // No unit big enough, a language without a grammar: nothing to say.
        self.catalogue()
            .and_then(|c| c.similar(request, &quiet))
            .unwrap_or_default()
    }

    fn diagnostics(&self, uri: &Url) -> Vec<Value> {
        let Some(doc) = self.docs.get(uri) else {
            return Vec::new();
        };
        doc.findings
            .iter()
            .map(|f| f.diagnostic(&self.root, &doc.text, self.settings.severity))
            .collect()
    }

    fn run(&mut self, disk: &Receiver<PathBuf>) -> Result<i32> {
        let mut live: BTreeSet<Url> = BTreeSet::new();
        let mut changed: BTreeSet<String> = BTreeSet::new();
        loop {
            let wait = if !live.is_empty() {
                LIVE_DELAY
            } else if !changed.is_empty() {
                DISK_DELAY
            } else {
                Duration::from_secs(3600)
            };
            let message = select! {
                recv(self.conn.receiver) -> m => match m {
                    Ok(m) => Some(m),
                    // The client went away without `exit`.
                    Err(_) => return Ok(1),
                },
                recv(disk) -> p => {
                    if let Ok(path) = p
                        && let Ok(rel) = path.strip_prefix(&self.root)
                    {
                        changed.insert(rel.to_string_lossy().replace('\\', "/"));
                    }
                    continue;
                },
                default(wait) => None,
            };
            let Some(message) = message else {
                if !live.is_empty() {
                    for uri in std::mem::take(&mut live) {
                        self.refresh(&uri);
                    }
                } else if !changed.is_empty() {
                    let paths: Vec<String> = std::mem::take(&mut changed).into_iter().collect();
                    self.scan(Some(&paths));
                }
                continue;
            };
            match message {
                Message::Request(req) => {
                    if req.method == "shutdown" {
                        self.shutdown = true;
                        self.send(Message::Response(Response::new_ok(req.id, ())));
                        continue;
                    }
                    let id = req.id.clone();
                    let response = match self.handle(req) {
                        Ok(value) => Response::new_ok(id, value),
                        Err((code, message)) => Response::new_err(id, code as i32, message),
                    };
                    self.send(Message::Response(response));
                }
                Message::Response(_) => {}
                Message::Notification(n) => match n.method.as_str() {
                    "exit" => return Ok(if self.shutdown { 0 } else { 1 }),
                    "textDocument/didOpen" => {
                        let doc = &n.params["textDocument"];
                        if let Some(uri) = uri_of(doc) {
                            let text = doc["text"].as_str().unwrap_or("").to_string();
                            let rel = self.rel(&uri);
                            self.docs.insert(
                                uri.clone(),
                                Doc {
                                    text,
                                    rel,
                                    findings: Vec::new(),
                                },
                            );
                            self.refresh(&uri);
                        }
                    }
                    "textDocument/didChange" => {
                        if let Some(uri) = uri_of(&n.params["textDocument"])
                            && let Some(text) = n.params["contentChanges"]
                                .as_array()
                                .and_then(|c| c.last())
                                .and_then(|c| c["text"].as_str())
                            && let Some(doc) = self.docs.get_mut(&uri)
                        {
                            doc.text = text.to_string();
                            live.insert(uri);
                        }
                    }
                    "textDocument/didSave" => {
                        if let Some(uri) = uri_of(&n.params["textDocument"])
                            && let Some(rel) = self.rel(&uri)
                        {
                            live.remove(&uri);
                            self.scan(Some(&[rel]));
                        }
                    }
                    "textDocument/didClose" => {
                        if let Some(uri) = uri_of(&n.params["textDocument"]) {
                            self.docs.remove(&uri);
                            live.remove(&uri);
                            if !self.client.pull {
                                self.notify(
                                    "textDocument/publishDiagnostics",
                                    json!({"uri": uri, "diagnostics": []}),
                                );
                            }
                        }
                    }
                    "workspace/didChangeWatchedFiles" => {
                        for change in n.params["changes"].as_array().into_iter().flatten() {
                            if let Some(uri) = uri_of(change)
                                && let Some(rel) = self.rel(&uri)
                                && !rel.starts_with(".cpt/")
                                && !rel.starts_with(".git/")
                            {
                                changed.insert(rel);
                            }
                        }
                    }
                    "workspace/didChangeConfiguration" => {
                        if let Some(cpt) = n.params["settings"].get("cpt") {
                            self.settings.update(cpt);
                            self.reload();
                        }
                    }
                    _ => {}
                },
            }
        }
    }

    /// `uri`'s path relative to the root, when it lies inside it.
    fn rel(&self, uri: &Url) -> Option<String> {
        let path = uri.to_file_path().ok()?;
        let path = path.canonicalize().unwrap_or(path);
        let rel = path.strip_prefix(&self.root).ok()?;
        Some(rel.to_string_lossy().replace('\\', "/"))
    }

    fn url(&self, rel: &str) -> Value {
        Url::from_file_path(self.root.join(rel))
            .map(|u| json!(u))
            .unwrap_or(Value::Null)
    }

    /// Answer a request; an error is (code, message).
    fn handle(&mut self, req: Request) -> std::result::Result<Value, (ErrorCode, String)> {
        let p = &req.params;
        let doc_uri = || {
            uri_of(&p["textDocument"])
                .ok_or((ErrorCode::InvalidParams, "no textDocument.uri".to_string()))
        };
        match req.method.as_str() {
            "textDocument/diagnostic" => {
                let uri = doc_uri()?;
                if !self.docs.contains_key(&uri) {
                    return Ok(json!({"kind": "full", "items": []}));
                }
                Ok(json!({"kind": "full", "items": self.diagnostics(&uri)}))
            }
            "textDocument/codeLens" => {
                let uri = doc_uri()?;
                let Some(doc) = self.docs.get(&uri) else {
                    return Ok(json!([]));
                };
                Ok(Value::Array(
                    doc.findings
                        .iter()
                        .filter_map(|f| f.lens(&self.root))
                        .collect(),
                ))
            }
            "textDocument/codeAction" => {
                let uri = doc_uri()?;
                let Some(doc) = self.docs.get(&uri) else {
                    return Ok(json!([]));
                };
                let first = p["range"]["start"]["line"].as_u64().unwrap_or(0) as u32 + 1;
                let last = p["range"]["end"]["line"].as_u64().unwrap_or(0) as u32 + 1;
                let lang = doc.rel.as_deref().map(findings::comment_of).unwrap_or("//");
                let mut actions = Vec::new();
                for f in doc
                    .findings
                    .iter()
                    .filter(|f| f.start_line <= last && first <= f.end_line)
                {
                    actions.extend(f.actions(&self.root, &uri, &doc.text, lang));
                }
                Ok(Value::Array(actions))
            }
            "textDocument/hover" => {
                let uri = doc_uri()?;
                let line = p["position"]["line"].as_u64().unwrap_or(0) as u32 + 1;
                let hover = self.docs.get(&uri).and_then(|doc| {
                    doc.findings
                        .iter()
                        .find(|f| f.start_line <= line && line <= f.end_line)
                        .map(|f| f.hover())
                });
                Ok(hover.map_or(
                    Value::Null,
                    |text| json!({"contents": {"kind": "markdown", "value": text}}),
                ))
            }
            "workspace/executeCommand" => {
                let args = p["arguments"].as_array().cloned().unwrap_or_default();
                match p["command"].as_str() {
                    Some("cpt.goToCopy") => {
                        let rel = args.first().and_then(Value::as_str).unwrap_or("");
                        let line = args.get(1).and_then(Value::as_u64).unwrap_or(1).max(1) - 1;
                        let target = self.url(rel);
                        if !self.client.show_document {
                            self.notify(
                                "window/showMessage",
                                json!({"type": 3, "message": format!("cpt: the copy is at {rel}:{}", line + 1)}),
                            );
                            return Ok(Value::Null);
                        }
                        self.request(
                            "window/showDocument",
                            json!({"uri": target, "takeFocus": true, "selection": {
                                "start": {"line": line, "character": 0},
                                "end": {"line": line, "character": 0}}}),
                        );
                        Ok(Value::Null)
                    }
                    Some("cpt.accept") => {
                        let id = args.first().and_then(Value::as_str).unwrap_or("");
                        let reason = args
                            .get(1)
                            .and_then(Value::as_str)
                            .unwrap_or("accepted in the editor");
                        let accepted = Catalogue::accept(&self.db, id, reason)
                            .map_err(|e| (ErrorCode::RequestFailed, crate::sys::one_line(&e)))?;
                        self.notify(
                            "window/showMessage",
                            json!({"type": 3, "message": format!("cpt: accepted clone class {} ({} copies), recorded in cpt-accepted.toml", accepted.id, accepted.copies.len())}),
                        );
                        self.reload();
                        Ok(Value::Null)
                    }
                    other => Err((
                        ErrorCode::InvalidParams,
                        format!("unknown command {other:?}"),
                    )),
                }
            }
            "cpt/similar" => {
                let uri = doc_uri()?;
                let line = p["position"]["line"].as_u64().unwrap_or(0) as u32 + 1;
                let limit = p["limit"].as_u64().unwrap_or(20) as usize;
                let file = uri
                    .to_file_path()
                    .map_err(|()| (ErrorCode::InvalidParams, format!("{uri}: not a file")))?;
                let target = match self.docs.get(&uri) {
                    Some(doc) => SimilarTarget::Buffer {
                        file,
                        source: doc.text.as_bytes().to_vec(),
                        line: Some(line),
                        lang: None,
                    },
                    None => SimilarTarget::File {
                        file,
                        line: Some(line),
                        lang: None,
                    },
                };
                let request = SimilarRequest {
                    target,
                    limit,
                    min_similarity: p["minSimilarity"].as_f64(),
                };
                let quiet = |_: &str| {};
                let answers = self
                    .catalogue()
                    .and_then(|c| c.similar(request, &quiet))
                    .map_err(|e| (ErrorCode::RequestFailed, crate::sys::one_line(&e)))?;
                let matches: Vec<Value> = answers
                    .iter()
                    .flat_map(|a| &a.matches)
                    .map(|m| {
                        json!({
                            "uri": self.url(&m.path),
                            "range": {"start": {"line": m.start_line.saturating_sub(1), "character": 0},
                                      "end": {"line": m.end_line, "character": 0}},
                            "path": m.path, "name": m.name, "kind": m.kind,
                            "cloneType": m.clone_type.as_str(),
                            "similarity": (m.similarity * 1000.0).round() / 1000.0,
                            "classId": m.pattern.map(|p| p.to_string()),
                        })
                    })
                    .collect();
                Ok(json!({"matches": matches}))
            }
            method => Err((
                ErrorCode::MethodNotFound,
                format!("cpt lsp does not handle {method}"),
            )),
        }
    }
}

fn uri_of(v: &Value) -> Option<Url> {
    v["uri"].as_str().and_then(|u| Url::parse(u).ok())
}
