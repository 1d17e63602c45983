//! `board:PORT`: a board that speaks MicroPython's raw REPL on a serial port (an ESP8266
//! with the official 1.9.4 firmware, or `mpfw serve` on a pseudo-terminal).
//!
//! Per scenario the board is soft-reset (fresh heap and `sys.modules`), the tree is
//! uploaded under `/mpdiff` (only files that differ), the board is soft-reset again so
//! the upload leaves nothing on the heap or in the qstr pools, and the same driver every
//! other target runs is sent in one raw-REPL command. Then exactly what was uploaded is
//! removed. Nothing outside `/mpdiff` is ever touched, and a `/mpdiff` that mpdiff did not
//! make (no `/mpdiff/.mpdiff` marker) is refused.

pub mod pipe;
pub mod pty;
pub mod raw;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::driver::{self, MICROPYTHON_PRELUDE};
use crate::outcome::Transfer;
use crate::scenario::Scenario;
use crate::targets::{Execution, RunOptions, Target, TargetError};

pub use pty::{PtyBoard, spawn_pty_board, spawn_pty_board_with};
pub use raw::{BoardError, ExecOutput, Port, RawOptions, RawRepl};

/// The folder the scenario tree goes to on the board.
pub const FOLDER: &str = "/mpdiff";
/// The marker file that says the folder is mpdiff's.
pub const MARKER: &str = "/mpdiff/.mpdiff";
/// What the marker says.
const MARKER_TEXT: &str = "made by mpdiff; removed when its run ends\n";
/// The default line rate.
pub const DEFAULT_BAUD: u32 = 115_200;
/// Source bytes per upload command: the command sits on the board's heap while it runs
/// (36 KB on an ESP8266), so uploads go in pieces.
const UPLOAD_BATCH: usize = 2048;

/// How a board target behaves.
#[derive(Debug, Clone)]
pub struct BoardOptions {
    /// Line rate in bits per second (only for the record on a pseudo-terminal).
    pub baud: u32,
    /// Protocol settings.
    pub raw: RawOptions,
}

impl Default for BoardOptions {
    fn default() -> Self {
        BoardOptions {
            baud: DEFAULT_BAUD,
            raw: RawOptions::default(),
        }
    }
}

type Conn = RawRepl<Box<dyn Port>>;

/// Opens the port again after it was lost.
type Opener = Box<dyn Fn() -> Result<Box<dyn Port>, BoardError> + Send + Sync>;

struct State {
    conn: Option<Conn>,
    /// The board's own description, once asked.
    about: Option<String>,
    /// Whether the current folder survives a soft reset (`mpfw` keeps it; the ESP8266
    /// remounts its filesystem and starts at `/`).
    cwd_survives_reset: Option<bool>,
}

/// A board behind a serial port. The port sits behind a mutex: one scenario at a time.
pub struct BoardTarget {
    port: String,
    options: BoardOptions,
    opener: Opener,
    state: Mutex<State>,
}

impl std::fmt::Debug for BoardTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoardTarget")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Opens a serial port without resetting the board: DTR and RTS are released right after
/// opening (on the usual ESP8266 USB bridges they drive EN and GPIO0).
pub fn open_serial(port: &str, baud: u32) -> Result<Box<dyn Port>, BoardError> {
    let mut p = serialport::new(port, baud)
        .timeout(Duration::from_millis(20))
        .dtr_on_open(false)
        .open()
        .map_err(|e| BoardError::Open {
            port: port.to_string(),
            message: open_hint(&e),
        })?;
    // Pseudo-terminals have no modem lines: errors here mean nothing to release.
    let _ = p.write_request_to_send(false);
    let _ = p.write_data_terminal_ready(false);
    Ok(Box::new(p))
}

fn open_hint(e: &serialport::Error) -> String {
    let mut s = e.to_string();
    if let serialport::ErrorKind::Io(kind) = e.kind() {
        match kind {
            std::io::ErrorKind::PermissionDenied => {
                s.push_str(" (add yourself to the `dialout` group: sudo usermod -aG dialout $USER, then log in again)");
            }
            std::io::ErrorKind::NotFound => {
                s.push_str(" (is the board plugged in? `mpdiff boards` lists ports)")
            }
            _ => {}
        }
    } else if e.kind() == serialport::ErrorKind::NoDevice {
        s.push_str(" (is the board plugged in, or is another program using the port?)");
    }
    s
}

