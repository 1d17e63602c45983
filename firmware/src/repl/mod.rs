//! The REPL of MicroPython 1.9.4 as a byte-stream state machine: the friendly REPL with
//! its line editor (`lib/mp-readline`, configured like the ESP8266 port: auto-indent on,
//! emacs keys off, 8 history lines), paste mode, and the raw REPL that tools such as
//! `pyboard.py` and `mpdiff` drive (`lib/utils/pyexec.c`, the non-event-driven variant the
//! ESP8266 port uses).
//!
//! Bytes go in one at a time through [`Repl::feed`]; everything the board would print goes
//! out through a [`Console`]. Code runs in an [`Engine`], so the same state machine serves
//! the firmware on stdio, on a pseudo-terminal or on a UART. No allocation happens on the
//! engine's heap for the line buffer: it lives outside, like the flash filesystem.

use alloc::string::String;
use alloc::vec::Vec;

pub mod machine;
#[cfg(feature = "std")]
pub mod serve;

/// Ctrl-A: enter raw mode (or go to the start of a non-empty line).
pub const CTRL_A: u8 = 1;
/// Ctrl-B: leave raw mode / reprint the banner.
pub const CTRL_B: u8 = 2;
/// Ctrl-C: interrupt a running program, cancel a line.
pub const CTRL_C: u8 = 3;
/// Ctrl-D: run (raw mode) or soft reset (empty line).
pub const CTRL_D: u8 = 4;
/// Ctrl-E: paste mode (or go to the end of a non-empty line).
pub const CTRL_E: u8 = 5;

/// How a piece of source is compiled, as in `mp_parse_input_kind_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    /// One interactive statement; expression values are printed (the friendly REPL).
    Single,
    /// A whole file (the raw REPL and paste mode).
    File,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutcome {
    /// It ran to its end.
    Done,
    /// An uncaught exception: its traceback exactly as MicroPython 1.9.4 prints it,
    /// with `\n` line ends (`Traceback (most recent call last):\n  File "<stdin>", ...`).
    Exception(String),
    /// `SystemExit`: nothing is printed.
    SystemExit,
}

/// What a running program may do with the line: print, and learn about Ctrl-C.
pub trait Io {
    /// Program output, with `\n` line ends (the console turns them into `\r\n`).
    fn write(&mut self, data: &[u8]);
    /// Polled by the interpreter; `true` raises `KeyboardInterrupt` (a Ctrl-C arrived).
    fn interrupted(&mut self) -> bool {
        false
    }
}

/// Tab completion result, as `mp_repl_autocomplete` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// No match.
    None,
    /// One match: the characters to insert.
    Insert(String),
    /// Several matches: the list, as printed (starting with a newline, `\n` line ends).
    Many(String),
}

/// The interpreter behind the REPL.
pub trait Engine {
    /// Compiles and runs `source` (file name `<stdin>`) in `__main__`.
    fn exec(&mut self, source: &str, mode: InputMode, io: &mut dyn Io) -> ExecOutcome;
    /// A soft reset: fresh heap, `sys.modules` and `__main__`; files kept.
    fn soft_reset(&mut self);
    /// Tab completion of the text before the cursor.
    fn complete(&mut self, _before_cursor: &str) -> Completion {
        Completion::None
    }
}

/// Where the REPL's bytes go, and where it learns about a Ctrl-C during a run.
pub trait Console {
    /// Bytes for the line, exactly as given.
    fn write(&mut self, data: &[u8]);
    /// Whether a Ctrl-C arrived while a program runs (consumes it).
    fn interrupted(&mut self) -> bool {
        false
    }
}

/// The parts of the banner: `MicroPython <version> on <date>; <board> with <cpu>`.
#[derive(Debug, Clone)]
pub struct BoardInfo {
    /// e.g. `v1.9.4`.
    pub version: String,
    /// e.g. `2018-05-11`.
    pub date: String,
    /// e.g. `ESP module`.
    pub board: String,
    /// e.g. `ESP8266`.
    pub cpu: String,
    /// The message printed on a soft reset (the ESP8266 port prints `PYB: soft reboot\r\n`).
    pub soft_reboot: String,
}

impl Default for BoardInfo {
    fn default() -> Self {
        BoardInfo {
            version: "v1.9.4".into(),
            date: "2018-05-11".into(),
            board: "mpfw".into(),
            cpu: "Rust".into(),
            soft_reboot: "PYB: soft reboot\r\n".into(),
        }
    }
}

