//! The REPL against a scripted engine: every byte the board prints is checked against
//! what `pyexec.c` and `readline.c` print.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::*;

/// An engine that records what it is asked and answers from a script: source `raise X`
/// raises, `print S` prints `S\n`, `loop` runs until interrupted.
#[derive(Default)]
struct Scripted {
    ran: Vec<(String, InputMode)>,
    resets: usize,
}

impl Engine for Scripted {
    fn exec(&mut self, source: &str, mode: InputMode, io: &mut dyn Io) -> ExecOutcome {
        self.ran.push((source.to_string(), mode));
        if let Some(kind) = source.strip_prefix("raise ") {
            return ExecOutcome::Exception(alloc::format!(
                "Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n{kind}: \n"
            ));
        }
        if let Some(text) = source.strip_prefix("print ") {
            io.write(text.as_bytes());
            io.write(b"\n");
        }
        if source == "loop" {
            for _ in 0..1000 {
                if io.interrupted() {
                    return ExecOutcome::Exception(
                        "Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\nKeyboardInterrupt: \n"
                            .to_string(),
                    );
                }
            }
            return ExecOutcome::Done;
        }
        if source == "exit" {
            return ExecOutcome::SystemExit;
        }
        ExecOutcome::Done
    }
    fn soft_reset(&mut self) {
        self.resets += 1;
    }
}

#[derive(Default)]
struct Captured {
    out: Vec<u8>,
    ctrl_c_after: Option<usize>,
}

impl Console for Captured {
    fn write(&mut self, data: &[u8]) {
        self.out.extend_from_slice(data);
    }
    fn interrupted(&mut self) -> bool {
        match &mut self.ctrl_c_after {
            Some(0) => {
                self.ctrl_c_after = None;
                true
            }
            Some(n) => {
                *n -= 1;
                false
            }
            None => false,
        }
    }
}

fn repl() -> (Repl<Scripted>, Captured) {
    let mut r = Repl::new(Scripted::default(), BoardInfo::default());
    let mut c = Captured::default();
    r.boot(&mut c);
    (r, c)
}

fn feed(r: &mut Repl<Scripted>, c: &mut Captured, bytes: &[u8]) -> String {
    c.out.clear();
    for &b in bytes {
        r.feed(b, c);
    }
    String::from_utf8_lossy(&c.out).into_owned()
}

const BANNER: &str =
    "MicroPython v1.9.4 on 2018-05-11; mpfw with Rust\r\nType \"help()\" for more information.\r\n";

#[test]
fn boots_with_the_banner_and_prompt() {
    let (_, c) = repl();
    assert_eq!(
        String::from_utf8_lossy(&c.out),
        alloc::format!("\r\n{BANNER}>>> ")
    );
}

#[test]
fn raw_repl_frames_output_and_errors() {
    let (mut r, mut c) = repl();
    assert_eq!(
        feed(&mut r, &mut c, b"\r\x01"),
        "\r\n>>> \r\nraw REPL; CTRL-B to exit\r\n>"
    );
    assert!(r.is_raw());
    assert_eq!(
        feed(&mut r, &mut c, b"print a\nb\x04"),
        "OKa\r\nb\r\n\x04\x04>"
    );
    assert_eq!(
        r.engine_mut().ran.last().unwrap(),
        &("print a\nb".to_string(), InputMode::File)
    );
    assert_eq!(
        feed(&mut r, &mut c, b"raise ImportError\x04"),
        "OK\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nImportError: \r\n\x04>"
    );
    // Ctrl-C clears a half-sent command; Ctrl-A starts again.
    assert_eq!(
        feed(&mut r, &mut c, b"garbage\x03print x\x04"),
        "OKx\r\n\x04\x04>"
    );
    assert_eq!(
        feed(&mut r, &mut c, b"junk\x01"),
        "raw REPL; CTRL-B to exit\r\n>"
    );
    assert_eq!(feed(&mut r, &mut c, b"exit\x04"), "OK\x04\x04>");
}

#[test]
fn ctrl_d_at_an_empty_raw_prompt_soft_resets_and_stays_raw() {
    let (mut r, mut c) = repl();
    feed(&mut r, &mut c, b"\x01");
    assert_eq!(
        feed(&mut r, &mut c, b"\x04"),
        "OK\r\nPYB: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>"
    );
    assert_eq!(r.engine_mut().resets, 1);
    assert!(r.is_raw());
    assert_eq!(
        feed(&mut r, &mut c, b"\x02"),
        alloc::format!("\r\n{BANNER}>>> ")
    );
    assert!(!r.is_raw());
}

