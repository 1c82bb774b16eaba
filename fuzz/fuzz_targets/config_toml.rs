//! `cpt.toml` on arbitrary text: load it as the scanned root's configuration, and when it
//! loads, resolve the settings and walk the root with its excludes. A bad file is an error
//! that names it; nothing may panic.

#![no_main]

use std::sync::OnceLock;

use cpt::config::{self, ScanConfig, Settings};
use cpt::scan::discover;
use libfuzzer_sys::fuzz_target;

fn root() -> &'static tempfile::TempDir {
    static ROOT: OnceLock<tempfile::TempDir> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = tempfile::Builder::new()
            // Memory: the files written for each input cost no disk I/O.
            .tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("a temporary directory");
        std::fs::create_dir(dir.path().join("src")).expect("a subdirectory");
        std::fs::write(dir.path().join("src/a.py"), "def f():\n    return 1\n").expect("a file");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let root = root().path();
    std::fs::write(root.join(config::FILE_NAME), data).expect("write cpt.toml");
    let file = match config::load(root) {
        Ok(file) => file,
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains(config::FILE_NAME), "{message}");
            return;
        }
    };
    let flags = ScanConfig {
        exclude: vec!["gen/**".to_string()],
        ..ScanConfig::default()
    };
    let settings = Settings::resolve(file.scan.clone(), flags);
    let _ = settings.fingerprint_key();
    let _ = Settings::resolve(file.scan, ScanConfig::default());
    let _ = discover::walk(root, &settings.exclude);
});
