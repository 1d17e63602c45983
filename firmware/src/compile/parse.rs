//! The parser, after py/parse.c of MicroPython 1.9.4: the same table-driven grammar (py/grammar.h),
//! the same parse-tree shapes (rule pass-through, blank nodes, parenthesis removal), the same
//! interning points and the same constant folding (`const()`, integer arithmetic, `and`/`or`/`not`).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use bumpalo::Bump;
use core::cell::Cell;
use core::sync::atomic::{AtomicU16, Ordering};

use once_cell::race::OnceBox;

use super::lexer::{Lexer, Tok};
use super::{CompileError, Const, FoldOp, InputKind, Interner, MemOp};
use crate::mpz::{IntVal, Op as IntOp};

/// Deepest rule nesting accepted; deeper input is reported instead of exhausting the stack.
pub const MAX_RULE_DEPTH: usize = 1000;

/// Rule action (py/parse.c `RULE_ACT_*`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Act {
    /// Alternatives.
    Or(usize),
    /// Sequence of n args; `ident` allows pass-through of a single result, `blank` adds a blank node.
    And(usize, bool, bool),
    /// 1: item (sep item)*, 2: item item*, 3: item (sep item)* [sep].
    List(usize),
}

/// One argument of a rule.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg {
    Tok(Tok),
    Rule(R),
    Opt(R),
}

/// A parse node (py/parse.h `mp_parse_node_t`). Rule nodes and their children live in the
/// parse's arena (a [`Bump`]), so a tree is made without an allocation per node and freed at
/// once, without a walk.
#[derive(Debug, Clone, Copy)]
pub enum Node<'b> {
    /// The null node.
    Null,
    /// A small int (31-bit on the 32-bit build).
    Int(i64),
    /// An identifier.
    Id(u16),
    /// An interned str literal.
    Str(u16),
    /// An interned bytes literal.
    Bytes(u16),
    /// A token (keyword constants, operators, NEWLINE).
    Tok(Tok),
    /// A rule node.
    Struct(&'b PNode<'b>),
}

/// A rule node (`mp_parse_node_struct_t`); `R::const_object` carries `konst`.
#[derive(Debug)]
pub struct PNode<'b> {
    /// The rule.
    pub rule: R,
    /// Source line of its first token.
    pub line: u32,
    /// Children.
    pub nodes: &'b [Node<'b>],
    /// The object of a `const_object` node: its index in [`Tree::konsts`] (`NO_KONST` if none).
    pub konst: u32,
    /// Scope index stored by the compiler in place of the blank node (usize::MAX if none).
    pub scope: Cell<usize>,
    /// The [`Interner::make_const`] handle of `konst` (0 if none was made).
    pub obj: u32,
}

/// [`PNode::konst`] of a node without an object.
pub const NO_KONST: u32 = u32::MAX;

/// A parsed module: the root node (its rule nodes in the caller's arena), the objects of its
/// `const_object` nodes, and the objects the parser made for lonely constant statements (doc
/// strings) and then dropped.
pub struct Tree<'b> {
    /// The root node.
    pub root: Node<'b>,
    /// The objects of `const_object` nodes, by [`PNode::konst`].
    pub konsts: Vec<Const>,
    /// Dropped constant objects.
    pub garbage: Vec<Const>,
}

impl<'b> Node<'b> {
    /// Is this the null node?
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }
    /// The struct node if this is one of rule `r`.
    pub fn as_kind(&self, r: R) -> Option<&'b PNode<'b>> {
        match self {
            Node::Struct(p) if p.rule == r => Some(p),
            _ => None,
        }
    }
    /// Is this a struct of rule `r`?
    pub fn is_kind(&self, r: R) -> bool {
        self.as_kind(r).is_some()
    }
    /// The struct node, if any.
    pub fn as_struct(&self) -> Option<&'b PNode<'b>> {
        match self {
            Node::Struct(p) => Some(p),
            _ => None,
        }
    }
    /// Is this a leaf (anything but a struct or null)?
    pub fn is_leaf(&self) -> bool {
        !matches!(self, Node::Null | Node::Struct(_))
    }
    /// `mp_parse_node_is_const_false`.
    pub fn is_const_false(&self) -> bool {
        matches!(self, Node::Tok(Tok::KwFalse) | Node::Int(0))
    }
    /// `mp_parse_node_is_const_true`.
    pub fn is_const_true(&self) -> bool {
        matches!(self, Node::Tok(Tok::KwTrue)) || matches!(self, Node::Int(n) if *n != 0)
    }
    /// `mp_parse_node_get_int_maybe` (`konsts`: the objects of the parse's const nodes).
    fn get_int(&self, konsts: &[Const]) -> Option<IntVal> {
        match self {
            Node::Int(n) => Some(IntVal::Small(*n)),
            Node::Struct(p) if p.rule == R::const_object => match konsts.get(p.konst as usize) {
                Some(Const::Int(n)) => Some(crate::mpz::new_int(*n)),
                Some(Const::BigInt(z)) => Some(IntVal::Big(z.clone())),
                _ => None,
            },
            _ => None,
        }
    }
}

/// `mp_parse_node_extract_list`: the children of a `kind` node, or the node itself as a 1-list.
pub fn extract_list<'n, 'b>(pn: &'n Node<'b>, kind: R) -> &'n [Node<'b>] {
    match pn {
        Node::Null => &[],
        Node::Struct(p) if p.rule == kind => p.nodes,
        other => core::slice::from_ref(other),
    }
}

const SMALL_MIN: i64 = -(1 << 30);
const SMALL_MAX: i64 = (1 << 30) - 1;

/// Does `n` fit a small int of the 32-bit build?
pub fn fits_small(n: i64) -> bool {
    (SMALL_MIN..=SMALL_MAX).contains(&n)
}

/// What a folded or literal int becomes: a small-int leaf, or a long int object.
fn int_const(n: IntVal) -> Result<i64, Const> {
    match n {
        IntVal::Small(v) if fits_small(v) => Ok(v),
        IntVal::Small(v) => Err(Const::BigInt(crate::mpz::from_ll(v))),
        IntVal::Big(z) => Err(Const::BigInt(z)),
    }
}

struct Parser<'a, 'i, 'b> {
    lex: Lexer<'a>,
    /// The arena of the tree's rule nodes and child lists.
    bump: &'b Bump,
    /// The objects of `const_object` nodes.
    konsts: Vec<Const>,
    interner: &'i mut dyn Interner,
    file: &'a str,
    /// The rule stack, 1.9.4's entries (rule, next argument, source line) with the runs a
    /// descent pushes kept as one [`Entry`] each.
    rule_stack: Vec<Entry>,
    /// The entries 1.9.4's rule stack holds (its depth).
    depth: usize,
    /// Entries of 1.9.4's rule stack allocation (64, then 16 more each time it is full).
    rule_alloc: usize,
    results: Vec<Node<'b>>,
    /// Entries of 1.9.4's result stack allocation (32, then 16 more each time it is full).
    result_alloc: usize,
    /// Entries of the lexer's indent stack allocation.
    indent_alloc: usize,
    /// `const()` names, their values and the handles of their objects (0 for small ints).
    consts: Vec<(u16, IntVal, u32)>,
    input_kind: InputKind,
    garbage: Vec<Const>,
}

fn err(kind: &'static str, message: String, file: &str, line: u32, column: u32) -> CompileError {
    CompileError {
        kind,
        message,
        file: String::from(file),
        line,
        column,
    }
}

impl<'b> Parser<'_, '_, 'b> {
    fn error(&self, kind: &'static str, message: &str) -> CompileError {
        err(
            kind,
            String::from(message),
            self.file,
            self.lex.tok_line,
            self.lex.tok_column,
        )
    }

    fn advance(&mut self) -> Result<(), CompileError> {
        self.lex.to_next();
        self.lexer_mem()?;
        self.check_lexer()
    }

    /// The lexer's allocations for the token just read: the growths of its token buffer (see
    /// [`Lexer::vstr_alloc`]), and its indent stack's by 8 entries when full.
    #[inline]
    fn lexer_mem(&mut self) -> Result<(), CompileError> {
        if self.lex.vstr_grow.is_empty() && self.lex.indent_depth() <= self.indent_alloc {
            return Ok(());
        }
        self.lexer_mem_slow()
    }

    #[inline(never)]
    fn lexer_mem_slow(&mut self) -> Result<(), CompileError> {
        for k in 0..self.lex.vstr_grow.len() {
            let n = self.lex.vstr_grow[k];
            self.interner
                .mem(MemOp::TokenGrow(n))
                .map_err(|e| self.located(e))?;
        }
        self.lex.vstr_grow.clear();
        while self.lex.indent_depth() > self.indent_alloc {
            self.indent_alloc += 8;
            self.interner
                .mem(MemOp::IndentGrow(self.indent_alloc))
                .map_err(|e| self.located(e))?;
        }
        Ok(())
    }

    /// `push_result_node`: the result stack grows by 16 entries when full (out of line, as
    /// it is rare).
    #[inline(always)]
    fn push_node(&mut self, n: Node<'b>) -> Result<(), CompileError> {
        if self.results.len() >= self.result_alloc {
            self.grow_results()?;
        }
        self.results.push(n);
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn grow_results(&mut self) -> Result<(), CompileError> {
        self.result_alloc += 16;
        self.interner
            .mem(MemOp::ResultStackGrow(self.result_alloc))
            .map_err(|e| self.located(e))
    }

    /// Makes the node of a constant object (`make_node_const_object`): the object first, then
    /// its 12-byte node in the current chunk.
    fn const_node(&mut self, c: Const, line: u32) -> Result<Node<'b>, CompileError> {
        let obj = self.interner.make_const(&c).map_err(|e| self.located(e))?;
        self.const_node_with(c, line, obj)
    }