impl BoardTarget {
    /// A target for the board on `port` at `baud` bits per second. The port is opened
    /// when first needed.
    pub fn open(port: &str, baud: u32) -> BoardTarget {
        let options = BoardOptions {
            baud,
            ..BoardOptions::default()
        };
        let path = port.to_string();
        BoardTarget::with_opener(port, options, Box::new(move || open_serial(&path, baud)))
    }

    /// A target over any stream; `opener` is called whenever a connection is needed.
    pub fn with_opener(port: &str, options: BoardOptions, opener: Opener) -> BoardTarget {
        BoardTarget {
            port: port.to_string(),
            options,
            opener,
            state: Mutex::new(State {
                conn: None,
                about: None,
                cwd_survives_reset: None,
            }),
        }
    }

    /// The port name.
    pub fn port(&self) -> &str {
        &self.port
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves a usable state: the connection
        // is re-checked by every command.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn connect<'a>(&self, state: &'a mut State) -> Result<&'a mut Conn, BoardError> {
        if state.conn.is_none() {
            let port = (self.opener)()?;
            state.conn = Some(RawRepl::new(port, self.name(), self.options.raw.clone()));
        }
        Ok(state.conn.as_mut().expect("connection set just above"))
    }

    /// Asks the board what it is (`sys.implementation`, `uos.uname()`, heap size).
    fn describe(&self, state: &mut State) -> Result<String, BoardError> {
        if let Some(a) = &state.about {
            return Ok(a.clone());
        }
        let conn = self.connect(state)?;
        let out = run_checked(conn, INFO_PY, "asking the board what it is")?;
        let line = records(&out, "I")
            .into_iter()
            .next()
            .ok_or_else(|| BoardError::Protocol {
                port: self.name(),
                doing: "asking the board what it is".into(),
                got: raw::escape_tail(&out.stdout, 80),
            })?;
        let banner = conn.banner()?;
        let about = about_line(&banner, &line);
        state.about = Some(about.clone());
        Ok(about)
    }

    fn run(
        &self,
        scenario: &Scenario,
        deadline: Instant,
        exec: &mut Execution,
    ) -> Result<(), BoardError> {
        let mut state = self.lock();
        let state = &mut *state;
        if state.about.is_none() {
            exec.target_info = self.describe(state)?;
        } else {
            exec.target_info = state.about.clone().unwrap_or_default();
        }
        self.connect(state)?;
        let State {
            conn: Some(conn),
            cwd_survives_reset,
            ..
        } = state
        else {
            return Ok(());
        };
        conn.soft_reset()?;
        let uploaded = upload(conn, scenario)?;
        let result = self.run_driver(conn, cwd_survives_reset, scenario, deadline, exec);
        // Clean up even when the run failed, as long as the board answers.
        let cleanup = if result.as_ref().is_err_and(|e| e.is_lost()) {
            Ok(())
        } else {
            cleanup(conn, &uploaded)
        };
        result?;
        if let Err(e) = cleanup {
            exec.failure.get_or_insert(format!("cleaning up: {e}"));
        }
        Ok(())
    }

