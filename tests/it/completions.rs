//! The committed completion scripts are what the command line generates.

use std::path::Path;

#[test]
fn committed_completions_match_the_command_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in [
        ("bash", "cpt.bash"),
        ("zsh", "_cpt"),
        ("fish", "cpt.fish"),
        ("powershell", "_cpt.ps1"),
        ("elvish", "cpt.elv"),
    ] {
        let mut generated = Vec::new();
        cpt::cli::completions(shell, &mut generated).unwrap();
        let path = dir.join(file);
        if std::env::var_os("CPT_UPDATE_COMPLETIONS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is out of date: run `CPT_UPDATE_COMPLETIONS=1 cargo test completions`",
            path.display()
        );
    }
}
