//! What the firmware's integration tests share: a machine set up like a board running a
//! scenario (a 36K heap, the scenario folder `/mpdiff` as the current folder, `''` first on
//! `sys.path`) and an [`Io`] that keeps what a program prints.

#![allow(dead_code)]

use mpfw::fs::{FileSystem, RamFs};
use mpfw::{Config, InputKind, Io, Machine};

/// Keeps everything printed.
pub struct Cap(pub Vec<u8>);

impl Io for Cap {
    fn write(&mut self, d: &[u8]) {
        self.0.extend_from_slice(d);
    }
}

/// A 36K machine whose current folder `/mpdiff` holds `files` (paths relative to it).
pub fn machine(files: &[(&str, &str)]) -> Machine {
    machine_with_heap(files, 36 * 1024)
}

/// [`machine`] with a heap of `heap` bytes.
pub fn machine_with_heap(files: &[(&str, &str)], heap: usize) -> Machine {
    let mut fs = RamFs::new();
    fs.mkdir("/mpdiff").unwrap();
    for (p, d) in files {
        fs.write_all(&format!("/mpdiff/{p}"), d.as_bytes()).unwrap();
    }
    fs.chdir("/mpdiff").unwrap();
    Machine::new(Config {
        heap_bytes: heap,
        fs: Box::new(fs),
        path: vec!["".into()],
        script_dir: None,
        argv: vec![],
    })
}

/// Runs `src` as the file `name` on `m`: what it printed, and the formatted exception if it
/// raised one.
pub fn exec(m: &mut Machine, src: &str, name: &str) -> (String, Option<String>) {
    let mut io = Cap(Vec::new());
    let r = m.exec(src, name, InputKind::File, &mut io);
    let err = r.err().map(|e| m.format_exception(&e));
    (String::from_utf8_lossy(&io.0).into_owned(), err)
}