    fn run_driver(
        &self,
        conn: &mut Conn,
        cwd_survives_reset: &mut Option<bool>,
        scenario: &Scenario,
        deadline: Instant,
        exec: &mut Execution,
    ) -> Result<(), BoardError> {
        // The upload left its code, names and qstrs on the heap: start again clean, so the
        // driver meets the same heap every target gives it.
        conn.soft_reset()?;
        let keeps_cwd = match *cwd_survives_reset {
            Some(k) => k,
            None => {
                let out = run_checked(
                    conn,
                    "import uos\nprint('#~C', uos.getcwd())\n",
                    "checking the current folder",
                )?;
                let k = records(&out, "C")
                    .first()
                    .is_some_and(|c| c.trim() == FOLDER);
                *cwd_survives_reset = Some(k);
                conn.soft_reset()?;
                k
            }
        };
        let setup = if keeps_cwd {
            "sys.path[0] = ''\n".to_string()
        } else {
            format!(
                "import uos\nuos.chdir({})\nsys.path[0] = ''\n",
                driver::py_str(FOLDER)
            )
        };
        let script = driver::script(scenario, MICROPYTHON_PRELUDE, &setup);
        let out = match conn.exec(script.as_bytes(), deadline) {
            Ok(out) => out,
            Err(e @ BoardError::Timeout { .. }) => {
                exec.failure = Some(format!(
                    "{e}; the board was interrupted (Ctrl-C{})",
                    if conn.at_prompt() {
                        ""
                    } else {
                        ", then a soft reset"
                    }
                ));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let text = out.stdout_text();
        match driver::parse(scenario, &text) {
            Ok(report) => {
                exec.baseline_modules = report.baseline_modules;
                exec.observations = report.observations;
                exec.exceptions = report.exceptions;
                let err = out.stderr_text();
                if !err.trim().is_empty() {
                    exec.failure = Some(format!(
                        "the driver raised on the board{}: {}",
                        report
                            .last_step
                            .map(|s| format!(" at step {s}"))
                            .unwrap_or_default(),
                        last_line(&err)
                    ));
                } else if out.dropped > 0 {
                    exec.failure = Some(format!(
                        "the board printed more than {} bytes; {} bytes were dropped",
                        self.options.raw.output_cap, out.dropped
                    ));
                } else if !report.finished {
                    exec.failure = Some(format!(
                        "the driver stopped early{}",
                        report
                            .last_step
                            .map(|s| format!(" at step {s}"))
                            .unwrap_or_default()
                    ));
                }
            }
            Err(e) => {
                exec.failure = Some(format!("{}: unreadable driver output: {e}", self.name()))
            }
        }
        Ok(())
    }
}

impl Drop for BoardTarget {
    /// Leaves the board in its friendly REPL, as a person expects to find it.
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(conn) = state.conn.as_mut()
            && conn.at_prompt()
        {
            let _ = conn.exit();
        }
    }
}

impl Target for BoardTarget {
    fn name(&self) -> String {
        format!("board:{}", self.port)
    }

    fn prepare(&self) -> Result<(), TargetError> {
        let mut state = self.lock();
        self.describe(&mut state).map(|_| ()).map_err(|e| {
            state.conn = None;
            TargetError::Unavailable {
                target: self.name(),
                message: e.to_string(),
            }
        })
    }

    fn info(&self, _heap: u64) -> String {
        let mut state = self.lock();
        match self.describe(&mut state) {
            Ok(a) => a,
            Err(e) => format!("{} (not answering: {e})", self.name()),
        }
    }

    /// A board running real MicroPython is a reference (the hardware-in-the-loop job
    /// records its golden snapshots); the Rust firmware served as a board is not.
    fn is_reference(&self) -> bool {
        let mut state = self.lock();
        self.describe(&mut state)
            .map(|about| about.starts_with("MicroPython v1.9.4") && !about.contains("; mpfw with "))
            .unwrap_or(false)
    }

