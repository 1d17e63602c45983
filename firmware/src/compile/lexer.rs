//! The tokenizer, after py/lexer.c of MicroPython 1.9.4: same tokens, same INDENT/DEDENT rules,
//! same string escapes and adjacent-literal concatenation, same line/column accounting.

use alloc::vec::Vec;

/// Token kinds (py/lexer.h `mp_token_kind_t`).
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    End,
    Invalid,
    DedentMismatch,
    LonelyStringOpen,
    Newline,
    Indent,
    Dedent,
    Name,
    Integer,
    FloatOrImag,
    String,
    Bytes,
    Ellipsis,
    KwFalse,
    KwNone,
    KwTrue,
    KwAnd,
    KwAs,
    KwAssert,
    KwAsync,
    KwAwait,
    KwBreak,
    KwClass,
    KwContinue,
    KwDef,
    KwDel,
    KwElif,
    KwElse,
    KwExcept,
    KwFinally,
    KwFor,
    KwFrom,
    KwGlobal,
    KwIf,
    KwImport,
    KwIn,
    KwIs,
    KwLambda,
    KwNonlocal,
    KwNot,
    KwOr,
    KwPass,
    KwRaise,
    KwReturn,
    KwTry,
    KwWhile,
    KwWith,
    KwYield,
    OpTilde,
    OpLess,
    OpMore,
    OpDblEqual,
    OpLessEqual,
    OpMoreEqual,
    OpNotEqual,
    OpPlus,
    OpMinus,
    OpStar,
    OpDblStar,
    OpSlash,
    OpDblSlash,
    OpPercent,
    OpDblLess,
    OpDblMore,
    OpAmpersand,
    OpPipe,
    OpCaret,
    DelParenOpen,
    DelParenClose,
    DelBracketOpen,
    DelBracketClose,
    DelBraceOpen,
    DelBraceClose,
    DelComma,
    DelColon,
    DelPeriod,
    DelSemicolon,
    DelAt,
    DelEqual,
    DelPlusEqual,
    DelMinusEqual,
    DelStarEqual,
    DelDblStarEqual,
    DelSlashEqual,
    DelDblSlashEqual,
    DelPercentEqual,
    DelAmpersandEqual,
    DelPipeEqual,
    DelCaretEqual,
    DelDblLessEqual,
    DelDblMoreEqual,
    DelMinusMore,
}

/// The keywords, as `mp_lexer` lists them (the reference for [`keyword`]).
#[cfg(test)]
const KEYWORDS: &[(&str, Tok)] = &[
    ("False", Tok::KwFalse),
    ("None", Tok::KwNone),
    ("True", Tok::KwTrue),
    ("__debug__", Tok::KwTrue),
    ("and", Tok::KwAnd),
    ("as", Tok::KwAs),
    ("assert", Tok::KwAssert),
    ("async", Tok::KwAsync),
    ("await", Tok::KwAwait),
    ("break", Tok::KwBreak),
    ("class", Tok::KwClass),
    ("continue", Tok::KwContinue),
    ("def", Tok::KwDef),
    ("del", Tok::KwDel),
    ("elif", Tok::KwElif),
    ("else", Tok::KwElse),
    ("except", Tok::KwExcept),
    ("finally", Tok::KwFinally),
    ("for", Tok::KwFor),
    ("from", Tok::KwFrom),
    ("global", Tok::KwGlobal),
    ("if", Tok::KwIf),
    ("import", Tok::KwImport),
    ("in", Tok::KwIn),
    ("is", Tok::KwIs),
    ("lambda", Tok::KwLambda),
    ("nonlocal", Tok::KwNonlocal),
    ("not", Tok::KwNot),
    ("or", Tok::KwOr),
    ("pass", Tok::KwPass),
    ("raise", Tok::KwRaise),
    ("return", Tok::KwReturn),
    ("try", Tok::KwTry),
    ("while", Tok::KwWhile),
    ("with", Tok::KwWith),
    ("yield", Tok::KwYield),
];

