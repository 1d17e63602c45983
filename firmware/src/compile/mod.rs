//! The front end: lexer, parser and compiler producing MicroPython 1.9.4's exact bytecode.
//!
//! Configuration reproduced: the unix and esp8266 ports of 1.9.4 set `MICROPY_PERSISTENT_CODE_LOAD`,
//! which turns on `MICROPY_PERSISTENT_CODE` (py/mpconfig.h), plus
//! `MICROPY_OPT_CACHE_MAP_LOOKUP_IN_BYTECODE`. So (checked against `micropython -v -v` dumps):
//! * qstr operands are **2 bytes little-endian** (in the code info and in the ops);
//! * objects and nested raw codes are **not inline**: `LOAD_CONST_OBJ`, `MAKE_FUNCTION*` and
//!   `MAKE_CLOSURE*` take a uint index into the code block's const table (see [`RawCode`]);
//! * `LOAD_NAME`, `LOAD_GLOBAL`, `LOAD_ATTR` and `STORE_ATTR` are followed by one cache byte;
//! * the code info is not padded to a word boundary.
//!
//! Byte layout of one code block (`RawCode::bytecode`, py/emitbc.c):
//! * code info: `n_state` (uint), `n_exc_stack` (uint), `scope_flags` (byte), `n_pos_args` (byte),
//!   `n_kwonly_args` (byte), `n_def_pos_args` (byte), `code_info_size` (uint, counted from the
//!   position of this field to the start of the ops part; 2 bytes are reserved for it, so when it
//!   takes 1 byte the code info ends with one spare 0 byte), `simple_name` (qstr),
//!   `source_file` (qstr), the line-number table, a 0 byte;
//! * ops: the local numbers that become cells (one byte each), 255, then the instructions
//!   (see [`opcodes`]).

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

mod compiler;
pub mod disasm;
mod float;
pub mod lexer;
pub mod opcodes;
pub mod parse;

/// A point where MicroPython 1.9.4's lexer, parser or compiler allocates, resizes or frees
/// GC heap memory (see [`Interner::mem`]). The front end itself keeps its data in Rust memory;
/// a runtime that models the heap replays these operations so that everything else lands
/// where it lands on 1.9.4. Sizes are B32 bytes unless stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemOp {
    /// The lexer's token buffer (`vstr`, 32 bytes at first) grows to this many bytes
    /// (`vstr_ensure_extra`).
    TokenGrow(usize),
    /// The lexer's indent stack (10 entries of 2 bytes at first) grows to this many entries.
    IndentGrow(usize),
    /// `mp_lexer_new` has returned (it read the first token); its caller may now use the heap
    /// (the unix main and `do_load` store `__file__` here).
    LexerReady,
    /// `mp_parse` starts: the rule stack (64 entries of 8 bytes), then the result stack
    /// (32 entries of 4 bytes).
    ParseStart,
    /// The rule stack grows to this many entries (`push_rule`, `m_renew`).
    RuleStackGrow(usize),
    /// The result stack grows to this many entries (`push_result_node`, `m_renew`).
    ResultStackGrow(usize),
    /// `parser_alloc(bytes)`: room for a parse node in the current chunk (grown in place when
    /// possible, else a new chunk).
    Node(usize),
    /// The `const()` table (`parser.consts`) receives its entry number `n` (1-based), which may
    /// grow its hash table.
    ConstsAdd(usize),
    /// `mp_parse` succeeded: the `const()` table is freed, the last chunk shrunk to its use,
    /// both stacks and then the lexer (reader, token buffer, indent stack, lexer) freed.
    ParseEnd,
    /// `scope_new`: the scope (48 bytes), its raw code (16 bytes, kept) and its id table
    /// (4 entries of 8 bytes).
    ScopeNew,
    /// The id table of scope `.0` (creation order) grows to `.1` entries.
    IdGrow(usize, usize),
    /// `emit_bc_new`: the emitter (64 bytes).
    EmitterNew,
    /// `emit_bc_set_max_num_labels`: the label table (this many 4-byte entries).
    Labels(usize),
    /// End of the code-size pass of scope `scope`: its code (`bytes`) and its const table
    /// (`words` entries), both kept.
    Code {
        /// The scope, in creation order.
        scope: usize,
        /// Code info plus bytecode.
        bytes: usize,
        /// Const table entries.
        words: usize,
    },
    /// End of `mp_compile_to_raw_code` (also after a compile error): the emitter and its label
    /// table, the parse tree's chunks (newest first) and every scope (id table, then scope)
    /// are freed.
    CompileEnd,
}

/// A constant-folding operation of 1.9.4's parser on ints (`mp_binary_op`/`mp_unary_op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldOp {
    /// A binary operation.
    Binary(crate::mpz::Op),
    /// Unary `-`.
    Negate,
    /// Unary `~`.
    Invert,
}