    fn const_node_with(&mut self, c: Const, line: u32, obj: u32) -> Result<Node<'b>, CompileError> {
        self.interner
            .mem(MemOp::Node(12))
            .map_err(|e| self.located(e))?;
        let konst = self.konsts.len() as u32;
        self.konsts.push(c);
        Ok(Node::Struct(self.bump.alloc(PNode {
            rule: R::const_object,
            line,
            nodes: &[],
            konst,
            scope: Cell::new(usize::MAX),
            obj,
        })))
    }

    fn int_node(&mut self, n: IntVal, line: u32) -> Result<Node<'b>, CompileError> {
        match int_const(n) {
            Ok(v) => Ok(Node::Int(v)),
            Err(c) => self.const_node(c, line),
        }
    }

    /// The rule stack is about to hold `n` entries: grow it like `push_rule` would on the way.
    fn rule_room(&mut self, n: usize) -> Result<(), CompileError> {
        while n > self.rule_alloc {
            self.rule_alloc += 16;
            self.interner
                .mem(MemOp::RuleStackGrow(self.rule_alloc))
                .map_err(|e| self.located(e))?;
        }
        Ok(())
    }

    /// Rule `r` is skipped because it fails on the current token; 1.9.4 tries it, pushing
    /// `cont` continuation entries and `r`, then `r`'s own failing descent: the rule stack
    /// must grow as it would there.
    fn skip_room(&mut self, cont: usize, r: R) -> Result<(), CompileError> {
        let d = self.depth + cont;
        let peak = d + FAIL_PEAK[r as usize].max(1);
        if peak > self.rule_alloc {
            self.rule_room(peak)?;
        }
        Ok(())
    }

    fn check_lexer(&self) -> Result<(), CompileError> {
        if let Some(what) = self.lex.unsupported {
            return Err(self.error("NotImplementedError", what));
        }
        Ok(())
    }

    fn pop(&mut self) -> Node<'b> {
        self.results.pop().unwrap_or(Node::Null)
    }

    fn peek(&self, pos: usize) -> &Node<'b> {
        let n = self.results.len();
        if pos < n {
            &self.results[n - 1 - pos]
        } else {
            &Node::Null
        }
    }

    fn push_result_token(&mut self, rule: R) -> Result<(), CompileError> {
        let text = core::mem::take(&mut self.lex.text);
        let line = self.lex.tok_line;
        let node = match self.lex.tok_kind {
            Tok::Name => {
                let id = self.intern_name(&text)?;
                let konst = if rule == R::atom {
                    self.consts
                        .iter()
                        .find(|(q, _, _)| *q == id)
                        .map(|(_, v, h)| (v.clone(), *h))
                } else {
                    None
                };
                match konst {
                    // the table's object itself, in a new node
                    Some((v, h)) => match int_const(v) {
                        Ok(v) => Node::Int(v),
                        Err(c) => self.const_node_with(c, line, h)?,
                    },
                    None => Node::Id(id),
                }
            }
            Tok::Integer => {
                let v = self.parse_integer(&text)?;
                self.int_node(v, line)?
            }
            Tok::FloatOrImag => {
                let f = self.parse_float(&text)?;
                self.const_node(Const::Float(f), line)?
            }
            Tok::String | Tok::Bytes => {
                let is_str = self.lex.tok_kind == Tok::String;
                let q = if text.len() <= 10 {
                    Some(
                        self.interner
                            .intern_bytes(&text)
                            .map_err(|e| self.located(e))?,
                    )
                } else {
                    match core::str::from_utf8(&text) {
                        Ok(s) => self.interner.lookup(s),
                        Err(_) => None,
                    }
                };
                match q {
                    Some(q) if is_str => Node::Str(q),
                    Some(q) => Node::Bytes(q),
                    None if is_str => match String::from_utf8(text.clone()) {
                        Ok(s) => self.const_node(Const::Str(s), line)?,
                        Err(_) => {
                            return Err(self.error(
                                "NotImplementedError",
                                "str literal that is not valid UTF-8",
                            ));
                        }
                    },
                    None => self.const_node(Const::Bytes(text.clone()), line)?,
                }
            }
            k => Node::Tok(k),
        };
        self.lex.text = text;
        self.push_node(node)
    }

    /// Interns identifier `text`. A qstr is never freed, so interning a text that is
    /// already a qstr only finds it again: when the id cached for this text (by any parse,
    /// with any interner) is one this interner resolves to the same text, that is the answer,
    /// without asking the interner to search.
    #[inline]
    fn intern_name(&mut self, text: &[u8]) -> Result<u16, CompileError> {
        let slot = NameCache::slot(text);
        let cached = NAME_CACHE[slot].load(Ordering::Relaxed);
        if cached != u16::MAX && self.interner.resolve_bytes(cached) == text {
            return Ok(cached);
        }
        let s =
            core::str::from_utf8(text).map_err(|_| self.error("SyntaxError", "invalid syntax"))?;
        let id = self.interner.intern(s).map_err(|e| self.located(e))?;
        NAME_CACHE[slot].store(id, Ordering::Relaxed);
        Ok(id)
    }

    fn located(&self, mut e: CompileError) -> CompileError {
        e.file = String::from(self.file);
        e.line = self.lex.tok_line;
        e.column = self.lex.tok_column;
        e
    }

    fn parse_integer(&self, text: &[u8]) -> Result<IntVal, CompileError> {
        let mut base = 10u32;
        let mut digits = text;
        if text.len() > 1 && text[0] == b'0' {
            match text[1] | 0x20 {
                b'x' => base = 16,
                b'o' => base = 8,
                b'b' => base = 2,
                _ => {}
            }
            if base != 10 {
                digits = &text[2..];
            }
        }
        match crate::mpz::parse_digits(digits, false, base) {
            Some(v) if !digits.is_empty() => Ok(v),
            _ => {
                let lit = String::from_utf8_lossy(digits);
                Err(self.error(
                    "SyntaxError",
                    &format!("invalid syntax for integer with base {base}: '{lit}'"),
                ))
            }
        }
    }

    fn parse_float(&self, text: &[u8]) -> Result<f64, CompileError> {
        match super::float::parse_decimal(text) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => {
                let lit = String::from_utf8_lossy(text);
                Err(self.error("NotImplementedError", &format!("complex literal: {lit}")))
            }
            Err(()) => Err(self.error("SyntaxError", "invalid syntax for number")),
        }
    }

    fn push_result_rule(
        &mut self,
        src_line: u32,
        rule: R,
        mut num_args: usize,
    ) -> Result<(), CompileError> {
        if rule == R::atom_paren {
            let pn = self.peek(0);
            if !pn.is_null() && !pn.is_kind(R::testlist_comp) {
                return Ok(());
            }
        }
        if self.fold_logical_constants(rule, &mut num_args) {
            return Ok(());
        }
        if self.fold_constants(rule, num_args)? {
            return Ok(());
        }
        self.interner
            .mem(MemOp::Node(8 + 4 * num_args))
            .map_err(|e| self.located(e))?;
        let at = self.results.len().saturating_sub(num_args);
        let nodes: &'b [Node<'b>] = self.bump.alloc_slice_copy(&self.results[at..]);
        self.results.truncate(at);
        self.push_node(Node::Struct(self.bump.alloc(PNode {
            rule,
            line: src_line,
            nodes,
            konst: NO_KONST,
            scope: Cell::new(usize::MAX),
            obj: 0,
        })))
    }

    fn fold_logical_constants(&mut self, rule: R, num_args: &mut usize) -> bool {
        if rule == R::or_test || rule == R::and_test {
            let n = *num_args;
            let base = self.results.len().saturating_sub(n);
            let args = self.results.split_off(base);
            let mut kept: Vec<Node<'b>> = Vec::with_capacity(n);
            for (idx, pn) in args.into_iter().enumerate() {
                let (t, f) = (pn.is_const_true(), pn.is_const_false());
                kept.push(pn);
                if idx + 1 == n {
                    break;
                }
                // `or`: a true constant ends the list, a false one is dropped; `and` the reverse
                let (stop, drop) = if rule == R::or_test { (t, f) } else { (f, t) };
                if stop {
                    break;
                } else if drop {
                    kept.pop();
                }
            }
            *num_args = kept.len();
            self.results.extend(kept);
            return *num_args == 1;
        } else if rule == R::not_test_2 {
            let pn = self.peek(0);
            let new = if pn.is_const_false() {
                Node::Tok(Tok::KwTrue)
            } else if pn.is_const_true() {
                Node::Tok(Tok::KwFalse)
            } else {
                return false;
            };
            self.pop();
            self.results.push(new);
            return true;
        }
        false
    }

    /// One step of a folded chain: the value, and the heap objects `mp_binary_op` makes for
    /// it at parse time (see [`Interner::fold_int`]); returns the value and its object's
    /// handle (0 when small). Objects of all but the last step become garbage, as in 1.9.4.
    fn fold_step(
        &mut self,
        op: IntOp,
        a: (&IntVal, u32),
        b: (&IntVal, u32),
    ) -> Result<(IntVal, u32), CompileError> {
        let v = self.fold_op(op, a.0, b.0)?;
        let h = self
            .interner
            .fold_int(FoldOp::Binary(op), a, Some(b))
            .map_err(|e| self.located(e))?;
        Ok((v, h))
    }

    /// The handle of the object of an int node (0 for a small int).
    fn int_obj(&self, k: usize) -> u32 {
        match &self.results[k] {
            Node::Struct(p) => p.obj,
            _ => 0,
        }
    }

    fn fold_constants(&mut self, rule: R, num_args: usize) -> Result<bool, CompileError> {
        let base = self.results.len() - num_args;
        let arg0: IntVal;
        // the handle of arg0's object when the last step made one
        let mut made = 0;
        match rule {
            R::expr | R::xor_expr | R::and_expr => {
                let Some(mut acc) = self.results[base].get_int(&self.konsts) else {
                    return Ok(false);
                };
                made = self.int_obj(base);
                let op = match rule {
                    R::expr => IntOp::Or,
                    R::xor_expr => IntOp::Xor,
                    _ => IntOp::And,
                };
                for k in base + 1..self.results.len() {
                    let Some(v) = self.results[k].get_int(&self.konsts) else {
                        return Ok(false);
                    };
                    let vh = self.int_obj(k);
                    (acc, made) = self.fold_step(op, (&acc, made), (&v, vh))?;
                }
                arg0 = acc;
            }
            R::shift_expr | R::arith_expr | R::term => {
                let Some(mut acc) = self.results[base].get_int(&self.konsts) else {
                    return Ok(false);
                };
                made = self.int_obj(base);
                let mut i = 1;
                while i + 1 < num_args {
                    let Some(v) = self.results[base + i + 1].get_int(&self.konsts) else {
                        return Ok(false);
                    };
                    let Node::Tok(tok) = self.results[base + i] else {
                        return Ok(false);
                    };
                    let sign = match &v {
                        IntVal::Small(x) => x.signum(),
                        IntVal::Big(z) if z.is_zero() => 0,
                        IntVal::Big(z) if z.neg => -1,
                        IntVal::Big(_) => 1,
                    };
                    let op = match tok {
                        Tok::OpPlus => IntOp::Add,
                        Tok::OpMinus => IntOp::Sub,
                        Tok::OpStar => IntOp::Mul,
                        Tok::OpDblSlash | Tok::OpPercent => {
                            // % and // can't have a zero rhs
                            if sign == 0 {
                                return Ok(false);
                            }
                            if tok == Tok::OpDblSlash {
                                IntOp::FloorDiv
                            } else {
                                IntOp::Mod
                            }
                        }
                        Tok::OpDblLess | Tok::OpDblMore => {
                            // << and >> can't have a negative rhs
                            if sign < 0 {
                                return Ok(false);
                            }
                            if tok == Tok::OpDblLess {
                                IntOp::Lshift
                            } else {
                                IntOp::Rshift
                            }
                        }
                        _ => return Ok(false),
                    };
                    let vh = self.int_obj(base + i + 1);
                    (acc, made) = self.fold_step(op, (&acc, made), (&v, vh))?;
                    i += 2;
                }
                arg0 = acc;
            }
            R::factor_2 => {
                let Some(v) = self.results[base + 1].get_int(&self.konsts) else {
                    return Ok(false);
                };
                let Node::Tok(tok) = self.results[base] else {
                    return Ok(false);
                };
                let vh = self.int_obj(base + 1);
                let op = match tok {
                    Tok::OpPlus => None,
                    Tok::OpMinus => Some(FoldOp::Negate),
                    _ => Some(FoldOp::Invert),
                };
                arg0 = match op {
                    // `+` gives its operand back (the same object)
                    None => {
                        made = vh;
                        v
                    }
                    Some(op) => {
                        let r = crate::mpz::fold_unary(&v, op == FoldOp::Invert);
                        made = self
                            .interner
                            .fold_int(op, (&v, vh), None)
                            .map_err(|e| self.located(e))?;
                        r
                    }
                };
            }
            R::expr_stmt => {
                return self.fold_const_assign();
            }
            R::atom_expr_normal => {
                // MICROPY_COMP_MODULE_CONST: errno.X and uctypes.X become ints at parse time
                let (Node::Id(q_base), Some(tr)) = (
                    &self.results[base],
                    self.results[base + 1].as_kind(R::trailer_period),
                ) else {
                    return Ok(false);
                };
                let Node::Id(attr) = tr.nodes[0] else {
                    return Ok(false);
                };
                let (mname, attr) = (self.interner.resolve(*q_base), self.interner.resolve(attr));
                match MODULE_CONSTS
                    .iter()
                    .find(|(m, a, _)| *m == mname && *a == attr)
                {
                    Some((_, _, v)) => arg0 = IntVal::Small(*v),
                    None => return Ok(false),
                }
            }
            _ => return Ok(false),
        }
        // the folded value's object (if not small) exists before its node is made
        let node = match int_const(arg0) {
            Ok(v) => Node::Int(v),
            Err(c) => {
                let obj = if made != 0 {
                    made
                } else {
                    self.interner.make_const(&c).map_err(|e| self.located(e))?
                };
                self.results.truncate(base);
                self.const_node_with(c, 0, obj)?
            }
        };
        self.results.truncate(base);
        self.push_node(node)?;
        Ok(true)
    }

    /// One folded int operation (`mp_binary_op` at parse time).
    fn fold_op(&self, op: IntOp, a: &IntVal, b: &IntVal) -> Result<IntVal, CompileError> {
        crate::mpz::fold_binary(op, a, b).map_err(|e| match e {
            crate::mpz::IntErr::Oom => self.error("MemoryError", "memory allocation failed"),
            crate::mpz::IntErr::Overflow => self.error(
                "OverflowError",
                "overflow converting long int to machine word",
            ),
            _ => self.error("ValueError", "negative shift count"),
        })
    }

    /// `X = const(value)` handling (MICROPY_COMP_CONST).
    fn fold_const_assign(&mut self) -> Result<bool, CompileError> {
        let pn1 = self.peek(0);
        if pn1.is_null()
            || pn1.is_kind(R::expr_stmt_augassign)
            || pn1.is_kind(R::expr_stmt_assign_list)
        {
            return Ok(false);
        }
        let Node::Id(id) = *self.peek(1) else {
            return Ok(false);
        };
        let Some(p1) = pn1.as_kind(R::atom_expr_normal) else {
            return Ok(false);
        };
        let Node::Id(fq) = p1.nodes[0] else {
            return Ok(false);
        };
        if self.interner.resolve(fq) != "const" || !p1.nodes[1].is_kind(R::trailer_paren) {
            return Ok(false);
        }
        let line = p1.line;
        let Some(paren) = p1.nodes[1].as_struct() else {
            return Ok(false);
        };
        let Some(value) = paren.nodes[0].get_int(&self.konsts) else {
            return Err(err(
                "SyntaxError",
                String::from("constant must be an integer"),
                self.file,
                line,
                1,
            ));
        };
        let obj = match &paren.nodes[0] {
            Node::Struct(c) => c.obj,
            _ => 0,
        };
        if !self.consts.iter().any(|(q, _, _)| *q == id) {
            self.consts.push((id, value, obj));
            let n = self.consts.len();
            self.interner
                .mem(MemOp::ConstsAdd(n))
                .map_err(|e| self.located(e))?;
        }
        if self.interner.resolve(id).starts_with('_') {
            self.pop();
            self.pop();
            self.push_result_rule(0, R::pass_stmt, 0)?;
            return Ok(true);
        }
        // replace const(value) with value
        let call = self.pop();
        let value_node = match call {
            Node::Struct(p) => match p.nodes.last() {
                Some(Node::Struct(paren)) => paren.nodes.last().copied().unwrap_or(Node::Null),
                _ => Node::Null,
            },
            _ => Node::Null,
        };
        self.push_node(value_node)?;
        Ok(false)
    }

    /// Would trying rule `r` on the current token certainly fail cleanly (see [`Lookahead`])?
    /// Only answered yes while the rule stack is far enough from its limit that trying it could
    /// not have raised the recursion error either.
    fn cannot_start(&self, r: R) -> bool {
        let k = r as usize;
        self.depth + FAIL_DEPTH < MAX_RULE_DEPTH
            && LOOKAHEAD.strict[k]
            && LOOKAHEAD.first[k] & tok_bit(self.lex.tok_kind) == 0
    }

    /// Pushes a rule-stack entry; the depth limit and the growth of 1.9.4's rule stack are
    /// handled out of line, as they are rare.
    #[inline(always)]
    fn push_rule(&mut self, line: u32, rule: R, arg_i: usize) -> Result<(), CompileError> {
        let n = self.depth;
        if n >= MAX_RULE_DEPTH || n >= self.rule_alloc {
            return self.push_rule_slow(line, rule, arg_i);
        }
        self.push_entry(line, rule, arg_i);
        Ok(())
    }

    #[inline(always)]
    fn push_entry(&mut self, line: u32, rule: R, arg_i: usize) {
        self.depth += 1;
        self.rule_stack.push(Entry {
            plan: None,
            i: arg_i as u32,
            line,
            rule,
        });
    }

    /// Takes the top entry of 1.9.4's rule stack off.
    #[inline(always)]
    fn pop_entry(&mut self) -> Option<(R, usize, u32)> {
        let top = self.rule_stack.last_mut()?;
        self.depth -= 1;
        match top.plan {
            None => {
                let (rule, i, line) = (top.rule, top.i as usize, top.line);
                self.rule_stack.pop();
                Some((rule, i, line))
            }
            Some(plan) => {
                let n = top.i as usize;
                let line = top.line;
                if n <= 1 {
                    self.rule_stack.pop();
                } else {
                    top.i -= 1;
                }
                let (rule, i) = plan.frames[n - 1];
                Some((rule, usize::from(i), line))
            }
        }
    }

    /// Starts rule `r` at the current token: what pushing it with [`Parser::push_rule`] and
    /// popping it straight away does, checks and stack growth included.
    #[inline(always)]
    fn enter(&mut self, r: R) -> Result<(R, usize, u32), CompileError> {
        let n = self.depth;
        if n >= MAX_RULE_DEPTH {
            return Err(self.error("RuntimeError", "maximum recursion depth exceeded"));
        }
        if n >= self.rule_alloc {
            self.rule_room(n + 1)?;
        }
        Ok((r, 0, self.lex.tok_line))
    }

    /// Starts rule `r` at the current token like [`Parser::enter`], then follows the
    /// [`Descent`] the grammar fixes for that rule and token: the continuation entries the
    /// rules on the way push, the stack growth they cause, and the rule where the walk stops
    /// being fixed, which is returned to be processed next. Near the depth limit, where the
    /// lookahead shortcut is off, it only enters `r`.
    #[inline(always)]
    fn descend(&mut self, r: R) -> Result<(R, usize, u32), CompileError> {
        let plan = descent(r, self.lex.tok_kind);
        let n = self.depth;
        if plan.frames.is_empty() || n + plan.frames.len() + FAIL_DEPTH + 1 >= MAX_RULE_DEPTH {
            return self.enter(r);
        }
        if n + plan.peak > self.rule_alloc {
            self.rule_room(n + plan.peak)?;
        }
        let line = self.lex.tok_line;
        if plan.block.is_empty() {
            for &(rule, i) in &plan.frames {
                self.push_entry(line, rule, usize::from(i));
            }
        } else {
            self.depth += plan.frames.len();
            self.rule_stack.push(Entry {
                plan: Some(plan),
                i: plan.frames.len() as u32,
                line,
                rule: plan.last,
            });
        }
        Ok((plan.last, 0, line))
    }

    /// Drops the entries on top of the rule stack that would do nothing but leave on the
    /// current token (see [`TRANSPARENT`]): exactly what processing them one by one does
    /// when no stack would grow, which is checked here (else the loop does it). The frames
    /// of a descent are dropped together when the checks hold for all of them at once.
    #[inline(always)]
    fn pop_transparent(&mut self) {
        let tok = self.lex.tok_kind as usize % N_TOKS;
        while let Some(&top) = self.rule_stack.last() {
            let (rule, i) = match top.plan {
                None => (top.rule, top.i as usize),
                Some(plan) => {
                    let n = top.i as usize;
                    let blockers = plan.block[tok] & (u64::MAX >> (64 - n));
                    let k = if blockers == 0 {
                        n
                    } else {
                        n - 1 - (63 - blockers.leading_zeros() as usize)
                    };
                    if k == 0 {
                        return;
                    }
                    let base = self.depth - n;
                    if base + plan.room[n - 1] <= self.rule_alloc
                        && base + n - 1 + FAIL_DEPTH < MAX_RULE_DEPTH
                        && plan.nulls[n - 1].is_none_or(|nulls| {
                            self.results.len() + nulls <= self.result_alloc
                                && self.results.last().is_some_and(|r| !r.is_null())
                        })
                    {
                        self.depth -= k;
                        if k == n {
                            self.rule_stack.pop();
                            continue;
                        }
                        if let Some(e) = self.rule_stack.last_mut() {
                            e.i -= k as u32;
                        }
                        return;
                    }
                    let (rule, i) = plan.frames[n - 1];
                    (rule, usize::from(i))
                }
            };
            if !self.transparent(rule, i) {
                return;
            }
            self.pop_entry();
        }
    }

    /// Whether entry `(rule, i)` on top of the rule stack is transparent on the current
    /// token, the stacks not needing to grow to drop it.
    #[inline(always)]
    fn transparent(&self, rule: R, i: usize) -> bool {
        let Some(t) = TRANSPARENT[rule as usize].get(i) else {
            return false;
        };
        let below = self.depth - 1;
        if t.on & tok_bit(self.lex.tok_kind) == 0
            || below + t.peak > self.rule_alloc
            || below + FAIL_DEPTH >= MAX_RULE_DEPTH
        {
            return false;
        }
        !(t.needs_child
            && (self.results.len() + t.nulls > self.result_alloc
                || self.results.last().is_none_or(Node::is_null)))
    }

    #[cold]
    #[inline(never)]
    fn push_rule_slow(&mut self, line: u32, rule: R, arg_i: usize) -> Result<(), CompileError> {
        if self.depth >= MAX_RULE_DEPTH {
            return Err(self.error("RuntimeError", "maximum recursion depth exceeded"));
        }
        if self.depth >= self.rule_alloc {
            self.rule_room(self.depth + 1)?;
        }
        self.push_entry(line, rule, arg_i);
        Ok(())
    }

    fn run(&mut self) -> Result<Node<'b>, CompileError> {
        let top = match self.input_kind {
            InputKind::Single => R::single_input,
            InputKind::Eval => R::eval_input,
            InputKind::File => R::file_input,
        };
        let line = self.lex.tok_line;
        self.push_rule(line, top, 0)?;
        let mut backtrack = false;
        // The child a rule has just entered: processed next without a trip through the
        // stack, which it would leave again at once (the stack depth seen is the same).
        let mut entered: Option<(R, usize, u32)> = None;
        'next_rule: loop {
            let (rule, mut i, rule_src_line) = match entered.take() {
                Some(frame) => frame,
                None => {
                    if !backtrack {
                        self.pop_transparent();
                    }
                    match self.pop_entry() {
                        Some(frame) => frame,
                        None => break,
                    }
                }
            };
            let (act, args) = RULE_DEFS[rule as usize];
            match act {
                Act::Or(n) => {
                    if i > 0 && !backtrack {
                        continue 'next_rule;
                    }
                    backtrack = false;
                    while i < n {
                        match args[i] {
                            Arg::Tok(t) => {
                                if self.lex.tok_kind == t {
                                    self.push_result_token(rule)?;
                                    self.advance()?;
                                    continue 'next_rule;
                                }
                            }
                            Arg::Rule(r) | Arg::Opt(r) => {
                                if self.cannot_start(r) {
                                    // the alternative fails: go on with the next one
                                    self.skip_room(usize::from(i + 1 < n), r)?;
                                    i += 1;
                                    continue;
                                }
                                if i + 1 < n {
                                    self.push_rule(rule_src_line, rule, i + 1)?;
                                }
                                entered = Some(self.descend(r)?);
                                continue 'next_rule;
                            }
                        }
                        i += 1;
                    }
                    backtrack = true;
                }
                Act::And(n, ident, blank) => {
                    if backtrack {
                        if i == 0 {
                            continue 'next_rule;
                        }
                        if matches!(args[i - 1], Arg::Opt(_)) {
                            self.push_node(Node::Null)?;
                            backtrack = false;
                        } else if i > 1 {
                            return Err(self.syntax_error());
                        } else {
                            continue 'next_rule;
                        }
                    }
                    while i < n {
                        match args[i] {
                            Arg::Tok(t) => {
                                if self.lex.tok_kind == t {
                                    if t == Tok::Name {
                                        self.push_result_token(rule)?;
                                    }
                                    self.advance()?;
                                } else if i > 0 {
                                    return Err(self.syntax_error());
                                } else {
                                    backtrack = true;
                                    continue 'next_rule;
                                }
                            }
                            Arg::Opt(r) if self.cannot_start(r) => {
                                self.skip_room(1, r)?;
                                // an absent optional part: a blank node, as after its failure
                                self.push_node(Node::Null)?;
                            }
                            Arg::Rule(r) if self.cannot_start(r) => {
                                self.skip_room(1, r)?;
                                // what the continuation does when the child fails
                                if i > 0 {
                                    return Err(self.syntax_error());
                                }
                                backtrack = true;
                                continue 'next_rule;
                            }
                            Arg::Rule(r) | Arg::Opt(r) => {
                                self.push_rule(rule_src_line, rule, i + 1)?;
                                entered = Some(self.descend(r)?);
                                continue 'next_rule;
                            }
                        }
                        i += 1;
                    }
                    // discard lonely constant statements (doc strings), MICROPY_ENABLE_DOC_STRING=0
                    if self.input_kind != InputKind::Single
                        && rule == R::expr_stmt
                        && self.peek(0).is_null()
                    {
                        let p = self.peek(1);
                        if (p.is_leaf() && !matches!(p, Node::Id(_))) || p.is_kind(R::const_object)
                        {
                            if let Node::Struct(ps) = p
                                && let Some(c) = self.konsts.get(ps.konst as usize)
                            {
                                self.garbage.push(c.clone());
                            }
                            self.pop();
                            self.pop();
                            self.push_result_rule(rule_src_line, R::pass_stmt, 0)?;
                            continue 'next_rule;
                        }
                    }
                    let mut count = 0;
                    let mut num_not_nil = 0;
                    for x in (0..n).rev() {
                        match args[x] {
                            Arg::Tok(t) => {
                                if t == Tok::Name {
                                    count += 1;
                                    num_not_nil += 1;
                                }
                            }
                            _ => {
                                if !self.peek(count).is_null() {
                                    num_not_nil += 1;
                                }
                                count += 1;
                            }
                        }
                    }
                    if num_not_nil == 1 && ident {
                        let mut pn = Node::Null;
                        for _ in 0..count {
                            let pn2 = self.pop();
                            if !pn2.is_null() {
                                pn = pn2;
                            }
                        }
                        self.push_node(pn)?;
                    } else {
                        if blank {
                            self.push_node(Node::Null)?;
                            count += 1;
                        }
                        self.push_result_rule(rule_src_line, rule, count)?;
                    }
                }
                Act::List(n) => {
                    let mut had_trailing_sep = false;
                    let mut failed = backtrack;
                    if !backtrack {
                        loop {
                            let arg = args[i & 1 & n];
                            match arg {
                                Arg::Tok(t) => {
                                    if self.lex.tok_kind == t {
                                        if i & 1 & n == 0 {
                                            self.push_result_token(rule)?;
                                        }
                                        self.advance()?;
                                        i += 1;
                                    } else {
                                        i += 1;
                                        backtrack = true;
                                        failed = true;
                                        break;
                                    }
                                }
                                Arg::Rule(r) | Arg::Opt(r) if self.cannot_start(r) => {
                                    self.skip_room(1, r)?;
                                    // the item fails, as a separator mismatch does
                                    i += 1;
                                    backtrack = true;
                                    failed = true;
                                    break;
                                }
                                Arg::Rule(r) | Arg::Opt(r) => {
                                    self.push_rule(rule_src_line, rule, i + 1)?;
                                    entered = Some(self.descend(r)?);
                                    continue 'next_rule;
                                }
                            }
                        }
                    }
                    if failed {
                        if n == 2 {
                            if i == 1 {
                                continue 'next_rule;
                            }
                            backtrack = false;
                        } else if i == 1 {
                            continue 'next_rule;
                        } else if i & 1 == 1 {
                            if n == 3 {
                                had_trailing_sep = true;
                                backtrack = false;
                            } else {
                                return Err(self.syntax_error());
                            }
                        } else {
                            backtrack = false;
                        }
                    }
                    i = i.saturating_sub(1);
                    if (n & 1) == 1 && matches!(args[1], Arg::Tok(_)) {
                        i = i.div_ceil(2);
                    }
                    if i != 1 || had_trailing_sep {
                        self.push_result_rule(rule_src_line, rule, i)?;
                    }
                }
            }
        }
        if self.lex.tok_kind != Tok::End || self.results.is_empty() {
            return Err(self.syntax_error());
        }
        Ok(self.pop())
    }

    fn syntax_error(&self) -> CompileError {
        match self.lex.tok_kind {
            Tok::Indent => self.error("IndentationError", "unexpected indent"),
            Tok::DedentMismatch => self.error(
                "IndentationError",
                "unindent does not match any outer indentation level",
            ),
            _ => self.error("SyntaxError", "invalid syntax"),
        }
    }
}