/// The keyword spelled `text`, if any: the `KEYWORDS` table as a `match`, which compiles to a few
/// length and byte comparisons instead of a scan of every entry for each identifier.
fn keyword(text: &[u8]) -> Option<Tok> {
    Some(match text {
        b"False" => Tok::KwFalse,
        b"None" => Tok::KwNone,
        b"True" => Tok::KwTrue,
        b"__debug__" => Tok::KwTrue,
        b"and" => Tok::KwAnd,
        b"as" => Tok::KwAs,
        b"assert" => Tok::KwAssert,
        b"async" => Tok::KwAsync,
        b"await" => Tok::KwAwait,
        b"break" => Tok::KwBreak,
        b"class" => Tok::KwClass,
        b"continue" => Tok::KwContinue,
        b"def" => Tok::KwDef,
        b"del" => Tok::KwDel,
        b"elif" => Tok::KwElif,
        b"else" => Tok::KwElse,
        b"except" => Tok::KwExcept,
        b"finally" => Tok::KwFinally,
        b"for" => Tok::KwFor,
        b"from" => Tok::KwFrom,
        b"global" => Tok::KwGlobal,
        b"if" => Tok::KwIf,
        b"import" => Tok::KwImport,
        b"in" => Tok::KwIn,
        b"is" => Tok::KwIs,
        b"lambda" => Tok::KwLambda,
        b"nonlocal" => Tok::KwNonlocal,
        b"not" => Tok::KwNot,
        b"or" => Tok::KwOr,
        b"pass" => Tok::KwPass,
        b"raise" => Tok::KwRaise,
        b"return" => Tok::KwReturn,
        b"try" => Tok::KwTry,
        b"while" => Tok::KwWhile,
        b"with" => Tok::KwWith,
        b"yield" => Tok::KwYield,
        _ => return None,
    })
}

const EOF: u32 = u32::MAX;

/// Bytes that may continue an identifier (`is_tail_of_identifier`): letters, `_`, digits and
/// every byte of a multi-byte UTF-8 sequence; one table load instead of five comparisons.
static IDENT_TAIL: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = matches!(c as u8, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | 0x80..=0xff);
        c += 1;
    }
    t
};
const TAB_SIZE: u32 = 8;

/// The lexer state; `tok_*` describe the current token.
pub struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    chr0: u32,
    chr1: u32,
    chr2: u32,
    line: u32,
    column: u32,
    emit_dent: i32,
    nested_bracket_level: i32,
    indent_level: Vec<u32>,
    /// The current token's kind.
    pub tok_kind: Tok,
    /// Its line (1-based).
    pub tok_line: u32,
    /// Its column (1-based).
    pub tok_column: u32,
    /// Its text: identifier, number text or decoded string bytes.
    pub text: Vec<u8>,
    /// Set when the token used an escape the front end does not support (`\N{...}`).
    pub unsupported: Option<&'static str>,
    /// Bytes 1.9.4's token buffer (`lex->vstr`) would have allocated by now: 32 at first,
    /// grown as `vstr_ensure_extra` does (never shrunk; `text` shrinks when end quotes are
    /// cut off, the allocation does not).
    pub vstr_alloc: usize,
    /// The sizes that allocation grew to while reading the current token, in order (for a
    /// caller that replays them on a modelled heap; it may clear this).
    pub vstr_grow: Vec<usize>,
}

