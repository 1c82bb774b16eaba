//! Names by syntactic role, so mutants rename the way developers do: the locals and
//! parameters of a function, at every occurrence as a variable, never a called method, a
//! field, a type or an imported module that happens to share the spelling.
//!
//! Tree-sitter gives members their own node kinds in some grammars (`property_identifier`,
//! `field_identifier`, `shorthand_property_identifier`) and a plain `identifier` in others
//! (Python attribute names and keyword-argument names, Java field and method names), so the
//! role of an occurrence is decided by its node kind and by the field it fills under its
//! parent (`attribute.attribute`, `keyword_argument.name`, `field_access.field`, …), per
//! language in [`Rules`]. A local is a name declared in the function (a parameter, the target
//! of a declaration or assignment, a loop or `catch`/`as` variable), never seen in a role other
//! than variable or member. The same tables say which statements are simple (for swaps) and
//! which primitive types a copy may swap.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use cpt::parse::lang::{Language, NodeClass};
use tree_sitter::Node;

use super::mutate::Edit;
use super::similarity::blind_lines;
use super::syntax::{self, Statement};

/// What an identifier occurrence is, by syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// A variable: a local, a parameter, or a name from outside read or called.
    Variable,
    /// A property key, object member, field, attribute, keyword-argument or method name.
    Member,
    /// A member key and a variable at once (`{ app }`, `S { app }`): renaming the variable
    /// expands it to `app: new`.
    Shorthand,
    /// Anything else: types, labels, paths, macros, nested function names, imports.
    Other,
}

/// A position under a parent: (parent kind, field), the field `""` for a child in no field
/// and `"*"` for any child.
type Position = (&'static str, &'static str);

/// Per-language role and statement tables.
struct Rules {
    /// Identifier kinds that are members by kind.
    member_kinds: &'static [&'static str],
    /// Identifier kinds that are members and variables at once.
    shorthand_kinds: &'static [&'static str],
    /// Positions where a plain identifier is a member.
    member_positions: &'static [Position],
    /// Parents under which a plain identifier is a shorthand (Rust `S { app }`).
    shorthand_parents: &'static [&'static str],
    /// Positions where a plain identifier is something else (types, paths, nested names).
    other_positions: &'static [Position],
    /// Positions where an identifier (or a pattern holding it) declares a name.
    declare: &'static [Position],
    /// Pattern positions a declared identifier may be nested in.
    patterns: &'static [Position],
    /// Names never renamed.
    reserved: &'static [&'static str],
    /// Statements whose names are never renamed (`global`, `nonlocal`).
    excluding: &'static [&'static str],
    /// Simple statement kinds: the ones a swap may exchange.
    simple: &'static [&'static str],
    /// Node kinds that make a statement control flow (returns, jumps, conditionals).
    exits: &'static [&'static str],
    /// Primitive type swaps (from, to).
    types: &'static [(&'static str, &'static str)],
    /// Names captured by format strings (`"{name}"`) are never renamed (Rust).
    format_captures: bool,
    /// Language-specific roles the tables cannot express.
    special: fn(&Occurrence<'_>) -> Option<Role>,
}

fn no_special(_: &Occurrence<'_>) -> Option<Role> {
    None
}

