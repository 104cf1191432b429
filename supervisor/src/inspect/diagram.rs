//! The diagram of a spec: one walk of the tree that says what to draw, and
//! two small renderers that say how (Mermaid, Graphviz DOT).

use std::fmt::Write as _;

use super::words;
use crate::policy::Policy;
use crate::spec::{Body, ChildSpec, SupervisorSpec, join_path};

/// How a node is drawn.
#[derive(Clone, Copy)]
enum Shape {
    Supervisor,
    Worker,
}

/// What a renderer is told, in the order it should write it: every node
/// before the edges that reach it, a group's members between its opening
/// and its closing.
trait Sink {
    fn node(&mut self, node: usize, shape: Shape, lines: &[String]);
    fn open_group(&mut self, group: usize, label: &str);
    fn close_group(&mut self);
    fn edge(&mut self, from: usize, to: usize);
}

/// Numbers nodes and groups in the order they are met, so that the same
/// spec always gives the same text.
struct Walk<'a, S> {
    sink: &'a mut S,
    nodes: usize,
    groups: usize,
}

impl<S: Sink> Walk<'_, S> {
    fn root(sink: &mut S, spec: &SupervisorSpec) {
        let mut walk = Walk { sink, nodes: 1, groups: 0 };
        let lines = [format!("supervisor {}", spec.id), words::supervisor_policy(spec)];
        walk.sink.node(0, Shape::Supervisor, &lines);
        walk.children(spec, 0, &spec.id);
    }

    /// The children of the supervisor drawn as `node`, at `path`: their
    /// nodes (a group's members together), the edges to them, then what
    /// nests below each of them.
    fn children(&mut self, spec: &SupervisorSpec, node: usize, path: &str) {
        let first = self.nodes;
        self.nodes += spec.children.len();
        let group_of =
            |child: &ChildSpec| child.group.as_ref().and_then(|g| spec.groups.iter().position(|gs| gs.id == *g));
        let mut drawn = vec![false; spec.groups.len()];
        for (i, child) in spec.children.iter().enumerate() {
            let Some(g) = group_of(child) else {
                self.child(spec, path, child, first + i);
                continue;
            };
            if std::mem::replace(&mut drawn[g], true) {
                continue;
            }
            let group = &spec.groups[g];
            let label = format!(
                "group {}: {}",
                group.id,
                words::layer(group.policy, spec.policy, &format!("supervisor {path}"))
            );
            self.sink.open_group(self.groups, &label);
            self.groups += 1;
            for (j, member) in spec.children.iter().enumerate().filter(|(_, c)| group_of(c) == Some(g)) {
                self.child(spec, path, member, first + j);
            }
            self.sink.close_group();
        }
        for i in 0..spec.children.len() {
            self.sink.edge(node, first + i);
        }
        for (i, child) in spec.children.iter().enumerate() {
            if let Body::Supervisor(nested) = &child.kind {
                self.children(nested, first + i, &join_path(path, &child.id));
            }
        }
    }

    fn child(&mut self, spec: &SupervisorSpec, path: &str, child: &ChildSpec, node: usize) {
        let mut lines = Vec::with_capacity(4);
        let shape = match &child.kind {
            Body::Worker(_) => {
                lines.push(format!("worker {}", child.id));
                Shape::Worker
            }
            Body::Supervisor(nested) => {
                lines.push(format!("supervisor {}", child.id));
                lines.push(words::supervisor_policy(nested));
                Shape::Supervisor
            }
        };
        lines.push(words::child_options(child));
        if let Some((_, over)) = spec.overrides.iter().find(|(id, _)| *id == child.id) {
            let group = child.group.as_ref().and_then(|g| spec.groups.iter().find(|gs| gs.id == *g));
            let below = group.map_or(Policy::new(), |g| g.policy).or(spec.policy);
            let shared = match group {
                Some(g) if g.policy.has_budget() => format!("group {}", g.id),
                _ => format!("supervisor {path}"),
            };
            lines.push(format!("override: {}", words::layer(*over, below, &shared)));
        }
        self.sink.node(node, shape, &lines);
    }
}

