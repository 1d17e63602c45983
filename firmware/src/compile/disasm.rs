//! A disassembler for the bytecode produced by the compiler, printing instructions with the
//! names and operand styles of MicroPython's py/showbc.c.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::RawCode;
use super::opcodes as op;

/// Prelude fields decoded from a code block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prelude {
    /// `n_state`.
    pub n_state: usize,
    /// `n_exc_stack`.
    pub n_exc_stack: usize,
    /// Size of the code-info part in bytes (offset of the ops part).
    pub code_info_size: usize,
    /// `simple_name` qstr.
    pub simple_name: u16,
    /// `source_file` qstr.
    pub source_file: u16,
    /// Local numbers turned into cells.
    pub cells: Vec<u8>,
    /// Offset of the first instruction.
    pub ops_start: usize,
}

fn read_uint(code: &[u8], ip: &mut usize) -> usize {
    let mut v = 0usize;
    while let Some(&b) = code.get(*ip) {
        *ip += 1;
        v = (v << 7) | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
    }
    v
}

/// Decodes the prelude of a code block; `None` if it is truncated.
pub fn prelude(code: &[u8]) -> Option<Prelude> {
    let mut ip = 0;
    let n_state = read_uint(code, &mut ip);
    let n_exc_stack = read_uint(code, &mut ip);
    ip += 4;
    let ci_start = ip;
    let rest = read_uint(code, &mut ip);
    let code_info_size = ci_start + rest;
    let simple_name = u16::from_le_bytes([*code.get(ip)?, *code.get(ip + 1)?]);
    let source_file = u16::from_le_bytes([*code.get(ip + 2)?, *code.get(ip + 3)?]);
    let mut p = code_info_size;
    let mut cells = Vec::new();
    while *code.get(p)? != 255 {
        cells.push(code[p]);
        p += 1;
    }
    Some(Prelude {
        n_state,
        n_exc_stack,
        code_info_size,
        simple_name,
        source_file,
        cells,
        ops_start: p + 1,
    })
}