const PYTHON: Rules = Rules {
    member_kinds: &[],
    shorthand_kinds: &[],
    member_positions: &[("attribute", "attribute"), ("keyword_argument", "name")],
    shorthand_parents: &[],
    other_positions: &[
        ("dotted_name", "*"),
        ("aliased_import", "*"),
        ("type", "*"),
        ("function_definition", "name"),
        ("class_definition", "name"),
    ],
    declare: &[
        ("parameters", "*"),
        ("lambda_parameters", "*"),
        ("typed_parameter", ""),
        ("default_parameter", "name"),
        ("typed_default_parameter", "name"),
        ("assignment", "left"),
        ("augmented_assignment", "left"),
        ("for_statement", "left"),
        ("for_in_clause", "left"),
        ("as_pattern_target", "*"),
        ("named_expression", "name"),
    ],
    patterns: &[
        ("pattern_list", "*"),
        ("tuple_pattern", "*"),
        ("list_pattern", "*"),
        ("list_splat_pattern", "*"),
        ("dictionary_splat_pattern", "*"),
    ],
    reserved: &["self", "cls", "_"],
    excluding: &["global_statement", "nonlocal_statement"],
    simple: &["expression_statement"],
    exits: &[
        "return_statement",
        "raise_statement",
        "break_statement",
        "continue_statement",
        "yield",
    ],
    types: &[],
    format_captures: false,
    special: no_special,
};

const JAVASCRIPT: Rules = Rules {
    member_kinds: &["property_identifier", "private_property_identifier"],
    shorthand_kinds: &[
        "shorthand_property_identifier",
        "shorthand_property_identifier_pattern",
    ],
    member_positions: &[],
    shorthand_parents: &[],
    other_positions: &[
        ("function_declaration", "name"),
        ("generator_function_declaration", "name"),
        ("function_expression", "name"),
        ("class_declaration", "name"),
        ("class", "name"),
        ("jsx_opening_element", "*"),
        ("jsx_closing_element", "*"),
        ("jsx_self_closing_element", "*"),
        ("nested_identifier", "*"),
        ("import_specifier", "*"),
        ("namespace_import", "*"),
        ("import_clause", "*"),
    ],
    declare: &[
        ("formal_parameters", "*"),
        ("required_parameter", "pattern"),
        ("optional_parameter", "pattern"),
        ("arrow_function", "parameter"),
        ("variable_declarator", "name"),
        ("catch_clause", "parameter"),
        ("for_in_statement", "left"),
    ],
    patterns: &[
        ("object_pattern", "*"),
        ("array_pattern", "*"),
        ("pair_pattern", "value"),
        ("assignment_pattern", "left"),
        ("object_assignment_pattern", "left"),
        ("rest_pattern", "*"),
    ],
    reserved: &["arguments", "undefined", "_"],
    excluding: &[],
    simple: &[
        "expression_statement",
        "lexical_declaration",
        "variable_declaration",
    ],
    exits: &[
        "return_statement",
        "throw_statement",
        "break_statement",
        "continue_statement",
        "yield_expression",
    ],
    types: &[],
    format_captures: false,
    special: typescript_special,
};

/// TypeScript parameter properties (`constructor(private app: App)`) are fields too.
fn typescript_special(o: &Occurrence<'_>) -> Option<Role> {
    let (parent, field) = o.parent()?;
    let property = matches!(parent.kind(), "required_parameter" | "optional_parameter")
        && field == Some("pattern")
        && children(parent).iter().any(|c| {
            matches!(
                c.kind(),
                "accessibility_modifier" | "readonly" | "override_modifier"
            )
        });
    property.then_some(Role::Other)
}

const JAVA: Rules = Rules {
    member_kinds: &[],
    shorthand_kinds: &[],
    member_positions: &[
        ("field_access", "field"),
        ("method_invocation", "name"),
        ("element_value_pair", "key"),
    ],
    shorthand_parents: &[],
    other_positions: &[
        ("scoped_identifier", "*"),
        ("labeled_statement", "*"),
        ("break_statement", "*"),
        ("continue_statement", "*"),
        ("marker_annotation", "*"),
        ("annotation", "*"),
        ("switch_label", "*"),
        ("method_reference", "*"),
        ("method_declaration", "name"),
        ("constructor_declaration", "name"),
        ("class_declaration", "name"),
        ("interface_declaration", "name"),
        ("enum_declaration", "name"),
        ("record_declaration", "name"),
        ("enum_constant", "name"),
    ],
    declare: &[
        ("formal_parameter", "name"),
        ("catch_formal_parameter", "name"),
        ("variable_declarator", "name"),
        ("enhanced_for_statement", "name"),
        ("resource", "name"),
        ("lambda_expression", "parameters"),
        ("inferred_parameters", "*"),
        ("instanceof_expression", "name"),
    ],
    patterns: &[],
    reserved: &[],
    excluding: &[],
    simple: &["expression_statement", "local_variable_declaration"],
    exits: &[
        "return_statement",
        "throw_statement",
        "break_statement",
        "continue_statement",
        "yield_statement",
    ],
    types: &[
        ("int", "long"),
        ("short", "int"),
        ("float", "double"),
        ("byte", "short"),
    ],
    format_captures: false,
    special: java_special,
};

