//! Languages as data: the grammar tables in `grammars/*.toml`, compiled once per process.
//!
//! A language is a tree-sitter grammar plus a few lists of node kinds (units, identifiers,
//! literals, types, comments). Code never matches on a language; it asks the tables.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use thiserror::Error;

/// Every built-in language: its id, its grammar, and its data file. Detection by extension
/// follows this order; an extension claimed twice is a configuration error.
/// A built-in language: id, grammar constructor, grammar data.
type BuiltIn = (&'static str, fn() -> tree_sitter::Language, &'static str);

const BUILT_IN: &[BuiltIn] = &[
    (
        "rust",
        || tree_sitter_rust::LANGUAGE.into(),
        include_str!("../../grammars/rust.toml"),
    ),
    (
        "python",
        || tree_sitter_python::LANGUAGE.into(),
        include_str!("../../grammars/python.toml"),
    ),
    (
        "javascript",
        || tree_sitter_javascript::LANGUAGE.into(),
        include_str!("../../grammars/javascript.toml"),
    ),
    (
        "typescript",
        || tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        include_str!("../../grammars/typescript.toml"),
    ),
    (
        "tsx",
        || tree_sitter_typescript::LANGUAGE_TSX.into(),
        include_str!("../../grammars/tsx.toml"),
    ),
    (
        "go",
        || tree_sitter_go::LANGUAGE.into(),
        include_str!("../../grammars/go.toml"),
    ),
    (
        "java",
        || tree_sitter_java::LANGUAGE.into(),
        include_str!("../../grammars/java.toml"),
    ),
    (
        "c",
        || tree_sitter_c::LANGUAGE.into(),
        include_str!("../../grammars/c.toml"),
    ),
    (
        "cpp",
        || tree_sitter_cpp::LANGUAGE.into(),
        include_str!("../../grammars/cpp.toml"),
    ),
];

/// The families of code the grammar data's `[families]` assign node kinds to, in the periodic
/// table's column order: (id, short name, name). `delegation` and `tests` are mostly chosen by rule
/// (straight-line code, copies in test files), but a language may mark kinds for them too.
pub const FAMILIES: &[(&str, &str, &str)] = &[
    ("iteration", "Iteration", "Iteration"),
    ("branching", "Branching", "Branching and dispatch"),
    ("errors", "Errors", "Error handling"),
    ("resources", "Resources", "Resources and I/O"),
    (
        "construction",
        "Construct",
        "Construction and initialisation",
    ),
    ("transformation", "Transform", "Data transformation"),
    ("concurrency", "Concurr.", "Concurrency"),
    ("delegation", "Accessors", "Accessors and delegation"),
    ("tests", "Tests", "Test scaffolding"),
];

/// A unit's family when no family node is inside it (units and small functions record
/// `Some(NO_FAMILY)`; `None` means the catalogue did not record it, before it did).
pub const NO_FAMILY: u8 = u8::MAX;

/// The family a piece of code belongs to, from the family nodes inside it: each is `(family
/// index, nesting)`, its nesting the number of family nodes around it. A node weighs 1 at the
/// outermost nesting seen and a quarter per level below it, so outer statements decide; the
/// heaviest family wins (the first of equals); None without family nodes. The order of
/// [`FAMILIES`] is part of the catalogue's format (units store the index): append only.
pub fn heaviest_family(marks: impl Iterator<Item = (u8, u16)> + Clone) -> Option<u8> {
    let outer = marks.clone().map(|(_, nest)| nest).min()?;
    let mut weights = [0.0f64; FAMILIES.len()];
    for (family, nest) in marks {
        if let Some(w) = weights.get_mut(usize::from(family)) {
            // Deeper than 1,000 levels weighs nothing (0.25^1000 underflows anyway).
            *w += 0.25f64.powi(i32::from((nest - outer).min(1000)));
        }
    }
    let (i, &w) =
        weights.iter().enumerate().fold(
            (0, &0.0),
            |acc, (i, w)| if *w > *acc.1 { (i, w) } else { acc },
        );
    (w > 0.0).then_some(i as u8)
}