    fn execute(&self, scenario: &Scenario, options: &RunOptions) -> Execution {
        let start = Instant::now();
        let deadline = start + scenario.timeout.unwrap_or(options.timeout);
        let mut exec = Execution::default();
        let (sent0, recv0) = {
            let s = self.lock();
            s.conn
                .as_ref()
                .map_or((0, 0), |c| (c.bytes_sent(), c.bytes_received()))
        };
        let result = self.run(scenario, deadline, &mut exec);
        let mut state = self.lock();
        let (sent, recv) = state
            .conn
            .as_ref()
            .map_or((sent0, recv0), |c| (c.bytes_sent(), c.bytes_received()));
        if let Err(e) = result {
            if e.is_lost() {
                state.conn = None;
                state.about = None;
            }
            exec.failure = Some(e.to_string());
        }
        if exec.target_info.is_empty() {
            exec.target_info = self.name();
        }
        exec.transfer = Some(Transfer {
            bytes_sent: sent.saturating_sub(sent0),
            bytes_received: recv.saturating_sub(recv0),
            wall_ms: start.elapsed().as_millis() as u64,
            baud: self.options.baud,
        });
        exec
    }
}

/// Describes the board from sys.implementation and uos.uname(), with fallbacks for
/// firmware that lacks either.
const INFO_PY: &str = "import sys
import gc
n = 'unknown'
v = ('?', '?', '?')
m = sys.platform
try:
    n = sys.implementation[0]
    v = sys.implementation[1]
except Exception:
    pass
try:
    import uos
    m = uos.uname()[4]
except Exception:
    pass
print('#~I', n, v[0], v[1], v[2], gc.mem_free() + gc.mem_alloc(), repr(m))
";

/// `MicroPython v1.9.4-8-ga9a3caad0 on 2018-05-11; ESP module with ESP8266, heap 35968
/// bytes`: the banner says what runs; the info record adds the heap.
fn about_line(banner: &str, record: &str) -> String {
    // record: "micropython 1 9 4 35968 'ESP module with ESP8266'"
    let heap = record.split(' ').nth(4).unwrap_or("?");
    format!("{banner}, heap {heap} bytes")
}

/// Runs housekeeping code and turns an exception on the board into an error.
fn run_checked(conn: &mut Conn, code: &str, doing: &str) -> Result<ExecOutput, BoardError> {
    let deadline = Instant::now() + conn.options().step_timeout;
    let out = conn.exec(code.as_bytes(), deadline)?;
    let err = out.stderr_text();
    if !err.trim().is_empty() {
        return Err(BoardError::Remote {
            port: conn.name().to_string(),
            doing: doing.to_string(),
            text: last_line(&err),
        });
    }
    Ok(out)
}

fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The payloads of `#~TAG` records in the output.
fn records(out: &ExecOutput, tag: &str) -> Vec<String> {
    let mark = format!("#~{tag}");
    out.stdout_text()
        .lines()
        .filter_map(|l| {
            let l = l.trim_end_matches('\r');
            let rest = l.strip_prefix(&mark)?;
            Some(rest.strip_prefix(' ').unwrap_or(rest).to_string())
        })
        .collect()
}

/// What was put on the board for one scenario.
#[derive(Debug, Default)]
struct Uploaded {
    files: Vec<String>,
    dirs: Vec<String>,
}

/// Checks and lists `/mpdiff`: says when it is missing, refuses it when it is not ours,
/// and lists our files with a checksum computed on the board.
const INVENTORY_PY: &str = "import uos
def _mpdiff_sum(p):
    f = open(p, 'rb')
    d = f.read()
    f.close()
    a = 1
    b = 0
    for c in d:
        a = (a + c) % 65521
        b = (b + a) % 65521
    print('#~F', repr(p), len(d), a, b)
def _mpdiff_walk(p):
    for n in uos.listdir(p):
        q = p + '/' + n
        if uos.stat(q)[0] & 0x4000:
            print('#~D', repr(q))
            _mpdiff_walk(q)
        elif q != '/mpdiff/.mpdiff':
            _mpdiff_sum(q)
def _mpdiff_check():
    try:
        s = uos.stat('/mpdiff')
    except OSError:
        print('#~NEW')
        return
    if not s[0] & 0x4000:
        print('#~NOTOURS')
        return
    try:
        uos.stat('/mpdiff/.mpdiff')
    except OSError:
        print('#~NOTOURS')
        return
    _mpdiff_walk('/mpdiff')
_mpdiff_check()
";

/// Adler-32 halves, as the board computes them.
fn adler(data: &[u8]) -> (u32, u32) {
    let (mut a, mut b) = (1u32, 0u32);
    for &c in data {
        a = (a + u32::from(c)) % 65521;
        b = (b + a) % 65521;
    }
    (a, b)
}

/// Helpers every upload command starts with: `w(path, mode, data)` writes a file,
/// `d(path)` makes a folder that may exist. Names are short because they cross the line
/// for every scenario; the soft reset before the driver drops them.
const UPLOAD_HELPERS: &str = "import uos
def w(p,m,b):
 f=open(p,m)
 f.write(b)
 f.close()
def d(p):
 try:
  uos.mkdir(p)
 except OSError:
  pass
";
/// The folders of the tree, relative to [`FOLDER`], parents first.
fn tree_dirs(scenario: &Scenario) -> BTreeSet<String> {
    let mut dirs = BTreeSet::new();
    for path in scenario.tree.keys() {
        let mut acc = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for d in &parts[..parts.len() - 1] {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(d);
            dirs.insert(acc.clone());
        }
    }
    dirs
}

/// Commands that write one file (a path relative to [`FOLDER`]), in pieces that each fit
/// a command.
fn write_commands(full: &str, data: &[u8]) -> Vec<String> {
    if data.is_empty() {
        return vec![format!("w({},'wb',b'')\n", driver::py_str(full))];
    }
    split_for_upload(data, UPLOAD_BATCH - 256)
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            format!(
                "w({},{},{})\n",
                driver::py_str(full),
                if i == 0 { "'wb'" } else { "'ab'" },
                py_bytes(piece)
            )
        })
        .collect()
}