/// Fields declared by a local or anonymous class are members, not locals.
fn java_special(o: &Occurrence<'_>) -> Option<Role> {
    let (parent, field) = o.parent()?;
    let field_declaration = parent.kind() == "variable_declarator"
        && field == Some("name")
        && parent
            .parent()
            .is_some_and(|p| p.kind() == "field_declaration");
    field_declaration.then_some(Role::Member)
}

const C_OTHER: &[Position] = &[
    ("function_declarator", "declarator"),
    ("preproc_def", "*"),
    ("preproc_function_def", "*"),
    ("preproc_params", "*"),
    ("preproc_call", "*"),
    ("preproc_ifdef", "*"),
    ("preproc_defined", "*"),
    ("qualified_identifier", "*"),
    ("template_function", "*"),
    ("template_method", "*"),
    ("destructor_name", "*"),
    ("using_declaration", "*"),
    ("alias_declaration", "*"),
    ("namespace_definition", "*"),
];

const C: Rules = Rules {
    member_kinds: &["field_identifier"],
    shorthand_kinds: &[],
    member_positions: &[],
    shorthand_parents: &[],
    other_positions: C_OTHER,
    declare: &[
        ("parameter_declaration", "declarator"),
        ("optional_parameter_declaration", "declarator"),
        ("declaration", "declarator"),
        ("for_range_loop", "declarator"),
    ],
    patterns: &[
        ("init_declarator", "declarator"),
        ("pointer_declarator", "declarator"),
        ("array_declarator", "declarator"),
        ("parenthesized_declarator", "*"),
        ("reference_declarator", "*"),
        ("attributed_declarator", "*"),
        ("structured_binding_declarator", "*"),
    ],
    reserved: &[],
    excluding: &[],
    simple: &["expression_statement", "declaration"],
    exits: &[
        "return_statement",
        "break_statement",
        "continue_statement",
        "goto_statement",
        "throw_statement",
        "co_return_statement",
        "co_yield_statement",
    ],
    types: &[
        ("int", "long"),
        ("short", "int"),
        ("float", "double"),
        ("unsigned", "unsigned long"),
        ("int32_t", "int64_t"),
        ("uint32_t", "uint64_t"),
        ("uint16_t", "uint32_t"),
    ],
    format_captures: false,
    special: no_special,
};

const GO: Rules = Rules {
    member_kinds: &["field_identifier"],
    shorthand_kinds: &[],
    member_positions: &[],
    shorthand_parents: &[],
    other_positions: &[("function_declaration", "name")],
    declare: &[
        ("parameter_declaration", "name"),
        ("variadic_parameter_declaration", "name"),
        ("short_var_declaration", "left"),
        ("var_spec", "name"),
        ("const_spec", "name"),
        ("range_clause", "left"),
        ("type_switch_statement", "alias"),
        ("receive_statement", "left"),
    ],
    patterns: &[("expression_list", "*")],
    reserved: &["_"],
    excluding: &[],
    simple: &[
        "expression_statement",
        "short_var_declaration",
        "assignment_statement",
        "inc_statement",
        "dec_statement",
        "var_declaration",
    ],
    exits: &[
        "return_statement",
        "break_statement",
        "continue_statement",
        "goto_statement",
        "fallthrough_statement",
        "defer_statement",
        "go_statement",
    ],
    types: &[
        ("int", "int64"),
        ("int32", "int64"),
        ("uint", "uint64"),
        ("uint32", "uint64"),
        ("uint8", "uint16"),
        ("float32", "float64"),
    ],
    format_captures: false,
    special: go_special,
};

