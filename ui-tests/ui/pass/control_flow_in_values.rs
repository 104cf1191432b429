//! A worker expression or a run-time value may use `?` and `.await`, as
//! anywhere in the function that holds the tree; every value is evaluated
//! once, in the order written.
#[path = "../common.rs"]
mod common;
use common::*;
use std::cell::RefCell;
use std::time::Duration;
use supervisor::{Shutdown, SupervisorSpec, supervision_tree};

async fn connect(log: &RefCell<Vec<&'static str>>) -> Result<Idle, std::io::Error> {
    log.borrow_mut().push("b");
    Ok(Idle)
}

async fn build(log: &RefCell<Vec<&'static str>>, fail: bool) -> Result<SupervisorSpec, std::io::Error> {
    let note = |what: &'static str| log.borrow_mut().push(what);
    let tag = String::from("kept");
    let spec = supervision_tree! {
        supervisor app {
            worker a = { note("a"); Idle };
            worker b(shutdown = { note("b.shutdown"); Duration::from_secs(1) }) = connect(log).await?;
            worker c(shutdown = {
                if fail {
                    return Err(std::io::Error::other("no grace"));
                }
                note("c.shutdown");
                Duration::from_secs(2)
            }) = { note("c"); Idle };
            worker d = { note("d"); let _ = tag.clone(); Idle };
        }
    };
    // What the tree only borrows is still there after it.
    assert_eq!(tag, "kept");
    Ok(spec)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let log = RefCell::new(Vec::new());
    let spec = build(&log, false).await.expect("built");
    assert_eq!(*log.borrow(), ["a", "b", "b.shutdown", "c", "c.shutdown", "d"]);
    assert_eq!(spec.children().len(), 4);
    assert_eq!(spec.children()[2].options().shutdown, Shutdown::Timeout(Duration::from_secs(2)));

    let log = RefCell::new(Vec::new());
    let err = build(&log, true).await.expect_err("`return` leaves the function");
    assert_eq!(err.to_string(), "no grace");
    assert_eq!(*log.borrow(), ["a", "b", "b.shutdown", "c"]);
}
