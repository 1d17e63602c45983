//! `board:PORT` end to end: the raw-REPL client and `BoardTarget` against boards served
//! in-process — a scripted fake for every fault, a CPython-backed board on a real folder
//! for upload and clean-up, and the Rust firmware on a pseudo-terminal compared with the
//! in-process `rust` target.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use mpdiff::scenario::Scenario;
use mpdiff::scenario::load_file;
use mpdiff::targets::board::pipe::{PipeEnd, pipe};
use mpdiff::targets::board::{BoardError, BoardOptions, BoardTarget, Port, RawOptions};
use mpdiff::targets::{RunOptions, Target};
use mpfw::repl::serve::{ServeOptions, StopFlag, serve};
use mpfw::repl::{BoardInfo, Engine, ExecOutcome, InputMode, Io, Repl};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn scenario(name: &str) -> Scenario {
    let path = repo().join("scenarios").join(format!("{name}.yaml"));
    load_file(&path, name).unwrap_or_else(|e| panic!("{e}"))
}

fn quick() -> BoardOptions {
    BoardOptions {
        baud: 115_200,
        raw: RawOptions {
            step_timeout: Duration::from_millis(1500),
            chunk_pause: Duration::ZERO,
            ..RawOptions::default()
        },
    }
}

/// A target whose port can be opened once; later opens fail like an unplugged board.
fn target_on(line: PipeEnd, options: BoardOptions) -> BoardTarget {
    let slot: Mutex<Option<PipeEnd>> = Mutex::new(Some(line));
    BoardTarget::with_opener(
        "/dev/fake0",
        options,
        Box::new(move || {
            slot.lock()
                .unwrap()
                .take()
                .map(|p| Box::new(p) as Box<dyn Port>)
                .ok_or_else(|| BoardError::Open {
                    port: "/dev/fake0".into(),
                    message: "No such file or directory".into(),
                })
        }),
    )
}

fn run_opts(secs: u64) -> RunOptions {
    RunOptions {
        timeout: Duration::from_secs(secs),
    }
}

// ---------------------------------------------------------------------------------------
// A scripted board: speaks the raw REPL, answers the harness's housekeeping, and misbehaves
// on the driver as told.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Driver {
    /// Prints plausible records for the scenario.
    Normal,
    /// Runs until Ctrl-C.
    Hang,
    /// Stops answering anything.
    Dead,
    /// Drops the line.
    Disconnect,
    /// Prints part of the output, then the ESP8266 boot banner.
    Reboot,
    /// Prints this many bytes.
    Huge(usize),
    /// Raises MemoryError after the first observation.
    MemoryError,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Line {
    /// A board that follows the protocol.
    Fine,
    /// Never sends anything.
    Silent,
    /// Answers everything with noise.
    Garbage,
}

fn records(s: &Scenario, upto: usize) -> String {
    let mut out = String::from("#~B 'gc'\n#~B 'sys'\n");
    for (i, step) in s.steps.iter().enumerate().take(upto) {
        match step {
            mpdiff::scenario::Step::Observe { .. } => {
                out.push_str(&format!("#~O {i} {} 6000\n", 30000 - 100 * i))
            }
            mpdiff::scenario::Step::Run { .. } => out.push_str(&format!("#~S {i}\n")),
        }
    }
    out
}