/// The integer attributes of `uerrno` (imported as `errno`) and `uctypes` in the 1.9.4 unix build
/// (values read from the 32-bit binary), folded by MICROPY_COMP_MODULE_CONST.
const MODULE_CONSTS: &[(&str, &str, i64)] = &[
    ("errno", "EACCES", 13),
    ("errno", "EADDRINUSE", 98),
    ("errno", "EAGAIN", 11),
    ("errno", "EALREADY", 114),
    ("errno", "EBADF", 9),
    ("errno", "ECONNABORTED", 103),
    ("errno", "ECONNREFUSED", 111),
    ("errno", "ECONNRESET", 104),
    ("errno", "EEXIST", 17),
    ("errno", "EHOSTUNREACH", 113),
    ("errno", "EINPROGRESS", 115),
    ("errno", "EINVAL", 22),
    ("errno", "EIO", 5),
    ("errno", "EISDIR", 21),
    ("errno", "ENOBUFS", 105),
    ("errno", "ENODEV", 19),
    ("errno", "ENOENT", 2),
    ("errno", "ENOMEM", 12),
    ("errno", "ENOTCONN", 107),
    ("errno", "EOPNOTSUPP", 95),
    ("errno", "EPERM", 1),
    ("errno", "ETIMEDOUT", 110),
    ("uctypes", "ARRAY", -1073741824),
    ("uctypes", "BFINT16", -671088640),
    ("uctypes", "BFINT32", -402653184),
    ("uctypes", "BFINT8", -939524096),
    ("uctypes", "BFUINT16", -805306368),
    ("uctypes", "BFUINT32", -536870912),
    ("uctypes", "BFUINT8", -1073741824),
    ("uctypes", "BF_LEN", 22),
    ("uctypes", "BF_POS", 17),
    ("uctypes", "BIG_ENDIAN", 1),
    ("uctypes", "FLOAT32", -268435456),
    ("uctypes", "FLOAT64", -134217728),
    ("uctypes", "INT16", 402653184),
    ("uctypes", "INT32", 671088640),
    ("uctypes", "INT64", 939524096),
    ("uctypes", "INT8", 134217728),
    ("uctypes", "LITTLE_ENDIAN", 0),
    ("uctypes", "NATIVE", 2),
    ("uctypes", "PTR", 536870912),
    ("uctypes", "UINT16", 268435456),
    ("uctypes", "UINT32", 536870912),
    ("uctypes", "UINT64", 805306368),
    ("uctypes", "UINT8", 0),
    ("uctypes", "VOID", 0),
];