/// A composite literal's key (`T{app: app}`) is a field of a struct or a key of a map: its
/// role is undecidable by syntax, so its names are never renamed.
fn go_special(o: &Occurrence<'_>) -> Option<Role> {
    let (parent, _) = o.parent()?;
    let (grandparent, parent_field) = o.ancestor(1)?;
    (parent.kind() == "literal_element"
        && grandparent.kind() == "keyed_element"
        && parent_field == Some("key"))
    .then_some(Role::Other)
}

const RUST: Rules = Rules {
    member_kinds: &["field_identifier"],
    shorthand_kinds: &["shorthand_field_identifier"],
    member_positions: &[],
    shorthand_parents: &["shorthand_field_initializer"],
    other_positions: &[
        ("scoped_identifier", "*"),
        ("scoped_type_identifier", "*"),
        ("use_declaration", "*"),
        ("use_list", "*"),
        ("scoped_use_list", "*"),
        ("use_as_clause", "*"),
        ("attribute", "*"),
        ("meta_item", "*"),
        ("macro_invocation", "macro"),
        ("tuple_struct_pattern", "type"),
        ("function_item", "name"),
        ("generic_function", "function"),
        ("label", "*"),
        ("lifetime", "*"),
    ],
    declare: &[
        ("parameter", "pattern"),
        ("closure_parameters", "*"),
        ("let_declaration", "pattern"),
        ("for_expression", "pattern"),
        ("let_condition", "pattern"),
        ("match_arm", "pattern"),
    ],
    patterns: &[
        ("tuple_pattern", "*"),
        ("tuple_struct_pattern", "*"),
        ("slice_pattern", "*"),
        ("ref_pattern", "*"),
        ("mut_pattern", "*"),
        ("reference_pattern", "*"),
        ("captured_pattern", "*"),
        ("or_pattern", "*"),
        ("field_pattern", "*"),
        ("struct_pattern", "*"),
        ("match_pattern", ""),
    ],
    reserved: &["_", "self", "Self"],
    excluding: &[],
    simple: &["let_declaration", "expression_statement"],
    exits: &[
        "return_expression",
        "break_expression",
        "continue_expression",
        "yield_expression",
        "try_expression",
        "if_expression",
        "match_expression",
        "loop_expression",
        "while_expression",
        "for_expression",
    ],
    types: &[
        ("i32", "i64"),
        ("u32", "u64"),
        ("f32", "f64"),
        ("i16", "i32"),
        ("u16", "u32"),
        ("u8", "u16"),
        ("usize", "u64"),
        ("isize", "i64"),
    ],
    format_captures: true,
    special: rust_special,
};

/// Rust: capitalized names are variants, constants and types; in a macro's token tree a name
/// after `.` is a member and one next to `::` or before `!` a path or macro; a shorthand field
/// pattern with `ref` or `mut` is left alone.
fn rust_special(o: &Occurrence<'_>) -> Option<Role> {
    if o.text.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Some(Role::Other);
    }
    let (parent, _) = o.parent()?;
    if o.node.kind() == "shorthand_field_identifier" && children(parent).len() > 1 {
        return Some(Role::Other);
    }
    if parent.kind() != "token_tree" {
        return None;
    }
    let before = o.node.prev_sibling().map(|n| n.kind());
    let after = o.node.next_sibling().map(|n| n.kind());
    if before == Some(".") {
        Some(Role::Member)
    } else if before == Some("::") || matches!(after, Some("::" | "!" | ":")) {
        Some(Role::Other)
    } else {
        Some(Role::Variable)
    }
}

