//! `--set key=value`: edits the parsed TOML document before it is
//! deserialised, so an override goes through exactly the same type checks and
//! validation as the file itself.
//!
//! Keys are dotted paths. Arrays of tables are addressed by an element's
//! `name` (`provider.azure.price`), by its 0-based index (`rule.2.share`,
//! `provider.oracle.tranche.0.gpus`) or, for contracts without a name, by
//! their default name (`contract.commitment-azure-1.amount`). Values are TOML
//! (`0.4`, `true`, `["a", "b"]`, `"2027-01"`); anything that is not valid TOML
//! is taken as a string, so `period=month` and `until=agi` work unquoted.

use super::locate::Seg;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

/// A parsed override: the path it resolved to, the value it set and the
/// argument as typed.
#[derive(Debug, Clone)]
pub struct Override {
    pub arg: String,
    pub path: Vec<Seg>,
    pub value: Value,
}

/// Applies one `key=value`; on failure returns a message for the user.
pub fn apply(doc: &mut DocumentMut, arg: &str) -> Result<Override, String> {
    let (key, raw_value) = arg
        .split_once('=')
        .ok_or_else(|| "expected key=value, e.g. provider.azure.price=2.1".to_string())?;
    let key = key.trim();
    let segs: Vec<&str> = key.split('.').collect();
    if key.is_empty() || segs.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "found key `{key}`, expected a dotted field path such as workload.api.growth"
        ));
    }
    let value = parse_value(raw_value.trim());
    let mut path = Vec::new();
    set_in_table(doc.as_table_mut(), &segs, value.clone(), &mut path, "")?;
    Ok(Override {
        arg: arg.to_string(),
        path,
        value,
    })
}

/// The first override in `applied` that undoes an earlier one, with that
/// earlier one: `(earlier, later)` indices. It sets the same field to
/// another value, or replaces a whole list an earlier override set an
/// element of. Of two such overrides the later would win silently; the
/// same value twice (`compare` gives each alternative the base's paths
/// and seed, which a `--set` may already have set) is not a conflict.
pub fn repeated(applied: &[Override]) -> Option<(usize, usize)> {
    (1..applied.len()).find_map(|j| {
        let later = &applied[j];
        (0..j)
            .find(|&i| {
                let earlier = &applied[i];
                if earlier.path == later.path {
                    !same_value(&earlier.value, &later.value)
                } else {
                    earlier.path.starts_with(&later.path)
                }
            })
            .map(|i| (i, j))
    })
}

/// Values equal as the scenario reads them: `1_000` is `1000`, `4` is
/// `4.0`.
fn same_value(a: &Value, b: &Value) -> bool {
    let number = |v: &Value| match v {
        Value::Integer(i) => Some(*i.value() as f64),
        Value::Float(f) => Some(*f.value()),
        _ => None,
    };
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.value() == y.value(),
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a.to_string().trim() == b.to_string().trim(),
        },
    }
}

fn parse_value(s: &str) -> Value {
    match s.parse::<Value>() {
        Ok(v) => v.decorated("", ""),
        // An integer too large for TOML's i64 (e.g. `1` and 20 zeros, or a
        // large float printed without an exponent, as `sensitivity` does) is
        // a number, not a string.
        Err(_) if is_integer_literal(s) => Value::from(s.parse::<f64>().unwrap_or(f64::NAN)),
        Err(_) => Value::from(s),
    }
}