/// Number of grammar rules.
const N_RULES: usize = R::const_object as usize + 1;

/// Every rule, in declaration order (index = `R as usize`).
const ALL_RULES: [R; N_RULES] = [
    R::single_input,
    R::file_input,
    R::file_input_2,
    R::file_input_3,
    R::eval_input,
    R::eval_input_2,
    R::decorator,
    R::decorators,
    R::decorated,
    R::decorated_body,
    R::async_funcdef,
    R::funcdef,
    R::funcdefrettype,
    R::typedargslist,
    R::typedargslist_item,
    R::typedargslist_name,
    R::typedargslist_star,
    R::typedargslist_dbl_star,
    R::typedargslist_colon,
    R::typedargslist_equal,
    R::tfpdef,
    R::varargslist,
    R::varargslist_item,
    R::varargslist_name,
    R::varargslist_star,
    R::varargslist_dbl_star,
    R::varargslist_equal,
    R::vfpdef,
    R::stmt,
    R::simple_stmt,
    R::simple_stmt_2,
    R::small_stmt,
    R::expr_stmt,
    R::expr_stmt_2,
    R::expr_stmt_augassign,
    R::expr_stmt_assign_list,
    R::expr_stmt_assign,
    R::expr_stmt_6,
    R::testlist_star_expr,
    R::testlist_star_expr_2,
    R::augassign,
    R::del_stmt,
    R::pass_stmt,
    R::flow_stmt,
    R::break_stmt,
    R::continue_stmt,
    R::return_stmt,
    R::yield_stmt,
    R::raise_stmt,
    R::raise_stmt_arg,
    R::raise_stmt_from,
    R::import_stmt,
    R::import_name,
    R::import_from,
    R::import_from_2,
    R::import_from_2b,
    R::import_from_3,
    R::import_as_names_paren,
    R::one_or_more_period_or_ellipsis,
    R::period_or_ellipsis,
    R::import_as_name,
    R::dotted_as_name,
    R::as_name,
    R::import_as_names,
    R::dotted_as_names,
    R::dotted_name,
    R::global_stmt,
    R::nonlocal_stmt,
    R::name_list,
    R::assert_stmt,
    R::assert_stmt_extra,
    R::compound_stmt,
    R::async_stmt,
    R::async_stmt_2,
    R::if_stmt,
    R::if_stmt_elif_list,
    R::if_stmt_elif,
    R::while_stmt,
    R::for_stmt,
    R::try_stmt,
    R::try_stmt_2,
    R::try_stmt_except_and_more,
    R::try_stmt_except,
    R::try_stmt_as_name,
    R::try_stmt_except_list,
    R::try_stmt_finally,
    R::else_stmt,
    R::with_stmt,
    R::with_stmt_list,
    R::with_item,
    R::with_item_as,
    R::suite,
    R::suite_block,
    R::suite_block_stmts,
    R::test,
    R::test_if_expr,
    R::test_if_else,
    R::test_nocond,
    R::lambdef,
    R::lambdef_nocond,
    R::or_test,
    R::and_test,
    R::not_test,
    R::not_test_2,
    R::comparison,
    R::comp_op,
    R::comp_op_not_in,
    R::comp_op_is,
    R::comp_op_is_not,
    R::star_expr,
    R::expr,
    R::xor_expr,
    R::and_expr,
    R::shift_expr,
    R::shift_op,
    R::arith_expr,
    R::arith_op,
    R::term,
    R::term_op,
    R::factor,
    R::factor_2,
    R::factor_op,
    R::power,
    R::atom_expr,
    R::atom_expr_await,
    R::atom_expr_normal,
    R::atom_expr_trailers,
    R::power_dbl_star,
    R::atom,
    R::atom_paren,
    R::atom_2b,
    R::atom_bracket,
    R::atom_brace,
    R::testlist_comp,
    R::testlist_comp_2,
    R::testlist_comp_3,
    R::testlist_comp_3b,
    R::testlist_comp_3c,
    R::trailer,
    R::trailer_paren,
    R::trailer_bracket,
    R::trailer_period,
    R::subscriptlist,
    R::subscript,
    R::subscript_2,
    R::subscript_3,
    R::subscript_3b,
    R::subscript_3c,
    R::subscript_3d,
    R::sliceop,
    R::exprlist,
    R::exprlist_2,
    R::testlist,
    R::dictorsetmaker,
    R::dictorsetmaker_item,
    R::dictorsetmaker_colon,
    R::dictorsetmaker_tail,
    R::dictorsetmaker_list,
    R::dictorsetmaker_list2,
    R::classdef,
    R::classdef_2,
    R::arglist,
    R::arglist_2,
    R::arglist_star,
    R::arglist_dbl_star,
    R::argument,
    R::argument_2,
    R::argument_3,
    R::comp_iter,
    R::comp_for,
    R::comp_if,
    R::yield_expr,
    R::yield_arg,
    R::yield_arg_from,
    R::const_object,
];

/// Lookahead facts derived from the grammar once, at compile time.
///
/// A rule is *strict* when, started on a token outside its `first` set, it fails without
/// consuming a token, pushing a result, interning or raising: its first element is a token or
/// a strict rule (an `Or` needs every alternative to be one). The parser skips trying such a
/// rule when the current token cannot start it, which is exactly what trying it would have
/// done, minus the rule-stack traffic.
struct Lookahead {
    strict: [bool; N_RULES],
    first: [u128; N_RULES],
}

const fn tok_bit(t: Tok) -> u128 {
    1u128 << (t as u32)
}

const fn compute_lookahead() -> Lookahead {
    let mut strict = [false; N_RULES];
    let mut first = [0u128; N_RULES];
    let mut k = 0;
    while k < N_RULES {
        assert!(ALL_RULES[k] as usize == k);
        k += 1;
    }
    // least fixed point: a rule becomes strict only once its first elements are known strict
    loop {
        let mut changed = false;
        let mut k = 0;
        while k < N_RULES {
            if !strict[k] {
                let (act, args) = rule_def(ALL_RULES[k]);
                let mut ok = false;
                let mut set = 0u128;
                match act {
                    Act::Or(n) => {
                        ok = n > 0;
                        let mut i = 0;
                        while i < n {
                            match args[i] {
                                Arg::Tok(t) => set |= tok_bit(t),
                                Arg::Rule(r) | Arg::Opt(r) => {
                                    if strict[r as usize] {
                                        set |= first[r as usize];
                                    } else {
                                        ok = false;
                                    }
                                }
                            }
                            i += 1;
                        }
                    }
                    Act::And(n, _, _) | Act::List(n) => {
                        if n > 0 {
                            match args[0] {
                                Arg::Tok(t) => {
                                    ok = true;
                                    set = tok_bit(t);
                                }
                                Arg::Rule(r) => {
                                    if strict[r as usize] {
                                        ok = true;
                                        set = first[r as usize];
                                    }
                                }
                                Arg::Opt(_) => {}
                            }
                        }
                    }
                }
                if ok {
                    strict[k] = true;
                    first[k] = set;
                    changed = true;
                }
            }
            k += 1;
        }
        if !changed {
            break;
        }
    }
    Lookahead { strict, first }
}

static LOOKAHEAD: Lookahead = compute_lookahead();

/// What the parser's loop does, token fixed, from entering a rule until it reaches a rule
/// whose first step consumes the token, pushes a result or fails: each rule on the way only
/// skips alternatives the token cannot start (growing the stack as trying them would, see
/// [`FAIL_PEAK`]), pushes its continuation and enters a child. [`Parser::descend`] replays it
/// in one step.
#[derive(Debug)]
struct Descent {
    /// Continuation entries pushed on the way, bottom first.
    frames: Vec<(R, u8)>,
    /// The rule reached, entered but not yet processed.
    last: R,
    /// The deepest the rule stack gets on the way, above where it started.
    peak: usize,
    /// Per token kind, the positions in `frames` (bit `j` for `frames[j]`) of the entries
    /// that are not transparent on it (see [`TRANSPARENT`]); empty when the frames are too
    /// many for the mask, and then they are pushed one by one.
    block: Vec<u64>,
    /// For each `j`, the largest `j' + peak` of the frames up to `j`: the rule-stack room
    /// (above the stack below the frames) that dropping them as transparent may need.
    room: Vec<usize>,
    /// For each `j`, the most blank nodes a transparent `And` among the frames up to `j`
    /// pushes, or `None` when there is no such entry (see [`Trans::needs_child`]).
    nulls: Vec<Option<usize>>,
}