fn fake_board(s: Scenario, line: Line, driver: Driver) -> PipeEnd {
    let (client, mut board) = pipe(Duration::from_millis(5));
    thread::spawn(move || {
        let mut raw = false;
        let mut code: Vec<u8> = Vec::new();
        let mut buf = [0u8; 4096];
        let cooked = |t: &str| t.replace('\n', "\r\n");
        loop {
            let n = match board.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => n,
                Err(_) => continue,
            };
            let chunk = buf[..n].to_vec();
            for &b in &chunk {
                let reply: Vec<u8> = match line {
                    Line::Silent => continue,
                    Line::Garbage => b"\xff\xfe\x00garbage ".to_vec(),
                    Line::Fine if !raw => match b {
                        1 => {
                            raw = true;
                            code.clear();
                            b"\r\nraw REPL; CTRL-B to exit\r\n>".to_vec()
                        }
                        _ => continue,
                    },
                    Line::Fine => match b {
                        1 => {
                            code.clear();
                            b"raw REPL; CTRL-B to exit\r\n>".to_vec()
                        }
                        2 => {
                            raw = false;
                            format!("\r\n{ESP_BANNER}>>> ").into_bytes()
                        }
                        3 => {
                            code.clear();
                            continue;
                        }
                        4 if code.is_empty() => {
                            b"OK\r\nPYB: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>".to_vec()
                        }
                        4 => {
                            let text = String::from_utf8_lossy(&code).into_owned();
                            code.clear();
                            let answer = |out: &str, err: &str| {
                                format!("OK{}\x04{}\x04>", cooked(out), cooked(err)).into_bytes()
                            };
                            if text.contains("uos.uname()") {
                                answer("#~I micropython 1 9 4 35968 'fake board'\n", "")
                            } else if text.contains("_mpdiff_check()") {
                                answer("#~NEW\n", "")
                            } else if text.contains("uos.getcwd()") {
                                answer("#~C /mpdiff\n", "")
                            } else if text.contains("_mpdiff_steps") {
                                match driver {
                                    Driver::Normal => {
                                        answer(&(records(&s, usize::MAX) + "#~END\n"), "")
                                    }
                                    Driver::Huge(n) => {
                                        let mut v = b"OK".to_vec();
                                        v.extend(std::iter::repeat_n(b'x', n));
                                        v.extend_from_slice(b"\x04\x04>");
                                        v
                                    }
                                    Driver::MemoryError => answer(
                                        &records(&s, 1),
                                        "Traceback (most recent call last):\n  File \"<stdin>\", line 30, in <module>\nMemoryError: memory allocation failed, allocating 3000 bytes\n",
                                    ),
                                    Driver::Reboot => {
                                        raw = false;
                                        let mut v = b"OK".to_vec();
                                        v.extend(cooked(&records(&s, 1)).bytes());
                                        v.extend_from_slice(b"\r\n ets Jan  8 2013,rst cause:4, boot mode:(3,6)\r\n\r\nwdt reset\r\n");
                                        v.extend_from_slice(b"\r\nMicroPython v1.9.4-8-ga9a3caad0 on 2018-05-11; ESP module with ESP8266\r\nType \"help()\" for more information.\r\n>>> ");
                                        v
                                    }
                                    Driver::Hang => {
                                        let _ = board.write(b"OK#~B 'gc'\r\n");
                                        // wait for Ctrl-C
                                        loop {
                                            match board.read(&mut buf) {
                                                Ok(0) => return,
                                                Ok(n) if buf[..n].contains(&3) => break,
                                                _ => {}
                                            }
                                        }
                                        b"\x04Traceback (most recent call last):\r\nKeyboardInterrupt: \r\n\x04>".to_vec()
                                    }
                                    Driver::Dead => {
                                        let _ = board.write(b"OK");
                                        loop {
                                            if let Ok(0) = board.read(&mut buf) {
                                                return;
                                            }
                                        }
                                    }
                                    Driver::Disconnect => {
                                        let _ = board.write(b"OK#~B 'gc'\r\n");
                                        return;
                                    }
                                }
                            } else {
                                answer("", "")
                            }
                        }
                        _ => {
                            code.push(b);
                            continue;
                        }
                    },
                };
                if board.write(&reply).is_err() {
                    return;
                }
            }
        }
    });
    client
}

const ESP_BANNER: &str = "MicroPython v1.9.4-8-ga9a3caad0 on 2018-05-11; ESP module with ESP8266\r\nType \"help()\" for more information.\r\n";

const SEED: &str = "seed/from-import-del-keeps-ram";