/// Runs `cmds` (paths relative to [`FOLDER`]) in commands of at most [`UPLOAD_BATCH`]
/// bytes; the board is left in [`FOLDER`].
fn run_batches(conn: &mut Conn, cmds: Vec<String>) -> Result<(), BoardError> {
    let head = format!("{UPLOAD_HELPERS}uos.chdir({})\n", driver::py_str(FOLDER));
    let mut batch = head.clone();
    for c in cmds {
        if batch.len() > head.len() && batch.len() + c.len() > UPLOAD_BATCH {
            run_checked(conn, &batch, "uploading the tree")?;
            batch = head.clone();
        }
        batch.push_str(&c);
    }
    run_checked(conn, &batch, "uploading the tree")?;
    Ok(())
}

/// Puts the tree under [`FOLDER`]. The usual case, no folder yet, takes one command that
/// creates it with its marker and writes the files (or the first of several commands).
/// When the folder exists, its marker is checked and only differing files are sent.
fn upload(conn: &mut Conn, scenario: &Scenario) -> Result<Uploaded, BoardError> {
    let dirs = tree_dirs(scenario);
    let up = Uploaded {
        files: scenario.tree.keys().cloned().collect(),
        dirs: dirs.iter().cloned().collect(),
    };
    let mut fresh: Vec<String> = vec![
        format!("uos.mkdir({})\n", driver::py_str(FOLDER)),
        format!("uos.chdir({})\n", driver::py_str(FOLDER)),
        format!("w('.mpdiff','w',{})\n", driver::py_str(MARKER_TEXT)),
    ];
    fresh.extend(dirs.iter().map(|d| format!("d({})\n", driver::py_str(d))));
    for (path, content) in &scenario.tree {
        fresh.extend(write_commands(path, content.as_bytes()));
    }
    // The first command writes only if the folder is missing.
    let mut first = format!(
        "{UPLOAD_HELPERS}n=0\ntry:\n uos.stat({})\nexcept OSError:\n n=1\nif n:\n",
        driver::py_str(FOLDER)
    );
    let mut rest = fresh.into_iter().peekable();
    while let Some(c) = rest.peek() {
        if first.len() + c.len() + 1 > UPLOAD_BATCH && !first.ends_with(":\n") {
            break;
        }
        first.push(' ');
        first.push_str(c);
        rest.next();
    }
    let rest: Vec<String> = rest.collect();
    first.push_str("else:\n print('#~EXISTS')\n");
    let out = run_checked(conn, &first, "uploading the tree")?;
    if records(&out, "EXISTS").is_empty() {
        if !rest.is_empty() {
            run_batches(conn, rest)?;
        }
        return Ok(up);
    }
    update(conn, scenario, &dirs)?;
    Ok(up)
}