impl BoardInfo {
    /// The two banner lines, `\r\n` ends.
    pub fn banner(&self) -> String {
        alloc::format!(
            "MicroPython {} on {}; {} with {}\r\nType \"help()\" for more information.\r\n",
            self.version,
            self.date,
            self.board,
            self.cpu
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Friendly,
    Paste,
    Raw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Esc {
    None,
    Start,
    Bracket,
    BracketDigit(u8),
    O,
}

const HISTORY: usize = 8;

/// The line editor's state (`readline_t`).
#[derive(Debug)]
struct Readline {
    orig_len: usize,
    cursor: usize,
    esc: Esc,
    hist_cur: isize,
    prompt: &'static str,
}

/// The REPL.
pub struct Repl<E> {
    engine: E,
    info: BoardInfo,
    mode: Mode,
    line: Vec<u8>,
    cont_line: bool,
    rl: Readline,
    history: Vec<Vec<u8>>,
    soft_resets: u64,
}

/// Turns `\n` into `\r\n` on the way out, like `mp_hal_stdout_tx_strn_cooked`, and
/// passes Ctrl-C polling through.
struct Cooked<'a> {
    console: &'a mut dyn Console,
}

impl Io for Cooked<'_> {
    fn write(&mut self, data: &[u8]) {
        let mut start = 0;
        for (i, &b) in data.iter().enumerate() {
            if b == b'\n' {
                self.console.write(&data[start..i]);
                self.console.write(b"\r\n");
                start = i + 1;
            }
        }
        self.console.write(&data[start..]);
    }
    fn interrupted(&mut self) -> bool {
        self.console.interrupted()
    }
}

impl<E: Engine> Repl<E> {
    /// A REPL over `engine`. Nothing is printed until [`Repl::boot`].
    pub fn new(engine: E, info: BoardInfo) -> Self {
        Repl {
            engine,
            info,
            mode: Mode::Friendly,
            line: Vec::new(),
            cont_line: false,
            rl: Readline {
                orig_len: 0,
                cursor: 0,
                esc: Esc::None,
                hist_cur: -1,
                prompt: "",
            },
            history: Vec::new(),
            soft_resets: 0,
        }
    }

    /// The engine.
    pub fn engine_mut(&mut self) -> &mut E {
        &mut self.engine
    }

    /// How many soft resets happened.
    pub fn soft_resets(&self) -> u64 {
        self.soft_resets
    }

    /// Whether the REPL is in raw mode.
    pub fn is_raw(&self) -> bool {
        self.mode == Mode::Raw
    }

    /// What a board prints once it has booted: an empty line, the banner and `>>> `.
    pub fn boot(&mut self, con: &mut dyn Console) {
        con.write(b"\r\n");
        self.start_friendly(con);
    }

    fn start_friendly(&mut self, con: &mut dyn Console) {
        self.mode = Mode::Friendly;
        con.write(self.info.banner().as_bytes());
        self.input_restart(con);
    }

    fn start_raw(&mut self, con: &mut dyn Console) {
        self.mode = Mode::Raw;
        con.write(b"raw REPL; CTRL-B to exit\r\n");
        self.line.clear();
        con.write(b">");
    }

    fn input_restart(&mut self, con: &mut dyn Console) {
        self.line.clear();
        self.cont_line = false;
        self.readline_init(">>> ", con);
    }

    fn soft_reset(&mut self, con: &mut dyn Console) {
        self.line.clear();
        self.cont_line = false;
        con.write(self.info.soft_reboot.as_bytes());
        self.engine.soft_reset();
        self.soft_resets += 1;
        if self.mode == Mode::Raw {
            self.start_raw(con);
        } else {
            self.start_friendly(con);
        }
    }

    /// Takes one byte from the line.
    pub fn feed(&mut self, c: u8, con: &mut dyn Console) {
        match self.mode {
            Mode::Raw => self.raw_char(c, con),
            Mode::Paste => self.paste_char(c, con),
            Mode::Friendly => self.friendly_char(c, con),
        }
    }

