//! The `mpfw` command: the firmware on a host.
fn main() {}
