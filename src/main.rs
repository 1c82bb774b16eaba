//! The `cpt` binary: everything is in the library; this only connects it to the process.

cpt::use_mimalloc!();

fn main() {
    // Not locked for the whole run: `cpt lsp` hands the process's stdout to the protocol's
    // writer thread. (Buffered, the lock is taken once per 8 KiB.)
    let mut stdout = std::io::BufWriter::new(std::io::stdout());
    let mut stderr = std::io::stderr();
    // `run_with_args` flushes stdout itself, so exiting without destructors loses nothing.
    let code = cpt::run_with_args(std::env::args_os(), &mut stdout, &mut stderr);
    std::process::exit(code);
}