impl Descent {
    /// Fills in `block`, `room` and `nulls` from `frames`.
    fn summarise(&mut self) {
        let n = self.frames.len();
        if !(2..=64).contains(&n) {
            return;
        }
        self.block = alloc::vec![0u64; N_TOKS];
        let mut room = 0usize;
        let mut nulls: Option<usize> = None;
        for (j, &(rule, i)) in self.frames.iter().enumerate() {
            let t = TRANSPARENT[rule as usize]
                .get(usize::from(i))
                .copied()
                .unwrap_or(NOT_TRANSPARENT);
            let mut off = !t.on;
            while off != 0 {
                let k = off.trailing_zeros() as usize;
                off &= off - 1;
                if let Some(b) = self.block.get_mut(k) {
                    *b |= 1 << j;
                }
            }
            room = room.max(j + t.peak);
            if t.needs_child {
                nulls = Some(nulls.unwrap_or(0).max(t.nulls));
            }
            self.room.push(room);
            self.nulls.push(nulls);
        }
    }
}

/// A rule-stack entry: one `(rule, next argument)` pair, or the top `n` frames of a
/// [`Descent`] (pushed in one step and dropped or taken one by one from the top).
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The descent whose frames the entry stands for, if any.
    plan: Option<&'static Descent>,
    /// The next argument, or for a descent the number of its frames still on the stack.
    i: u32,
    /// The source line the entry's rules started on.
    line: u32,
    rule: R,
}

/// Token kinds the lexer has (the lookahead sets are `u128` bit sets of them).
const N_TOKS: usize = 128;

/// Descents, computed on first use: one per rule and token kind.
static DESCENTS: [OnceBox<Descent>; N_RULES * N_TOKS] =
    [const { OnceBox::new() }; N_RULES * N_TOKS];

/// The [`Descent`] from rule `r` on token `t`.
fn descent(r: R, t: Tok) -> &'static Descent {
    DESCENTS[r as usize * N_TOKS + (t as usize % N_TOKS)]
        .get_or_init(|| Box::new(plan_descent(r, t)))
}

/// Walks the grammar as [`Parser::run`] does on entering `r` with token `t` and nothing
/// backtracking, far from the depth limit.
fn plan_descent(r: R, t: Tok) -> Descent {
    let cannot_start =
        |c: R| LOOKAHEAD.strict[c as usize] && LOOKAHEAD.first[c as usize] & tok_bit(t) == 0;
    let mut plan = Descent {
        frames: Vec::new(),
        last: r,
        peak: 1,
        block: Vec::new(),
        room: Vec::new(),
        nulls: Vec::new(),
    };
    let mut rule = r;
    loop {
        let depth = plan.frames.len();
        let (act, args) = RULE_DEFS[rule as usize];
        let next = match act {
            Act::Or(n) => {
                let mut chosen = None;
                for (i, arg) in args.iter().enumerate().take(n) {
                    match *arg {
                        // the token is taken here: the loop does that
                        Arg::Tok(tt) if tt == t => break,
                        Arg::Tok(_) => continue,
                        Arg::Rule(c) | Arg::Opt(c) => {
                            if cannot_start(c) {
                                let cont = usize::from(i + 1 < n);
                                plan.peak =
                                    plan.peak.max(depth + cont + FAIL_PEAK[c as usize].max(1));
                                continue;
                            }
                            chosen = Some((i, c));
                            break;
                        }
                    }
                }
                match chosen {
                    Some((i, c)) => {
                        if i + 1 < n {
                            plan.frames.push((rule, (i + 1) as u8));
                        }
                        Some(c)
                    }
                    None => None,
                }
            }
            Act::And(n, _, _) | Act::List(n) => match args.first() {
                Some(Arg::Rule(c)) | Some(Arg::Opt(c)) if n > 0 && !cannot_start(*c) => {
                    plan.frames.push((rule, 1));
                    Some(*c)
                }
                _ => None,
            },
        };
        match next {
            Some(c) => {
                rule = c;
                plan.peak = plan.peak.max(plan.frames.len() + 1);
            }
            None => {
                // `rule` does something the token decides: the parser's loop takes over
                plan.last = rule;
                plan.summarise();
                return plan;
            }
        }
    }
}

/// [`rule_def`] of every rule, indexed by rule number: one load per rule the parser enters
/// instead of a walk through the `match`.
static RULE_DEFS: [(Act, &[Arg]); N_RULES] = {
    let mut defs: [(Act, &[Arg]); N_RULES] = [(Act::Or(0), &[]); N_RULES];
    let mut k = 0;
    while k < N_RULES {
        defs[k] = rule_def(ALL_RULES[k]);
        k += 1;
    }
    defs
};

/// Deepest the rule stack grows while a strict rule fails on its first token: two entries
/// (continuation and child) per level of a chain in which no rule repeats.
const FAIL_DEPTH: usize = 2 * N_RULES + 2;

/// For each strict rule, how many rule-stack entries 1.9.4's parser holds at most above the
/// stack it found while the rule fails on a token outside its first set: it tries every
/// alternative, pushing (continuation, child) pairs down the chain of first elements. The
/// parser here skips such attempts (see [`Lookahead`]) but still grows the stack allocation
/// to this height, as 1.9.4 does.
static FAIL_PEAK: [usize; N_RULES] = {
    let mut peak = [0usize; N_RULES];
    let mut done = [false; N_RULES];
    let mut k = 0;
    while k < N_RULES {
        fail_peak(k, &mut peak, &mut done, 0);
        k += 1;
    }
    peak
};

const fn fail_peak(
    k: usize,
    peak: &mut [usize; N_RULES],
    done: &mut [bool; N_RULES],
    depth: usize,
) -> usize {
    if done[k] || depth > N_RULES || !LOOKAHEAD.strict[k] {
        return peak[k];
    }
    let (act, args) = RULE_DEFS[k];
    let mut best = 0;
    match act {
        Act::Or(n) => {
            let mut i = 0;
            while i < n {
                if let Arg::Rule(r) | Arg::Opt(r) = args[i] {
                    let cont = if i + 1 < n { 1 } else { 0 };
                    let sub = fail_peak(r as usize, peak, done, depth + 1);
                    let h = cont + if sub > 1 { sub } else { 1 };
                    if h > best {
                        best = h;
                    }
                }
                i += 1;
            }
        }
        Act::And(n, _, _) | Act::List(n) => {
            if n > 0
                && let Arg::Rule(r) | Arg::Opt(r) = args[0]
            {
                let sub = fail_peak(r as usize, peak, done, depth + 1);
                best = 1 + if sub > 1 { sub } else { 1 };
            }
        }
    }
    peak[k] = best;
    done[k] = true;
    best
}

/// A direct-mapped cache of identifier qstrs, slot by a hash of the text, `u16::MAX` when
/// empty; shared by every parse (an entry is only trusted after the interner confirms it, see
/// [`Parser::intern_name`]).
struct NameCache;

static NAME_CACHE: [AtomicU16; NameCache::SLOTS] =
    [const { AtomicU16::new(u16::MAX) }; NameCache::SLOTS];

impl NameCache {
    const SLOTS: usize = 1024;

    /// The slot of `text` (FNV-1a over its bytes).
    #[inline]
    fn slot(text: &[u8]) -> usize {
        let mut h: u32 = 0x811c_9dc5;
        for &b in text {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        (h ^ (h >> 16)) as usize % NameCache::SLOTS
    }
}

/// How a rule-stack entry `(rule, i)` behaves when it is popped after its child succeeded
/// (see [`TRANSPARENT`]).
#[derive(Debug, Clone, Copy)]
struct Trans {
    /// The tokens on which it is transparent: none unless `ok`, else those outside `block`
    /// (the one set the parser tests).
    on: u128,
    /// The entry can be transparent at all.
    ok: bool,
    /// It is transparent only on tokens outside this set.
    block: u128,
    /// Rule-stack room (above the stack without the entry) that trying the rules it skips
    /// needs (see [`Parser::skip_room`]).
    peak: usize,
    /// Blank nodes it pushes (and drops again) for optional parts that are absent.
    nulls: usize,
    /// An `And` entry: transparent only if its child's result is not the null node.
    needs_child: bool,
}

const NOT_TRANSPARENT: Trans = Trans {
    on: 0,
    ok: false,
    block: 0,
    peak: 0,
    nulls: 0,
    needs_child: false,
};

/// Largest `i` a rule-stack entry can hold (the longest `And` rule).
const MAX_ARG: usize = 8;

/// For each rule-stack entry `(rule, i)`: whether popping it after its child succeeded, on a
/// token outside `block`, does nothing but drop the entry: an `Or` that already has its
/// result, a list that ends after its first item (which passes through), or an `And` whose
/// remaining parts are all absent optional ones, so that its single result passes through.
/// Such entries only check the token (and for skipped optional parts, that the stacks need
/// not grow, see [`Parser::pop_transparent`]); the parser drops runs of them in a tight loop.
static TRANSPARENT: [[Trans; MAX_ARG + 1]; N_RULES] = {
    let mut t = [[NOT_TRANSPARENT; MAX_ARG + 1]; N_RULES];
    let mut k = 0;
    while k < N_RULES {
        let (act, args) = RULE_DEFS[k];
        let mut i = 1;
        while i <= MAX_ARG {
            t[k][i] = match act {
                Act::Or(_) => Trans {
                    on: 0,
                    ok: true,
                    block: 0,
                    peak: 0,
                    nulls: 0,
                    needs_child: false,
                },
                Act::List(n) => {
                    // the item or separator tried next must fail cleanly on the token
                    let next = if n == 2 || args.len() < 2 {
                        args[0]
                    } else {
                        args[1]
                    };
                    match next {
                        _ if i != 1 || args.len() < 2 && n != 2 => NOT_TRANSPARENT,
                        Arg::Tok(sep) => Trans {
                            on: 0,
                            ok: true,
                            block: tok_bit(sep),
                            peak: 0,
                            nulls: 0,
                            needs_child: false,
                        },
                        Arg::Rule(r) | Arg::Opt(r) if LOOKAHEAD.strict[r as usize] => Trans {
                            on: 0,
                            ok: true,
                            block: LOOKAHEAD.first[r as usize],
                            peak: 1 + max1(FAIL_PEAK[r as usize]),
                            nulls: 0,
                            needs_child: false,
                        },
                        _ => NOT_TRANSPARENT,
                    }
                }
                Act::And(n, ident, _) => {
                    let first_is_rule = n > 1 && matches!(args[0], Arg::Rule(_) | Arg::Opt(_));
                    if i != 1 || !ident || !first_is_rule || k == R::expr_stmt as usize {
                        NOT_TRANSPARENT
                    } else {
                        let mut tr = Trans {
                            on: 0,
                            ok: true,
                            block: 0,
                            peak: 0,
                            nulls: n - 1,
                            needs_child: true,
                        };
                        let mut j = 1;
                        while j < n {
                            match args[j] {
                                Arg::Opt(r) if LOOKAHEAD.strict[r as usize] => {
                                    tr.block |= LOOKAHEAD.first[r as usize];
                                    let p = 1 + max1(FAIL_PEAK[r as usize]);
                                    if p > tr.peak {
                                        tr.peak = p;
                                    }
                                }
                                _ => tr.ok = false,
                            }
                            j += 1;
                        }
                        if tr.ok { tr } else { NOT_TRANSPARENT }
                    }
                }
            };
            let e = t[k][i];
            t[k][i].on = if e.ok { !e.block } else { 0 };
            i += 1;
        }
        k += 1;
    }
    t
};

const fn max1(x: usize) -> usize {
    if x > 1 { x } else { 1 }
}

/// Parses `source` into MicroPython's parse tree, interning like `mp_parse`.
/// Also returns the objects the parser created for lonely constant statements (doc strings)
/// and then dropped.
pub fn parse<'b>(
    source: &str,
    file: &str,
    kind: InputKind,
    interner: &mut dyn Interner,
    bump: &'b Bump,
) -> Result<Tree<'b>, CompileError> {
    let lex = Lexer::new(source);
    let mut p = Parser {
        lex,
        bump,
        konsts: Vec::new(),
        interner,
        file,
        rule_stack: Vec::with_capacity(MAX_RULE_DEPTH.min(256)),
        depth: 0,
        rule_alloc: 64,
        results: Vec::with_capacity(64),
        result_alloc: 32,
        indent_alloc: 10,
        consts: Vec::new(),
        input_kind: kind,
        garbage: Vec::new(),
    };
    // mp_lexer_new reads the first token; mp_parse then makes its two stacks
    p.lexer_mem()?;
    p.interner.mem(MemOp::LexerReady)?;
    p.interner.mem(MemOp::ParseStart)?;
    p.check_lexer()?;
    let root = p.run()?;
    p.interner.mem(MemOp::ParseEnd)?;
    Ok(Tree {
        root,
        konsts: p.konsts,
        garbage: p.garbage,
    })
}