fn is_integer_literal(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn set_in_table(
    table: &mut Table,
    segs: &[&str],
    value: Value,
    path: &mut Vec<Seg>,
    prefix: &str,
) -> Result<(), String> {
    let name = segs[0];
    path.push(Seg::Key(name.to_string()));
    let here = join(prefix, name);
    if segs.len() == 1 {
        if matches!(
            table.get(name),
            Some(Item::Table(_)) | Some(Item::ArrayOfTables(_))
        ) {
            return Err(format!(
                "`{here}` is a table, expected a path to one of its fields"
            ));
        }
        table.insert(name, Item::Value(value));
        return Ok(());
    }
    if table.get(name).is_none() {
        // A missing array of tables (`contract.0.amount` in a file without
        // contracts) is an empty one, which names no element; any other
        // missing table (`agi.hazard`) is created.
        let array = [
            "workload",
            "provider",
            "contract",
            "rule",
            "correlation",
            "tranche",
        ];
        if array.contains(&name) {
            table.insert(name, Item::ArrayOfTables(ArrayOfTables::new()));
        } else {
            table.insert(name, Item::Table(Table::new()));
        }
    }
    let item = table.get_mut(name).expect("just inserted");
    normalise(item);
    match item {
        Item::Table(t) => set_in_table(t, &segs[1..], value, path, &here),
        Item::ArrayOfTables(a) => set_in_array(a, &segs[1..], value, path, &here, name),
        Item::Value(Value::Array(arr)) => {
            let idx: usize = segs[1]
                .parse()
                .map_err(|_| format!("`{here}` is a list, expected an index after it"))?;
            if segs.len() != 2 {
                return Err(format!("`{here}.{idx}` is a plain value, not a table"));
            }
            if idx >= arr.len() {
                return Err(format!(
                    "`{here}` has {} elements, found index {idx}",
                    arr.len()
                ));
            }
            path.push(Seg::Index(idx));
            arr.replace(idx, value);
            Ok(())
        }
        _ => Err(format!("`{here}` is a plain value, not a table")),
    }
}

/// Inline tables and arrays of inline tables become their standard forms so
/// one code path can descend into them.
fn normalise(item: &mut Item) {
    let taken = std::mem::take(item);
    *item = match taken {
        Item::Value(Value::InlineTable(t)) => Item::Table(t.into_table()),
        Item::Value(Value::Array(a)) if !a.is_empty() && a.iter().all(|v| v.is_inline_table()) => {
            match Item::Value(Value::Array(a)).into_array_of_tables() {
                Ok(aot) => Item::ArrayOfTables(aot),
                Err(back) => back,
            }
        }
        other => other,
    };
}

fn set_in_array(
    arr: &mut ArrayOfTables,
    segs: &[&str],
    value: Value,
    path: &mut Vec<Seg>,
    prefix: &str,
    array_name: &str,
) -> Result<(), String> {
    let sel = segs[0];
    let mut found = None;
    let mut known = Vec::new();
    for (i, t) in arr.iter().enumerate() {
        let label = element_label(t, i, array_name);
        if label == sel {
            found = Some(i);
        }
        known.push(label);
    }
    if found.is_none() {
        found = sel.parse::<usize>().ok().filter(|i| *i < arr.len());
    }
    let Some(i) = found else {
        if sel.parse::<usize>().is_ok() {
            // An index past the end: no name is "closest" to it.
            let named = known.iter().enumerate().any(|(i, k)| *k != i.to_string());
            return Err(match arr.len() {
                0 => format!("no element `{sel}` in `{prefix}`, which has none"),
                n if named => format!(
                    "no element `{sel}` in `{prefix}`, expected an index 0 to {} or a name: {}",
                    n - 1,
                    known.join(", ")
                ),
                n => format!(
                    "no element `{sel}` in `{prefix}`, expected an index 0 to {}",
                    n - 1
                ),
            });
        }
        let hint = super::closest(sel, known.iter().map(String::as_str))
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        return Err(format!(
            "no element `{sel}` in `{prefix}`, expected one of: {}{hint}",
            if known.is_empty() {
                "(none)".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    path.push(Seg::Index(i));
    if segs.len() == 1 {
        return Err(format!(
            "`{prefix}.{sel}` is a table, expected a path to one of its fields"
        ));
    }
    let t = arr.get_mut(i).expect("index checked");
    set_in_table(t, &segs[1..], value, path, &format!("{prefix}.{sel}"))
}

/// How `--set` names an element: its `name`, or for a contract without one
/// the default `<kind>-<provider>-<index>`; otherwise its index.
fn element_label(t: &Table, i: usize, array_name: &str) -> String {
    if let Some(n) = t.get("name").and_then(|v| v.as_str()) {
        return n.to_string();
    }
    if array_name == "contract" {
        if let (Some(k), Some(p)) = (
            t.get("kind").and_then(|v| v.as_str()),
            t.get("provider").and_then(|v| v.as_str()),
        ) {
            return format!("{k}-{p}-{i}");
        }
    }
    i.to_string()
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}
