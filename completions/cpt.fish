# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cpt_global_optspecs
    string join \n h/help V/version
end

function __fish_cpt_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cpt_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cpt_using_subcommand
    set -l cmd (__fish_cpt_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cpt -n "__fish_cpt_needs_command" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_needs_command" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "scan" -d 'Index or refresh a source tree (incremental: only changed files are read again)'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "clones" -d 'List clone classes: every copy of each repeated function'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "stats" -d 'Files, units and languages in the catalogue; skipped files; duplicated lines'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "table" -d 'The periodic table of patterns: clone classes and idioms by family of code and size'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "similar" -d 'Units similar to a function (FILE:LINE), to every function of a file, or to code on standard input (-), from the index'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "rebuild" -d 'Recreate the catalogue\'s tables from its event log, and its index'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "watch" -d 'Scan a tree, then keep its catalogue up to date as files change and print what changed: new clones, resolved clones, classes that grew or shrank'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "check" -d 'CI gate: scan, then fail (exit 1) on new clone classes or too much duplication'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "accept" -d 'Accept a clone class as it is: `check` does not fail on it while its copies stay'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "unaccept" -d 'Withdraw the acceptance of a clone class'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "log" -d 'The catalogue\'s event log, one event per line (filters: time, scan, commit, kind, path, class)'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "history" -d 'One clone class\'s life: created, grew, shrank, moved, accepted, dissolved, with scans and commits'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "lsp" -d 'Language server over stdio: copies as diagnostics, code lenses and actions in the editor'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "mcp" -d 'Serve tools for coding agents (Model Context Protocol) over stdio'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c cpt -n "__fish_cpt_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cpt -n "__fish_cpt_using_subcommand scan" -l db -d 'Catalogue database [default: PATH/.cpt/cpt.db]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand scan" -l exclude -d 'Leave out paths matching GLOB (gitignore syntax, relative to the root; repeatable)' -r
complete -c cpt -n "__fish_cpt_using_subcommand scan" -l max-file-size -d 'Skip files larger than BYTES [default: 1048576, or cpt.toml]' -r
complete -c cpt -n "__fish_cpt_using_subcommand scan" -l max-line-length -d 'Skip files with a line longer than BYTES as minified [default: 1000, or cpt.toml]' -r
complete -c cpt -n "__fish_cpt_using_subcommand scan" -l min-tokens -d 'Smallest unit in tokens [default: 50, or cpt.toml]' -r
complete -c cpt -n "__fish_cpt_using_subcommand scan" -l min-lines -d 'Smallest unit in lines [default: 6, or cpt.toml]' -r
complete -c cpt -n "__fish_cpt_using_subcommand scan" -l min-similarity -d 'Near-miss copies need this token similarity to the copy they pair with [default: 0.65, or cpt.toml]' -r
complete -c cpt -n "__fish_cpt_using_subcommand scan" -l no-near-miss -d 'Exact and renamed copies only: skip near-miss (type-3) detection [or cpt.toml `near_miss = false`]'
complete -c cpt -n "__fish_cpt_using_subcommand scan" -s q -l quiet -d 'No progress bar, warnings or summary'
complete -c cpt -n "__fish_cpt_using_subcommand scan" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand scan" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand clones" -l db -d 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand clones" -l format -d 'Output format' -r -f -a "text\t''
json\t''
sarif\t''
gnu\t''
github\t''
markdown\t''"
complete -c cpt -n "__fish_cpt_using_subcommand clones" -l type -d 'Only classes of this clone type (repeatable)' -r -f -a "T1\t''
T2\t''
T3\t''"
complete -c cpt -n "__fish_cpt_using_subcommand clones" -l min-similarity -d 'Only copies at least this similar to their class\'s representative' -r
complete -c cpt -n "__fish_cpt_using_subcommand clones" -l min-lines -d 'Only classes of at least N lines' -r
complete -c cpt -n "__fish_cpt_using_subcommand clones" -l min-tokens -d 'Only classes of at least N tokens' -r
complete -c cpt -n "__fish_cpt_using_subcommand clones" -l lang -d 'Only copies in this language (id such as python or cpp; repeatable)' -r
complete -c cpt -n "__fish_cpt_using_subcommand clones" -l path -d 'Only copies whose path (relative to the root) matches GLOB (repeatable)' -r
complete -c cpt -n "__fish_cpt_using_subcommand clones" -l tests -d 'Copies in test files: include them, exclude them, or show only them [default: include, or `tests` in cpt.toml]' -r -f -a "include\t''
exclude\t''
only\t''"
complete -c cpt -n "__fish_cpt_using_subcommand clones" -l at -d 'The catalogue as it was then: a date (its end), an RFC 3339 time, scan:N (its end), or a commit (the end of its last scan), replayed from the event log' -r
complete -c cpt -n "__fish_cpt_using_subcommand clones" -l noise -d 'Also show trivial shapes: accessors and one-liners, import runs, literal tables'
complete -c cpt -n "__fish_cpt_using_subcommand clones" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand clones" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand stats" -l db -d 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand stats" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c cpt -n "__fish_cpt_using_subcommand stats" -l at -d 'The catalogue as it was then: a date (its end), an RFC 3339 time, scan:N (its end), or a commit (the end of its last scan), replayed from the event log; the index\'s figures are the index\'s now' -r
complete -c cpt -n "__fish_cpt_using_subcommand stats" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand stats" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand table" -l db -d 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand table" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c cpt -n "__fish_cpt_using_subcommand table" -l html -d 'Also write the table as one self-contained HTML page to FILE' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand table" -l lang -d 'Only copies in this language (id such as python or cpp; repeatable)' -r
complete -c cpt -n "__fish_cpt_using_subcommand table" -l path -d 'Only copies whose path (relative to the root) matches GLOB (repeatable)' -r
complete -c cpt -n "__fish_cpt_using_subcommand table" -l tests -d 'Copies in test files: include them, exclude them, or show only them [default: include, or `tests` in cpt.toml]' -r -f -a "include\t''
exclude\t''
only\t''"
complete -c cpt -n "__fish_cpt_using_subcommand table" -l min-files -d 'Idioms are shapes recurring in at least N files' -r
complete -c cpt -n "__fish_cpt_using_subcommand table" -l at -d 'The table as it was then: a date (its end), an RFC 3339 time, scan:N (its end), or a commit (the end of its last scan), replayed from the event log' -r
complete -c cpt -n "__fish_cpt_using_subcommand table" -l since -d 'Trends compare each element with the catalogue then (same forms as --at) [default: what the last scan did]' -r
complete -c cpt -n "__fish_cpt_using_subcommand table" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand table" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand similar" -l db -d 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand similar" -l lang -d 'Language of the code (id such as python or java) [default: from the file\'s extension]' -r
complete -c cpt -n "__fish_cpt_using_subcommand similar" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c cpt -n "__fish_cpt_using_subcommand similar" -l limit -d 'At most N matches per unit' -r
complete -c cpt -n "__fish_cpt_using_subcommand similar" -l min-similarity -d 'Only matches at least this similar [default: the catalogue\'s near-miss threshold]' -r
complete -c cpt -n "__fish_cpt_using_subcommand similar" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand similar" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand rebuild" -l db -d 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand rebuild" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand rebuild" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand watch" -l db -d 'Catalogue database [default: PATH/.cpt/cpt.db]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand watch" -l exclude -d 'Leave out paths matching GLOB (gitignore syntax, relative to the root; repeatable)' -r
complete -c cpt -n "__fish_cpt_using_subcommand watch" -l max-file-size -d 'Skip files larger than BYTES [default: 1048576, or cpt.toml]' -r
complete -c cpt -n "__fish_cpt_using_subcommand watch" -l max-line-length -d 'Skip files with a line longer than BYTES as minified [default: 1000, or cpt.toml]' -r
complete -c cpt -n "__fish_cpt_using_subcommand watch" -l min-tokens -d 'Smallest unit in tokens [default: 50, or cpt.toml]' -r
complete -c cpt -n "__fish_cpt_using_subcommand watch" -l min-lines -d 'Smallest unit in lines [default: 6, or cpt.toml]' -r
complete -c cpt -n "__fish_cpt_using_subcommand watch" -l min-similarity -d 'Near-miss copies need this token similarity to the copy they pair with [default: 0.65, or cpt.toml]' -r
complete -c cpt -n "__fish_cpt_using_subcommand watch" -l format -d 'text for people; jsonl: one JSON object per change (schema in README); gnu: `path:line:col: warning: …` lines for editors\' problem matchers' -r -f -a "text\t''
jsonl\t''
gnu\t''"
complete -c cpt -n "__fish_cpt_using_subcommand watch" -l debounce -d 'Quiet time after a change, in milliseconds, before it is applied' -r
complete -c cpt -n "__fish_cpt_using_subcommand watch" -l no-near-miss -d 'Exact and renamed copies only: skip near-miss (type-3) detection [or cpt.toml `near_miss = false`]'
complete -c cpt -n "__fish_cpt_using_subcommand watch" -s q -l quiet -d 'No progress bar, warnings or summary'
complete -c cpt -n "__fish_cpt_using_subcommand watch" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand watch" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand check" -l db -d 'Catalogue database [default: PATH/.cpt/cpt.db]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand check" -l exclude -d 'Leave out paths matching GLOB when scanning (gitignore syntax; repeatable)' -r
complete -c cpt -n "__fish_cpt_using_subcommand check" -l format -d 'Output format' -r -f -a "text\t''
json\t''
sarif\t''
gnu\t''
github\t''
markdown\t''"
complete -c cpt -n "__fish_cpt_using_subcommand check" -l max-duplication -d 'Fail when more than PCT percent of the lines are duplicated [or cpt.toml [check]]' -r
complete -c cpt -n "__fish_cpt_using_subcommand check" -l fail-on -d 'Fail on new classes only, or on any class [default: new with --baseline, --diff or --base, else any]' -r -f -a "new\t''
any\t''"
complete -c cpt -n "__fish_cpt_using_subcommand check" -l diff -d 'New code is what changed since REV (committed, staged and not; untracked files too)' -r
complete -c cpt -n "__fish_cpt_using_subcommand check" -l base -d 'New code is what changed since HEAD forked from REV (a pull request\'s changes) [or cpt.toml [check] base]' -r
complete -c cpt -n "__fish_cpt_using_subcommand check" -l baseline -d 'The classes that already exist: only classes absent from FILE, or with more copies, are new [or cpt.toml [check] baseline]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand check" -l type -d 'Only classes of this clone type (repeatable)' -r -f -a "T1\t''
T2\t''
T3\t''"
complete -c cpt -n "__fish_cpt_using_subcommand check" -l min-similarity -d 'Only copies at least this similar to their class\'s representative' -r
complete -c cpt -n "__fish_cpt_using_subcommand check" -l min-lines -d 'Only classes of at least N lines' -r
complete -c cpt -n "__fish_cpt_using_subcommand check" -l min-tokens -d 'Only classes of at least N tokens' -r
complete -c cpt -n "__fish_cpt_using_subcommand check" -l lang -d 'Only copies in this language (id such as python or cpp; repeatable)' -r
complete -c cpt -n "__fish_cpt_using_subcommand check" -l path -d 'Only copies whose path (relative to the root) matches GLOB (repeatable)' -r
complete -c cpt -n "__fish_cpt_using_subcommand check" -l tests -d 'Copies in test files: include them, exclude them, or show only them [default: include, or `tests` in cpt.toml]' -r -f -a "include\t''
exclude\t''
only\t''"
complete -c cpt -n "__fish_cpt_using_subcommand check" -l update-baseline -d 'Write the baseline file from the classes found now (then check against it)'
complete -c cpt -n "__fish_cpt_using_subcommand check" -l noise -d 'Also show trivial shapes: accessors and one-liners, import runs, literal tables'
complete -c cpt -n "__fish_cpt_using_subcommand check" -s q -l quiet -d 'No progress bar or warnings'
complete -c cpt -n "__fish_cpt_using_subcommand check" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand check" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand accept" -l db -d 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand accept" -l reason -d 'Why the copies may stay (kept with the decision)' -r
complete -c cpt -n "__fish_cpt_using_subcommand accept" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand accept" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand unaccept" -l db -d 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand unaccept" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand unaccept" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand log" -l db -d 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand log" -l since -d 'Only events from this point on: a date (YYYY-MM-DD), an RFC 3339 time, scan:N, or a commit (its first scan)' -r
complete -c cpt -n "__fish_cpt_using_subcommand log" -l until -d 'Only events up to this point: a date (through its end), an RFC 3339 time, scan:N, or a commit (its last scan)' -r
complete -c cpt -n "__fish_cpt_using_subcommand log" -l kind -d 'Only events of this kind (file_added, pattern_created…) or family (file, unit, pattern; repeatable)' -r
complete -c cpt -n "__fish_cpt_using_subcommand log" -l path -d 'Only events about files whose path (relative to the root) matches GLOB: file and unit events, and those of classes with a copy there (repeatable)' -r
complete -c cpt -n "__fish_cpt_using_subcommand log" -l pattern -d 'Only events naming the class with this id (16 hex digits, or the first 4 or more)' -r
complete -c cpt -n "__fish_cpt_using_subcommand log" -l format -d 'Output format: a line per event, or a JSON object per line (cpt.log/1)' -r -f -a "text\t''
json\t''"
complete -c cpt -n "__fish_cpt_using_subcommand log" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand log" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand history" -l db -d 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand history" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c cpt -n "__fish_cpt_using_subcommand history" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand history" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand lsp" -l stdio -d 'Accepted for clients that start servers with `--stdio` (stdio is the only transport)'
complete -c cpt -n "__fish_cpt_using_subcommand lsp" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand lsp" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand mcp" -l db -d 'Catalogue database [default: PATH/.cpt/cpt.db]' -r -F
complete -c cpt -n "__fish_cpt_using_subcommand mcp" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand mcp" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand completions" -s h -l help -d 'Print help'
complete -c cpt -n "__fish_cpt_using_subcommand completions" -s V -l version -d 'Print version'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "scan" -d 'Index or refresh a source tree (incremental: only changed files are read again)'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "clones" -d 'List clone classes: every copy of each repeated function'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "stats" -d 'Files, units and languages in the catalogue; skipped files; duplicated lines'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "table" -d 'The periodic table of patterns: clone classes and idioms by family of code and size'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "similar" -d 'Units similar to a function (FILE:LINE), to every function of a file, or to code on standard input (-), from the index'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "rebuild" -d 'Recreate the catalogue\'s tables from its event log, and its index'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "watch" -d 'Scan a tree, then keep its catalogue up to date as files change and print what changed: new clones, resolved clones, classes that grew or shrank'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "check" -d 'CI gate: scan, then fail (exit 1) on new clone classes or too much duplication'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "accept" -d 'Accept a clone class as it is: `check` does not fail on it while its copies stay'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "unaccept" -d 'Withdraw the acceptance of a clone class'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "log" -d 'The catalogue\'s event log, one event per line (filters: time, scan, commit, kind, path, class)'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "history" -d 'One clone class\'s life: created, grew, shrank, moved, accepted, dissolved, with scans and commits'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "lsp" -d 'Language server over stdio: copies as diagnostics, code lenses and actions in the editor'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "mcp" -d 'Serve tools for coding agents (Model Context Protocol) over stdio'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c cpt -n "__fish_cpt_using_subcommand help; and not __fish_seen_subcommand_from scan clones stats table similar rebuild watch check accept unaccept log history lsp mcp completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
