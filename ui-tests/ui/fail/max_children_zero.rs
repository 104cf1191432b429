use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app(max_children = 0) {}
    };
}