/// A mistake in a grammar data file.
#[derive(Debug, Error)]
pub enum LangError {
    /// An error found earlier in this process (compiled languages are cached, errors too).
    #[error("{0}")]
    Broken(String),
    #[error("grammars/{lang}.toml: {source}")]
    Toml {
        lang: &'static str,
        source: toml::de::Error,
    },
    #[error("grammars/{lang}.toml: inherits unknown language `{parent}`")]
    UnknownParent { lang: &'static str, parent: String },
    #[error("grammars/{lang}.toml: `inherits` goes round in a circle through `{parent}`")]
    InheritanceCycle { lang: &'static str, parent: String },
    #[error("grammars/{lang}.toml: `{kind}` in `{list}` is not a named node kind of the grammar")]
    UnknownKind {
        lang: &'static str,
        list: &'static str,
        kind: String,
    },
    #[error("grammars/{lang}.toml: `{field}` in `{list}` is not a field of the grammar")]
    UnknownField {
        lang: &'static str,
        list: &'static str,
        field: String,
    },
    #[error("grammars/{lang}.toml: node kind `{kind}` is listed as both {first} and {second}")]
    Conflict {
        lang: &'static str,
        kind: String,
        first: &'static str,
        second: &'static str,
    },
    #[error("grammars/{lang}.toml: `{family}` in `families` is not a family (known: {known})")]
    UnknownFamily {
        lang: &'static str,
        family: String,
        known: String,
    },
    #[error("grammars/{lang}.toml: extension `.{ext}` is already claimed by {other}")]
    DuplicateExtension {
        lang: &'static str,
        ext: String,
        other: &'static str,
    },
    #[error("grammars/{lang}.toml: `{field}` is required")]
    Missing {
        lang: &'static str,
        field: &'static str,
    },
}

/// One grammar data file as written. Lists are appended to the inherited language's lists;
/// scalars replace them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LangSpec {
    /// A language whose lists this one extends (for families such as JavaScript/TypeScript).
    inherits: Option<String>,
    /// Display name.
    name: Option<String>,
    /// File-name extensions, without the dot, matched case-insensitively.
    #[serde(default)]
    extensions: Vec<String>,
    /// Node kinds that are comments: dropped with everything below them.
    #[serde(default)]
    comments: Vec<String>,
    /// Node kinds that are layout only (line continuations): dropped like comments.
    #[serde(default)]
    layout: Vec<String>,
    /// Leaf kinds that name things: abstracted and consistently renamed in the shape hash.
    #[serde(default)]
    identifiers: Vec<String>,
    /// Literal kinds: one token each (children included), abstracted to their kind.
    #[serde(default)]
    literals: Vec<String>,
    /// Built-in type kinds: one token each, abstracted like identifiers.
    #[serde(default)]
    types: Vec<String>,
    /// Names of members (fields, properties, methods called on an object, keyword
    /// arguments): an identifier kind that only ever names one (`property_identifier`), or
    /// `parent.field` for an identifier in that field of that parent (`attribute.attribute`).
    /// Members are numbered apart from other names, so renaming a local leaves a member of the
    /// same spelling alone.
    #[serde(default)]
    members: Vec<String>,
    /// Fields followed from a unit node to find its name (`declarator` chains in C).
    #[serde(default)]
    name_fields: Vec<String>,
    /// Fields of the parent that name an anonymous unit (`const f = () => …`).
    #[serde(default)]
    parent_name_fields: Vec<String>,
    /// Node kinds whose named children are statements (function bodies, `{ … }` blocks).
    #[serde(default)]
    blocks: Vec<String>,
    /// Statement kinds that import or include other code (noise when alone).
    #[serde(default)]
    imports: Vec<String>,
    /// Collection literal kinds (arrays, lists, maps, initializer lists): what data tables
    /// are made of.
    #[serde(default)]
    tables: Vec<String>,
    /// File-name globs that mark test files (`test_*.py`, `*_test.go`).
    #[serde(default)]
    test_files: Vec<String>,
    /// Node kinds that are units, with their category.
    #[serde(default)]
    units: BTreeMap<String, UnitKind>,
    /// Node kinds that mark a family of code (`for_statement = "iteration"`): the periodic
    /// table's groups ([`FAMILIES`]).
    #[serde(default)]
    families: BTreeMap<String, String>,
}

impl LangSpec {
    fn extend(mut self, child: LangSpec) -> LangSpec {
        self.inherits = child.inherits;
        self.name = child.name.or(self.name);
        // Extensions are a language's own: a child never claims its parent's files.
        self.extensions = child.extensions;
        self.comments.extend(child.comments);
        self.layout.extend(child.layout);
        self.identifiers.extend(child.identifiers);
        self.literals.extend(child.literals);
        self.types.extend(child.types);
        self.members.extend(child.members);
        self.name_fields.extend(child.name_fields);
        self.parent_name_fields.extend(child.parent_name_fields);
        self.blocks.extend(child.blocks);
        self.imports.extend(child.imports);
        self.tables.extend(child.tables);
        self.test_files.extend(child.test_files);
        self.units.extend(child.units);
        self.families.extend(child.families);
        self
    }
}

/// What a unit is, as the grammar data says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    Function,
    Method,
    Constructor,
    Closure,
    Lambda,
    /// A run of consecutive statements inside a block (never named in grammar data).
    Block,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Function => "function",
            UnitKind::Method => "method",
            UnitKind::Constructor => "constructor",
            UnitKind::Closure => "closure",
            UnitKind::Lambda => "lambda",
            UnitKind::Block => "block",
        }
    }

    pub fn parse(s: &str) -> Option<UnitKind> {
        [
            Self::Function,
            Self::Method,
            Self::Constructor,
            Self::Closure,
            Self::Lambda,
            Self::Block,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// How the fingerprinter treats a node kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NodeClass {
    /// Structure and keywords: kept verbatim.
    #[default]
    Other,
    /// Dropped with its subtree.
    Skip,
    Identifier,
    /// An identifier naming a member ([`Language::member_in`] also finds them by position).
    Member,
    Literal,
    Type,
}

impl NodeClass {
    fn describe(self) -> &'static str {
        match self {
            NodeClass::Other => "other",
            NodeClass::Skip => "a comment or layout",
            NodeClass::Identifier => "an identifier",
            NodeClass::Member => "a member",
            NodeClass::Literal => "a literal",
            NodeClass::Type => "a type",
        }
    }
}