/// Where strings become qstrs. The front end calls [`Interner::intern`] at exactly the points
/// where MicroPython 1.9.4 interns, in the same order.
pub trait Interner {
    /// Interns `s` (or finds it) and returns its qstr id; `Err` with kind `MemoryError` when full.
    fn intern(&mut self, s: &str) -> Result<u16, CompileError>;
    /// The id of `s` if it is already interned; never interns.
    fn lookup(&self, s: &str) -> Option<u16>;
    /// The text of qstr `q`.
    fn resolve(&self, q: u16) -> &str;
    /// The bytes of qstr `q` (a qstr may hold a bytes literal that is not UTF-8). The default
    /// uses [`Interner::resolve`]; override it together with [`Interner::intern_bytes`].
    fn resolve_bytes(&self, q: u16) -> &[u8] {
        self.resolve(q).as_bytes()
    }
    /// Performs heap operation `op` of 1.9.4's front end (see [`MemOp`]) at the moment the C
    /// code does it. The default does nothing (for users without a modelled heap); `Err` with
    /// kind `MemoryError` when the heap is full.
    fn mem(&mut self, op: MemOp) -> Result<(), CompileError> {
        let _ = op;
        Ok(())
    }
    /// Makes the heap object of constant `c` now (a parse-time literal or folded value, or a
    /// bytes object at emit time) and returns a handle for [`RawCode::object_handles`]; 0 (the
    /// default) means "not made, make it when loading".
    fn make_const(&mut self, c: &Const) -> Result<u32, CompileError> {
        let _ = c;
        Ok(0)
    }
    /// Performs folding step `op` on the heap as 1.9.4's parser does (`mp_binary_op` makes a
    /// long int operand or result object, with its digits, exactly when the operation needs
    /// one). Operands are given by value and by the handle of their object (0 for a small
    /// int); returns the result's handle (0: a small int, or nothing was made — the default).
    /// The parser has already computed the value and checked the operation is valid.
    fn fold_int(
        &mut self,
        op: FoldOp,
        a: (&crate::mpz::IntVal, u32),
        b: Option<(&crate::mpz::IntVal, u32)>,
    ) -> Result<u32, CompileError> {
        let _ = (op, a, b);
        Ok(0)
    }
    /// The compiler (not the parser) failed with `e`: 1.9.4 makes the exception object, with
    /// its traceback entry, before it frees the emitter, the tree and the scopes; a runtime
    /// that models the heap makes it now. The default does nothing.
    fn compile_failed(&mut self, e: &CompileError) {
        let _ = e;
    }
    /// Interns a str or bytes literal's content (<= 10 bytes). The default handles UTF-8 content
    /// and reports other content as not implemented; a byte-clean qstr table should override it.
    fn intern_bytes(&mut self, b: &[u8]) -> Result<u16, CompileError> {
        match core::str::from_utf8(b) {
            Ok(s) => self.intern(s),
            Err(_) => Err(CompileError {
                kind: "NotImplementedError",
                message: String::from("bytes literal that is not valid UTF-8"),
                file: String::new(),
                line: 0,
                column: 0,
            }),
        }
    }
}

/// What the source is compiled as (py/parse.h `mp_parse_input_kind_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A module, `exec` or raw REPL input.
    File,
    /// The friendly REPL: expression statements print their repr.
    Single,
    /// `eval`: a single expression whose value is returned.
    Eval,
}

/// A compile-time constant that the bytecode refers to by an inline pointer.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    /// A heap `str` (a literal longer than 10 bytes that was not already a qstr).
    Str(String),
    /// A heap `bytes` object.
    Bytes(Vec<u8>),
    /// An int that does not fit a 31-bit small int (a heap long int on B32).
    Int(i64),
    /// A long int object made at parse time (a literal beyond small ints, or a folded
    /// expression involving one); its value may be small (1.9.4 does not demote long ints).
    BigInt(crate::mpz::Mpz),
    /// A float.
    Float(f64),
    /// The `...` singleton (a ROM object).
    Ellipsis,
}

/// What an inline pointer in the bytecode refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixupTarget {
    /// `RawCode::objects[i]`.
    Obj(usize),
    /// `RawCode::children[i]` (the raw code of a nested function, class body, lambda or comprehension).
    Child(usize),
}

/// An inline pointer slot; unused in this configuration (kept for interface stability):
/// `RawCode::fixups` is always empty because 1.9.4 with `MICROPY_PERSISTENT_CODE` uses const-table indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixup {
    /// Byte offset of the slot in `bytecode` (a multiple of 4).
    pub offset: usize,
    /// What to write there.
    pub target: FixupTarget,
}