fn rules(lang: &Language) -> &'static Rules {
    match lang.id {
        "python" => &PYTHON,
        "javascript" | "typescript" | "tsx" => &JAVASCRIPT,
        "java" => &JAVA,
        "go" => &GO,
        "rust" => &RUST,
        _ => &C,
    }
}

/// The primitive type swaps of a language (from, to); empty where it has none.
pub fn type_swaps(lang: &Language) -> &'static [(&'static str, &'static str)] {
    rules(lang).types
}

/// Positions where an identifier, or anything under it, is written.
const WRITE_POSITIONS: &[Position] = &[
    ("assignment", "left"),
    ("augmented_assignment", "left"),
    ("assignment_expression", "left"),
    ("augmented_assignment_expression", "left"),
    ("compound_assignment_expr", "left"),
    ("assignment_statement", "left"),
    ("update_expression", "*"),
    ("inc_statement", "*"),
    ("dec_statement", "*"),
    ("delete_statement", "*"),
];

/// Positions of a method call's receiver (`obj.m()`): the call may change it.
const RECEIVER_POSITIONS: &[Position] = &[
    ("attribute", "object"),
    ("member_expression", "object"),
    ("field_expression", "value"),
    ("field_expression", "argument"),
    ("selector_expression", "operand"),
];

fn at(positions: &[Position], kind: &str, field: Option<&str>) -> bool {
    positions.iter().any(|&(k, f)| {
        k == kind
            && match f {
                "*" => true,
                "" => field.is_none(),
                f => field == Some(f),
            }
    })
}

fn children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = node.walk();
    node.children(&mut cursor).collect()
}

/// An identifier occurrence with its ancestors, while the tree is walked.
pub struct Occurrence<'t> {
    node: Node<'t>,
    text: &'t str,
    /// The field this node fills under its parent.
    field: Option<&'t str>,
    /// Ancestors from the root down to the parent, each with the field it fills.
    ancestors: &'t [(Node<'t>, Option<&'t str>)],
}

impl<'t> Occurrence<'t> {
    /// The parent and the field this node fills under it.
    fn parent(&self) -> Option<(Node<'t>, Option<&'t str>)> {
        self.ancestors.last().map(|&(n, _)| (n, self.field))
    }

    /// The `up`-th ancestor above the parent and the field the one below it fills there.
    fn ancestor(&self, up: usize) -> Option<(Node<'t>, Option<&'t str>)> {
        let k = self.ancestors.len().checked_sub(up + 1)?;
        Some((self.ancestors[k].0, self.ancestors[k + 1].1))
    }
}

