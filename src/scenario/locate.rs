//! Field paths and where they are in the file.
//!
//! A path is a list of keys and array indices (`provider[1].tranche[0].gpus`).
//! It is shown to users in the dotted syntax `--set` accepts, with array
//! elements named where they have a `name` (`provider.azure.tranche.0.gpus`),
//! and located in the source through the spans `toml_edit` keeps.

use std::ops::Range;
use toml_edit::{Item, Table, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

pub fn key(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

/// Converts serde_path_to_error's path into ours.
pub fn from_serde_path(p: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment;
    p.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Node<'a> {
    Table(&'a Table),
    Item(&'a Item),
    Value(&'a Value),
}

impl<'a> Node<'a> {
    /// Normalises an item that is a table into `Node::Table`.
    fn of_item(i: &'a Item) -> Node<'a> {
        match i {
            Item::Table(t) => Node::Table(t),
            Item::Value(v) => Node::Value(v),
            other => Node::Item(other),
        }
    }

    /// One step down the path: the child node and the span that names it.
    fn child(self, seg: &Seg) -> Option<(Node<'a>, Option<Range<usize>>, Option<String>)> {
        match (seg, self) {
            (Seg::Key(k), Node::Table(t)) => {
                let sp = t.key(k).and_then(|k| k.span());
                Some((Node::of_item(t.get(k)?), sp, None))
            }
            (Seg::Key(k), Node::Value(Value::InlineTable(t))) => {
                let sp = t.key(k).and_then(|k| k.span());
                Some((Node::Value(t.get(k)?), sp, None))
            }
            (Seg::Index(i), Node::Item(Item::ArrayOfTables(a))) => {
                let t = a.get(*i)?;
                let name = t.get("name").and_then(|i| i.as_str()).map(str::to_string);
                Some((Node::Table(t), t.span(), name))
            }
            (Seg::Index(i), Node::Value(Value::Array(a))) => {
                let v = a.get(*i)?;
                let name = match v {
                    Value::InlineTable(t) => t.get("name").and_then(|v| v.as_str()),
                    _ => None,
                }
                .map(str::to_string);
                Some((Node::Value(v), v.span(), name))
            }
            _ => None,
        }
    }
}

/// The dotted path a user would type after `--set`.
pub fn display_path(root: &Table, path: &[Seg]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut node = Some(Node::Table(root));
    for seg in path {
        let step = node.and_then(|n| n.child(seg));
        let label = match (seg, &step) {
            (Seg::Key(k), _) => k.clone(),
            (Seg::Index(_), Some((_, _, Some(name)))) => name.clone(),
            // A contract without a name is addressed by its default name.
            (Seg::Index(i), Some((Node::Table(t), _, None)))
                if out.last().map(String::as_str) == Some("contract") =>
            {
                match (
                    t.get("kind").and_then(|v| v.as_str()),
                    t.get("provider").and_then(|v| v.as_str()),
                ) {
                    (Some(k), Some(p)) => format!("{k}-{p}-{i}"),
                    _ => i.to_string(),
                }
            }
            (Seg::Index(i), _) => i.to_string(),
        };
        out.push(label);
        node = step.map(|(n, _, _)| n);
    }
    out.join(".")
}

/// Byte range of the deepest part of `path` that exists in the document:
/// the key itself for a field, the value for an array element, the table
/// header for a missing field.
pub fn span_of(root: &Table, path: &[Seg]) -> Option<Range<usize>> {
    let mut best = root.span();
    let mut node = Node::Table(root);
    for seg in path {
        match node.child(seg) {
            Some((n, sp, _)) => {
                if sp.is_some() {
                    best = sp;
                }
                node = n;
            }
            None => break,
        }
    }
    best
}

/// 1-based (line, column) of a byte offset; columns count characters.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}