/// A compiled language: grammar plus per-kind-id tables.
pub struct Language {
    /// Stable id used in the catalogue and on the command line (`python`, `cpp`).
    pub id: &'static str,
    /// Position in [`all`], for per-thread parser caches.
    pub index: usize,
    pub name: String,
    pub extensions: Vec<String>,
    pub grammar: tree_sitter::Language,
    classes: Vec<NodeClass>,
    units: Vec<Option<UnitKind>>,
    name_fields: Vec<u16>,
    parent_name_fields: Vec<u16>,
    blocks: Vec<bool>,
    imports: Vec<bool>,
    tables: Vec<bool>,
    /// Identifiers in these (parent kind, field) positions name members.
    member_fields: Vec<(u16, u16)>,
    test_files: Vec<String>,
    /// Per kind id: 1 + the index in [`FAMILIES`] of the family it marks, 0 for none.
    families: Vec<u8>,
}

impl std::fmt::Debug for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Language")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Language {
    /// The class of a node kind. Kind ids outside the table (an ERROR node is 0xFFFF) are
    /// structure.
    #[inline]
    pub fn class(&self, kind_id: u16) -> NodeClass {
        self.classes
            .get(usize::from(kind_id))
            .copied()
            .unwrap_or_default()
    }

    /// Whether an identifier in field `field` of a node of kind `parent` names a member. The
    /// field is asked only of parents that have member fields: finding it costs a walk.
    #[inline]
    pub fn member_in(&self, parent: u16, field: impl FnOnce() -> Option<u16>) -> bool {
        self.member_fields.iter().any(|&(p, _)| p == parent)
            && field().is_some_and(|f| self.member_fields.contains(&(parent, f)))
    }

    /// The unit category of a node kind, if nodes of that kind are units.
    #[inline]
    pub fn unit_kind(&self, kind_id: u16) -> Option<UnitKind> {
        self.units.get(usize::from(kind_id)).copied().flatten()
    }

    /// Fields followed from a unit node to its name.
    pub fn name_fields(&self) -> &[u16] {
        &self.name_fields
    }

    /// Fields of a unit's parent that name an anonymous unit.
    pub fn parent_name_fields(&self) -> &[u16] {
        &self.parent_name_fields
    }

    /// Whether nodes of this kind hold a run of statements.
    #[inline]
    pub fn is_block(&self, kind_id: u16) -> bool {
        self.blocks
            .get(usize::from(kind_id))
            .copied()
            .unwrap_or(false)
    }

    /// Whether statements of this kind import or include other code.
    #[inline]
    pub fn is_import(&self, kind_id: u16) -> bool {
        self.imports
            .get(usize::from(kind_id))
            .copied()
            .unwrap_or(false)
    }

    /// Whether nodes of this kind are collection literals.
    #[inline]
    pub fn is_table(&self, kind_id: u16) -> bool {
        self.tables
            .get(usize::from(kind_id))
            .copied()
            .unwrap_or(false)
    }

    /// File-name globs that mark this language's test files.
    pub fn test_files(&self) -> &[String] {
        &self.test_files
    }

    /// The family (index in [`FAMILIES`]) nodes of this kind mark, if any.
    #[inline]
    pub fn family(&self, kind_id: u16) -> Option<usize> {
        match self.families.get(usize::from(kind_id)).copied() {
            None | Some(0) => None,
            Some(f) => Some(usize::from(f) - 1),
        }
    }
}