/// Lines of text at an indent, as both renderers write them.
struct Text {
    out: String,
    indent: usize,
}

impl Text {
    fn line(&mut self, text: std::fmt::Arguments<'_>) {
        let _ = writeln!(self.out, "{:width$}{text}", "", width = self.indent);
    }
}

/// `line` with each character that `replace` knows written as it says, and
/// control characters (a newline would end the label) as spaces.
fn escape(line: &str, replace: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match replace(c) {
            Some(with) => out.push_str(with),
            None if c.is_control() => out.push(' '),
            None => out.push(c),
        }
    }
    out
}

struct Mermaid(Text);

impl Mermaid {
    /// Mermaid reads `#name;` as an entity: the characters that would end
    /// or change a quoted label are written so.
    fn escape(line: &str) -> String {
        escape(line, |c| match c {
            '"' => Some("#quot;"),
            '#' => Some("#35;"),
            '<' => Some("#lt;"),
            '>' => Some("#gt;"),
            _ => None,
        })
    }
}

impl Sink for Mermaid {
    fn node(&mut self, node: usize, shape: Shape, lines: &[String]) {
        let label = lines.iter().map(|l| Self::escape(l)).collect::<Vec<_>>().join("<br/>");
        match shape {
            Shape::Supervisor => self.0.line(format_args!("n{node}(\"{label}\")")),
            Shape::Worker => self.0.line(format_args!("n{node}[\"{label}\"]")),
        }
    }

    fn open_group(&mut self, group: usize, label: &str) {
        self.0.line(format_args!("subgraph g{group}[\"{}\"]", Self::escape(label)));
        self.0.indent += 4;
    }

    fn close_group(&mut self) {
        self.0.indent -= 4;
        self.0.line(format_args!("end"));
    }

    fn edge(&mut self, from: usize, to: usize) {
        self.0.line(format_args!("n{from} --> n{to}"));
    }
}

struct Dot(Text);

impl Dot {
    fn escape(line: &str) -> String {
        escape(line, |c| match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            _ => None,
        })
    }
}

impl Sink for Dot {
    fn node(&mut self, node: usize, shape: Shape, lines: &[String]) {
        let label = lines.iter().map(|l| Self::escape(l)).collect::<Vec<_>>().join("\\n");
        match shape {
            Shape::Supervisor => self.0.line(format_args!("n{node} [label=\"{label}\", style=\"rounded,bold\"];")),
            Shape::Worker => self.0.line(format_args!("n{node} [label=\"{label}\"];")),
        }
    }

    fn open_group(&mut self, group: usize, label: &str) {
        self.0.line(format_args!("subgraph cluster_g{group} {{"));
        self.0.indent += 4;
        self.0.line(format_args!("label=\"{}\";", Self::escape(label)));
        self.0.line(format_args!("style=dashed;"));
    }

    fn close_group(&mut self) {
        self.0.indent -= 4;
        self.0.line(format_args!("}}"));
    }

    fn edge(&mut self, from: usize, to: usize) {
        self.0.line(format_args!("n{from} -> n{to};"));
    }
}

