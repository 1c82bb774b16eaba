//! Parse: tree-sitter parsing with one cached parser per language on each worker thread.
//!
//! Parsing never fails on bad syntax: tree-sitter recovers and marks ERROR and MISSING nodes,
//! which the fingerprinter counts.

pub mod lang;

use std::cell::RefCell;

use thiserror::Error;
use tree_sitter::{Parser, Tree};

use crate::parse::lang::Language;

/// The parser returned no tree at all (it only does so when cancelled or misconfigured).
#[derive(Debug, Error)]
#[error("the {lang} parser gave up")]
pub struct ParseError {
    pub lang: &'static str,
}

thread_local! {
    static PARSERS: RefCell<Vec<Option<Parser>>> = const { RefCell::new(Vec::new()) };
}

/// Parse `source` as `lang`, reusing this thread's parser for the language.
pub fn parse(lang: &Language, source: &[u8]) -> Result<Tree, ParseError> {
    parse_from(lang, source, None)
}

/// Parse `source` as `lang`, reusing the unchanged parts of `old`: the tree of an earlier
/// version of the text, edited ([`Tree::edit`]) to match this one.
pub fn parse_from(lang: &Language, source: &[u8], old: Option<&Tree>) -> Result<Tree, ParseError> {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        if parsers.len() <= lang.index {
            parsers.resize_with(lang.index + 1, || None);
        }
        let parser = parsers[lang.index].get_or_insert_with(|| {
            let mut parser = Parser::new();
            parser
                .set_language(&lang.grammar)
                .expect("built-in grammars match the tree-sitter ABI (checked by tests)");
            parser
        });
        parser
            .parse(source, old)
            .ok_or(ParseError { lang: lang.id })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::lang;

    #[test]
    fn every_language_parses_on_this_thread_and_others() {
        for l in lang::all() {
            let tree = parse(l, b"x").unwrap();
            assert!(tree.root_node().end_byte() <= 1, "{}", l.id);
        }
        std::thread::spawn(|| assert!(parse(lang::by_id("go").unwrap(), b"package p").is_ok()))
            .join()
            .unwrap();
    }

    #[test]
    fn syntax_errors_still_give_a_tree() {
        let py = lang::by_id("python").unwrap();
        let tree = parse(py, b"def f(:\n  return )(\n").unwrap();
        assert!(tree.root_node().has_error());
    }
}
