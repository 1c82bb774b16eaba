//! The `cpt` binary: everything is in the library; this only connects it to the process.

cpt::use_mimalloc!();

fn main() {
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut stderr = std::io::stderr();
    // `run_with_args` flushes stdout itself, so exiting without destructors loses nothing.
    let code = cpt::run_with_args(std::env::args_os(), &mut stdout, &mut stderr);
    std::process::exit(code);
}