#[allow(missing_docs, non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum R {
    single_input,
    file_input,
    file_input_2,
    file_input_3,
    eval_input,
    eval_input_2,
    decorator,
    decorators,
    decorated,
    decorated_body,
    async_funcdef,
    funcdef,
    funcdefrettype,
    typedargslist,
    typedargslist_item,
    typedargslist_name,
    typedargslist_star,
    typedargslist_dbl_star,
    typedargslist_colon,
    typedargslist_equal,
    tfpdef,
    varargslist,
    varargslist_item,
    varargslist_name,
    varargslist_star,
    varargslist_dbl_star,
    varargslist_equal,
    vfpdef,
    stmt,
    simple_stmt,
    simple_stmt_2,
    small_stmt,
    expr_stmt,
    expr_stmt_2,
    expr_stmt_augassign,
    expr_stmt_assign_list,
    expr_stmt_assign,
    expr_stmt_6,
    testlist_star_expr,
    testlist_star_expr_2,
    augassign,
    del_stmt,
    pass_stmt,
    flow_stmt,
    break_stmt,
    continue_stmt,
    return_stmt,
    yield_stmt,
    raise_stmt,
    raise_stmt_arg,
    raise_stmt_from,
    import_stmt,
    import_name,
    import_from,
    import_from_2,
    import_from_2b,
    import_from_3,
    import_as_names_paren,
    one_or_more_period_or_ellipsis,
    period_or_ellipsis,
    import_as_name,
    dotted_as_name,
    as_name,
    import_as_names,
    dotted_as_names,
    dotted_name,
    global_stmt,
    nonlocal_stmt,
    name_list,
    assert_stmt,
    assert_stmt_extra,
    compound_stmt,
    async_stmt,
    async_stmt_2,
    if_stmt,
    if_stmt_elif_list,
    if_stmt_elif,
    while_stmt,
    for_stmt,
    try_stmt,
    try_stmt_2,
    try_stmt_except_and_more,
    try_stmt_except,
    try_stmt_as_name,
    try_stmt_except_list,
    try_stmt_finally,
    else_stmt,
    with_stmt,
    with_stmt_list,
    with_item,
    with_item_as,
    suite,
    suite_block,
    suite_block_stmts,
    test,
    test_if_expr,
    test_if_else,
    test_nocond,
    lambdef,
    lambdef_nocond,
    or_test,
    and_test,
    not_test,
    not_test_2,
    comparison,
    comp_op,
    comp_op_not_in,
    comp_op_is,
    comp_op_is_not,
    star_expr,
    expr,
    xor_expr,
    and_expr,
    shift_expr,
    shift_op,
    arith_expr,
    arith_op,
    term,
    term_op,
    factor,
    factor_2,
    factor_op,
    power,
    atom_expr,
    atom_expr_await,
    atom_expr_normal,
    atom_expr_trailers,
    power_dbl_star,
    atom,
    atom_paren,
    atom_2b,
    atom_bracket,
    atom_brace,
    testlist_comp,
    testlist_comp_2,
    testlist_comp_3,
    testlist_comp_3b,
    testlist_comp_3c,
    trailer,
    trailer_paren,
    trailer_bracket,
    trailer_period,
    subscriptlist,
    subscript,
    subscript_2,
    subscript_3,
    subscript_3b,
    subscript_3c,
    subscript_3d,
    sliceop,
    exprlist,
    exprlist_2,
    testlist,
    dictorsetmaker,
    dictorsetmaker_item,
    dictorsetmaker_colon,
    dictorsetmaker_tail,
    dictorsetmaker_list,
    dictorsetmaker_list2,
    classdef,
    classdef_2,
    arglist,
    arglist_2,
    arglist_star,
    arglist_dbl_star,
    argument,
    argument_2,
    argument_3,
    comp_iter,
    comp_for,
    comp_if,
    yield_expr,
    yield_arg,
    yield_arg_from,
    const_object,
}
pub(crate) const fn rule_def(r: R) -> (Act, &'static [Arg]) {
    match r {
        R::single_input => (
            Act::Or(3),
            &[
                Arg::Tok(Tok::Newline),
                Arg::Rule(R::simple_stmt),
                Arg::Rule(R::compound_stmt),
            ],
        ),
        R::file_input => (Act::And(1, true, false), &[Arg::Opt(R::file_input_2)]),
        R::file_input_2 => (Act::List(2), &[Arg::Rule(R::file_input_3)]),
        R::file_input_3 => (Act::Or(2), &[Arg::Tok(Tok::Newline), Arg::Rule(R::stmt)]),
        R::eval_input => (
            Act::And(2, true, false),
            &[Arg::Rule(R::testlist), Arg::Opt(R::eval_input_2)],
        ),
        R::eval_input_2 => (Act::And(1, false, false), &[Arg::Tok(Tok::Newline)]),
        R::decorator => (
            Act::And(4, false, false),
            &[
                Arg::Tok(Tok::DelAt),
                Arg::Rule(R::dotted_name),
                Arg::Opt(R::trailer_paren),
                Arg::Tok(Tok::Newline),
            ],
        ),
        R::decorators => (Act::List(2), &[Arg::Rule(R::decorator)]),
        R::decorated => (
            Act::And(2, true, false),
            &[Arg::Rule(R::decorators), Arg::Rule(R::decorated_body)],
        ),
        R::decorated_body => (
            Act::Or(3),
            &[
                Arg::Rule(R::classdef),
                Arg::Rule(R::funcdef),
                Arg::Rule(R::async_funcdef),
            ],
        ),
        R::async_funcdef => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwAsync), Arg::Rule(R::funcdef)],
        ),
        R::funcdef => (
            Act::And(8, false, true),
            &[
                Arg::Tok(Tok::KwDef),
                Arg::Tok(Tok::Name),
                Arg::Tok(Tok::DelParenOpen),
                Arg::Opt(R::typedargslist),
                Arg::Tok(Tok::DelParenClose),
                Arg::Opt(R::funcdefrettype),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::suite),
            ],
        ),
        R::funcdefrettype => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::DelMinusMore), Arg::Rule(R::test)],
        ),
        R::typedargslist => (
            Act::List(3),
            &[Arg::Rule(R::typedargslist_item), Arg::Tok(Tok::DelComma)],
        ),
        R::typedargslist_item => (
            Act::Or(3),
            &[
                Arg::Rule(R::typedargslist_name),
                Arg::Rule(R::typedargslist_star),
                Arg::Rule(R::typedargslist_dbl_star),
            ],
        ),
        R::typedargslist_name => (
            Act::And(3, true, false),
            &[
                Arg::Tok(Tok::Name),
                Arg::Opt(R::typedargslist_colon),
                Arg::Opt(R::typedargslist_equal),
            ],
        ),
        R::typedargslist_star => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::OpStar), Arg::Opt(R::tfpdef)],
        ),
        R::typedargslist_dbl_star => (
            Act::And(3, false, false),
            &[
                Arg::Tok(Tok::OpDblStar),
                Arg::Tok(Tok::Name),
                Arg::Opt(R::typedargslist_colon),
            ],
        ),
        R::typedargslist_colon => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::DelColon), Arg::Rule(R::test)],
        ),
        R::typedargslist_equal => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::DelEqual), Arg::Rule(R::test)],
        ),
        R::tfpdef => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::Name), Arg::Opt(R::typedargslist_colon)],
        ),
        R::varargslist => (
            Act::List(3),
            &[Arg::Rule(R::varargslist_item), Arg::Tok(Tok::DelComma)],
        ),
        R::varargslist_item => (
            Act::Or(3),
            &[
                Arg::Rule(R::varargslist_name),
                Arg::Rule(R::varargslist_star),
                Arg::Rule(R::varargslist_dbl_star),
            ],
        ),
        R::varargslist_name => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::Name), Arg::Opt(R::varargslist_equal)],
        ),
        R::varargslist_star => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::OpStar), Arg::Opt(R::vfpdef)],
        ),
        R::varargslist_dbl_star => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::OpDblStar), Arg::Tok(Tok::Name)],
        ),
        R::varargslist_equal => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::DelEqual), Arg::Rule(R::test)],
        ),
        R::vfpdef => (Act::And(1, true, false), &[Arg::Tok(Tok::Name)]),
        R::stmt => (
            Act::Or(2),
            &[Arg::Rule(R::compound_stmt), Arg::Rule(R::simple_stmt)],
        ),
        R::simple_stmt => (
            Act::And(2, true, false),
            &[Arg::Rule(R::simple_stmt_2), Arg::Tok(Tok::Newline)],
        ),
        R::simple_stmt_2 => (
            Act::List(3),
            &[Arg::Rule(R::small_stmt), Arg::Tok(Tok::DelSemicolon)],
        ),
        R::small_stmt => (
            Act::Or(8),
            &[
                Arg::Rule(R::del_stmt),
                Arg::Rule(R::pass_stmt),
                Arg::Rule(R::flow_stmt),
                Arg::Rule(R::import_stmt),
                Arg::Rule(R::global_stmt),
                Arg::Rule(R::nonlocal_stmt),
                Arg::Rule(R::assert_stmt),
                Arg::Rule(R::expr_stmt),
            ],
        ),
        R::expr_stmt => (
            Act::And(2, false, false),
            &[Arg::Rule(R::testlist_star_expr), Arg::Opt(R::expr_stmt_2)],
        ),
        R::expr_stmt_2 => (
            Act::Or(2),
            &[
                Arg::Rule(R::expr_stmt_augassign),
                Arg::Rule(R::expr_stmt_assign_list),
            ],
        ),
        R::expr_stmt_augassign => (
            Act::And(2, true, false),
            &[Arg::Rule(R::augassign), Arg::Rule(R::expr_stmt_6)],
        ),
        R::expr_stmt_assign_list => (Act::List(2), &[Arg::Rule(R::expr_stmt_assign)]),
        R::expr_stmt_assign => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::DelEqual), Arg::Rule(R::expr_stmt_6)],
        ),
        R::expr_stmt_6 => (
            Act::Or(2),
            &[Arg::Rule(R::yield_expr), Arg::Rule(R::testlist_star_expr)],
        ),
        R::testlist_star_expr => (
            Act::List(3),
            &[Arg::Rule(R::testlist_star_expr_2), Arg::Tok(Tok::DelComma)],
        ),
        R::testlist_star_expr_2 => (Act::Or(2), &[Arg::Rule(R::star_expr), Arg::Rule(R::test)]),
        R::augassign => (
            Act::Or(12),
            &[
                Arg::Tok(Tok::DelPlusEqual),
                Arg::Tok(Tok::DelMinusEqual),
                Arg::Tok(Tok::DelStarEqual),
                Arg::Tok(Tok::DelSlashEqual),
                Arg::Tok(Tok::DelPercentEqual),
                Arg::Tok(Tok::DelAmpersandEqual),
                Arg::Tok(Tok::DelPipeEqual),
                Arg::Tok(Tok::DelCaretEqual),
                Arg::Tok(Tok::DelDblLessEqual),
                Arg::Tok(Tok::DelDblMoreEqual),
                Arg::Tok(Tok::DelDblStarEqual),
                Arg::Tok(Tok::DelDblSlashEqual),
            ],
        ),
        R::del_stmt => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwDel), Arg::Rule(R::exprlist)],
        ),
        R::pass_stmt => (Act::And(1, false, false), &[Arg::Tok(Tok::KwPass)]),
        R::flow_stmt => (
            Act::Or(5),
            &[
                Arg::Rule(R::break_stmt),
                Arg::Rule(R::continue_stmt),
                Arg::Rule(R::return_stmt),
                Arg::Rule(R::raise_stmt),
                Arg::Rule(R::yield_stmt),
            ],
        ),
        R::break_stmt => (Act::And(1, false, false), &[Arg::Tok(Tok::KwBreak)]),
        R::continue_stmt => (Act::And(1, false, false), &[Arg::Tok(Tok::KwContinue)]),
        R::return_stmt => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwReturn), Arg::Opt(R::testlist)],
        ),
        R::yield_stmt => (Act::And(1, false, false), &[Arg::Rule(R::yield_expr)]),
        R::raise_stmt => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwRaise), Arg::Opt(R::raise_stmt_arg)],
        ),
        R::raise_stmt_arg => (
            Act::And(2, true, false),
            &[Arg::Rule(R::test), Arg::Opt(R::raise_stmt_from)],
        ),
        R::raise_stmt_from => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::KwFrom), Arg::Rule(R::test)],
        ),
        R::import_stmt => (
            Act::Or(2),
            &[Arg::Rule(R::import_name), Arg::Rule(R::import_from)],
        ),
        R::import_name => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwImport), Arg::Rule(R::dotted_as_names)],
        ),
        R::import_from => (
            Act::And(4, false, false),
            &[
                Arg::Tok(Tok::KwFrom),
                Arg::Rule(R::import_from_2),
                Arg::Tok(Tok::KwImport),
                Arg::Rule(R::import_from_3),
            ],
        ),
        R::import_from_2 => (
            Act::Or(2),
            &[Arg::Rule(R::dotted_name), Arg::Rule(R::import_from_2b)],
        ),
        R::import_from_2b => (
            Act::And(2, true, false),
            &[
                Arg::Rule(R::one_or_more_period_or_ellipsis),
                Arg::Opt(R::dotted_name),
            ],
        ),
        R::import_from_3 => (
            Act::Or(3),
            &[
                Arg::Tok(Tok::OpStar),
                Arg::Rule(R::import_as_names_paren),
                Arg::Rule(R::import_as_names),
            ],
        ),
        R::import_as_names_paren => (
            Act::And(3, true, false),
            &[
                Arg::Tok(Tok::DelParenOpen),
                Arg::Rule(R::import_as_names),
                Arg::Tok(Tok::DelParenClose),
            ],
        ),
        R::one_or_more_period_or_ellipsis => (Act::List(2), &[Arg::Rule(R::period_or_ellipsis)]),
        R::period_or_ellipsis => (
            Act::Or(2),
            &[Arg::Tok(Tok::DelPeriod), Arg::Tok(Tok::Ellipsis)],
        ),
        R::import_as_name => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::Name), Arg::Opt(R::as_name)],
        ),
        R::dotted_as_name => (
            Act::And(2, true, false),
            &[Arg::Rule(R::dotted_name), Arg::Opt(R::as_name)],
        ),
        R::as_name => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::KwAs), Arg::Tok(Tok::Name)],
        ),
        R::import_as_names => (
            Act::List(3),
            &[Arg::Rule(R::import_as_name), Arg::Tok(Tok::DelComma)],
        ),
        R::dotted_as_names => (
            Act::List(1),
            &[Arg::Rule(R::dotted_as_name), Arg::Tok(Tok::DelComma)],
        ),
        R::dotted_name => (
            Act::List(1),
            &[Arg::Tok(Tok::Name), Arg::Tok(Tok::DelPeriod)],
        ),
        R::global_stmt => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwGlobal), Arg::Rule(R::name_list)],
        ),
        R::nonlocal_stmt => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwNonlocal), Arg::Rule(R::name_list)],
        ),
        R::name_list => (
            Act::List(1),
            &[Arg::Tok(Tok::Name), Arg::Tok(Tok::DelComma)],
        ),
        R::assert_stmt => (
            Act::And(3, false, false),
            &[
                Arg::Tok(Tok::KwAssert),
                Arg::Rule(R::test),
                Arg::Opt(R::assert_stmt_extra),
            ],
        ),
        R::assert_stmt_extra => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::DelComma), Arg::Rule(R::test)],
        ),
        R::compound_stmt => (
            Act::Or(9),
            &[
                Arg::Rule(R::if_stmt),
                Arg::Rule(R::while_stmt),
                Arg::Rule(R::for_stmt),
                Arg::Rule(R::try_stmt),
                Arg::Rule(R::with_stmt),
                Arg::Rule(R::funcdef),
                Arg::Rule(R::classdef),
                Arg::Rule(R::decorated),
                Arg::Rule(R::async_stmt),
            ],
        ),
        R::async_stmt => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwAsync), Arg::Rule(R::async_stmt_2)],
        ),
        R::async_stmt_2 => (
            Act::Or(3),
            &[
                Arg::Rule(R::funcdef),
                Arg::Rule(R::with_stmt),
                Arg::Rule(R::for_stmt),
            ],
        ),
        R::if_stmt => (
            Act::And(6, false, false),
            &[
                Arg::Tok(Tok::KwIf),
                Arg::Rule(R::test),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::suite),
                Arg::Opt(R::if_stmt_elif_list),
                Arg::Opt(R::else_stmt),
            ],
        ),
        R::if_stmt_elif_list => (Act::List(2), &[Arg::Rule(R::if_stmt_elif)]),
        R::if_stmt_elif => (
            Act::And(4, false, false),
            &[
                Arg::Tok(Tok::KwElif),
                Arg::Rule(R::test),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::suite),
            ],
        ),
        R::while_stmt => (
            Act::And(5, false, false),
            &[
                Arg::Tok(Tok::KwWhile),
                Arg::Rule(R::test),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::suite),
                Arg::Opt(R::else_stmt),
            ],
        ),
        R::for_stmt => (
            Act::And(7, false, false),
            &[
                Arg::Tok(Tok::KwFor),
                Arg::Rule(R::exprlist),
                Arg::Tok(Tok::KwIn),
                Arg::Rule(R::testlist),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::suite),
                Arg::Opt(R::else_stmt),
            ],
        ),
        R::try_stmt => (
            Act::And(4, false, false),
            &[
                Arg::Tok(Tok::KwTry),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::suite),
                Arg::Rule(R::try_stmt_2),
            ],
        ),
        R::try_stmt_2 => (
            Act::Or(2),
            &[
                Arg::Rule(R::try_stmt_except_and_more),
                Arg::Rule(R::try_stmt_finally),
            ],
        ),
        R::try_stmt_except_and_more => (
            Act::And(3, true, false),
            &[
                Arg::Rule(R::try_stmt_except_list),
                Arg::Opt(R::else_stmt),
                Arg::Opt(R::try_stmt_finally),
            ],
        ),
        R::try_stmt_except => (
            Act::And(4, false, false),
            &[
                Arg::Tok(Tok::KwExcept),
                Arg::Opt(R::try_stmt_as_name),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::suite),
            ],
        ),
        R::try_stmt_as_name => (
            Act::And(2, true, false),
            &[Arg::Rule(R::test), Arg::Opt(R::as_name)],
        ),
        R::try_stmt_except_list => (Act::List(2), &[Arg::Rule(R::try_stmt_except)]),
        R::try_stmt_finally => (
            Act::And(3, false, false),
            &[
                Arg::Tok(Tok::KwFinally),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::suite),
            ],
        ),
        R::else_stmt => (
            Act::And(3, true, false),
            &[
                Arg::Tok(Tok::KwElse),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::suite),
            ],
        ),
        R::with_stmt => (
            Act::And(4, false, false),
            &[
                Arg::Tok(Tok::KwWith),
                Arg::Rule(R::with_stmt_list),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::suite),
            ],
        ),
        R::with_stmt_list => (
            Act::List(1),
            &[Arg::Rule(R::with_item), Arg::Tok(Tok::DelComma)],
        ),
        R::with_item => (
            Act::And(2, true, false),
            &[Arg::Rule(R::test), Arg::Opt(R::with_item_as)],
        ),
        R::with_item_as => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::KwAs), Arg::Rule(R::expr)],
        ),
        R::suite => (
            Act::Or(2),
            &[Arg::Rule(R::suite_block), Arg::Rule(R::simple_stmt)],
        ),
        R::suite_block => (
            Act::And(4, true, false),
            &[
                Arg::Tok(Tok::Newline),
                Arg::Tok(Tok::Indent),
                Arg::Rule(R::suite_block_stmts),
                Arg::Tok(Tok::Dedent),
            ],
        ),
        R::suite_block_stmts => (Act::List(2), &[Arg::Rule(R::stmt)]),
        R::test => (
            Act::Or(2),
            &[Arg::Rule(R::lambdef), Arg::Rule(R::test_if_expr)],
        ),
        R::test_if_expr => (
            Act::And(2, true, false),
            &[Arg::Rule(R::or_test), Arg::Opt(R::test_if_else)],
        ),
        R::test_if_else => (
            Act::And(4, false, false),
            &[
                Arg::Tok(Tok::KwIf),
                Arg::Rule(R::or_test),
                Arg::Tok(Tok::KwElse),
                Arg::Rule(R::test),
            ],
        ),
        R::test_nocond => (
            Act::Or(2),
            &[Arg::Rule(R::lambdef_nocond), Arg::Rule(R::or_test)],
        ),
        R::lambdef => (
            Act::And(4, false, true),
            &[
                Arg::Tok(Tok::KwLambda),
                Arg::Opt(R::varargslist),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::test),
            ],
        ),
        R::lambdef_nocond => (
            Act::And(4, false, true),
            &[
                Arg::Tok(Tok::KwLambda),
                Arg::Opt(R::varargslist),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::test_nocond),
            ],
        ),
        R::or_test => (Act::List(1), &[Arg::Rule(R::and_test), Arg::Tok(Tok::KwOr)]),
        R::and_test => (
            Act::List(1),
            &[Arg::Rule(R::not_test), Arg::Tok(Tok::KwAnd)],
        ),
        R::not_test => (
            Act::Or(2),
            &[Arg::Rule(R::not_test_2), Arg::Rule(R::comparison)],
        ),
        R::not_test_2 => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwNot), Arg::Rule(R::not_test)],
        ),
        R::comparison => (Act::List(1), &[Arg::Rule(R::expr), Arg::Rule(R::comp_op)]),
        R::comp_op => (
            Act::Or(9),
            &[
                Arg::Tok(Tok::OpLess),
                Arg::Tok(Tok::OpMore),
                Arg::Tok(Tok::OpDblEqual),
                Arg::Tok(Tok::OpLessEqual),
                Arg::Tok(Tok::OpMoreEqual),
                Arg::Tok(Tok::OpNotEqual),
                Arg::Tok(Tok::KwIn),
                Arg::Rule(R::comp_op_not_in),
                Arg::Rule(R::comp_op_is),
            ],
        ),
        R::comp_op_not_in => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwNot), Arg::Tok(Tok::KwIn)],
        ),
        R::comp_op_is => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwIs), Arg::Opt(R::comp_op_is_not)],
        ),
        R::comp_op_is_not => (Act::And(1, false, false), &[Arg::Tok(Tok::KwNot)]),
        R::star_expr => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::OpStar), Arg::Rule(R::expr)],
        ),
        R::expr => (
            Act::List(1),
            &[Arg::Rule(R::xor_expr), Arg::Tok(Tok::OpPipe)],
        ),
        R::xor_expr => (
            Act::List(1),
            &[Arg::Rule(R::and_expr), Arg::Tok(Tok::OpCaret)],
        ),
        R::and_expr => (
            Act::List(1),
            &[Arg::Rule(R::shift_expr), Arg::Tok(Tok::OpAmpersand)],
        ),
        R::shift_expr => (
            Act::List(1),
            &[Arg::Rule(R::arith_expr), Arg::Rule(R::shift_op)],
        ),
        R::shift_op => (
            Act::Or(2),
            &[Arg::Tok(Tok::OpDblLess), Arg::Tok(Tok::OpDblMore)],
        ),
        R::arith_expr => (Act::List(1), &[Arg::Rule(R::term), Arg::Rule(R::arith_op)]),
        R::arith_op => (Act::Or(2), &[Arg::Tok(Tok::OpPlus), Arg::Tok(Tok::OpMinus)]),
        R::term => (Act::List(1), &[Arg::Rule(R::factor), Arg::Rule(R::term_op)]),
        R::term_op => (
            Act::Or(4),
            &[
                Arg::Tok(Tok::OpStar),
                Arg::Tok(Tok::OpSlash),
                Arg::Tok(Tok::OpPercent),
                Arg::Tok(Tok::OpDblSlash),
            ],
        ),
        R::factor => (Act::Or(2), &[Arg::Rule(R::factor_2), Arg::Rule(R::power)]),
        R::factor_2 => (
            Act::And(2, true, false),
            &[Arg::Rule(R::factor_op), Arg::Rule(R::factor)],
        ),
        R::factor_op => (
            Act::Or(3),
            &[
                Arg::Tok(Tok::OpPlus),
                Arg::Tok(Tok::OpMinus),
                Arg::Tok(Tok::OpTilde),
            ],
        ),
        R::power => (
            Act::And(2, true, false),
            &[Arg::Rule(R::atom_expr), Arg::Opt(R::power_dbl_star)],
        ),
        R::atom_expr => (
            Act::Or(2),
            &[
                Arg::Rule(R::atom_expr_await),
                Arg::Rule(R::atom_expr_normal),
            ],
        ),
        R::atom_expr_await => (
            Act::And(3, false, false),
            &[
                Arg::Tok(Tok::KwAwait),
                Arg::Rule(R::atom),
                Arg::Opt(R::atom_expr_trailers),
            ],
        ),
        R::atom_expr_normal => (
            Act::And(2, true, false),
            &[Arg::Rule(R::atom), Arg::Opt(R::atom_expr_trailers)],
        ),
        R::atom_expr_trailers => (Act::List(2), &[Arg::Rule(R::trailer)]),
        R::power_dbl_star => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::OpDblStar), Arg::Rule(R::factor)],
        ),
        R::atom => (
            Act::Or(12),
            &[
                Arg::Tok(Tok::Name),
                Arg::Tok(Tok::Integer),
                Arg::Tok(Tok::FloatOrImag),
                Arg::Tok(Tok::String),
                Arg::Tok(Tok::Bytes),
                Arg::Tok(Tok::Ellipsis),
                Arg::Tok(Tok::KwNone),
                Arg::Tok(Tok::KwTrue),
                Arg::Tok(Tok::KwFalse),
                Arg::Rule(R::atom_paren),
                Arg::Rule(R::atom_bracket),
                Arg::Rule(R::atom_brace),
            ],
        ),
        R::atom_paren => (
            Act::And(3, false, false),
            &[
                Arg::Tok(Tok::DelParenOpen),
                Arg::Opt(R::atom_2b),
                Arg::Tok(Tok::DelParenClose),
            ],
        ),
        R::atom_2b => (
            Act::Or(2),
            &[Arg::Rule(R::yield_expr), Arg::Rule(R::testlist_comp)],
        ),
        R::atom_bracket => (
            Act::And(3, false, false),
            &[
                Arg::Tok(Tok::DelBracketOpen),
                Arg::Opt(R::testlist_comp),
                Arg::Tok(Tok::DelBracketClose),
            ],
        ),
        R::atom_brace => (
            Act::And(3, false, false),
            &[
                Arg::Tok(Tok::DelBraceOpen),
                Arg::Opt(R::dictorsetmaker),
                Arg::Tok(Tok::DelBraceClose),
            ],
        ),
        R::testlist_comp => (
            Act::And(2, true, false),
            &[Arg::Rule(R::testlist_comp_2), Arg::Opt(R::testlist_comp_3)],
        ),
        R::testlist_comp_2 => (Act::Or(2), &[Arg::Rule(R::star_expr), Arg::Rule(R::test)]),
        R::testlist_comp_3 => (
            Act::Or(2),
            &[Arg::Rule(R::comp_for), Arg::Rule(R::testlist_comp_3b)],
        ),
        R::testlist_comp_3b => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::DelComma), Arg::Opt(R::testlist_comp_3c)],
        ),
        R::testlist_comp_3c => (
            Act::List(3),
            &[Arg::Rule(R::testlist_comp_2), Arg::Tok(Tok::DelComma)],
        ),
        R::trailer => (
            Act::Or(3),
            &[
                Arg::Rule(R::trailer_paren),
                Arg::Rule(R::trailer_bracket),
                Arg::Rule(R::trailer_period),
            ],
        ),
        R::trailer_paren => (
            Act::And(3, false, false),
            &[
                Arg::Tok(Tok::DelParenOpen),
                Arg::Opt(R::arglist),
                Arg::Tok(Tok::DelParenClose),
            ],
        ),
        R::trailer_bracket => (
            Act::And(3, false, false),
            &[
                Arg::Tok(Tok::DelBracketOpen),
                Arg::Rule(R::subscriptlist),
                Arg::Tok(Tok::DelBracketClose),
            ],
        ),
        R::trailer_period => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::DelPeriod), Arg::Tok(Tok::Name)],
        ),
        R::subscriptlist => (
            Act::List(3),
            &[Arg::Rule(R::subscript), Arg::Tok(Tok::DelComma)],
        ),
        R::subscript => (
            Act::Or(2),
            &[Arg::Rule(R::subscript_3), Arg::Rule(R::subscript_2)],
        ),
        R::subscript_2 => (
            Act::And(2, true, false),
            &[Arg::Rule(R::test), Arg::Opt(R::subscript_3)],
        ),
        R::subscript_3 => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::DelColon), Arg::Opt(R::subscript_3b)],
        ),
        R::subscript_3b => (
            Act::Or(2),
            &[Arg::Rule(R::subscript_3c), Arg::Rule(R::subscript_3d)],
        ),
        R::subscript_3c => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::DelColon), Arg::Opt(R::test)],
        ),
        R::subscript_3d => (
            Act::And(2, true, false),
            &[Arg::Rule(R::test), Arg::Opt(R::sliceop)],
        ),
        R::sliceop => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::DelColon), Arg::Opt(R::test)],
        ),
        R::exprlist => (
            Act::List(3),
            &[Arg::Rule(R::exprlist_2), Arg::Tok(Tok::DelComma)],
        ),
        R::exprlist_2 => (Act::Or(2), &[Arg::Rule(R::star_expr), Arg::Rule(R::expr)]),
        R::testlist => (Act::List(3), &[Arg::Rule(R::test), Arg::Tok(Tok::DelComma)]),
        R::dictorsetmaker => (
            Act::And(2, true, false),
            &[
                Arg::Rule(R::dictorsetmaker_item),
                Arg::Opt(R::dictorsetmaker_tail),
            ],
        ),
        R::dictorsetmaker_item => (
            Act::And(2, true, false),
            &[Arg::Rule(R::test), Arg::Opt(R::dictorsetmaker_colon)],
        ),
        R::dictorsetmaker_colon => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::DelColon), Arg::Rule(R::test)],
        ),
        R::dictorsetmaker_tail => (
            Act::Or(2),
            &[Arg::Rule(R::comp_for), Arg::Rule(R::dictorsetmaker_list)],
        ),
        R::dictorsetmaker_list => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::DelComma), Arg::Opt(R::dictorsetmaker_list2)],
        ),
        R::dictorsetmaker_list2 => (
            Act::List(3),
            &[Arg::Rule(R::dictorsetmaker_item), Arg::Tok(Tok::DelComma)],
        ),
        R::classdef => (
            Act::And(5, false, true),
            &[
                Arg::Tok(Tok::KwClass),
                Arg::Tok(Tok::Name),
                Arg::Opt(R::classdef_2),
                Arg::Tok(Tok::DelColon),
                Arg::Rule(R::suite),
            ],
        ),
        R::classdef_2 => (
            Act::And(3, true, false),
            &[
                Arg::Tok(Tok::DelParenOpen),
                Arg::Opt(R::arglist),
                Arg::Tok(Tok::DelParenClose),
            ],
        ),
        R::arglist => (
            Act::List(3),
            &[Arg::Rule(R::arglist_2), Arg::Tok(Tok::DelComma)],
        ),
        R::arglist_2 => (
            Act::Or(3),
            &[
                Arg::Rule(R::arglist_star),
                Arg::Rule(R::arglist_dbl_star),
                Arg::Rule(R::argument),
            ],
        ),
        R::arglist_star => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::OpStar), Arg::Rule(R::test)],
        ),
        R::arglist_dbl_star => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::OpDblStar), Arg::Rule(R::test)],
        ),
        R::argument => (
            Act::And(2, true, false),
            &[Arg::Rule(R::test), Arg::Opt(R::argument_2)],
        ),
        R::argument_2 => (
            Act::Or(2),
            &[Arg::Rule(R::comp_for), Arg::Rule(R::argument_3)],
        ),
        R::argument_3 => (
            Act::And(2, true, false),
            &[Arg::Tok(Tok::DelEqual), Arg::Rule(R::test)],
        ),
        R::comp_iter => (Act::Or(2), &[Arg::Rule(R::comp_for), Arg::Rule(R::comp_if)]),
        R::comp_for => (
            Act::And(5, false, true),
            &[
                Arg::Tok(Tok::KwFor),
                Arg::Rule(R::exprlist),
                Arg::Tok(Tok::KwIn),
                Arg::Rule(R::or_test),
                Arg::Opt(R::comp_iter),
            ],
        ),
        R::comp_if => (
            Act::And(3, false, false),
            &[
                Arg::Tok(Tok::KwIf),
                Arg::Rule(R::test_nocond),
                Arg::Opt(R::comp_iter),
            ],
        ),
        R::yield_expr => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwYield), Arg::Opt(R::yield_arg)],
        ),
        R::yield_arg => (
            Act::Or(2),
            &[Arg::Rule(R::yield_arg_from), Arg::Rule(R::testlist)],
        ),
        R::yield_arg_from => (
            Act::And(2, false, false),
            &[Arg::Tok(Tok::KwFrom), Arg::Rule(R::test)],
        ),
        R::const_object => (Act::And(0, false, false), &[]),
    }
}