/// Preorder walk of `root` with each node's field and ancestors; `visit` returns whether to
/// descend.
fn walk_fields<'t>(
    root: Node<'t>,
    mut visit: impl FnMut(Node<'t>, Option<&'t str>, &[(Node<'t>, Option<&'t str>)]) -> bool,
) {
    let mut cursor = root.walk();
    let mut stack: Vec<(Node<'t>, Option<&'t str>)> = Vec::new();
    loop {
        let node = cursor.node();
        let field = cursor.field_name();
        if visit(node, field, &stack) && cursor.goto_first_child() {
            stack.push((node, field));
            continue;
        }
        loop {
            if stack.is_empty() {
                return;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            cursor.goto_parent();
            stack.pop();
        }
    }
}

fn role(rules: &Rules, o: &Occurrence<'_>) -> Role {
    if let Some(role) = (rules.special)(o) {
        return role;
    }
    let kind = o.node.kind();
    if rules.member_kinds.contains(&kind) {
        return Role::Member;
    }
    if rules.shorthand_kinds.contains(&kind) {
        return Role::Shorthand;
    }
    if kind != "identifier" {
        return Role::Other;
    }
    let Some((parent, field)) = o.parent() else {
        return Role::Variable;
    };
    if at(rules.member_positions, parent.kind(), field) {
        Role::Member
    } else if rules.shorthand_parents.contains(&parent.kind()) {
        Role::Shorthand
    } else if at(rules.other_positions, parent.kind(), field) {
        Role::Other
    } else {
        Role::Variable
    }
}

/// Whether the occurrence declares its name: it sits, through patterns, at a declaring position.
fn declares(rules: &Rules, o: &Occurrence<'_>) -> bool {
    let mut field = o.field;
    for &(ancestor, ancestor_field) in o.ancestors.iter().rev() {
        let kind = ancestor.kind();
        if at(rules.declare, kind, field) {
            // `for (k in o)` without `const`/`let` assigns an outer variable.
            return kind != "for_in_statement" || ancestor.child_by_field_name("kind").is_some();
        }
        if !at(rules.patterns, kind, field) {
            return false;
        }
        field = ancestor_field;
    }
    false
}

/// Whether the occurrence is written: under an assignment's target or an update, or the
/// receiver of a method call.
fn written(o: &Occurrence<'_>) -> bool {
    let mut field = o.field;
    for &(ancestor, ancestor_field) in o.ancestors.iter().rev() {
        if at(WRITE_POSITIONS, ancestor.kind(), field) {
            return true;
        }
        field = ancestor_field;
    }
    let Some((parent, field)) = o.parent() else {
        return false;
    };
    if parent.kind() == "method_invocation" && field == Some("object") {
        return true;
    }
    at(RECEIVER_POSITIONS, parent.kind(), field)
        && o.ancestor(1).is_some_and(|(call, f)| {
            matches!(call.kind(), "call" | "call_expression") && f == Some("function")
        })
}

/// One identifier occurrence in a function.
#[derive(Clone, Debug)]
pub struct Name {
    /// Bytes of the planted source.
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub role: Role,
    pub declares: bool,
    pub written: bool,
}

/// A local or parameter that a rename may change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Local {
    pub name: String,
    /// A member of the same spelling occurs in the function (a rename is a name collision).
    pub member: bool,
    /// It occurs in a shorthand (`{ app }`), which a rename expands.
    pub shorthand: bool,
}

/// The identifier occurrences of a function, by role.
pub struct Names {
    pub occurrences: Vec<Name>,
    excluded: HashSet<String>,
    reserved: &'static [&'static str],
}

impl Names {
    /// Every identifier-class occurrence under `function`, string interpolations included.
    pub fn new(lang: &Language, function: Node<'_>, source: &str) -> Names {
        let rules = rules(lang);
        let mut occurrences = Vec::new();
        let mut excluded = HashSet::new();
        walk_fields(function, |node, field, ancestors| {
            let class = lang.class(node.kind_id());
            let text = &source[node.start_byte()..node.end_byte()];
            if class == NodeClass::Literal && rules.format_captures {
                excluded.extend(format_captures(text));
            }
            if !matches!(class, NodeClass::Identifier | NodeClass::Member) {
                return true;
            }
            let o = Occurrence {
                node,
                text,
                field,
                ancestors,
            };
            if ancestors
                .iter()
                .any(|(a, _)| rules.excluding.contains(&a.kind()))
            {
                excluded.insert(text.to_string());
            }
            occurrences.push(Name {
                start: node.start_byte(),
                end: node.end_byte(),
                text: text.to_string(),
                role: role(rules, &o),
                declares: declares(rules, &o),
                written: written(&o),
            });
            false
        });
        Names {
            occurrences,
            excluded,
            reserved: rules.reserved,
        }
    }