/// Built-in language number `index`'s own grammar data, parsed on first use.
fn parsed(index: usize) -> Result<&'static LangSpec, &'static LangError> {
    static PARSED: [OnceLock<Result<LangSpec, LangError>>; BUILT_IN.len()] =
        [const { OnceLock::new() }; BUILT_IN.len()];
    PARSED[index]
        .get_or_init(|| {
            let (id, _, text) = BUILT_IN[index];
            toml::from_str(text).map_err(|source| LangError::Toml { lang: id, source })
        })
        .as_ref()
}

/// Built-in language number `index`'s grammar data with inheritance resolved, on first use:
/// a process that reads one language (a `cpt similar` query) parses only its chain.
fn spec(index: usize) -> Result<&'static LangSpec, &'static LangError> {
    static SPECS: [OnceLock<Result<LangSpec, LangError>>; BUILT_IN.len()] =
        [const { OnceLock::new() }; BUILT_IN.len()];
    SPECS[index]
        .get_or_init(|| {
            resolve(BUILT_IN[index].0, |name| {
                let Some(i) = BUILT_IN.iter().position(|&(id, _, _)| id == name) else {
                    return Ok(None);
                };
                let spec = parsed(i).map_err(|e| LangError::Broken(e.to_string()))?;
                Ok(Some((BUILT_IN[i].0, spec)))
            })
        })
        .as_ref()
}

/// Built-in language number `index`, compiled on first use: a process that reads one
/// language compiles only that one.
fn compiled(index: usize) -> Result<&'static Language, &'static LangError> {
    static COMPILED: [OnceLock<Result<Language, LangError>>; BUILT_IN.len()] =
        [const { OnceLock::new() }; BUILT_IN.len()];
    COMPILED[index]
        .get_or_init(|| {
            let (id, grammar, _) = BUILT_IN[index];
            let spec = spec(index).map_err(|e| LangError::Broken(e.to_string()))?;
            compile(id, index, grammar(), spec.clone())
        })
        .as_ref()
}

fn broken(e: &LangError) -> ! {
    panic!("built-in grammar data is broken: {e}")
}

/// All built-in languages, compiled on first use.
///
/// # Panics
/// When a grammar data file is broken; `tests` build every language so that never ships.
pub fn all() -> &'static [&'static Language] {
    static LANGS: OnceLock<Vec<&'static Language>> = OnceLock::new();
    LANGS.get_or_init(|| load().unwrap_or_else(|e| broken(&e)))
}

/// The ids of the built-in languages, in their order.
pub fn ids() -> impl Iterator<Item = &'static str> {
    BUILT_IN.iter().map(|&(id, _, _)| id)
}

