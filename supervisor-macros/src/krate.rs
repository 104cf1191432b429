//! Where the `supervisor` crate is, for the paths of an expansion:
//! `::supervisor`, or the path given with `crate = ...` (as serde's
//! `#[serde(crate = "...")]` and tokio's `#[tokio::main(crate = "...")]`).
//!
//! When `::supervisor` will not resolve because the calling crate's
//! Cargo.toml renames the dependency, or lacks it, every path of the
//! expansion would be an error of its own, with rustc's advice to import
//! something else. Read the manifest instead, and say once what to write.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::Error;

/// The crate's path, or why it has none: an error to report, and the path to
/// expand with anyway when the manifest tells it (a renamed dependency).
pub(crate) type Located = Result<TokenStream, (Error, Option<TokenStream>)>;

/// Where the crate is. `given` is the `crate = PATH` option; `how` says how
/// to write one in this macro, e.g. "`crate = sv;` before the root
/// supervisor".
pub(crate) fn locate(given: Option<&syn::Path>, span: Span, how: impl Fn(&str) -> String) -> Located {
    if let Some(path) = given {
        return Ok(path.to_token_stream());
    }
    let default = quote!(::supervisor);
    match manifest_finding() {
        Finding::Dependency | Finding::Unknown => Ok(default),
        Finding::Renamed(name) => Err((
            Error::new(
                span,
                format!(
                    "the `supervisor` crate is named `{name}` in Cargo.toml, and this macro looks for `::supervisor`: write {}",
                    how(&name)
                ),
            ),
            syn::parse_str::<syn::Path>(&format!("::{name}")).ok().map(|p| p.to_token_stream()),
        )),
        Finding::Missing => Err((
            Error::new(
                span,
                format!(
                    "this macro looks for `::supervisor`, and Cargo.toml has no dependency of that name: add `supervisor` to [dependencies], or, when it comes under another name or through another crate, write {}",
                    how("path::to::supervisor")
                ),
            ),
            None,
        )),
    }
}

/// What the calling crate's manifest says about the dependency.
#[derive(Debug, PartialEq, Eq)]
enum Finding {
    /// A dependency named `supervisor`: `::supervisor` resolves.
    Dependency,
    /// The package `supervisor` under another name.
    Renamed(String),
    /// No dependency of that name or that package.
    Missing,
    /// No manifest to read (a build without cargo), or the crate is
    /// `supervisor` itself (its doc tests): trust the default.
    Unknown,
}

fn manifest_finding() -> Finding {
    if std::env::var("CARGO_PKG_NAME").is_ok_and(|name| name == "supervisor") {
        return Finding::Unknown;
    }
    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from) else {
        return Finding::Unknown;
    };
    let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
        return Finding::Unknown;
    };
    let workspace = workspace_manifest(&dir);
    find(&manifest, workspace.as_deref())
}

/// The manifest of the workspace above `dir`, if any.
fn workspace_manifest(dir: &Path) -> Option<String> {
    dir.ancestors().skip(1).find_map(|d| {
        let text = std::fs::read_to_string(d.join("Cargo.toml")).ok()?;
        text.lines().any(|l| l.trim() == "[workspace]").then_some(text)
    })
}

/// One dependency as a manifest declares it.
struct Dep {
    /// The name it is known by in the code (`-` read as `_`).
    key: String,
    /// It is declared under `[workspace.dependencies]`.
    in_workspace_table: bool,
    /// `package = "supervisor"`.
    is_supervisor: bool,
    /// `workspace = true`: declared in the workspace's manifest.
    inherited: bool,
}

/// Reads a member's manifest (and its workspace's) for the dependency.
fn find(manifest: &str, workspace: Option<&str>) -> Finding {
    let deps = dependencies(manifest);
    let own = || deps.iter().filter(|d| !d.in_workspace_table);
    if own().any(|d| d.key == "supervisor") {
        return Finding::Dependency;
    }
    if let Some(renamed) = own().find(|d| d.is_supervisor && !d.inherited) {
        return Finding::Renamed(renamed.key.clone());
    }
    let workspace_deps = workspace.map(dependencies).unwrap_or_default();
    let renamed_in_workspace = own().filter(|d| d.inherited).find(|d| {
        workspace_deps.iter().chain(deps.iter()).any(|w| w.in_workspace_table && w.key == d.key && w.is_supervisor)
    });
    match renamed_in_workspace {
        Some(d) => Finding::Renamed(d.key.clone()),
        None => Finding::Missing,
    }
}

