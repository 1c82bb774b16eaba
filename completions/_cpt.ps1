
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'cpt' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'cpt'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'cpt' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Index or refresh a source tree (incremental: only changed files are read again)')
            [CompletionResult]::new('clones', 'clones', [CompletionResultType]::ParameterValue, 'List clone classes: every copy of each repeated function')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Files, units and languages in the catalogue; skipped files; duplicated lines')
            [CompletionResult]::new('table', 'table', [CompletionResultType]::ParameterValue, 'The periodic table of patterns: clone classes and idioms by family of code and size')
            [CompletionResult]::new('similar', 'similar', [CompletionResultType]::ParameterValue, 'Units similar to a function (FILE:LINE), to every function of a file, or to code on standard input (-), from the index')
            [CompletionResult]::new('rebuild', 'rebuild', [CompletionResultType]::ParameterValue, 'Recreate the catalogue''s tables from its event log, and its index')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Scan a tree, then keep its catalogue up to date as files change and print what changed: new clones, resolved clones, classes that grew or shrank')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'CI gate: scan, then fail (exit 1) on new clone classes or too much duplication')
            [CompletionResult]::new('accept', 'accept', [CompletionResultType]::ParameterValue, 'Accept a clone class as it is: `check` does not fail on it while its copies stay')
            [CompletionResult]::new('unaccept', 'unaccept', [CompletionResultType]::ParameterValue, 'Withdraw the acceptance of a clone class')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'The catalogue''s event log, one event per line (filters: time, scan, commit, kind, path, class)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'One clone class''s life: created, grew, shrank, moved, accepted, dissolved, with scans and commits')
            [CompletionResult]::new('lsp', 'lsp', [CompletionResultType]::ParameterValue, 'Language server over stdio: copies as diagnostics, code lenses and actions in the editor')
            [CompletionResult]::new('mcp', 'mcp', [CompletionResultType]::ParameterValue, 'Serve tools for coding agents (Model Context Protocol) over stdio')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cpt;scan' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: PATH/.cpt/cpt.db]')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out paths matching GLOB (gitignore syntax, relative to the root; repeatable)')
            [CompletionResult]::new('--max-file-size', '--max-file-size', [CompletionResultType]::ParameterName, 'Skip files larger than BYTES [default: 1048576, or cpt.toml]')
            [CompletionResult]::new('--max-line-length', '--max-line-length', [CompletionResultType]::ParameterName, 'Skip files with a line longer than BYTES as minified [default: 1000, or cpt.toml]')
            [CompletionResult]::new('--min-tokens', '--min-tokens', [CompletionResultType]::ParameterName, 'Smallest unit in tokens [default: 50, or cpt.toml]')
            [CompletionResult]::new('--min-lines', '--min-lines', [CompletionResultType]::ParameterName, 'Smallest unit in lines [default: 6, or cpt.toml]')
            [CompletionResult]::new('--min-similarity', '--min-similarity', [CompletionResultType]::ParameterName, 'Near-miss copies need this token similarity to the copy they pair with [default: 0.65, or cpt.toml]')
            [CompletionResult]::new('--no-near-miss', '--no-near-miss', [CompletionResultType]::ParameterName, 'Exact and renamed copies only: skip near-miss (type-3) detection [or cpt.toml `near_miss = false`]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar, warnings or summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar, warnings or summary')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;clones' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Only classes of this clone type (repeatable)')
            [CompletionResult]::new('--min-similarity', '--min-similarity', [CompletionResultType]::ParameterName, 'Only copies at least this similar to their class''s representative')
            [CompletionResult]::new('--min-lines', '--min-lines', [CompletionResultType]::ParameterName, 'Only classes of at least N lines')
            [CompletionResult]::new('--min-tokens', '--min-tokens', [CompletionResultType]::ParameterName, 'Only classes of at least N tokens')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Only copies in this language (id such as python or cpp; repeatable)')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Only copies whose path (relative to the root) matches GLOB (repeatable)')
            [CompletionResult]::new('--tests', '--tests', [CompletionResultType]::ParameterName, 'Copies in test files: include them, exclude them, or show only them [default: include, or `tests` in cpt.toml]')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The catalogue as it was then: a date (its end), an RFC 3339 time, scan:N (its end), or a commit (the end of its last scan), replayed from the event log')
            [CompletionResult]::new('--noise', '--noise', [CompletionResultType]::ParameterName, 'Also show trivial shapes: accessors and one-liners, import runs, literal tables')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;stats' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The catalogue as it was then: a date (its end), an RFC 3339 time, scan:N (its end), or a commit (the end of its last scan), replayed from the event log; the index''s figures are the index''s now')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;table' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Also write the table as one self-contained HTML page to FILE')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Only copies in this language (id such as python or cpp; repeatable)')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Only copies whose path (relative to the root) matches GLOB (repeatable)')
            [CompletionResult]::new('--tests', '--tests', [CompletionResultType]::ParameterName, 'Copies in test files: include them, exclude them, or show only them [default: include, or `tests` in cpt.toml]')
            [CompletionResult]::new('--min-files', '--min-files', [CompletionResultType]::ParameterName, 'Idioms are shapes recurring in at least N files')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The table as it was then: a date (its end), an RFC 3339 time, scan:N (its end), or a commit (the end of its last scan), replayed from the event log')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Trends compare each element with the catalogue then (same forms as --at) [default: what the last scan did]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;similar' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Language of the code (id such as python or java) [default: from the file''s extension]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most N matches per unit')
            [CompletionResult]::new('--min-similarity', '--min-similarity', [CompletionResultType]::ParameterName, 'Only matches at least this similar [default: the catalogue''s near-miss threshold]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;rebuild' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;watch' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: PATH/.cpt/cpt.db]')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out paths matching GLOB (gitignore syntax, relative to the root; repeatable)')
            [CompletionResult]::new('--max-file-size', '--max-file-size', [CompletionResultType]::ParameterName, 'Skip files larger than BYTES [default: 1048576, or cpt.toml]')
            [CompletionResult]::new('--max-line-length', '--max-line-length', [CompletionResultType]::ParameterName, 'Skip files with a line longer than BYTES as minified [default: 1000, or cpt.toml]')
            [CompletionResult]::new('--min-tokens', '--min-tokens', [CompletionResultType]::ParameterName, 'Smallest unit in tokens [default: 50, or cpt.toml]')
            [CompletionResult]::new('--min-lines', '--min-lines', [CompletionResultType]::ParameterName, 'Smallest unit in lines [default: 6, or cpt.toml]')
            [CompletionResult]::new('--min-similarity', '--min-similarity', [CompletionResultType]::ParameterName, 'Near-miss copies need this token similarity to the copy they pair with [default: 0.65, or cpt.toml]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'text for people; jsonl: one JSON object per change (schema in README); gnu: `path:line:col: warning: …` lines for editors'' problem matchers')
            [CompletionResult]::new('--debounce', '--debounce', [CompletionResultType]::ParameterName, 'Quiet time after a change, in milliseconds, before it is applied')
            [CompletionResult]::new('--no-near-miss', '--no-near-miss', [CompletionResultType]::ParameterName, 'Exact and renamed copies only: skip near-miss (type-3) detection [or cpt.toml `near_miss = false`]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar, warnings or summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar, warnings or summary')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;check' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: PATH/.cpt/cpt.db]')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out paths matching GLOB when scanning (gitignore syntax; repeatable)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--max-duplication', '--max-duplication', [CompletionResultType]::ParameterName, 'Fail when more than PCT percent of the lines are duplicated [or cpt.toml [check]]')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Fail on new classes only, or on any class [default: new with --baseline, --diff or --base, else any]')
            [CompletionResult]::new('--diff', '--diff', [CompletionResultType]::ParameterName, 'New code is what changed since REV (committed, staged and not; untracked files too)')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'New code is what changed since HEAD forked from REV (a pull request''s changes) [or cpt.toml [check] base]')
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'The classes that already exist: only classes absent from FILE, or with more copies, are new [or cpt.toml [check] baseline]')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Only classes of this clone type (repeatable)')
            [CompletionResult]::new('--min-similarity', '--min-similarity', [CompletionResultType]::ParameterName, 'Only copies at least this similar to their class''s representative')
            [CompletionResult]::new('--min-lines', '--min-lines', [CompletionResultType]::ParameterName, 'Only classes of at least N lines')
            [CompletionResult]::new('--min-tokens', '--min-tokens', [CompletionResultType]::ParameterName, 'Only classes of at least N tokens')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Only copies in this language (id such as python or cpp; repeatable)')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Only copies whose path (relative to the root) matches GLOB (repeatable)')
            [CompletionResult]::new('--tests', '--tests', [CompletionResultType]::ParameterName, 'Copies in test files: include them, exclude them, or show only them [default: include, or `tests` in cpt.toml]')
            [CompletionResult]::new('--update-baseline', '--update-baseline', [CompletionResultType]::ParameterName, 'Write the baseline file from the classes found now (then check against it)')
            [CompletionResult]::new('--noise', '--noise', [CompletionResultType]::ParameterName, 'Also show trivial shapes: accessors and one-liners, import runs, literal tables')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar or warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar or warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;accept' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why the copies may stay (kept with the decision)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;unaccept' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;log' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events from this point on: a date (YYYY-MM-DD), an RFC 3339 time, scan:N, or a commit (its first scan)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events up to this point: a date (through its end), an RFC 3339 time, scan:N, or a commit (its last scan)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only events of this kind (file_added, pattern_created…) or family (file, unit, pattern; repeatable)')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Only events about files whose path (relative to the root) matches GLOB: file and unit events, and those of classes with a copy there (repeatable)')
            [CompletionResult]::new('--pattern', '--pattern', [CompletionResultType]::ParameterName, 'Only events naming the class with this id (16 hex digits, or the first 4 or more)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a line per event, or a JSON object per line (cpt.log/1)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;history' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent that has one]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;lsp' {
            [CompletionResult]::new('--stdio', '--stdio', [CompletionResultType]::ParameterName, 'Accepted for clients that start servers with `--stdio` (stdio is the only transport)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;mcp' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Catalogue database [default: PATH/.cpt/cpt.db]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cpt;help' {
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Index or refresh a source tree (incremental: only changed files are read again)')
            [CompletionResult]::new('clones', 'clones', [CompletionResultType]::ParameterValue, 'List clone classes: every copy of each repeated function')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Files, units and languages in the catalogue; skipped files; duplicated lines')
            [CompletionResult]::new('table', 'table', [CompletionResultType]::ParameterValue, 'The periodic table of patterns: clone classes and idioms by family of code and size')
            [CompletionResult]::new('similar', 'similar', [CompletionResultType]::ParameterValue, 'Units similar to a function (FILE:LINE), to every function of a file, or to code on standard input (-), from the index')
            [CompletionResult]::new('rebuild', 'rebuild', [CompletionResultType]::ParameterValue, 'Recreate the catalogue''s tables from its event log, and its index')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Scan a tree, then keep its catalogue up to date as files change and print what changed: new clones, resolved clones, classes that grew or shrank')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'CI gate: scan, then fail (exit 1) on new clone classes or too much duplication')
            [CompletionResult]::new('accept', 'accept', [CompletionResultType]::ParameterValue, 'Accept a clone class as it is: `check` does not fail on it while its copies stay')
            [CompletionResult]::new('unaccept', 'unaccept', [CompletionResultType]::ParameterValue, 'Withdraw the acceptance of a clone class')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'The catalogue''s event log, one event per line (filters: time, scan, commit, kind, path, class)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'One clone class''s life: created, grew, shrank, moved, accepted, dissolved, with scans and commits')
            [CompletionResult]::new('lsp', 'lsp', [CompletionResultType]::ParameterValue, 'Language server over stdio: copies as diagnostics, code lenses and actions in the editor')
            [CompletionResult]::new('mcp', 'mcp', [CompletionResultType]::ParameterValue, 'Serve tools for coding agents (Model Context Protocol) over stdio')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cpt;help;scan' {
            break
        }
        'cpt;help;clones' {
            break
        }
        'cpt;help;stats' {
            break
        }
        'cpt;help;table' {
            break
        }
        'cpt;help;similar' {
            break
        }
        'cpt;help;rebuild' {
            break
        }
        'cpt;help;watch' {
            break
        }
        'cpt;help;check' {
            break
        }
        'cpt;help;accept' {
            break
        }
        'cpt;help;unaccept' {
            break
        }
        'cpt;help;log' {
            break
        }
        'cpt;help;history' {
            break
        }
        'cpt;help;lsp' {
            break
        }
        'cpt;help;mcp' {
            break
        }
        'cpt;help;completions' {
            break
        }
        'cpt;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
