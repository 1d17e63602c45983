//! `mpfw`: a small runtime that reproduces MicroPython 1.9.4's observable behaviour for
//! imports, namespaces and the GC heap.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod array;
pub mod builtins;
pub mod compile;
pub mod deque;
pub mod fs;
pub mod r#gen;
pub mod hashlib;
pub mod heap;
pub mod import;
pub mod machine;
pub mod map;
pub mod mpz;
pub mod namedtuple;
pub mod obj;
pub mod ops;
pub mod qstr;
pub mod repl;
pub mod romext;
pub mod runtime;
pub mod strfmt;
pub mod stringio;
pub mod strobj;
pub mod ure;
pub mod vm;

pub use compile::InputKind;
pub use machine::{Config, Machine, NullIo, PyException};
pub use runtime::Io;