    /// The names a rename may change: declared here, never in another role than variable,
    /// member or shorthand, not reserved, not captured by a format string, not in `global`.
    pub fn locals(&self) -> Vec<Local> {
        let mut by_name: BTreeMap<&str, BTreeSet<(Role, bool)>> = BTreeMap::new();
        for o in &self.occurrences {
            by_name
                .entry(o.text.as_str())
                .or_default()
                .insert((o.role, o.declares && o.role != Role::Member));
        }
        by_name
            .into_iter()
            .filter(|(name, seen)| {
                seen.iter().any(|&(_, declared)| declared)
                    && seen.iter().all(|&(r, _)| r != Role::Other)
                    && seen
                        .iter()
                        .any(|&(r, _)| r == Role::Variable || r == Role::Shorthand)
                    && !self.reserved.contains(name)
                    && !self.excluded.contains(*name)
            })
            .map(|(name, seen)| Local {
                name: name.to_string(),
                member: seen.iter().any(|&(r, _)| r == Role::Member),
                shorthand: seen.iter().any(|&(r, _)| r == Role::Shorthand),
            })
            .collect()
    }

    /// Edits (bytes of the planted source) renaming each `(old, new)` at its variable
    /// occurrences; shorthands become `old: new`, members stay.
    pub fn rename_edits(&self, renames: &[(String, String)]) -> Vec<Edit> {
        self.occurrences
            .iter()
            .filter_map(|o| {
                let (old, new) = renames.iter().find(|(old, _)| *old == o.text)?;
                let text = match o.role {
                    Role::Variable => new.clone(),
                    Role::Shorthand => format!("{old}: {new}"),
                    Role::Member | Role::Other => return None,
                };
                Some(Edit {
                    start: o.start,
                    end: o.end,
                    text,
                })
            })
            .collect()
    }

    /// Names read (as variables) and names written inside `start..end`.
    fn reads_and_writes(&self, start: usize, end: usize) -> (HashSet<&str>, HashSet<&str>) {
        let mut reads = HashSet::new();
        let mut writes = HashSet::new();
        for o in &self.occurrences {
            if o.start < start || o.end > end || !matches!(o.role, Role::Variable | Role::Shorthand)
            {
                continue;
            }
            reads.insert(o.text.as_str());
            if o.declares || o.written {
                writes.insert(o.text.as_str());
            }
        }
        (reads, writes)
    }
}

/// `{name}` and `{name:…}` in a format string: names Rust captures implicitly.
fn format_captures(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        rest = &rest[i + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && rest[name.len()..].starts_with(['}', ':']) {
            out.push(name);
        }
    }
    out
}

/// A token of a function as the name-collision check compares them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// Keywords, operators, punctuation, types: compared as written.
    Verbatim(String),
    /// A literal, compared by kind (type-2 copies change values).
    Literal(u16),
    /// An identifier in a role.
    Name(Role, String),
}

/// The tokens of a function (comments dropped, literals whole), identifiers with their roles
/// and every shorthand spelled out as `member : variable`.
pub fn role_tokens(lang: &Language, function: Node<'_>, source: &str) -> Vec<Tok> {
    let rules = rules(lang);
    let mut out = Vec::new();
    walk_fields(function, |node, field, ancestors| {
        let class = lang.class(node.kind_id());
        if class == NodeClass::Other && node.child_count() > 0 {
            return true;
        }
        let text = &source[node.start_byte()..node.end_byte()];
        match class {
            NodeClass::Skip => {}
            NodeClass::Literal => out.push(Tok::Literal(node.kind_id())),
            NodeClass::Identifier | NodeClass::Member => {
                let o = Occurrence {
                    node,
                    text,
                    field,
                    ancestors,
                };
                match role(rules, &o) {
                    Role::Shorthand => out.extend([
                        Tok::Name(Role::Member, text.to_string()),
                        Tok::Verbatim(":".to_string()),
                        Tok::Name(Role::Variable, text.to_string()),
                    ]),
                    r => out.push(Tok::Name(r, text.to_string())),
                }
            }
            NodeClass::Type | NodeClass::Other if text.is_empty() => {}
            NodeClass::Type | NodeClass::Other => out.push(Tok::Verbatim(text.to_string())),
        }
        false
    });
    out
}