/// One decoded instruction: offset, name and operand text.
pub fn instructions(code: &[u8]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let Some(pre) = prelude(code) else { return out };
    let start = pre.ops_start;
    let mut ip = start;
    while ip < code.len() {
        let at = ip - start;
        let b = code[ip];
        ip += 1;
        let qstr = |ip: &mut usize| -> u16 {
            let v = u16::from_le_bytes([
                *code.get(*ip).unwrap_or(&0),
                *code.get(*ip + 1).unwrap_or(&0),
            ]);
            *ip += 2;
            v
        };
        let text = match b {
            op::LOAD_CONST_FALSE => String::from("LOAD_CONST_FALSE"),
            op::LOAD_CONST_NONE => String::from("LOAD_CONST_NONE"),
            op::LOAD_CONST_TRUE => String::from("LOAD_CONST_TRUE"),
            op::LOAD_CONST_SMALL_INT => {
                let mut num: i64 = if code.get(ip).is_some_and(|c| c & 0x40 != 0) {
                    -1
                } else {
                    0
                };
                while let Some(&c) = code.get(ip) {
                    ip += 1;
                    num = (num << 7) | i64::from(c & 0x7f);
                    if c & 0x80 == 0 {
                        break;
                    }
                }
                format!("LOAD_CONST_SMALL_INT {num}")
            }
            op::LOAD_CONST_STRING => format!("LOAD_CONST_STRING q{}", qstr(&mut ip)),
            op::LOAD_CONST_OBJ => format!("LOAD_CONST_OBJ {}", read_uint(code, &mut ip)),
            op::LOAD_NULL => String::from("LOAD_NULL"),
            op::LOAD_FAST_N => format!("LOAD_FAST_N {}", read_uint(code, &mut ip)),
            op::LOAD_DEREF => format!("LOAD_DEREF {}", read_uint(code, &mut ip)),
            op::LOAD_NAME | op::LOAD_GLOBAL | op::LOAD_ATTR | op::STORE_ATTR => {
                let name = match b {
                    op::LOAD_NAME => "LOAD_NAME",
                    op::LOAD_GLOBAL => "LOAD_GLOBAL",
                    op::LOAD_ATTR => "LOAD_ATTR",
                    _ => "STORE_ATTR",
                };
                let q = qstr(&mut ip);
                ip += 1;
                format!("{name} q{q}")
            }
            op::LOAD_METHOD => format!("LOAD_METHOD q{}", qstr(&mut ip)),
            op::LOAD_SUPER_METHOD => format!("LOAD_SUPER_METHOD q{}", qstr(&mut ip)),
            op::LOAD_BUILD_CLASS => String::from("LOAD_BUILD_CLASS"),
            op::LOAD_SUBSCR => String::from("LOAD_SUBSCR"),
            op::STORE_FAST_N => format!("STORE_FAST_N {}", read_uint(code, &mut ip)),
            op::STORE_DEREF => format!("STORE_DEREF {}", read_uint(code, &mut ip)),
            op::STORE_NAME => format!("STORE_NAME q{}", qstr(&mut ip)),
            op::STORE_GLOBAL => format!("STORE_GLOBAL q{}", qstr(&mut ip)),
            op::STORE_SUBSCR => String::from("STORE_SUBSCR"),
            op::DELETE_FAST => format!("DELETE_FAST {}", read_uint(code, &mut ip)),
            op::DELETE_DEREF => format!("DELETE_DEREF {}", read_uint(code, &mut ip)),
            op::DELETE_NAME => format!("DELETE_NAME q{}", qstr(&mut ip)),
            op::DELETE_GLOBAL => format!("DELETE_GLOBAL q{}", qstr(&mut ip)),
            op::DUP_TOP => String::from("DUP_TOP"),
            op::DUP_TOP_TWO => String::from("DUP_TOP_TWO"),
            op::POP_TOP => String::from("POP_TOP"),
            op::ROT_TWO => String::from("ROT_TWO"),
            op::ROT_THREE => String::from("ROT_THREE"),
            op::JUMP
            | op::POP_JUMP_IF_TRUE
            | op::POP_JUMP_IF_FALSE
            | op::JUMP_IF_TRUE_OR_POP
            | op::JUMP_IF_FALSE_OR_POP
            | op::UNWIND_JUMP => {
                let raw = usize::from(u16::from_le_bytes([
                    *code.get(ip).unwrap_or(&0),
                    *code.get(ip + 1).unwrap_or(&0),
                ]));
                ip += 2;
                let target = (ip - start) as isize + raw as isize - 0x8000;
                let name = match b {
                    op::JUMP => "JUMP",
                    op::POP_JUMP_IF_TRUE => "POP_JUMP_IF_TRUE",
                    op::POP_JUMP_IF_FALSE => "POP_JUMP_IF_FALSE",
                    op::JUMP_IF_TRUE_OR_POP => "JUMP_IF_TRUE_OR_POP",
                    op::JUMP_IF_FALSE_OR_POP => "JUMP_IF_FALSE_OR_POP",
                    _ => "UNWIND_JUMP",
                };
                if b == op::UNWIND_JUMP {
                    let d = code.get(ip).copied().unwrap_or(0);
                    ip += 1;
                    format!("{name} {target} {d}")
                } else {
                    format!("{name} {target}")
                }
            }
            op::SETUP_WITH | op::SETUP_EXCEPT | op::SETUP_FINALLY | op::FOR_ITER => {
                let raw = usize::from(u16::from_le_bytes([
                    *code.get(ip).unwrap_or(&0),
                    *code.get(ip + 1).unwrap_or(&0),
                ]));
                ip += 2;
                let name = match b {
                    op::SETUP_WITH => "SETUP_WITH",
                    op::SETUP_EXCEPT => "SETUP_EXCEPT",
                    op::SETUP_FINALLY => "SETUP_FINALLY",
                    _ => "FOR_ITER",
                };
                format!("{name} {}", ip - start + raw)
            }
            op::WITH_CLEANUP => String::from("WITH_CLEANUP"),
            op::END_FINALLY => String::from("END_FINALLY"),
            op::GET_ITER => String::from("GET_ITER"),
            op::GET_ITER_STACK => String::from("GET_ITER_STACK"),
            op::POP_BLOCK => String::from("POP_BLOCK"),
            op::POP_EXCEPT => String::from("POP_EXCEPT"),
            op::BUILD_TUPLE => format!("BUILD_TUPLE {}", read_uint(code, &mut ip)),
            op::BUILD_LIST => format!("BUILD_LIST {}", read_uint(code, &mut ip)),
            op::BUILD_MAP => format!("BUILD_MAP {}", read_uint(code, &mut ip)),
            op::STORE_MAP => String::from("STORE_MAP"),
            op::BUILD_SET => format!("BUILD_SET {}", read_uint(code, &mut ip)),
            op::BUILD_SLICE => format!("BUILD_SLICE {}", read_uint(code, &mut ip)),
            op::STORE_COMP => format!("STORE_COMP {}", read_uint(code, &mut ip)),
            op::UNPACK_SEQUENCE => format!("UNPACK_SEQUENCE {}", read_uint(code, &mut ip)),
            op::UNPACK_EX => format!("UNPACK_EX {}", read_uint(code, &mut ip)),
            op::RETURN_VALUE => String::from("RETURN_VALUE"),
            op::RAISE_VARARGS => {
                let n = code.get(ip).copied().unwrap_or(0);
                ip += 1;
                format!("RAISE_VARARGS {n}")
            }
            op::YIELD_VALUE => String::from("YIELD_VALUE"),
            op::YIELD_FROM => String::from("YIELD_FROM"),
            op::MAKE_FUNCTION => format!("MAKE_FUNCTION {}", read_uint(code, &mut ip)),
            op::MAKE_FUNCTION_DEFARGS => {
                format!("MAKE_FUNCTION_DEFARGS {}", read_uint(code, &mut ip))
            }
            op::MAKE_CLOSURE | op::MAKE_CLOSURE_DEFARGS => {
                let i = read_uint(code, &mut ip);
                let n = code.get(ip).copied().unwrap_or(0);
                ip += 1;
                let name = if b == op::MAKE_CLOSURE {
                    "MAKE_CLOSURE"
                } else {
                    "MAKE_CLOSURE_DEFARGS"
                };
                format!("{name} {i} {n}")
            }
            op::CALL_FUNCTION
            | op::CALL_FUNCTION_VAR_KW
            | op::CALL_METHOD
            | op::CALL_METHOD_VAR_KW => {
                let v = read_uint(code, &mut ip);
                let name = match b {
                    op::CALL_FUNCTION => "CALL_FUNCTION",
                    op::CALL_FUNCTION_VAR_KW => "CALL_FUNCTION_VAR_KW",
                    op::CALL_METHOD => "CALL_METHOD",
                    _ => "CALL_METHOD_VAR_KW",
                };
                format!("{name} n={} nkw={}", v & 0xff, (v >> 8) & 0xff)
            }
            op::IMPORT_NAME => format!("IMPORT_NAME q{}", qstr(&mut ip)),
            op::IMPORT_FROM => format!("IMPORT_FROM q{}", qstr(&mut ip)),
            op::IMPORT_STAR => String::from("IMPORT_STAR"),
            0x70..=0xaf => format!("LOAD_CONST_SMALL_INT {}", i32::from(b) - 0x70 - 16),
            0xb0..=0xbf => format!("LOAD_FAST {}", b - 0xb0),
            0xc0..=0xcf => format!("STORE_FAST {}", b - 0xc0),
            0xd0..=0xd6 => format!("UNARY_OP {}", b - 0xd0),
            0xd7..=0xf7 => format!("BINARY_OP {}", b - 0xd7),
            _ => format!("? 0x{b:02x}"),
        };
        out.push((at, text));
    }
    out
}

/// The listing of `rc` and its children.
pub fn disassemble(rc: &RawCode) -> String {
    let mut s = String::new();
    let pre = prelude(&rc.bytecode);
    match &pre {
        Some(p) => s.push_str(&format!(
            "code block q{} ({} bytes, n_state {}, n_exc_stack {}, flags 0x{:02x}, pos {}, kwonly {}, defpos {}, cells {:?})\n",
            p.simple_name,
            rc.bytecode.len(),
            p.n_state,
            p.n_exc_stack,
            rc.scope_flags,
            rc.n_pos_args,
            rc.n_kwonly_args,
            rc.n_def_pos_args,
            p.cells
        )),
        None => s.push_str("code block (truncated)\n"),
    }
    for (at, text) in instructions(&rc.bytecode) {
        s.push_str(&format!("{at:02} {text}\n"));
    }
    for c in &rc.children {
        s.push_str(&disassemble(c));
    }
    s
}