    fn raw_char(&mut self, c: u8, con: &mut dyn Console) {
        match c {
            CTRL_A => self.start_raw(con),
            CTRL_B => {
                con.write(b"\r\n");
                self.line.clear();
                self.start_friendly(con);
            }
            CTRL_C => self.line.clear(),
            CTRL_D => {
                con.write(b"OK");
                if self.line.is_empty() {
                    con.write(b"\r\n");
                    self.soft_reset(con);
                    return;
                }
                let source = source_text(&self.line);
                self.line.clear();
                let outcome =
                    self.engine
                        .exec(&source, InputMode::File, &mut Cooked { console: con });
                con.write(b"\x04");
                if let ExecOutcome::Exception(text) = outcome {
                    Cooked { console: con }.write(text.as_bytes());
                }
                con.write(b"\x04");
                con.write(b">");
            }
            _ => self.line.push(c),
        }
    }

    fn paste_char(&mut self, c: u8, con: &mut dyn Console) {
        match c {
            CTRL_C => {
                con.write(b"\r\n");
                self.mode = Mode::Friendly;
                self.input_restart(con);
            }
            CTRL_D => {
                con.write(b"\r\n");
                self.mode = Mode::Friendly;
                self.run_friendly(InputMode::File, con);
            }
            b'\r' => {
                self.line.push(c);
                con.write(b"\r\n=== ");
            }
            _ => {
                self.line.push(c);
                con.write(&[c]);
            }
        }
    }