#[test]
fn a_well_behaved_board_reports_observations_and_traffic() {
    let s = scenario(SEED);
    let t = target_on(fake_board(s.clone(), Line::Fine, Driver::Normal), quick());
    assert_eq!(t.name(), "board:/dev/fake0");
    // it says it runs MicroPython 1.9.4: a reference
    assert!(t.is_reference());
    let e = t.execute(&s, &run_opts(20));
    assert_eq!(e.failure, None);
    assert_eq!(
        e.target_info,
        "MicroPython v1.9.4-8-ga9a3caad0 on 2018-05-11; ESP module with ESP8266, heap 35968 bytes"
    );
    assert_eq!(e.observations.len(), 3);
    assert_eq!(e.baseline_modules, ["gc", "sys"]);
    let tr = e.transfer.unwrap();
    assert!(tr.bytes_sent > 500 && tr.bytes_received > 100, "{tr:?}");
    assert_eq!(tr.baud, 115_200);
}

#[test]
fn a_board_that_never_answers_fails_naming_the_port() {
    let s = scenario(SEED);
    let t = target_on(fake_board(s.clone(), Line::Silent, Driver::Normal), quick());
    let e = t.execute(&s, &run_opts(20));
    let f = e.failure.unwrap();
    assert!(
        f.contains("board:/dev/fake0") && f.contains("no answer"),
        "{f}"
    );
    assert!(e.observations.is_empty());
}

#[test]
fn garbage_on_the_line_is_shown_in_the_failure() {
    let s = scenario(SEED);
    let t = target_on(
        fake_board(s.clone(), Line::Garbage, Driver::Normal),
        quick(),
    );
    let f = t.execute(&s, &run_opts(20)).failure.unwrap();
    assert!(f.contains("garbage"), "{f}");
}

#[test]
fn a_hung_program_is_interrupted_and_the_next_scenario_runs() {
    let s = scenario(SEED);
    let t = target_on(fake_board(s.clone(), Line::Fine, Driver::Hang), quick());
    let e = t.execute(&s, &run_opts(2));
    let f = e.failure.unwrap();
    assert!(f.contains("no answer") && f.contains("interrupted"), "{f}");
    // The board answers again: the next scenario gets as far as the driver again.
    let e2 = t.execute(&s, &run_opts(2));
    assert!(e2.failure.unwrap().contains("interrupted"));
}

#[test]
fn a_dead_board_fails_the_scenario_and_the_run_goes_on() {
    let s = scenario(SEED);
    let t = target_on(fake_board(s.clone(), Line::Fine, Driver::Dead), quick());
    let f = t.execute(&s, &run_opts(1)).failure.unwrap();
    assert!(f.contains("no answer"), "{f}");
    let f2 = t.execute(&s, &run_opts(1)).failure.unwrap();
    assert!(f2.contains("board:/dev/fake0"), "{f2}");
}

#[test]
fn a_port_that_disappears_is_a_clear_error_and_stays_gone() {
    let s = scenario(SEED);
    let t = target_on(
        fake_board(s.clone(), Line::Fine, Driver::Disconnect),
        quick(),
    );
    let f = t.execute(&s, &run_opts(20)).failure.unwrap();
    assert!(f.contains("board:/dev/fake0: the port was lost"), "{f}");
    let f2 = t.execute(&s, &run_opts(20)).failure.unwrap();
    assert!(f2.contains("cannot open the port"), "{f2}");
}

#[test]
fn huge_output_is_capped_and_reported() {
    let s = scenario(SEED);
    let mut o = quick();
    o.raw.output_cap = 64 * 1024;
    let t = target_on(fake_board(s.clone(), Line::Fine, Driver::Huge(3 << 20)), o);
    let e = t.execute(&s, &run_opts(60));
    let f = e.failure.unwrap();
    assert!(f.contains("dropped"), "{f}");
    assert!(e.transfer.unwrap().bytes_received >= 3 << 20);
}

#[test]
fn memory_error_on_the_board_keeps_what_was_observed() {
    let s = scenario(SEED);
    let t = target_on(
        fake_board(s.clone(), Line::Fine, Driver::MemoryError),
        quick(),
    );
    let e = t.execute(&s, &run_opts(20));
    let f = e.failure.unwrap();
    assert!(f.contains("MemoryError: memory allocation failed"), "{f}");
    assert_eq!(e.observations.len(), 1);
}