/// The folder exists: refuses it unless it is ours, then sends only what differs.
fn update(conn: &mut Conn, scenario: &Scenario, dirs: &BTreeSet<String>) -> Result<(), BoardError> {
    let out = run_checked(conn, INVENTORY_PY, "checking /mpdiff on the board")?;
    let text = out.stdout_text();
    if text.lines().any(|l| l.trim_end() == "#~NOTOURS") {
        return Err(BoardError::NotOurs {
            port: conn.name().to_string(),
            folder: FOLDER.to_string(),
        });
    }
    let prefix = format!("{FOLDER}/");
    let relative = |p: String| p.strip_prefix(&prefix).map(str::to_string);
    let mut have: BTreeMap<String, (usize, u32, u32)> = BTreeMap::new();
    for r in records(&out, "F") {
        // 'path' len a b (the path repr may hold spaces)
        let mut parts = r.rsplitn(4, ' ');
        let (b, a, len) = (parts.next(), parts.next(), parts.next());
        let path = parts
            .next()
            .and_then(|p| driver::py_unrepr(p).ok())
            .and_then(relative);
        if let (Some(p), Some(len), Some(a), Some(b)) = (path, len, a, b)
            && let (Ok(len), Ok(a), Ok(b)) = (len.parse(), a.parse(), b.parse())
        {
            have.insert(p, (len, a, b));
        }
    }
    let old_dirs: BTreeSet<String> = records(&out, "D")
        .into_iter()
        .filter_map(|d| driver::py_unrepr(&d).ok().and_then(relative))
        .collect();
    let wanted: BTreeSet<String> = scenario.tree.keys().cloned().collect();

    if !records(&out, "NEW").is_empty() {
        // gone since the first look: make it again, with its marker
        let code = format!(
            "{UPLOAD_HELPERS}uos.mkdir({f})\nuos.chdir({f})\nw('.mpdiff','w',{})\n",
            driver::py_str(MARKER_TEXT),
            f = driver::py_str(FOLDER)
        );
        run_checked(conn, &code, "uploading the tree")?;
    }
    let mut cmds: Vec<String> = Vec::new();
    // Stale entries in our folder would change what imports find: remove them first.
    for stale in have.keys().filter(|p| !wanted.contains(*p)) {
        cmds.push(format!("uos.remove({})\n", driver::py_str(stale)));
    }
    let mut stale_dirs: Vec<&String> = old_dirs.iter().filter(|d| !dirs.contains(*d)).collect();
    stale_dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for d in stale_dirs {
        cmds.push(format!("uos.rmdir({})\n", driver::py_str(d)));
    }
    for d in dirs {
        if !old_dirs.contains(d) {
            cmds.push(format!("d({})\n", driver::py_str(d)));
        }
    }
    for (path, content) in &scenario.tree {
        let data = content.as_bytes();
        let (a, b) = adler(data);
        if have.get(path) != Some(&(data.len(), a, b)) {
            cmds.extend(write_commands(path, data));
        }
    }
    run_batches(conn, cmds)
}

/// Splits data so that each piece's bytes literal stays under `max` source bytes.
fn split_for_upload(data: &[u8], max: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, &b) in data.iter().enumerate() {
        let w = py_byte_len(b);
        if size + w > max && i > start {
            pieces.push(&data[start..i]);
            start = i;
            size = 0;
        }
        size += w;
    }
    if start < data.len() {
        pieces.push(&data[start..]);
    }
    pieces
}

fn py_byte_len(b: u8) -> usize {
    match b {
        b'\\' | b'\'' | b'\n' => 2,
        0x20..=0x7e => 1,
        _ => 4,
    }
}

/// A Python bytes literal for `data`: printable ASCII as is, newlines as `\n`, the rest
/// as `\xNN`. Never holds the raw REPL's control bytes.
pub fn py_bytes(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len() + 3);
    s.push_str("b'");
    for &b in data {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('\'');
    s
}

/// Removes exactly what was uploaded, then the marker and the folder if nothing else is
/// left in it. Leaves the board's current folder at `/`.
fn cleanup(conn: &mut Conn, up: &Uploaded) -> Result<(), BoardError> {
    // r(f, names) applies uos.remove or uos.rmdir to each path under the folder and
    // prints what it could not remove.
    let head = format!(
        "import uos\nuos.chdir('/')\ndef r(f,l):\n for p in l:\n  try:\n   f({}+p)\n  except OSError:\n   print('#~K',repr(p))\n",
        driver::py_str(&format!("{FOLDER}/"))
    );
    let mut dirs = up.dirs.clone();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
    // One call per kind and command; a new command when the current one is full.
    let mut code = head.clone();
    let mut left = Vec::new();
    for (func, names) in [("uos.remove", &up.files), ("uos.rmdir", &dirs)] {
        let mut call = String::new();
        for n in names {
            let item = format!("{},", driver::py_str(n));
            if !call.is_empty() && code.len() + call.len() + item.len() + 32 > UPLOAD_BATCH {
                code.push_str(&format!("r({func},({call}))\n"));
                let out = run_checked(conn, &code, "removing the tree")?;
                left.extend(records(&out, "K"));
                code = head.clone();
                call.clear();
            }
            call.push_str(&item);
        }
        if !call.is_empty() {
            code.push_str(&format!("r({func},({call}))\n"));
        }
    }
    code.push_str(&format!(
        "if uos.listdir({f})==['.mpdiff']:\n uos.remove({m})\n uos.rmdir({f})\nelse:\n print('#~L',uos.listdir({f}))\n",
        f = driver::py_str(FOLDER),
        m = driver::py_str(MARKER)
    ));
    let out = run_checked(conn, &code, "removing the tree")?;
    left.extend(records(&out, "K"));
    left.extend(records(&out, "L"));
    if left.is_empty() {
        Ok(())
    } else {
        Err(BoardError::Protocol {
            port: conn.name().to_string(),
            doing: "removing the tree".into(),
            got: format!("could not remove {}", left.join(", ")),
        })
    }
}