#[test]
fn friendly_repl_echoes_runs_single_input_and_soft_resets() {
    let (mut r, mut c) = repl();
    assert_eq!(
        feed(&mut r, &mut c, b"print hi\r"),
        "print hi\r\nhi\r\n>>> "
    );
    assert_eq!(
        r.engine_mut().ran.last().unwrap(),
        &("print hi".to_string(), InputMode::Single)
    );
    // an empty line just prompts again; \n is not Enter
    assert_eq!(feed(&mut r, &mut c, b"\n\r"), "\r\n>>> ");
    assert_eq!(feed(&mut r, &mut c, b"ab\x03"), "ab\r\n>>> ");
    assert_eq!(
        feed(&mut r, &mut c, b"\x04"),
        alloc::format!("\r\nPYB: soft reboot\r\n{BANNER}>>> ")
    );
    assert_eq!(r.engine_mut().resets, 1);
}

#[test]
fn ctrl_c_interrupts_a_running_program() {
    let (mut r, mut c) = repl();
    feed(&mut r, &mut c, b"\x01");
    c.ctrl_c_after = Some(3);
    let out = feed(&mut r, &mut c, b"loop\x04");
    assert!(out.starts_with("OK\x04Traceback"), "{out:?}");
    assert!(out.ends_with("KeyboardInterrupt: \r\n\x04>"), "{out:?}");
}

#[test]
fn compound_statements_continue_with_auto_indent() {
    let (mut r, mut c) = repl();
    assert_eq!(feed(&mut r, &mut c, b"if 1:\r"), "if 1:\r\n...     ");
    assert_eq!(feed(&mut r, &mut c, b"x\r"), "x\r\n...     ");
    // backspace over a run of 4 spaces takes the whole indent
    assert_eq!(feed(&mut r, &mut c, b"\x7f"), "\x08\x08\x08\x08\x1b[K");
    assert_eq!(feed(&mut r, &mut c, b"\r"), "\r\n>>> ");
    assert_eq!(
        r.engine_mut().ran.last().unwrap(),
        &("if 1:\n    x\n".to_string(), InputMode::Single)
    );
}

#[test]
fn unclosed_brackets_continue_and_ctrl_d_runs() {
    let (mut r, mut c) = repl();
    assert_eq!(feed(&mut r, &mut c, b"f(1,\r"), "f(1,\r\n... ");
    // Ctrl-D on a non-empty line is ignored (no emacs keys); on an empty one it runs
    assert_eq!(feed(&mut r, &mut c, b"2\x04\r"), "2\r\n... ");
    assert!(r.engine_mut().ran.is_empty());
    assert_eq!(feed(&mut r, &mut c, b"\x04"), ">>> ");
    assert_eq!(
        r.engine_mut().ran.last().unwrap(),
        &("f(1,\n2\n".to_string(), InputMode::Single)
    );
}

#[test]
fn paste_mode_runs_file_input() {
    let (mut r, mut c) = repl();
    assert_eq!(
        feed(&mut r, &mut c, b"\x05"),
        "\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== "
    );
    assert_eq!(feed(&mut r, &mut c, b"a=1\rb=2"), "a=1\r\n=== b=2");
    assert_eq!(feed(&mut r, &mut c, b"\x04"), "\r\n>>> ");
    assert_eq!(
        r.engine_mut().ran.last().unwrap(),
        &("a=1\nb=2".to_string(), InputMode::File)
    );
}

#[test]
fn line_editing_and_history() {
    let (mut r, mut c) = repl();
    // left arrow twice, insert, then Enter
    assert_eq!(feed(&mut r, &mut c, b"ac\x1b[D"), "ac\x08");
    assert_eq!(feed(&mut r, &mut c, b"b"), "bc\x08");
    feed(&mut r, &mut c, b"\r");
    assert_eq!(r.engine_mut().ran.last().unwrap().0, "abc");
    // up arrow recalls it
    assert_eq!(feed(&mut r, &mut c, b"\x1b[A"), "abc");
    // home, delete-key
    assert_eq!(feed(&mut r, &mut c, b"\x1b[H"), "\x08\x08\x08");
    assert_eq!(feed(&mut r, &mut c, b"\x1b[3~"), "\x1b[Kbc\x08\x08");
    feed(&mut r, &mut c, b"\r");
    assert_eq!(r.engine_mut().ran.last().unwrap().0, "bc");
    // a long move uses ESC [ n D
    feed(&mut r, &mut c, b"abcdefgh");
    assert_eq!(feed(&mut r, &mut c, b"\x01"), "\x1b[8D");
}

#[test]
fn continuation_rule_matches_pyexec() {
    for (s, want) in [
        ("x = 1", false),
        ("if x:", true),
        ("iff = 1", false),
        ("def f(): pass\n", false),
        ("f(", true),
        ("'''abc", true),
        ("'a(' ", false),
        ("x = \\", true),
        ("@dec", true),
        ("\"it\\\"s(\"", false),
    ] {
        assert_eq!(continue_with_input(s.as_bytes()), want, "{s:?}");
    }
}