#[test]
fn a_board_that_reboots_mid_run_is_reported() {
    let s = scenario(SEED);
    let t = target_on(fake_board(s.clone(), Line::Fine, Driver::Reboot), quick());
    let f = t.execute(&s, &run_opts(20)).failure.unwrap();
    assert!(
        f.contains("rebooted") && f.contains("MicroPython v1.9.4"),
        "{f}"
    );
    // It comes back in the friendly REPL: the next scenario re-enters raw mode.
    let t2 = t.execute(&s, &run_opts(20));
    assert!(t2.failure.unwrap().contains("rebooted"));
}

// ---------------------------------------------------------------------------------------
// A board backed by CPython over a real folder: checks what lands on and leaves the
// board's filesystem.

struct CPythonEngine {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl CPythonEngine {
    fn start(root: &Path) -> Option<CPythonEngine> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/board/cpython_board.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let stdin = child.stdin.take()?;
        let stdout = BufReader::new(child.stdout.take()?);
        Some(CPythonEngine {
            child,
            stdin,
            stdout,
        })
    }

    fn read_part(&mut self) -> Vec<u8> {
        let mut n = String::new();
        self.stdout.read_line(&mut n).unwrap();
        let mut v = vec![0; n.trim().parse().unwrap_or(0)];
        self.stdout.read_exact(&mut v).unwrap();
        v
    }
}

impl Drop for CPythonEngine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Engine for CPythonEngine {
    fn exec(&mut self, source: &str, mode: InputMode, io: &mut dyn Io) -> ExecOutcome {
        let m = if mode == InputMode::File { "F" } else { "S" };
        write!(self.stdin, "{m} {}\n{source}", source.len()).unwrap();
        self.stdin.flush().unwrap();
        let out = self.read_part();
        io.write(&out);
        let err = self.read_part();
        if err.is_empty() {
            ExecOutcome::Done
        } else {
            ExecOutcome::Exception(String::from_utf8_lossy(&err).into_owned())
        }
    }
    fn soft_reset(&mut self) {
        self.stdin.write_all(b"R\n").unwrap();
        self.stdin.flush().unwrap();
    }
}

/// Serves `engine` over an in-memory line; stops when the returned flag is set or the
/// line is dropped.
fn serve_in_process<E: Engine + Send + 'static>(engine: E) -> (PipeEnd, StopFlag) {
    let (client, server) = pipe(Duration::from_millis(5));
    let stop = StopFlag::new();
    let s = stop.clone();
    thread::spawn(move || {
        let (r, mut w) = server.into_split();
        let mut repl = Repl::new(engine, BoardInfo::default());
        let o = ServeOptions {
            line_rate: None,
            boot_banner: true,
        };
        serve(&mut repl, r, &mut w, &o, &s)
    });
    (client, stop)
}

fn cpython_board() -> Option<(BoardTarget, StopFlag, tempfile::TempDir)> {
    let root = tempfile::tempdir().unwrap();
    let Some(engine) = CPythonEngine::start(root.path()) else {
        eprintln!("skipped: python3 is not available to play the board");
        return None;
    };
    let (line, stop) = serve_in_process(engine);
    Some((target_on(line, quick()), stop, root))
}

fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
                out.push(rel + "/");
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_tree_is_uploaded_run_and_removed_leaving_the_board_as_it_was() {
    let Some((t, stop, root)) = cpython_board() else {
        return;
    };
    std::fs::write(root.path().join("boot.py"), "# the board's own\n").unwrap();
    let s = scenario(SEED);
    let e = t.execute(&s, &run_opts(30));
    assert_eq!(e.failure, None);
    assert_eq!(e.observations.len(), 3);
    let imported = &e.observations[1];
    assert!(
        imported
            .modules
            .contains(&"rootpackage.package.subpackage.module".to_string()),
        "{imported:?}"
    );
    assert_eq!(
        imported.eval.values().next().map(String::as_str),
        Some("True")
    );
    assert_eq!(files_under(root.path()), ["boot.py"]);
    assert_eq!(
        std::fs::read_to_string(root.path().join("boot.py")).unwrap(),
        "# the board's own\n"
    );
    stop.stop();
}