/// The kind of a raw code object; 1.9.4's compiler only makes bytecode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// `MP_CODE_BYTECODE`.
    Bytecode,
}

/// A compiled code block (py/emitglue.h `mp_raw_code_t`) with its nested blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct RawCode {
    /// Always bytecode.
    pub kind: CodeKind,
    /// `MP_SCOPE_FLAG_*` bits (see [`opcodes::scope_flags`]).
    pub scope_flags: u8,
    /// Number of positional parameters.
    pub n_pos_args: u8,
    /// Number of keyword-only parameters.
    pub n_kwonly_args: u8,
    /// Number of positional parameters with defaults.
    pub n_def_pos_args: u8,
    /// Exactly 1.9.4's bytes (code info then ops).
    pub bytecode: Vec<u8>,
    /// First part of the const table: one qstr per positional/keyword-only slot (`n_pos_args +
    /// n_kwonly_args` entries; a closure's leading free-variable slots and unnamed slots are `*`).
    pub arg_names: Vec<u16>,
    /// Second part of the const table: the objects loaded by `LOAD_CONST_OBJ`, in emission order.
    pub objects: Vec<Const>,
    /// For each of `objects`, the handle [`Interner::make_const`] returned when the object was
    /// made during compilation (0: none was made).
    pub object_handles: Vec<u32>,
    /// Third part of the const table: the raw codes of nested functions, lambdas, classes and
    /// comprehensions made by `MAKE_FUNCTION*`/`MAKE_CLOSURE*`, in emission order.
    ///
    /// The const table is `arg_names.len() + objects.len() + children.len()` words, allocated with
    /// `m_new0` when the block is compiled (none when 0); operand `i` of `LOAD_CONST_OBJ` /
    /// `MAKE_FUNCTION*` / `MAKE_CLOSURE*` indexes this concatenation.
    pub children: Vec<RawCode>,
    /// Always empty in this configuration (see [`Fixup`]).
    pub fixups: Vec<Fixup>,
    /// Position of this block in the compiler's scope list (module = 0): MicroPython allocates the
    /// raw code objects in this order (during the scope pass) and the bytecode/const tables too.
    pub scope_index: usize,
    /// Module level only: heap objects the parser allocated and then dropped (long doc strings
    /// and other lonely constant statements), in creation order. MicroPython leaves them on the
    /// heap as garbage until the next collection, so they show in `gc.mem_free()` until then.
    /// Note also: `Const::Bytes` entries of `objects` that fit 10 bytes are created at emit time,
    /// the other objects at parse time.
    pub parse_garbage: Vec<Const>,
}

/// A compile failure, reported like MicroPython reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// `"SyntaxError"`, `"IndentationError"`, `"NotImplementedError"` or `"MemoryError"`.
    pub kind: &'static str,
    /// The message, e.g. `"invalid syntax"`.
    pub message: String,
    /// The source file name.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl core::fmt::Display for CompileError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.kind, self.message
        )
    }
}

/// Compiles `source` (named `source_file`) into the module's raw code, interning like
/// MicroPython 1.9.4: the file name first (as `mp_lexer_new_from_file` does), then the parser's
/// identifiers and short literals in source order, then the compiler's dotted import names.
pub fn compile(
    source: &str,
    source_file: &str,
    kind: InputKind,
    interner: &mut dyn Interner,
) -> Result<RawCode, CompileError> {
    let locate = |mut e: CompileError| {
        if e.file.is_empty() {
            e.file = String::from(source_file);
        }
        e
    };
    let file_q = interner.intern(source_file).map_err(locate)?;
    // the tree's rule nodes live in this arena, freed at once with it; sized for a typical
    // tree of this source (about 8 bytes of nodes per source byte) so it rarely grows
    let bump = bumpalo::Bump::with_capacity(source.len() * 8);
    let tree = parse::parse(source, source_file, kind, interner, &bump).map_err(locate)?;
    let mut rc = compiler::compile_tree(
        &tree.root,
        &tree.konsts,
        source_file,
        file_q,
        kind,
        interner,
    )
    .map_err(locate)?;
    rc.parse_garbage = tree.garbage;
    Ok(rc)
}

/// A listing of `rc` and its children in the style of MicroPython's `mp_bytecode_print`
/// (one instruction per line), for tests and debugging.
pub fn disassemble(rc: &RawCode) -> String {
    disasm::disassemble(rc)
}

#[cfg(all(test, feature = "std"))]
mod tests;

/// The value of a real decimal number read like the lexer reads one (1.9.4's
/// `mp_parse_num_decimal` loop): `None` for invalid syntax or an imaginary (`j`) number.
/// Shared with the runtime's `float(str)`.
pub fn parse_real_decimal(text: &[u8]) -> Option<f64> {
    float::parse_decimal(text).ok().flatten()
}