    fn friendly_char(&mut self, c: u8, con: &mut dyn Console) {
        let Some(ret) = self.readline_char(c, con) else {
            return;
        };
        if !self.cont_line {
            match ret {
                CTRL_A => {
                    con.write(b"\r\n");
                    self.start_raw(con);
                }
                CTRL_B => {
                    con.write(b"\r\n");
                    self.start_friendly(con);
                }
                CTRL_C => {
                    con.write(b"\r\n");
                    self.input_restart(con);
                }
                CTRL_D => {
                    con.write(b"\r\n");
                    self.soft_reset(con);
                }
                CTRL_E => {
                    con.write(b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ");
                    self.line.clear();
                    self.mode = Mode::Paste;
                }
                _ if self.line.is_empty() => self.input_restart(con),
                _ => {
                    if continue_with_input(&self.line) {
                        self.line.push(b'\n');
                        self.cont_line = true;
                        self.readline_init("... ", con);
                    } else {
                        self.run_friendly(InputMode::Single, con);
                    }
                }
            }
        } else {
            match ret {
                CTRL_C => {
                    con.write(b"\r\n");
                    self.input_restart(con);
                }
                CTRL_D => self.run_friendly(InputMode::Single, con),
                _ => {
                    if continue_with_input(&self.line) {
                        self.line.push(b'\n');
                        self.readline_init("... ", con);
                    } else {
                        self.run_friendly(InputMode::Single, con);
                    }
                }
            }
        }
    }

    fn run_friendly(&mut self, mode: InputMode, con: &mut dyn Console) {
        let source = source_text(&self.line);
        let outcome = self
            .engine
            .exec(&source, mode, &mut Cooked { console: con });
        if let ExecOutcome::Exception(text) = outcome {
            Cooked { console: con }.write(text.as_bytes());
        }
        self.input_restart(con);
    }

    // ---- the line editor (lib/mp-readline/readline.c) ----

    fn readline_init(&mut self, prompt: &'static str, con: &mut dyn Console) {
        self.rl = Readline {
            orig_len: self.line.len(),
            cursor: self.line.len(),
            esc: Esc::None,
            hist_cur: -1,
            prompt,
        };
        con.write(prompt.as_bytes());
        self.auto_indent(con);
    }

    /// `readline_auto_indent`: after a line ending in `:` indent one more level; keep the
    /// previous line's indent; stop after two blank lines.
    fn auto_indent(&mut self, con: &mut dyn Console) {
        let line = &self.line;
        let len = line.len();
        if len <= 1 || line[len - 1] != b'\n' {
            return;
        }
        let mut i = len - 1;
        while i > 0 && line[i - 1] != b'\n' {
            i -= 1;
        }
        let mut j = i;
        while j < len && line[j] == b' ' {
            j += 1;
        }
        if i > 0 && j + 1 == len {
            // the previous line is all spaces: look at the one before it
            let mut k = i - 1;
            while k > 0 {
                if line[k - 1] == b'\n' {
                    return;
                } else if line[k - 1] != b' ' {
                    break;
                }
                k -= 1;
            }
        }
        let mut n = (j - i) / 4;
        if line[len - 2] == b':' {
            n += 1;
        }
        for _ in 0..n {
            self.line.extend_from_slice(b"    ");
            con.write(b"    ");
            self.rl.cursor += 4;
        }
    }

    fn push_history(&mut self) {
        let entry = self.line[self.rl.orig_len..].to_vec();
        if !entry.is_empty() && self.history.first() != Some(&entry) {
            self.history.insert(0, entry);
            self.history.truncate(HISTORY);
        }
    }

    /// `readline_process_char`: `Some(code)` ends the line (0 for Enter, or the control
    /// character), `None` means keep reading.
    fn readline_char(&mut self, c: u8, con: &mut dyn Console) -> Option<u8> {
        let last_len = self.line.len();
        let mut step_back = 0usize;
        let mut from_cursor = false;
        let mut step_forward = 0usize;
        match self.rl.esc {
            Esc::None => {
                if (CTRL_A..=CTRL_E).contains(&c) && self.line.len() == self.rl.orig_len {
                    return Some(c);
                } else if c == CTRL_A {
                    step_back = self.rl.cursor - self.rl.orig_len;
                } else if c == CTRL_C {
                    return Some(c);
                } else if c == CTRL_E {
                    step_forward = self.line.len() - self.rl.cursor;
                } else if c == b'\r' {
                    con.write(b"\r\n");
                    self.push_history();
                    return Some(0);
                } else if c == 27 {
                    self.rl.esc = Esc::Start;
                } else if c == 8 || c == 127 {
                    if self.rl.cursor > self.rl.orig_len {
                        let spaces = self.line[self.rl.orig_len..self.rl.cursor]
                            .iter()
                            .all(|&b| b == b' ');
                        let run = self.rl.cursor - self.rl.orig_len;
                        let n = if spaces && run >= 4 { 4 } else { 1 };
                        self.line.drain(self.rl.cursor - n..self.rl.cursor);
                        step_back = n;
                        from_cursor = true;
                    }
                } else if c == 9 {
                    let before = source_text(&self.line[self.rl.orig_len..self.rl.cursor]);
                    match self.engine.complete(&before) {
                        Completion::None => {}
                        Completion::Many(list) => {
                            Cooked { console: con }.write(list.as_bytes());
                            con.write(self.rl.prompt.as_bytes());
                            con.write(&self.line[self.rl.orig_len..self.rl.cursor]);
                            from_cursor = true;
                        }
                        Completion::Insert(text) => {
                            let at = self.rl.cursor;
                            let bytes = text.as_bytes();
                            self.line.splice(at..at, bytes.iter().copied());
                            from_cursor = true;
                            step_forward = bytes.len();
                        }
                    }
                } else if (32..=126).contains(&c) {
                    self.line.insert(self.rl.cursor, c);
                    from_cursor = true;
                    step_forward = 1;
                }
            }
            Esc::Start => {
                self.rl.esc = match c {
                    b'[' => Esc::Bracket,
                    b'O' => Esc::O,
                    _ => Esc::None,
                };
            }
            Esc::Bracket => {
                self.rl.esc = Esc::None;
                match c {
                    b'0'..=b'9' => self.rl.esc = Esc::BracketDigit(c),
                    b'A' => {
                        let next = self.rl.hist_cur + 1;
                        if let Some(h) =
                            usize::try_from(next).ok().and_then(|n| self.history.get(n))
                        {
                            let h = h.clone();
                            self.rl.hist_cur = next;
                            self.line.truncate(self.rl.orig_len);
                            self.line.extend_from_slice(&h);
                            step_back = self.rl.cursor - self.rl.orig_len;
                            from_cursor = true;
                            step_forward = self.line.len() - self.rl.orig_len;
                        }
                    }
                    b'B' if self.rl.hist_cur >= 0 => {
                        self.rl.hist_cur -= 1;
                        self.line.truncate(self.rl.orig_len);
                        if let Ok(n) = usize::try_from(self.rl.hist_cur) {
                            let h = self.history[n].clone();
                            self.line.extend_from_slice(&h);
                        }
                        step_back = self.rl.cursor - self.rl.orig_len;
                        from_cursor = true;
                        step_forward = self.line.len() - self.rl.orig_len;
                    }
                    b'C' if self.rl.cursor < self.line.len() => step_forward = 1,
                    b'D' if self.rl.cursor > self.rl.orig_len => step_back = 1,
                    b'H' => step_back = self.rl.cursor - self.rl.orig_len,
                    b'F' => step_forward = self.line.len() - self.rl.cursor,
                    _ => {}
                }
            }
            Esc::BracketDigit(d) => {
                if c == b'~' {
                    match d {
                        b'1' | b'7' => step_back = self.rl.cursor - self.rl.orig_len,
                        b'4' | b'8' => step_forward = self.line.len() - self.rl.cursor,
                        b'3' if self.rl.cursor < self.line.len() => {
                            self.line.remove(self.rl.cursor);
                            from_cursor = true;
                        }
                        _ => {}
                    }
                }
                self.rl.esc = Esc::None;
            }
            Esc::O => {
                match c {
                    b'H' => step_back = self.rl.cursor - self.rl.orig_len,
                    b'F' => step_forward = self.line.len() - self.rl.cursor,
                    _ => {}
                }
                self.rl.esc = Esc::None;
            }
        }

        // redraw the line, efficiently
        if step_back > 0 {
            cursor_back(con, step_back);
            self.rl.cursor -= step_back;
        }
        if from_cursor {
            if self.line.len() < last_len {
                con.write(b"\x1b[K");
            }
            con.write(&self.line[self.rl.cursor..]);
            let back = self.line.len() - (self.rl.cursor + step_forward);
            cursor_back(con, back);
            self.rl.cursor += step_forward;
        } else if step_forward > 0 {
            let end = self.rl.cursor + step_forward;
            con.write(&self.line[self.rl.cursor..end]);
            self.rl.cursor = end;
        }
        None
    }
}

/// `mp_hal_move_cursor_back`: up to four backspaces, else `ESC [ n D`.
fn cursor_back(con: &mut dyn Console, n: usize) {
    if n == 0 {
        return;
    }
    if n <= 4 {
        con.write(&b"\x08\x08\x08\x08"[..n]);
    } else {
        con.write(alloc::format!("\x1b[{n}D").as_bytes());
    }
}

/// The text of a line buffer: line ends normalised like the lexer does (`\r\n` and `\r`
/// become `\n`), bytes that are not UTF-8 replaced.
fn source_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if !text.contains('\r') {
        return text.into_owned();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// `mp_repl_continue_with_input`: whether the friendly REPL asks for another line.
pub fn continue_with_input(input: &[u8]) -> bool {
    if input.is_empty() {
        return false;
    }
    let starts_with_word = |word: &[u8]| {
        input.starts_with(word)
            && input
                .get(word.len())
                .is_none_or(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80))
    };
    let compound = input[0] == b'@'
        || [
            &b"if"[..],
            b"while",
            b"for",
            b"try",
            b"with",
            b"def",
            b"class",
        ]
        .iter()
        .any(|w| starts_with_word(w));

    #[derive(PartialEq, Clone, Copy)]
    enum Q {
        None,
        S1,
        D1,
        S3,
        D3,
    }
    let (mut paren, mut brack, mut brace) = (0i32, 0i32, 0i32);
    let mut q = Q::None;
    let mut i = 0;
    let at = |k: usize| input.get(k).copied().unwrap_or(0);
    while i < input.len() {
        let c = input[i];
        if c == b'\'' {
            if (q == Q::None || q == Q::S3) && at(i + 1) == b'\'' && at(i + 2) == b'\'' {
                i += 2;
                q = if q == Q::S3 { Q::None } else { Q::S3 };
            } else if q == Q::None || q == Q::S1 {
                q = if q == Q::S1 { Q::None } else { Q::S1 };
            }
        } else if c == b'"' {
            if (q == Q::None || q == Q::D3) && at(i + 1) == b'"' && at(i + 2) == b'"' {
                i += 2;
                q = if q == Q::D3 { Q::None } else { Q::D3 };
            } else if q == Q::None || q == Q::D1 {
                q = if q == Q::D1 { Q::None } else { Q::D1 };
            }
        } else if c == b'\\' && matches!(at(i + 1), b'\'' | b'"' | b'\\') {
            if q != Q::None {
                i += 1;
            }
        } else if q == Q::None {
            match c {
                b'(' => paren += 1,
                b')' => paren -= 1,
                b'[' => brack += 1,
                b']' => brack -= 1,
                b'{' => brace += 1,
                b'}' => brace -= 1,
                _ => {}
            }
        }
        i += 1;
    }
    if paren > 0 || brack > 0 || brace > 0 || q == Q::S3 || q == Q::D3 {
        return true;
    }
    // the C code looks at the byte before the terminating NUL
    let last = input[input.len().min(i) - 1];
    if last == b'\\' {
        return true;
    }
    compound && last != b'\n'
}

#[cfg(test)]
mod tests;