/// The dependencies a manifest declares, in any dependency table
/// (`[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, the same
/// under `[target.'...']`, and `[workspace.dependencies]`), inline or as
/// tables of their own (`[dependencies.sv]`). A line reader, not a TOML
/// parser: dependencies are one line each, or a table of keys.
fn dependencies(manifest: &str) -> Vec<Dep> {
    let mut deps: Vec<Dep> = Vec::new();
    // The table the lines belong to: a dependency table, or the table of one
    // dependency (its index in `deps`).
    enum Table {
        Dependencies { workspace: bool },
        OneDependency(usize),
        Other,
    }
    let mut table = Table::Other;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let header = header.trim_start_matches('[').split(']').next().unwrap_or("").trim();
            let (parent, last) = match header.rsplit_once('.') {
                Some((parent, last)) => (parent, unquote(last)),
                None => ("", unquote(header)),
            };
            table = if is_dependency_table(header) {
                Table::Dependencies { workspace: header == "workspace.dependencies" }
            } else if is_dependency_table(parent) {
                deps.push(Dep {
                    key: last.replace('-', "_"),
                    in_workspace_table: parent == "workspace.dependencies",
                    is_supervisor: false,
                    inherited: false,
                });
                Table::OneDependency(deps.len() - 1)
            } else {
                Table::Other
            };
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let key = key.trim();
        match table {
            Table::Dependencies { workspace } => {
                let (name, field) = match key.split_once('.') {
                    Some((name, field)) => (unquote(name), Some(unquote(field))),
                    None => (unquote(key), None),
                };
                let name = name.replace('-', "_");
                let index = match deps.iter().position(|d| d.key == name && d.in_workspace_table == workspace) {
                    Some(i) => i,
                    None => {
                        deps.push(Dep {
                            key: name,
                            in_workspace_table: workspace,
                            is_supervisor: false,
                            inherited: false,
                        });
                        deps.len() - 1
                    }
                };
                let dep = &mut deps[index];
                match field {
                    Some("package") => dep.is_supervisor |= is_supervisor_value(value),
                    Some("workspace") => dep.inherited |= value.trim() == "true",
                    Some(_) => {}
                    None => {
                        dep.is_supervisor |= inline_field(value, "package").is_some_and(is_supervisor_value);
                        dep.inherited |= inline_field(value, "workspace").is_some_and(|v| v.trim() == "true");
                    }
                }
            }
            Table::OneDependency(index) => match unquote(key) {
                "package" => deps[index].is_supervisor |= is_supervisor_value(value),
                "workspace" => deps[index].inherited |= value.trim() == "true",
                _ => {}
            },
            Table::Other => {}
        }
    }
    deps
}

fn is_dependency_table(header: &str) -> bool {
    let last = header.rsplit('.').next().unwrap_or("");
    matches!(last, "dependencies" | "dev-dependencies" | "build-dependencies")
        && (header == last || header == "workspace.dependencies" || header.starts_with("target."))
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"').trim_matches('\'')
}

fn is_supervisor_value(value: &str) -> bool {
    unquote(value.split('#').next().unwrap_or("")) == "supervisor"
}

/// The value of `field` in an inline table `{ a = 1, field = "x" }`.
fn inline_field<'a>(value: &'a str, field: &str) -> Option<&'a str> {
    let inner = value.trim().strip_prefix('{')?.split('}').next()?;
    inner.split(',').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (unquote(k) == field).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dependency_of_that_name_resolves() {
        for manifest in [
            "[dependencies]\nsupervisor = \"0.1\"\n",
            "[dependencies]\nsupervisor = { path = \"../supervisor\" }\n",
            "[dev-dependencies]\nsupervisor.workspace = true\n",
            "[dependencies.supervisor]\nversion = \"0.1\"\n",
            "[target.'cfg(unix)'.dependencies]\nsupervisor = \"0.1\"\n",
        ] {
            assert_eq!(find(manifest, None), Finding::Dependency, "{manifest}");
        }
    }

    #[test]
    fn a_rename_is_found_where_it_is_written() {
        let direct =
            "[package]\nname = \"app\"\n[dependencies]\nsv = { package = \"supervisor\", version = \"0.1\" }\n";
        assert_eq!(find(direct, None), Finding::Renamed("sv".to_string()));
        let table = "[dependencies.my-sv]\npackage = \"supervisor\"\nversion = \"0.1\"\n";
        assert_eq!(find(table, None), Finding::Renamed("my_sv".to_string()));
        let member = "[dependencies]\nsv.workspace = true\n";
        let workspace = "[workspace]\nmembers = [\"app\"]\n[workspace.dependencies]\nsv = { package = \"supervisor\", path = \"x\" }\n";
        assert_eq!(find(member, Some(workspace)), Finding::Renamed("sv".to_string()));
    }

    #[test]
    fn no_dependency_is_missing() {
        assert_eq!(find("[dependencies]\ntokio = \"1\"\n", None), Finding::Missing);
        // Only in the workspace's table, not the member's own.
        assert_eq!(
            find("[workspace.dependencies]\nsupervisor = \"0.1\"\n[dependencies]\ntokio = \"1\"\n", None),
            Finding::Missing
        );
        // The package section's name is not a dependency.
        assert_eq!(find("[package]\nname = \"supervisor-app\"\nsupervisor = 1\n", None), Finding::Missing);
    }
}