impl<'a> Lexer<'a> {
    /// A lexer over `src`, positioned on the first token (like `mp_lexer_new`).
    pub fn new(src: &'a str) -> Lexer<'a> {
        let mut lex = Lexer {
            src: src.as_bytes(),
            pos: 0,
            chr0: 0,
            chr1: 0,
            chr2: 0,
            line: 1,
            column: 0u32.wrapping_sub(2),
            emit_dent: 0,
            nested_bracket_level: 0,
            indent_level: alloc::vec![0],
            tok_kind: Tok::End,
            tok_line: 1,
            tok_column: 1,
            text: Vec::new(),
            unsupported: None,
            vstr_alloc: 32,
            vstr_grow: Vec::new(),
        };
        lex.next_char();
        lex.next_char();
        lex.next_char();
        lex.to_next();
        if lex.tok_column != 1 {
            lex.tok_kind = Tok::Indent;
        }
        lex
    }

    #[inline(always)]
    fn read_byte(&mut self) -> u32 {
        if self.pos < self.src.len() {
            let b = self.src[self.pos];
            self.pos += 1;
            u32::from(b)
        } else {
            EOF
        }
    }

    #[inline(always)]
    fn next_char(&mut self) {
        // a newline or a tab sets the column one short of where it goes next, and the plain
        // step adds that one
        if self.chr0 == u32::from(b'\n') {
            self.line += 1;
            self.column = 0;
        } else if self.chr0 == u32::from(b'\t') {
            self.column =
                ((self.column.wrapping_sub(1).wrapping_add(TAB_SIZE)) / TAB_SIZE) * TAB_SIZE;
        }
        self.next_plain_char();
    }

    /// [`Lexer::next_char`] when the current character is neither a newline nor a tab.
    #[inline(always)]
    fn next_plain_char(&mut self) {
        self.column = self.column.wrapping_add(1);
        self.chr0 = self.chr1;
        self.chr1 = self.chr2;
        self.chr2 = self.read_byte();
        if self.chr1 == u32::from(b'\r') {
            self.chr1 = u32::from(b'\n');
            if self.chr2 == u32::from(b'\n') {
                self.chr2 = self.read_byte();
            }
        }
        if self.chr2 == EOF && self.chr1 != EOF && self.chr1 != u32::from(b'\n') {
            self.chr2 = u32::from(b'\n');
        }
    }

    #[inline(always)]
    fn is_end(&self) -> bool {
        self.chr0 == EOF
    }
    #[inline(always)]
    fn is(&self, c: u8) -> bool {
        self.chr0 == u32::from(c)
    }
    fn is_or(&self, a: u8, b: u8) -> bool {
        self.is(a) || self.is(b)
    }
    fn is_following(&self, c: u8) -> bool {
        self.chr1 == u32::from(c)
    }
    fn is_following_or(&self, a: u8, b: u8) -> bool {
        self.chr1 == u32::from(a) || self.chr1 == u32::from(b)
    }
    fn is_ff_or(&self, a: u8, b: u8) -> bool {
        self.chr2 == u32::from(a) || self.chr2 == u32::from(b)
    }
    fn is_and(&self, a: u8, b: u8) -> bool {
        self.chr0 == u32::from(a) && self.chr1 == u32::from(b)
    }
    fn is_whitespace(&self) -> bool {
        // unichar_isspace: space, \t \n \v \f \r
        matches!(self.chr0, 32 | 9..=13)
    }
    fn is_physical_newline(&self) -> bool {
        self.is(b'\n')
    }
    #[inline(always)]
    fn is_letter(&self) -> bool {
        matches!(self.chr0, 0x41..=0x5a | 0x61..=0x7a)
    }
    #[inline(always)]
    fn is_digit(&self) -> bool {
        matches!(self.chr0, 0x30..=0x39)
    }
    fn is_following_digit(&self) -> bool {
        matches!(self.chr1, 0x30..=0x39)
    }
    fn is_following_base_char(&self) -> bool {
        matches!(self.chr1 | 0x20, 0x62 | 0x6f | 0x78)
    }
    fn is_following_odigit(&self) -> bool {
        matches!(self.chr1, 0x30..=0x37)
    }
    fn is_string_or_bytes(&self) -> bool {
        self.is_or(b'\'', b'"')
            || ((self.is(b'r') || self.is(b'u') || self.is(b'b'))
                && self.is_following_or(b'\'', b'"'))
            || ((self.is_and(b'r', b'b') || self.is_and(b'b', b'r')) && self.is_ff_or(b'\'', b'"'))
    }
    #[inline(always)]
    fn is_head_of_identifier(&self) -> bool {
        self.is_letter() || self.is(b'_') || (self.chr0 >= 0x80 && self.chr0 != EOF)
    }
    #[inline(always)]
    fn is_tail_of_identifier(&self) -> bool {
        // chr0 is a byte or EOF (which continues nothing)
        IDENT_TAIL.get(self.chr0 as usize).copied().unwrap_or(false)
    }

    /// `vstr_ensure_extra(n)`: when `n` more bytes do not fit, 1.9.4 reallocates to
    /// `ROUND_ALLOC(len + n + 16)`.
    #[inline(always)]
    fn reserve(&mut self, n: usize) {
        let need = self.text.len() + n;
        if need > self.vstr_alloc {
            self.vstr_alloc = crate::obj::layout::vstr_grown(need);
            self.vstr_grow.push(self.vstr_alloc);
        }
    }

    #[inline(always)]
    fn add_byte(&mut self, c: u32) {
        self.reserve(1);
        self.text.push(c as u8);
    }

    fn add_char(&mut self, c: u32) {
        match char::from_u32(c) {
            Some(ch) => {
                let mut buf = [0u8; 4];
                let bytes = ch.encode_utf8(&mut buf).as_bytes();
                self.reserve(bytes.len());
                self.text.extend_from_slice(bytes);
            }
            None => {
                // A surrogate: MicroPython stores its 3-byte encoding, which is not valid UTF-8.
                self.unsupported = Some("surrogate escapes in str literals");
            }
        }
    }

    fn get_hex(&mut self, num_digits: usize) -> Option<u32> {
        let mut num: u32 = 0;
        for _ in 0..num_digits {
            self.next_char();
            let c = self.chr0;
            let v = match c {
                0x30..=0x39 => c - 0x30,
                0x41..=0x46 => c - 0x41 + 10,
                0x61..=0x66 => c - 0x61 + 10,
                _ => return None,
            };
            num = (num << 4) + v;
        }
        Some(num)
    }

    fn parse_string_literal(&mut self, is_raw: bool) {
        let quote = if self.is(b'"') { b'"' } else { b'\'' };
        self.next_char();
        let num_quotes = if self.is_and(quote, quote) {
            self.next_char();
            self.next_char();
            3
        } else {
            1
        };
        let mut n_closing = 0;
        while !self.is_end() && (num_quotes > 1 || !self.is(b'\n')) && n_closing < num_quotes {
            if self.is(quote) {
                n_closing += 1;
                self.add_byte(self.chr0);
            } else {
                n_closing = 0;
                if self.is(b'\\') {
                    self.next_char();
                    let mut c = self.chr0;
                    if is_raw {
                        self.add_byte(u32::from(b'\\'));
                    } else {
                        match c {
                            0x0a => c = EOF,
                            0x5c | 0x27 | 0x22 => {}
                            0x61 => c = 7,
                            0x62 => c = 8,
                            0x74 => c = 9,
                            0x6e => c = 10,
                            0x76 => c = 11,
                            0x66 => c = 12,
                            0x72 => c = 13,
                            0x75 | 0x55 | 0x78 => {
                                if c != 0x78 && self.tok_kind == Tok::Bytes {
                                    self.add_byte(u32::from(b'\\'));
                                } else {
                                    let n = match c {
                                        0x78 => 2,
                                        0x75 => 4,
                                        _ => 8,
                                    };
                                    match self.get_hex(n) {
                                        Some(v) => c = v,
                                        None => {
                                            self.tok_kind = Tok::Invalid;
                                            c = 0;
                                        }
                                    }
                                }
                            }
                            0x4e => {
                                self.unsupported = Some("unicode name escapes");
                            }
                            0x30..=0x37 => {
                                let mut digits = 3;
                                let mut num = c - 0x30;
                                while self.is_following_odigit() {
                                    digits -= 1;
                                    if digits == 0 {
                                        break;
                                    }
                                    self.next_char();
                                    num = num * 8 + (self.chr0 - 0x30);
                                }
                                c = num;
                            }
                            _ => {
                                self.add_byte(u32::from(b'\\'));
                            }
                        }
                    }
                    if c != EOF {
                        if self.tok_kind == Tok::String {
                            if c < 0x110000 {
                                self.add_char(c);
                            } else {
                                self.tok_kind = Tok::Invalid;
                            }
                        } else if self.tok_kind == Tok::Bytes {
                            if c < 0x100 {
                                self.add_byte(c);
                            } else {
                                self.tok_kind = Tok::Invalid;
                            }
                        } else if c < 0x100 {
                            self.add_byte(c);
                        }
                    }
                } else {
                    self.add_byte(self.chr0);
                }
            }
            self.next_char();
        }
        if n_closing < num_quotes {
            self.tok_kind = Tok::LonelyStringOpen;
        }
        let keep = self.text.len().saturating_sub(n_closing);
        self.text.truncate(keep);
    }

    fn skip_whitespace(&mut self, stop_at_newline: bool) -> bool {
        let mut had_physical_newline = false;
        while !self.is_end() {
            if self.is_physical_newline() {
                if stop_at_newline && self.nested_bracket_level == 0 {
                    break;
                }
                had_physical_newline = true;
                self.next_char();
            } else if self.is(b' ') {
                // a run of spaces (indentation, mostly) without the newline/tab column rules
                self.next_plain_char();
                while self.is(b' ') {
                    self.next_plain_char();
                }
            } else if self.is_whitespace() {
                self.next_char();
            } else if self.is(b'#') {
                self.next_char();
                while !self.is_end() && !self.is_physical_newline() {
                    self.next_char();
                }
            } else if self.is_and(b'\\', b'\n') {
                self.next_char();
                self.next_char();
            } else {
                break;
            }
        }
        had_physical_newline
    }

    /// Entries on the indent stack (1 at the outermost level), for modelling its allocation.
    pub fn indent_depth(&self) -> usize {
        self.indent_level.len()
    }

    /// Advances to the next token (`mp_lexer_to_next`).
    pub fn to_next(&mut self) {
        self.text.clear();
        // most tokens follow another one directly or after one space: no call for those
        let had_physical_newline = match self.chr0 {
            9..=13 | 35 | 92 => self.skip_whitespace(false),
            32 if matches!(self.chr1, 9..=13 | 32 | 35 | 92) => self.skip_whitespace(false),
            32 => {
                self.next_char();
                false
            }
            _ => false,
        };
        self.tok_line = self.line;
        self.tok_column = self.column;

        if self.emit_dent < 0 {
            self.tok_kind = Tok::Dedent;
            self.emit_dent += 1;
        } else if self.emit_dent > 0 {
            self.tok_kind = Tok::Indent;
            self.emit_dent -= 1;
        } else if had_physical_newline && self.nested_bracket_level == 0 {
            self.tok_kind = Tok::Newline;
            let num_spaces = self.column.wrapping_sub(1);
            let top = *self.indent_level.last().unwrap_or(&0);
            if num_spaces == top {
            } else if num_spaces > top {
                self.indent_level.push(num_spaces);
                self.emit_dent += 1;
            } else {
                while self.indent_level.len() > 1
                    && num_spaces < *self.indent_level.last().unwrap_or(&0)
                {
                    self.indent_level.pop();
                    self.emit_dent -= 1;
                }
                if num_spaces != *self.indent_level.last().unwrap_or(&0) {
                    self.tok_kind = Tok::DedentMismatch;
                }
            }
        } else if self.is_end() {
            self.tok_kind = Tok::End;
        } else if self.is_string_or_bytes() {
            self.tok_kind = Tok::End;
            loop {
                let mut is_raw = false;
                let mut kind = Tok::String;
                let mut n_char = 0;
                if self.is(b'u') {
                    n_char = 1;
                } else if self.is(b'b') {
                    kind = Tok::Bytes;
                    n_char = 1;
                    if self.is_following(b'r') {
                        is_raw = true;
                        n_char = 2;
                    }
                } else if self.is(b'r') {
                    is_raw = true;
                    n_char = 1;
                    if self.is_following(b'b') {
                        kind = Tok::Bytes;
                        n_char = 2;
                    }
                }
                if self.tok_kind == Tok::End {
                    self.tok_kind = kind;
                } else if self.tok_kind != kind {
                    break;
                }
                if n_char != 0 {
                    self.next_char();
                    if n_char == 2 {
                        self.next_char();
                    }
                }
                self.parse_string_literal(is_raw);
                self.skip_whitespace(true);
                if !self.is_string_or_bytes() {
                    break;
                }
            }
        } else if self.is_head_of_identifier() {
            self.tok_kind = Tok::Name;
            // the bytes of a name are neither newlines nor tabs, and the token buffer grows
            // after the loop exactly as it would byte by byte
            self.text.push(self.chr0 as u8);
            self.next_plain_char();
            while self.is_tail_of_identifier() {
                self.text.push(self.chr0 as u8);
                self.next_plain_char();
            }
            while self.text.len() > self.vstr_alloc {
                self.vstr_alloc = crate::obj::layout::vstr_grown(self.vstr_alloc + 1);
                self.vstr_grow.push(self.vstr_alloc);
            }
            // vstr_null_terminated_str: one more byte when the name fills the buffer
            if self.text.len() == self.vstr_alloc {
                self.vstr_alloc += 1;
                self.vstr_grow.push(self.vstr_alloc);
            }
            if let Some(k) = keyword(&self.text) {
                self.tok_kind = k;
            }
        } else if self.is_digit() || (self.is(b'.') && self.is_following_digit()) {
            let mut forced_integer = false;
            if self.is(b'.') {
                self.tok_kind = Tok::FloatOrImag;
            } else {
                self.tok_kind = Tok::Integer;
                if self.is(b'0') && self.is_following_base_char() {
                    forced_integer = true;
                }
            }
            self.add_byte(self.chr0);
            self.next_char();
            while !self.is_end() {
                if !forced_integer && self.is_or(b'e', b'E') {
                    self.tok_kind = Tok::FloatOrImag;
                    self.add_byte(u32::from(b'e'));
                    self.next_char();
                    if self.is(b'+') || self.is(b'-') {
                        self.add_byte(self.chr0);
                        self.next_char();
                    }
                } else if self.is_letter() || self.is_digit() || self.is(b'.') {
                    if self.is(b'.') || self.is(b'j') || self.is(b'J') {
                        self.tok_kind = Tok::FloatOrImag;
                    }
                    self.add_byte(self.chr0);
                    self.next_char();
                } else {
                    break;
                }
            }
        } else {
            self.operator();
        }
    }

    fn operator(&mut self) {
        let c = self.chr0;
        self.next_char();
        let single = |t| Some(t);
        let kind = match u8::try_from(c).unwrap_or(0) {
            b'(' => single(Tok::DelParenOpen),
            b')' => single(Tok::DelParenClose),
            b'[' => single(Tok::DelBracketOpen),
            b']' => single(Tok::DelBracketClose),
            b'{' => single(Tok::DelBraceOpen),
            b'}' => single(Tok::DelBraceClose),
            b',' => single(Tok::DelComma),
            b':' => single(Tok::DelColon),
            b';' => single(Tok::DelSemicolon),
            b'@' => single(Tok::DelAt),
            b'~' => single(Tok::OpTilde),
            b'<' => Some(self.two_level(
                b'=',
                Tok::OpLess,
                Tok::OpLessEqual,
                b'<',
                Tok::OpDblLess,
                Tok::DelDblLessEqual,
            )),
            b'>' => Some(self.two_level(
                b'=',
                Tok::OpMore,
                Tok::OpMoreEqual,
                b'>',
                Tok::OpDblMore,
                Tok::DelDblMoreEqual,
            )),
            b'*' => Some(self.two_level(
                b'=',
                Tok::OpStar,
                Tok::DelStarEqual,
                b'*',
                Tok::OpDblStar,
                Tok::DelDblStarEqual,
            )),
            b'/' => Some(self.two_level(
                b'=',
                Tok::OpSlash,
                Tok::DelSlashEqual,
                b'/',
                Tok::OpDblSlash,
                Tok::DelDblSlashEqual,
            )),
            b'+' => Some(self.eq_or(Tok::OpPlus, Tok::DelPlusEqual)),
            b'-' => {
                if self.is(b'=') {
                    self.next_char();
                    Some(Tok::DelMinusEqual)
                } else if self.is(b'>') {
                    self.next_char();
                    Some(Tok::DelMinusMore)
                } else {
                    Some(Tok::OpMinus)
                }
            }
            b'&' => Some(self.eq_or(Tok::OpAmpersand, Tok::DelAmpersandEqual)),
            b'|' => Some(self.eq_or(Tok::OpPipe, Tok::DelPipeEqual)),
            b'%' => Some(self.eq_or(Tok::OpPercent, Tok::DelPercentEqual)),
            b'^' => Some(self.eq_or(Tok::OpCaret, Tok::DelCaretEqual)),
            b'=' => Some(self.eq_or(Tok::DelEqual, Tok::OpDblEqual)),
            b'!' => {
                if self.is(b'=') {
                    self.next_char();
                    Some(Tok::OpNotEqual)
                } else {
                    None
                }
            }
            b'.' => {
                if self.is_and(b'.', b'.') {
                    self.next_char();
                    self.next_char();
                    Some(Tok::Ellipsis)
                } else {
                    Some(Tok::DelPeriod)
                }
            }
            _ => None,
        };
        match kind {
            None => self.tok_kind = Tok::Invalid,
            Some(k) => {
                self.tok_kind = k;
                match k {
                    Tok::DelParenOpen | Tok::DelBracketOpen | Tok::DelBraceOpen => {
                        self.nested_bracket_level += 1
                    }
                    Tok::DelParenClose | Tok::DelBracketClose | Tok::DelBraceClose => {
                        self.nested_bracket_level -= 1
                    }
                    _ => {}
                }
            }
        }
    }

    fn eq_or(&mut self, plain: Tok, with_eq: Tok) -> Tok {
        if self.is(b'=') {
            self.next_char();
            with_eq
        } else {
            plain
        }
    }

    /// `<`, `<=`, `<<`, `<<=` style operators (the "e=c<e=" encoding of lexer.c).
    fn two_level(
        &mut self,
        eq: u8,
        plain: Tok,
        plain_eq: Tok,
        dbl: u8,
        dbl_tok: Tok,
        dbl_eq: Tok,
    ) -> Tok {
        if self.is(eq) {
            self.next_char();
            plain_eq
        } else if self.is(dbl) {
            self.next_char();
            if self.is(eq) {
                self.next_char();
                dbl_eq
            } else {
                dbl_tok
            }
        } else {
            plain
        }
    }
}

#[cfg(test)]
mod keyword_tests {
    use super::*;

    #[test]
    fn keyword_match_agrees_with_the_table() {
        for (s, k) in KEYWORDS {
            assert_eq!(keyword(s.as_bytes()), Some(*k), "{s}");
            // one byte short and one byte long are plain names
            assert_eq!(keyword(&s.as_bytes()[..s.len() - 1]), None, "{s}");
            let mut longer = alloc::vec::Vec::from(s.as_bytes());
            longer.push(b'_');
            assert_eq!(keyword(&longer), None, "{s}");
        }
        for name in ["false", "none", "print", "_", "x", "selfie", "classes"] {
            assert_eq!(keyword(name.as_bytes()), None, "{name}");
        }
    }
}