#[test]
fn a_folder_that_is_not_ours_is_refused_and_left_alone() {
    let Some((t, stop, root)) = cpython_board() else {
        return;
    };
    std::fs::create_dir(root.path().join("mpdiff")).unwrap();
    std::fs::write(root.path().join("mpdiff/notes.txt"), "mine").unwrap();
    let s = scenario(SEED);
    let f = t.execute(&s, &run_opts(30)).failure.unwrap();
    assert!(
        f.contains("/mpdiff exists on the board and is not mpdiff's"),
        "{f}"
    );
    assert_eq!(files_under(root.path()), ["mpdiff/", "mpdiff/notes.txt"]);
    stop.stop();
}

#[test]
fn identical_files_are_not_sent_again_and_stale_ones_go() {
    let Some((t, stop, root)) = cpython_board() else {
        return;
    };
    let s = scenario(SEED);
    let clean = t.execute(&s, &run_opts(30));
    assert_eq!(clean.failure, None);
    // Leftovers of an interrupted run: our marker, the tree's files (as they are, or each
    // with one more line), and a stale file.
    let leftovers = |changed: bool| {
        let m = root.path().join("mpdiff");
        std::fs::create_dir_all(m.join("rootpackage/package/subpackage")).unwrap();
        std::fs::write(m.join(".mpdiff"), "").unwrap();
        for (p, c) in &s.tree {
            let c = if changed {
                format!("{c}#\n")
            } else {
                c.clone()
            };
            std::fs::write(m.join(p), c).unwrap();
        }
        std::fs::write(m.join("rootpackage/stale.py"), "x = 1\n").unwrap();
    };
    leftovers(false);
    let same = t.execute(&s, &run_opts(30));
    assert_eq!(same.failure, None);
    assert_eq!(same.observations, clean.observations);
    assert!(
        files_under(root.path()).is_empty(),
        "{:?}",
        files_under(root.path())
    );
    leftovers(true);
    let changed = t.execute(&s, &run_opts(30));
    assert_eq!(changed.failure, None);
    assert_eq!(changed.observations, clean.observations);
    assert!(
        files_under(root.path()).is_empty(),
        "{:?}",
        files_under(root.path())
    );
    let content: usize = s.tree.values().map(String::len).sum();
    let (a, b) = (
        same.transfer.unwrap().bytes_sent,
        changed.transfer.unwrap().bytes_sent,
    );
    assert!(
        a + content as u64 <= b,
        "sent {a} bytes with identical files in place, {b} with changed ones"
    );
    stop.stop();
}

#[test]
fn two_scenarios_in_a_row_share_one_connection() {
    let Some((t, stop, root)) = cpython_board() else {
        return;
    };
    let a = scenario(SEED);
    let b = scenario("seed/import-dotted-del-attribute-and-entry-frees");
    for s in [&a, &b, &a] {
        let e = t.execute(s, &run_opts(30));
        assert_eq!(e.failure, None, "{}", s.name);
        assert!(!e.observations.is_empty());
    }
    assert!(files_under(root.path()).is_empty());
    stop.stop();
}

#[allow(dead_code)]
fn keep_arc_used(_: Arc<()>) {}

// ---------------------------------------------------------------------------------------
// The Rust firmware served on a pseudo-terminal, against the in-process `rust` target.

