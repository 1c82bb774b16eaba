
use builtin;
use str;

set edit:completion:arg-completer[cpt] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'cpt'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'cpt'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand scan 'Index or refresh a source tree (incremental: only changed files are read again)'
            cand clones 'List clone classes: every copy of each repeated function'
            cand stats 'Files, units and languages in the catalogue; skipped files; duplicated lines'
            cand table 'The periodic table of patterns: clone classes and idioms by family of code and size'
            cand similar 'Units similar to a function (FILE:LINE), to every function of a file, or to code on standard input (-), from the index'
            cand rebuild 'Recreate the catalogue''s tables from its event log, and its index'
            cand watch 'Scan a tree, then keep its catalogue up to date as files change and print what changed: new clones, resolved clones, classes that grew or shrank'
            cand check 'CI gate: scan, then fail (exit 1) on new clone classes or too much duplication'
            cand accept 'Accept a clone class as it is: `check` does not fail on it while its copies stay'
            cand unaccept 'Withdraw the acceptance of a clone class'
            cand log 'The catalogue''s event log, one event per line (filters: time, scan, commit, kind, path, class)'
            cand history 'One clone class''s life: created, grew, shrank, moved, accepted, dissolved, with scans and commits'
            cand lsp 'Language server over stdio: copies as diagnostics, code lenses and actions in the editor'
            cand mcp 'Serve tools for coding agents (Model Context Protocol) over stdio'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cpt;scan'= {
            cand --db 'Catalogue database [default: PATH/.cpt/cpt.db]'
            cand --exclude 'Leave out paths matching GLOB (gitignore syntax, relative to the root; repeatable)'
            cand --max-file-size 'Skip files larger than BYTES [default: 1048576, or cpt.toml]'
            cand --max-line-length 'Skip files with a line longer than BYTES as minified [default: 1000, or cpt.toml]'
            cand --min-tokens 'Smallest unit in tokens [default: 50, or cpt.toml]'
            cand --min-lines 'Smallest unit in lines [default: 6, or cpt.toml]'
            cand --min-similarity 'Near-miss copies need this token similarity to the copy they pair with [default: 0.65, or cpt.toml]'
            cand --no-near-miss 'Exact and renamed copies only: skip near-miss (type-3) detection [or cpt.toml `near_miss = false`]'
            cand -q 'No progress bar, warnings or summary'
            cand --quiet 'No progress bar, warnings or summary'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;clones'= {
            cand --db 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]'
            cand --format 'Output format'
            cand --type 'Only classes of this clone type (repeatable)'
            cand --min-similarity 'Only copies at least this similar to their class''s representative'
            cand --min-lines 'Only classes of at least N lines'
            cand --min-tokens 'Only classes of at least N tokens'
            cand --lang 'Only copies in this language (id such as python or cpp; repeatable)'
            cand --path 'Only copies whose path (relative to the root) matches GLOB (repeatable)'
            cand --tests 'Copies in test files: include them, exclude them, or show only them [default: include, or `tests` in cpt.toml]'
            cand --at 'The catalogue as it was then: a date (its end), an RFC 3339 time, scan:N (its end), or a commit (the end of its last scan), replayed from the event log'
            cand --noise 'Also show trivial shapes: accessors and one-liners, import runs, literal tables'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;stats'= {
            cand --db 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]'
            cand --format 'Output format'
            cand --at 'The catalogue as it was then: a date (its end), an RFC 3339 time, scan:N (its end), or a commit (the end of its last scan), replayed from the event log; the index''s figures are the index''s now'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;table'= {
            cand --db 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]'
            cand --format 'Output format'
            cand --html 'Also write the table as one self-contained HTML page to FILE'
            cand --lang 'Only copies in this language (id such as python or cpp; repeatable)'
            cand --path 'Only copies whose path (relative to the root) matches GLOB (repeatable)'
            cand --tests 'Copies in test files: include them, exclude them, or show only them [default: include, or `tests` in cpt.toml]'
            cand --min-files 'Idioms are shapes recurring in at least N files'
            cand --at 'The table as it was then: a date (its end), an RFC 3339 time, scan:N (its end), or a commit (the end of its last scan), replayed from the event log'
            cand --since 'Trends compare each element with the catalogue then (same forms as --at) [default: what the last scan did]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;similar'= {
            cand --db 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]'
            cand --lang 'Language of the code (id such as python or java) [default: from the file''s extension]'
            cand --format 'Output format'
            cand --limit 'At most N matches per unit'
            cand --min-similarity 'Only matches at least this similar [default: the catalogue''s near-miss threshold]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;rebuild'= {
            cand --db 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;watch'= {
            cand --db 'Catalogue database [default: PATH/.cpt/cpt.db]'
            cand --exclude 'Leave out paths matching GLOB (gitignore syntax, relative to the root; repeatable)'
            cand --max-file-size 'Skip files larger than BYTES [default: 1048576, or cpt.toml]'
            cand --max-line-length 'Skip files with a line longer than BYTES as minified [default: 1000, or cpt.toml]'
            cand --min-tokens 'Smallest unit in tokens [default: 50, or cpt.toml]'
            cand --min-lines 'Smallest unit in lines [default: 6, or cpt.toml]'
            cand --min-similarity 'Near-miss copies need this token similarity to the copy they pair with [default: 0.65, or cpt.toml]'
            cand --format 'text for people; jsonl: one JSON object per change (schema in README); gnu: `path:line:col: warning: …` lines for editors'' problem matchers'
            cand --debounce 'Quiet time after a change, in milliseconds, before it is applied'
            cand --no-near-miss 'Exact and renamed copies only: skip near-miss (type-3) detection [or cpt.toml `near_miss = false`]'
            cand -q 'No progress bar, warnings or summary'
            cand --quiet 'No progress bar, warnings or summary'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;check'= {
            cand --db 'Catalogue database [default: PATH/.cpt/cpt.db]'
            cand --exclude 'Leave out paths matching GLOB when scanning (gitignore syntax; repeatable)'
            cand --format 'Output format'
            cand --max-duplication 'Fail when more than PCT percent of the lines are duplicated [or cpt.toml [check]]'
            cand --fail-on 'Fail on new classes only, or on any class [default: new with --baseline, --diff or --base, else any]'
            cand --diff 'New code is what changed since REV (committed, staged and not; untracked files too)'
            cand --base 'New code is what changed since HEAD forked from REV (a pull request''s changes) [or cpt.toml [check] base]'
            cand --baseline 'The classes that already exist: only classes absent from FILE, or with more copies, are new [or cpt.toml [check] baseline]'
            cand --type 'Only classes of this clone type (repeatable)'
            cand --min-similarity 'Only copies at least this similar to their class''s representative'
            cand --min-lines 'Only classes of at least N lines'
            cand --min-tokens 'Only classes of at least N tokens'
            cand --lang 'Only copies in this language (id such as python or cpp; repeatable)'
            cand --path 'Only copies whose path (relative to the root) matches GLOB (repeatable)'
            cand --tests 'Copies in test files: include them, exclude them, or show only them [default: include, or `tests` in cpt.toml]'
            cand --update-baseline 'Write the baseline file from the classes found now (then check against it)'
            cand --noise 'Also show trivial shapes: accessors and one-liners, import runs, literal tables'
            cand -q 'No progress bar or warnings'
            cand --quiet 'No progress bar or warnings'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;accept'= {
            cand --db 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]'
            cand --reason 'Why the copies may stay (kept with the decision)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;unaccept'= {
            cand --db 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;log'= {
            cand --db 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]'
            cand --since 'Only events from this point on: a date (YYYY-MM-DD), an RFC 3339 time, scan:N, or a commit (its first scan)'
            cand --until 'Only events up to this point: a date (through its end), an RFC 3339 time, scan:N, or a commit (its last scan)'
            cand --kind 'Only events of this kind (file_added, pattern_created…) or family (file, unit, pattern; repeatable)'
            cand --path 'Only events about files whose path (relative to the root) matches GLOB: file and unit events, and those of classes with a copy there (repeatable)'
            cand --pattern 'Only events naming the class with this id (16 hex digits, or the first 4 or more)'
            cand --format 'Output format: a line per event, or a JSON object per line (cpt.log/1)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;history'= {
            cand --db 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]'
            cand --format 'Output format'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;lsp'= {
            cand --stdio 'Accepted for clients that start servers with `--stdio` (stdio is the only transport)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;mcp'= {
            cand --db 'Catalogue database [default: PATH/.cpt/cpt.db]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cpt;help'= {
            cand scan 'Index or refresh a source tree (incremental: only changed files are read again)'
            cand clones 'List clone classes: every copy of each repeated function'
            cand stats 'Files, units and languages in the catalogue; skipped files; duplicated lines'
            cand table 'The periodic table of patterns: clone classes and idioms by family of code and size'
            cand similar 'Units similar to a function (FILE:LINE), to every function of a file, or to code on standard input (-), from the index'
            cand rebuild 'Recreate the catalogue''s tables from its event log, and its index'
            cand watch 'Scan a tree, then keep its catalogue up to date as files change and print what changed: new clones, resolved clones, classes that grew or shrank'
            cand check 'CI gate: scan, then fail (exit 1) on new clone classes or too much duplication'
            cand accept 'Accept a clone class as it is: `check` does not fail on it while its copies stay'
            cand unaccept 'Withdraw the acceptance of a clone class'
            cand log 'The catalogue''s event log, one event per line (filters: time, scan, commit, kind, path, class)'
            cand history 'One clone class''s life: created, grew, shrank, moved, accepted, dissolved, with scans and commits'
            cand lsp 'Language server over stdio: copies as diagnostics, code lenses and actions in the editor'
            cand mcp 'Serve tools for coding agents (Model Context Protocol) over stdio'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cpt;help;scan'= {
        }
        &'cpt;help;clones'= {
        }
        &'cpt;help;stats'= {
        }
        &'cpt;help;table'= {
        }
        &'cpt;help;similar'= {
        }
        &'cpt;help;rebuild'= {
        }
        &'cpt;help;watch'= {
        }
        &'cpt;help;check'= {
        }
        &'cpt;help;accept'= {
        }
        &'cpt;help;unaccept'= {
        }
        &'cpt;help;log'= {
        }
        &'cpt;help;history'= {
        }
        &'cpt;help;lsp'= {
        }
        &'cpt;help;mcp'= {
        }
        &'cpt;help;completions'= {
        }
        &'cpt;help;help'= {
        }
    ]
    $completions[$command]
}