/// The syntax-level rule a name-collision copy passes instead of an equal shape hash: token
/// for token the same as the original (shorthands spelled out, literals by kind), members and
/// every other name unchanged, variables renamed consistently (a one-to-one map), and at least
/// one renamed variable sharing its spelling with a member left in place. Returns the renames.
pub fn check_collision(original: &[Tok], copy: &[Tok]) -> Result<Vec<(String, String)>, String> {
    if original.len() != copy.len() {
        return Err(format!("{} tokens against {}", original.len(), copy.len()));
    }
    let mut forward: BTreeMap<&str, &str> = BTreeMap::new();
    let mut backward: BTreeMap<&str, &str> = BTreeMap::new();
    for (k, (a, b)) in original.iter().zip(copy).enumerate() {
        match (a, b) {
            (Tok::Name(Role::Variable, x), Tok::Name(Role::Variable, y)) => {
                if *forward.entry(x).or_insert(y) != y.as_str()
                    || *backward.entry(y).or_insert(x) != x.as_str()
                {
                    return Err(format!("token {k}: {x} → {y} is not one-to-one"));
                }
            }
            _ if a == b => {}
            _ => return Err(format!("token {k}: {a:?} became {b:?}")),
        }
    }
    let members: HashSet<&str> = original
        .iter()
        .filter_map(|t| match t {
            Tok::Name(Role::Member, m) => Some(m.as_str()),
            _ => None,
        })
        .collect();
    let renames: Vec<(String, String)> = forward
        .into_iter()
        .filter(|(x, y)| x != y)
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect();
    if renames.is_empty() {
        return Err("no variable renamed".to_string());
    }
    if !renames.iter().any(|(x, _)| members.contains(x.as_str())) {
        return Err("no renamed variable shares its name with a member".to_string());
    }
    Ok(renames)
}

/// Two adjacent simple statements of one block that a swap may exchange: both whole lines
/// among the editable `statements`, at most `max_lines` each, no control flow in either,
/// neither writing a name the other reads, and different once identifiers and literals are
/// blinded (so the swap shows in the normalized measure).
pub fn swappable_pairs(
    lang: &Language,
    function: Node<'_>,
    source: &str,
    statements: &[Statement],
    max_lines: usize,
) -> Vec<(Statement, Statement)> {
    let rules = rules(lang);
    let names = Names::new(lang, function, source);
    let editable = |node: Node<'_>| {
        statements
            .iter()
            .find(|s| s.start == node.start_byte() && s.end == node.end_byte())
            .filter(|s| s.lines(source) <= max_lines)
            .cloned()
    };
    let simple = |node: Node<'_>| {
        if !rules.simple.contains(&node.kind()) {
            return false;
        }
        let mut exits = false;
        syntax::walk(node, |n| {
            exits |= rules.exits.contains(&n.kind());
            !exits
        });
        !exits
    };
    let Some(body) = syntax::body_block(lang, function) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    syntax::walk(body, |node| {
        if lang.is_block(node.kind_id()) {
            let block = syntax::block_statements(lang, node);
            for w in block.windows(2) {
                let (Some(a), Some(b)) = (editable(w[0]), editable(w[1])) else {
                    continue;
                };
                if !simple(w[0]) || !simple(w[1]) || a.line_end > b.line_start {
                    continue;
                }
                let (reads_a, writes_a) = names.reads_and_writes(a.start, a.end);
                let (reads_b, writes_b) = names.reads_and_writes(b.start, b.end);
                if !writes_a.is_disjoint(&reads_b) || !writes_b.is_disjoint(&reads_a) {
                    continue;
                }
                let bytes = source.as_bytes();
                if blind_lines(lang, function, bytes, a.start, a.end)
                    == blind_lines(lang, function, bytes, b.start, b.end)
                {
                    continue;
                }
                out.push((a, b));
            }
        }
        true
    });
    out
}