fn all_scenarios() -> Vec<Scenario> {
    let found = mpdiff::scenario::discover(&[repo().join("scenarios")]).unwrap();
    found
        .iter()
        .map(|f| load_file(&f.file, &f.name).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn deltas(obs: &[mpdiff::outcome::Observation]) -> Vec<i64> {
    obs.windows(2).map(|w| w[1].free - w[0].free).collect()
}

#[test]
fn every_scenario_on_the_pty_board_agrees_with_the_rust_target_byte_for_byte() {
    use mpdiff::targets::rust::RustTarget;
    let scenarios = all_scenarios();
    assert!(!scenarios.is_empty());
    let mut heaps: Vec<u64> = scenarios.iter().map(|s| s.heap).collect();
    heaps.sort();
    heaps.dedup();
    let rust = RustTarget::new();
    let mut problems = Vec::new();
    let mut compared = 0;
    let (mut sent, mut received, mut payload) = (0u64, 0u64, 0usize);
    for heap in heaps {
        let board = mpdiff::targets::board::spawn_pty_board(heap).expect("a pseudo-terminal");
        let mut o = quick();
        o.raw.step_timeout = Duration::from_secs(10);
        let t = BoardTarget::with_opener(
            &board.path,
            o,
            Box::new({
                let p = board.path.clone();
                move || mpdiff::targets::board::open_serial(&p, 115_200)
            }),
        );
        // the firmware says so in its banner: not a reference
        assert!(!t.is_reference());
        assert!(
            t.info(heap).contains("; mpfw with Rust, heap "),
            "{}",
            t.info(heap)
        );
        for s in scenarios.iter().filter(|s| s.heap == heap) {
            let opts = run_opts(60);
            let r = rust.execute(s, &opts);
            let b = t.execute(s, &opts);
            if let Some(tr) = &b.transfer {
                sent += tr.bytes_sent;
                received += tr.bytes_received;
            }
            payload += mpdiff::driver::script(
                s,
                mpdiff::driver::MICROPYTHON_PRELUDE,
                "sys.path[0] = ''\n",
            )
            .len()
                + s.tree.values().map(String::len).sum::<usize>();
            if r.failure.is_some() || b.failure.is_some() {
                if r.failure.is_none() || b.failure.is_none() {
                    problems.push(format!(
                        "{}: rust failure {:?}, board failure {:?}",
                        s.name, r.failure, b.failure
                    ));
                }
                continue;
            }
            compared += 1;
            if deltas(&r.observations) != deltas(&b.observations) {
                problems.push(format!(
                    "{}: deltas rust {:?} board {:?}",
                    s.name,
                    deltas(&r.observations),
                    deltas(&b.observations)
                ));
            }
            let ro = mpdiff::expect::finish(s, "rust", r);
            let bo = mpdiff::expect::finish(s, &t.name(), b);
            let c = mpdiff::compare::compare(s, &ro, &bo);
            if c.undeclared().next().is_some() {
                problems.push(format!(
                    "{}: {:?}",
                    s.name,
                    c.undeclared().collect::<Vec<_>>()
                ));
            }
        }
        drop(t);
        board.stop().expect("the board served without i/o errors");
    }
    eprintln!("{compared} scenarios compared in full");
    eprintln!(
        "{sent} bytes sent for {payload} bytes of driver scripts and files; {received} received"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_file_larger_than_one_command_goes_in_pieces() {
    let Some((t, stop, root)) = cpython_board() else {
        return;
    };
    // 90 lines of 70 characters, quotes and backslashes included: several commands.
    let mut body = String::new();
    for i in 0..90 {
        body.push_str(&format!(
            "    x{i:02} = 'it\\'s \\\\ line {i:02} ........................................'\n"
        ));
    }
    let yaml = format!(
        "about: a big module\ntree:\n  pkg/__init__.py: \"\"\n  pkg/big.py: |\n{body}steps:\n  - run: import pkg.big\n  - observe: after\n    eval: [\"pkg.big.x89\", \"len([k for k in dir(pkg.big) if k.startswith('x')])\"]\n"
    );
    let s = mpdiff::scenario::load_str(&yaml, Path::new("big.yaml"), "big").unwrap();
    assert!(s.tree["pkg/big.py"].len() > 5000);
    let e = t.execute(&s, &run_opts(30));
    assert_eq!(e.failure, None);
    let eval: Vec<&String> = e.observations[0].eval.values().collect();
    assert_eq!(
        eval,
        [
            "\"it's \\\\ line 89 ........................................\"",
            "90"
        ]
    );
    assert!(files_under(root.path()).is_empty());
    stop.stop();
}
