//! Process-level helpers: the allocator, and error chains as one line.

/// The binaries' allocator: mimalloc, for Rust's allocations and tree-sitter's, set up by
/// [`configure_allocator`] before anything allocates. Under glibc's malloc, allocating and
/// freeing were 14% of a cold scan's CPU (most of it tree-sitter's subtrees); see
/// docs/decisions.md. `cpt` and the corpus bench (whose parse-only floor must parse as
/// `cpt` does) invoke it at their top level.
#[macro_export]
macro_rules! use_mimalloc {
    () => {
        #[global_allocator]
        static ALLOCATOR: $crate::sys::Allocator = $crate::sys::Allocator {};

        // mimalloc reads its options when it lays out its first arena, which Rust's
        // runtime asks for before `main`: they are set from the constructors' list.
        #[allow(unsafe_code)]
        #[used]
        #[cfg_attr(
            any(target_os = "linux", target_os = "android", target_os = "freebsd"),
            unsafe(link_section = ".init_array")
        )]
        #[cfg_attr(target_os = "macos", unsafe(link_section = "__DATA,__mod_init_func"))]
        static CONFIGURE_ALLOCATOR: extern "C" fn() = {
            extern "C" fn configure() {
                $crate::sys::configure_allocator();
            }
            configure
        };
    };
}

/// The allocator [`use_mimalloc`] installs.
pub type Allocator = mimalloc::MiMalloc;

/// Set mimalloc up for a scan's pattern of use, and route tree-sitter's own allocations
/// (its parse stacks and subtrees) to it too. A binary calls it first thing, before any
/// parser exists. Arenas are committed as they are used, not whole, and freed memory goes
/// back to the system after 10 ms: with mimalloc's defaults a cold scan of the standard
/// library peaked at 228 MB instead of 141–144 MB, for no gain in time; purging at once
/// kept 141–147 MB and cost a second of system time (TLB shootdowns), purging after 50 ms
/// saved a little more time and peaked at 150–153 MB.
pub fn configure_allocator() {
    use libmimalloc_sys::{mi_calloc, mi_free, mi_malloc, mi_option_set, mi_realloc};
    // mimalloc v2's option numbers (`mi_option_e` in its mimalloc.h).
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: setting an option only changes how later allocations are served.
    #[allow(unsafe_code)]
    unsafe {
        mi_option_set(ARENA_EAGER_COMMIT, 0);
        mi_option_set(PURGE_DELAY, 10);
    }
    // SAFETY: the four functions are one allocator family, return pointers aligned as
    // malloc's and never null for a non-zero size short of exhaustion (as malloc); it runs
    // before any tree-sitter object exists, on the main thread alone.
    #[allow(unsafe_code)]
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: mi_malloc,
            calloc: mi_calloc,
            realloc: mi_realloc,
            free: mi_free,
        }));
    }
}

/// At most one glibc malloc arena per core. glibc gives threads that allocate at once arenas
/// of their own, up to eight per core, and memory freed in one arena is not reused by
/// another: a scan's parse workers, writer and main thread each grow one to its own peak.
/// With one per core a JDK scan peaks at 186 MB instead of 211 MB, in the same time; with a
/// single arena the workers wait on its lock (40 s instead of 28 s).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn limit_allocator_arenas() {
    const M_ARENA_MAX: std::ffi::c_int = -8;
    #[allow(unsafe_code)]
    unsafe extern "C" {
        fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    // SAFETY: mallopt only sets a tunable of the allocator; any value is valid, and the
    // worst a failure (return value 0) leaves is the default.
    #[allow(unsafe_code)]
    unsafe {
        mallopt(M_ARENA_MAX, cores.min(64) as std::ffi::c_int);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_allocator_arenas() {}

/// Give the memory the allocator holds free back to the system. A long-lived process (the
/// watcher) calls it after a burst of large allocations, such as rebuilding the index: glibc
/// keeps freed memory for reuse, so the process would otherwise stay at its peak, and each
/// rebuild's allocations, laid out differently, would raise that peak a little.
pub fn release_free_memory() {
    // SAFETY: mi_collect only returns free pages to the system; it leaves every allocation
    // in place.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        #[allow(unsafe_code)]
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim only returns free memory to the system; it takes no pointer
        // and leaves every allocation in place.
        #[allow(unsafe_code)]
        unsafe {
            malloc_trim(0);
        }
    }
}

/// An error chain as one line: outermost context first.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ").replace('\n', " ")
}