/// The language with this id.
pub fn by_id(id: &str) -> Option<&'static Language> {
    let index = BUILT_IN.iter().position(|&(i, _, _)| i == id)?;
    Some(compiled(index).unwrap_or_else(|e| broken(e)))
}

/// The language of a file, by its extension (case-insensitive).
pub fn for_path(path: &std::path::Path) -> Option<&'static Language> {
    let ext = path.extension()?.to_str()?;
    let index = (0..BUILT_IN.len()).find(|&i| {
        let spec = spec(i).unwrap_or_else(|e| broken(e));
        spec.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext))
    })?;
    Some(compiled(index).unwrap_or_else(|e| broken(e)))
}

/// Compile every built-in language, reporting the first bad entry.
pub fn load() -> Result<Vec<&'static Language>, LangError> {
    let mut langs: Vec<&'static Language> = Vec::with_capacity(BUILT_IN.len());
    for index in 0..BUILT_IN.len() {
        let lang = compiled(index).map_err(|e| LangError::Broken(e.to_string()))?;
        for ext in &lang.extensions {
            if let Some(other) = langs
                .iter()
                .find(|l| l.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)))
            {
                return Err(LangError::DuplicateExtension {
                    lang: lang.id,
                    ext: ext.clone(),
                    other: other.id,
                });
            }
        }
        langs.push(lang);
    }
    Ok(langs)
}

/// Flatten the `inherits` chain of language `id` into one spec; `spec_of` finds a language's
/// own spec by id (`None`: no such language).
fn resolve<'a>(
    id: &'static str,
    spec_of: impl Fn(&str) -> Result<Option<(&'static str, &'a LangSpec)>, LangError>,
) -> Result<LangSpec, LangError> {
    let (_, first) =
        spec_of(id)?.ok_or_else(|| LangError::Broken(format!("no language `{id}`")))?;
    let mut chain = vec![(id, first)];
    let mut current = (id, first);
    while let Some(parent) = current.1.inherits.as_deref() {
        let (parent_id, parent_spec) =
            spec_of(parent)?.ok_or_else(|| LangError::UnknownParent {
                lang: current.0,
                parent: parent.to_string(),
            })?;
        if chain.iter().any(|&(id, _)| id == parent_id) {
            return Err(LangError::InheritanceCycle {
                lang: current.0,
                parent: parent.to_string(),
            });
        }
        current = (parent_id, parent_spec);
        chain.push(current);
    }
    let mut merged = LangSpec::default();
    for (_, link) in chain.iter().rev() {
        merged = merged.extend((*link).clone());
    }
    Ok(merged)
}

