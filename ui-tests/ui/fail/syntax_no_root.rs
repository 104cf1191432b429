use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {};
}