#[cfg(test)]
mod lookahead_tests {
    use super::*;

    fn first_has(r: R, t: Tok) -> bool {
        LOOKAHEAD.first[r as usize] & tok_bit(t) != 0
    }

    #[test]
    fn statements_and_atoms_have_their_first_tokens() {
        let k = R::compound_stmt as usize;
        assert!(LOOKAHEAD.strict[k]);
        for t in [
            Tok::KwIf,
            Tok::KwWhile,
            Tok::KwFor,
            Tok::KwTry,
            Tok::KwDef,
            Tok::DelAt,
        ] {
            assert!(first_has(R::compound_stmt, t), "{t:?}");
        }
        assert!(!first_has(R::compound_stmt, Tok::Name));
        assert!(LOOKAHEAD.strict[R::atom as usize]);
        for t in [
            Tok::Name,
            Tok::Integer,
            Tok::String,
            Tok::DelParenOpen,
            Tok::KwNone,
        ] {
            assert!(first_has(R::atom, t), "{t:?}");
        }
        assert!(!first_has(R::atom, Tok::DelColon));
        // an expression can start with a unary operator, `not` or `lambda`
        for t in [
            Tok::OpMinus,
            Tok::OpTilde,
            Tok::KwNot,
            Tok::KwLambda,
            Tok::Name,
        ] {
            assert!(first_has(R::test, t), "{t:?}");
        }
    }