impl SupervisorSpec {
    /// The tree as a [Mermaid](https://mermaid.js.org) flowchart, for a
    /// README or an issue (GitHub draws ` ```mermaid ` blocks).
    ///
    /// Each supervisor shows its strategy and budget (and its escalation,
    /// auto_shutdown and max_children when set), each child the restart and
    /// shutdown policies in force (and its backoff, heartbeat, start timeout
    /// and `significant` when set) and its override; the members of a group
    /// sit in a box that names the group's strategy and budget. Supervisors
    /// are rounded, workers square. The spec need not be valid, nor can it
    /// be started from here: this only reads it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use supervisor::{ChildSpec, Context, GroupSpec, Strategy, SupervisorSpec};
    ///
    /// let idle = |ctx: Context| async move { ctx.cancelled().await };
    /// let spec = SupervisorSpec::new("app")
    ///     .child(ChildSpec::from_fn("db", idle).shutdown(Duration::from_secs(10)))
    ///     .child(ChildSpec::from_fn("ingest", idle).group("pipeline"))
    ///     .group(GroupSpec::new("pipeline").strategy(Strategy::RestForOne));
    /// assert_eq!(
    ///     spec.to_mermaid(),
    ///     r#"flowchart TD
    ///     n0("supervisor app<br/>one_for_one, 3 restarts in 5s")
    ///     n1["worker db<br/>permanent, shutdown 10s"]
    ///     subgraph g0["group pipeline: rest_for_one, budget of supervisor app"]
    ///         n2["worker ingest<br/>permanent, shutdown 5s"]
    ///     end
    ///     n0 --> n1
    ///     n0 --> n2
    /// "#
    /// );
    /// ```
    pub fn to_mermaid(&self) -> String {
        let mut sink = Mermaid(Text { out: String::from("flowchart TD\n"), indent: 4 });
        Walk::root(&mut sink, self);
        sink.0.out
    }

    /// The tree as a [Graphviz](https://graphviz.org) DOT digraph (`dot
    /// -Tsvg`), with what [`to_mermaid`](Self::to_mermaid) shows: groups
    /// are dashed clusters, supervisors rounded bold boxes.
    ///
    /// ```
    /// use supervisor::{ChildSpec, Context, Restart, SupervisorSpec};
    ///
    /// let spec = SupervisorSpec::new("app")
    ///     .child(ChildSpec::from_fn("job", |_ctx: Context| async {}).restart(Restart::Temporary));
    /// assert_eq!(
    ///     spec.to_dot(),
    ///     r#"digraph "app" {
    ///     node [shape=box];
    ///     n0 [label="supervisor app\none_for_one, 3 restarts in 5s", style="rounded,bold"];
    ///     n1 [label="worker job\ntemporary, shutdown 5s"];
    ///     n0 -> n1;
    /// }
    /// "#
    /// );
    /// ```
    pub fn to_dot(&self) -> String {
        let head = format!("digraph \"{}\" {{\n    node [shape=box];\n", Dot::escape(&self.id));
        let mut sink = Dot(Text { out: head, indent: 4 });
        Walk::root(&mut sink, self);
        sink.0.out.push_str("}\n");
        sink.0.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::Context;

    fn idle(id: &str) -> ChildSpec {
        ChildSpec::from_fn(id, |ctx: Context| async move { ctx.cancelled().await })
    }

    #[test]
    fn labels_that_would_break_a_diagram_are_escaped() {
        let spec = SupervisorSpec::new("a\"b").child(idle("x<y>#1"));
        let mermaid = spec.to_mermaid();
        assert!(mermaid.contains(r#"n0("supervisor a#quot;b<br/>"#), "{mermaid}");
        assert!(mermaid.contains(r#"n1["worker x#lt;y#gt;#35;1<br/>"#), "{mermaid}");
        let dot = SupervisorSpec::new("a\"b").child(idle("back\\slash")).to_dot();
        assert!(dot.starts_with("digraph \"a\\\"b\" {"), "{dot}");
        assert!(dot.contains(r#"label="worker back\\slash\n"#), "{dot}");
    }

    #[test]
    fn nested_nodes_are_numbered_after_their_parents_siblings() {
        let spec = SupervisorSpec::new("app")
            .supervisor(SupervisorSpec::new("left").child(idle("l1")))
            .child(idle("mid"))
            .supervisor(SupervisorSpec::new("right").child(idle("r1")));
        let mermaid = spec.to_mermaid();
        let edges: Vec<&str> = mermaid.lines().map(str::trim).filter(|l| l.contains("-->")).collect();
        assert_eq!(edges, ["n0 --> n1", "n0 --> n2", "n0 --> n3", "n1 --> n4", "n3 --> n5"]);
    }
}