fn compile(
    id: &'static str,
    index: usize,
    grammar: tree_sitter::Language,
    spec: LangSpec,
) -> Result<Language, LangError> {
    let name = spec.name.ok_or(LangError::Missing {
        lang: id,
        field: "name",
    })?;
    if spec.extensions.is_empty() {
        return Err(LangError::Missing {
            lang: id,
            field: "extensions",
        });
    }
    let count = grammar.node_kind_count();
    let mut classes = vec![NodeClass::Other; count];
    let mut units = vec![None; count];

    // One name can stand for several kind ids (aliases); every one of them gets the class.
    // The names are gathered in one pass: asking the grammar per listed kind costs a scan of
    // every symbol each time, milliseconds per process start.
    let mut named: rustc_hash::FxHashMap<&str, Vec<usize>> = rustc_hash::FxHashMap::default();
    for i in 0..count {
        let i16 = i as u16;
        if grammar.node_kind_is_named(i16)
            && let Some(kind) = grammar.node_kind_for_id(i16)
        {
            named.entry(kind).or_default().push(i);
        }
    }
    let ids_named = |kind: &str| -> Vec<usize> { named.get(kind).cloned().unwrap_or_default() };
    let (member_positions, member_kinds): (Vec<String>, Vec<String>) =
        spec.members.iter().cloned().partition(|m| m.contains('.'));
    let lists: [(&'static str, &[String], NodeClass); 6] = [
        ("comments", &spec.comments, NodeClass::Skip),
        ("layout", &spec.layout, NodeClass::Skip),
        ("identifiers", &spec.identifiers, NodeClass::Identifier),
        ("members", &member_kinds, NodeClass::Member),
        ("literals", &spec.literals, NodeClass::Literal),
        ("types", &spec.types, NodeClass::Type),
    ];
    for (list, kinds, class) in lists {
        for kind in kinds {
            let ids = ids_named(kind);
            if ids.is_empty() {
                return Err(LangError::UnknownKind {
                    lang: id,
                    list,
                    kind: kind.clone(),
                });
            }
            for i in ids {
                if classes[i] != NodeClass::Other && classes[i] != class {
                    return Err(LangError::Conflict {
                        lang: id,
                        kind: kind.clone(),
                        first: classes[i].describe(),
                        second: class.describe(),
                    });
                }
                classes[i] = class;
            }
        }
    }
    for (kind, unit) in &spec.units {
        let ids = ids_named(kind);
        if ids.is_empty() {
            return Err(LangError::UnknownKind {
                lang: id,
                list: "units",
                kind: kind.clone(),
            });
        }
        for i in ids {
            if classes[i] != NodeClass::Other {
                return Err(LangError::Conflict {
                    lang: id,
                    kind: kind.clone(),
                    first: classes[i].describe(),
                    second: "a unit",
                });
            }
            units[i] = Some(*unit);
        }
    }
    let field_ids = |list: &'static str, fields: &[String]| -> Result<Vec<u16>, LangError> {
        fields
            .iter()
            .map(|f| {
                grammar
                    .field_id_for_name(f)
                    .map(|id| id.get())
                    .ok_or_else(|| LangError::UnknownField {
                        lang: id,
                        list,
                        field: f.clone(),
                    })
            })
            .collect()
    };
    let kind_set = |list: &'static str, kinds: &[String]| -> Result<Vec<bool>, LangError> {
        let mut set = vec![false; count];
        for kind in kinds {
            let ids = ids_named(kind);
            if ids.is_empty() {
                return Err(LangError::UnknownKind {
                    lang: id,
                    list,
                    kind: kind.clone(),
                });
            }
            for i in ids {
                set[i] = true;
            }
        }
        Ok(set)
    };
    let blocks = kind_set("blocks", &spec.blocks)?;
    let imports = kind_set("imports", &spec.imports)?;
    let tables = kind_set("tables", &spec.tables)?;
    let name_fields = field_ids("name_fields", &spec.name_fields)?;
    let parent_name_fields = field_ids("parent_name_fields", &spec.parent_name_fields)?;
    let mut families = vec![0u8; count];
    for (kind, family) in &spec.families {
        let Some(f) = FAMILIES.iter().position(|&(id, _, _)| id == family) else {
            return Err(LangError::UnknownFamily {
                lang: id,
                family: family.clone(),
                known: FAMILIES
                    .iter()
                    .map(|&(id, _, _)| id)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let ids = ids_named(kind);
        if ids.is_empty() {
            return Err(LangError::UnknownKind {
                lang: id,
                list: "families",
                kind: kind.clone(),
            });
        }
        for i in ids {
            families[i] = f as u8 + 1;
        }
    }
    let mut member_fields = Vec::new();
    for position in &member_positions {
        let (parent, field) = position.split_once('.').expect("partitioned on '.'");
        let parents = ids_named(parent);
        if parents.is_empty() {
            return Err(LangError::UnknownKind {
                lang: id,
                list: "members",
                kind: parent.to_string(),
            });
        }
        let [field] = field_ids("members", &[field.to_string()])?[..] else {
            unreachable!("one field asked, one given")
        };
        member_fields.extend(parents.into_iter().map(|p| (p as u16, field)));
    }
    Ok(Language {
        id,
        index,
        name,
        extensions: spec.extensions,
        grammar,
        classes,
        units,
        name_fields,
        parent_name_fields,
        blocks,
        imports,
        tables,
        member_fields,
        test_files: spec.test_files,
        families,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_language_compiles() {
        let langs = load().expect("grammar data");
        assert_eq!(langs.len(), BUILT_IN.len());
        for lang in langs {
            assert!(
                lang.units.iter().any(Option::is_some),
                "{} has no unit kinds",
                lang.id
            );
            assert!(
                lang.classes.contains(&NodeClass::Identifier),
                "{} has no identifiers",
                lang.id
            );
            assert!(
                lang.classes.contains(&NodeClass::Skip),
                "{} has no comments",
                lang.id
            );
            assert!(lang.blocks.contains(&true), "{} has no blocks", lang.id);
            assert!(lang.imports.contains(&true), "{} has no imports", lang.id);
            assert!(lang.tables.contains(&true), "{} has no tables", lang.id);
            for family in ["iteration", "branching"] {
                let f = FAMILIES
                    .iter()
                    .position(|&(id, _, _)| id == family)
                    .unwrap();
                assert!(
                    lang.families.contains(&(f as u8 + 1)),
                    "{} marks no {family} kinds",
                    lang.id
                );
            }
        }
    }

    #[test]
    fn inheritance_extends_lists_but_not_extensions() {
        let ts = by_id("typescript").unwrap();
        let tsx = by_id("tsx").unwrap();
        assert_eq!(tsx.extensions, ["tsx"]);
        let type_id = tsx.grammar.id_for_node_kind("type_identifier", true);
        assert_eq!(tsx.class(type_id), NodeClass::Identifier);
        let arrow = ts.grammar.id_for_node_kind("arrow_function", true);
        assert_eq!(ts.unit_kind(arrow), Some(UnitKind::Closure));
    }

    #[test]
    fn error_kind_id_is_out_of_table_and_harmless() {
        let py = by_id("python").unwrap();
        assert_eq!(py.class(0xFFFF), NodeClass::Other);
        assert_eq!(py.unit_kind(0xFFFF), None);
    }

    #[test]
    fn detection_by_extension() {
        use std::path::Path;
        assert_eq!(for_path(Path::new("a/b.PY")).unwrap().id, "python");
        assert_eq!(for_path(Path::new("x.h")).unwrap().id, "c");
        assert_eq!(for_path(Path::new("x.hpp")).unwrap().id, "cpp");
        assert_eq!(for_path(Path::new("x.jsx")).unwrap().id, "javascript");
        assert_eq!(for_path(Path::new("x.tsx")).unwrap().id, "tsx");
        assert!(for_path(Path::new("README.md")).is_none());
        assert!(for_path(Path::new("Makefile")).is_none());
    }

    #[test]
    fn unknown_and_circular_inheritance_are_errors() {
        let spec =
            |parent: &str| toml::from_str::<LangSpec>(&format!("inherits = \"{parent}\"")).unwrap();
        let specs = BTreeMap::from([("c", spec("cpp")), ("cpp", spec("c")), ("go", spec("nope"))]);
        let spec_of = |name: &str| Ok(specs.get_key_value(name).map(|(k, v)| (*k, v)));
        let err = resolve("c", spec_of).unwrap_err().to_string();
        assert_eq!(
            err,
            "grammars/cpp.toml: `inherits` goes round in a circle through `c`"
        );
        let err = resolve("go", spec_of).unwrap_err().to_string();
        assert_eq!(err, "grammars/go.toml: inherits unknown language `nope`");
    }

    #[test]
    fn bad_entries_are_reported_with_their_file() {
        let spec: LangSpec =
            toml::from_str("name = \"X\"\nextensions = [\"x\"]\nidentifiers = [\"no_such_kind\"]")
                .unwrap();
        let err = compile("python", 0, tree_sitter_python::LANGUAGE.into(), spec).unwrap_err();
        assert_eq!(
            err.to_string(),
            "grammars/python.toml: `no_such_kind` in `identifiers` is not a named node kind of the grammar"
        );
        let spec: LangSpec =
            toml::from_str("name = \"X\"\nextensions = [\"x\"]\nname_fields = [\"nope\"]").unwrap();
        let err = compile("python", 0, tree_sitter_python::LANGUAGE.into(), spec).unwrap_err();
        assert!(
            err.to_string()
                .contains("`nope` in `name_fields` is not a field"),
            "{err}"
        );
        let bad: Result<LangSpec, _> =
            toml::from_str("name = \"X\"\nunits = { function_definition = \"routine\" }");
        assert!(bad.is_err());
    }
}
