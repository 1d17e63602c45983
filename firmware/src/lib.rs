//! `mpfw`: a small runtime that reproduces MicroPython 1.9.4's observable behaviour for
//! imports, namespaces and the GC heap.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod compile;
pub mod fs;
pub mod heap;
pub mod map;
pub mod qstr;
pub mod repl;