    #[test]
    fn descent_summaries_agree_with_their_frames() {
        let toks = [
            Tok::Name,
            Tok::DelEqual,
            Tok::Newline,
            Tok::DelParenOpen,
            Tok::KwIf,
        ];
        for r in ALL_RULES {
            for t in toks {
                let plan = plan_descent(r, t);
                if plan.block.is_empty() {
                    continue;
                }
                for (j, &(rule, i)) in plan.frames.iter().enumerate() {
                    let tr = TRANSPARENT[rule as usize].get(usize::from(i));
                    for k in 0..N_TOKS {
                        let on = tr.is_some_and(|tr| tr.on & (1u128 << k) != 0);
                        assert_eq!(plan.block[k] & (1 << j) == 0, on, "{r:?} {t:?} {j} {k}");
                    }
                    let tr = tr.copied().unwrap_or(NOT_TRANSPARENT);
                    assert!(plan.room[j] >= j + tr.peak);
                    if tr.needs_child {
                        assert!(plan.nulls[j].is_some_and(|n| n >= tr.nulls));
                    }
                }
            }
        }
    }

    #[test]
    fn rules_that_can_match_nothing_are_never_skipped() {
        // file_input accepts an empty file; its only element is optional
        assert!(!LOOKAHEAD.strict[R::file_input as usize]);
        // const_object has no elements at all
        assert!(!LOOKAHEAD.strict[R::const_object as usize]);
    }

    #[test]
    fn skipping_keeps_errors_and_trees() {
        struct Plain(Vec<String>);
        impl Interner for Plain {
            fn intern(&mut self, s: &str) -> Result<u16, CompileError> {
                let at = self.lookup(s).unwrap_or_else(|| {
                    self.0.push(String::from(s));
                    (self.0.len() - 1) as u16
                });
                Ok(at)
            }
            fn lookup(&self, s: &str) -> Option<u16> {
                self.0.iter().position(|x| x == s).map(|i| i as u16)
            }
            fn resolve(&self, q: u16) -> &str {
                self.0.get(usize::from(q)).map_or("", String::as_str)
            }
        }
        let mut i = Plain(Vec::new());
        let bump = Bump::new();
        let tree = parse("x = -a.b(1)[2:]\n", "<t>", InputKind::File, &mut i, &bump)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let root = tree.root;
        assert!(root.is_kind(R::expr_stmt), "{root:?}");
        let e = parse("def f(:\n", "<t>", InputKind::File, &mut i, &bump).err();
        let e = e.unwrap_or_else(|| panic!("no error"));
        assert_eq!((e.kind, e.line, e.column), ("SyntaxError", 1, 7));
    }
}