/// A serial port found on this machine, for `mpdiff boards`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    /// The device path, e.g. `/dev/ttyUSB0`.
    pub name: String,
    /// What it is, e.g. `USB 10c4:ea60 Silicon Labs CP2102 USB to UART Bridge Controller [CP210x]`.
    pub about: String,
    /// Whether it is a USB-serial bridge that ESP8266 boards commonly carry.
    pub likely_esp8266: bool,
}

/// USB-serial bridges found on ESP8266 boards: (vid, pid, chip).
pub const ESP8266_BRIDGES: &[(u16, u16, &str)] = &[
    (0x10c4, 0xea60, "CP210x"),
    (0x1a86, 0x7523, "CH340"),
    (0x0403, 0x6001, "FTDI FT232R"),
    (0x0403, 0x6015, "FTDI FT231X"),
];

/// The serial ports of this machine, USB-serial bridges of ESP8266 boards marked.
pub fn list_ports() -> Result<Vec<PortInfo>, BoardError> {
    let ports = serialport::available_ports().map_err(|e| BoardError::Open {
        port: "(listing ports)".into(),
        message: e.to_string(),
    })?;
    Ok(ports.into_iter().map(port_info).collect())
}

fn port_info(p: serialport::SerialPortInfo) -> PortInfo {
    use serialport::SerialPortType;
    let (about, likely) = match &p.port_type {
        SerialPortType::UsbPort(u) => {
            let chip = ESP8266_BRIDGES
                .iter()
                .find(|(v, id, _)| *v == u.vid && *id == u.pid);
            let mut about = format!("USB {:04x}:{:04x}", u.vid, u.pid);
            for s in [&u.manufacturer, &u.product].into_iter().flatten() {
                about.push(' ');
                about.push_str(s);
            }
            if let Some((_, _, chip)) = chip {
                let _ = write!(about, " [{chip}]");
            }
            (about, chip.is_some())
        }
        SerialPortType::PciPort => ("PCI serial port".into(), false),
        SerialPortType::BluetoothPort => ("Bluetooth serial port".into(), false),
        SerialPortType::Unknown => ("serial port".into(), false),
    };
    PortInfo {
        name: p.port_name,
        about,
        likely_esp8266: likely,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_literals_never_carry_control_bytes() {
        let data: Vec<u8> = (0u8..=255).collect();
        let lit = py_bytes(&data);
        assert!(lit.bytes().all(|b| (0x20..0x7f).contains(&b)));
        assert!(lit.starts_with("b'\\x00\\x01"));
        assert!(lit.contains("\\n") && lit.contains("\\\\") && lit.contains("\\'"));
    }

    #[test]
    fn uploads_split_under_the_batch_size() {
        let data = "x = '\\n'\n".repeat(500);
        let pieces = split_for_upload(data.as_bytes(), 300);
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), data.as_bytes());
        for p in pieces {
            assert!(py_bytes(p).len() <= 303);
        }
    }

    #[test]
    fn adler_halves_match_the_reference_values() {
        // Adler-32 of "Wikipedia" is 0x11E60398.
        assert_eq!(adler(b"Wikipedia"), (0x0398, 0x11e6));
    }

    #[test]
    fn about_line_reads_the_info_record() {
        assert_eq!(
            about_line(
                "MicroPython v1.9.4-8-ga9a3caad0 on 2018-05-11; ESP module with ESP8266",
                "micropython 1 9 4 35968 'ESP module with ESP8266'"
            ),
            "MicroPython v1.9.4-8-ga9a3caad0 on 2018-05-11; ESP module with ESP8266, heap 35968 bytes"
        );
    }

    #[test]
    fn ports_of_esp8266_bridges_are_marked() {
        let info = port_info(serialport::SerialPortInfo {
            port_name: "/dev/ttyUSB0".into(),
            port_type: serialport::SerialPortType::UsbPort(serialport::UsbPortInfo {
                vid: 0x1a86,
                pid: 0x7523,
                serial_number: None,
                manufacturer: None,
                product: Some("USB Serial".into()),
            }),
        });
        assert!(info.likely_esp8266);
        assert!(info.about.contains("CH340"), "{}", info.about);
    }
}
