//! The raw REPL protocol of MicroPython 1.9.4 (`lib/utils/pyexec.c`), client side.
//!
//! Written against any `Read + Write` byte stream with explicit deadlines, so the same code
//! talks to a serial port, a pseudo-terminal or an in-memory pipe in tests. A read that
//! times out (`TimedOut`/`WouldBlock`) only means "nothing yet"; `Ok(0)` or any other error
//! means the line is gone.
//!
//! The exchange, byte for byte:
//!
//! - `\x03\x03` interrupts whatever runs; `\r\x01` enters raw mode, the board answers
//!   `raw REPL; CTRL-B to exit\r\n>`;
//! - code, then `\x04`: the board answers `OK`, the program's output, `\x04`, the text of an
//!   uncaught exception (empty when none), `\x04`, and the prompt `>`;
//! - `\x04` at an empty prompt answers `OK\r\n`, soft-resets (`soft reboot\r\n`, preceded by
//!   `PYB: ` on the ESP8266), and the board comes back in raw mode with
//!   `raw REPL; CTRL-B to exit\r\n>`;
//! - `\r\x02` leaves raw mode for the friendly REPL.

use std::io::{self, ErrorKind, Read, Write};
use std::time::{Duration, Instant};

/// Printed by the board when it enters raw mode, prompt included.
pub const RAW_BANNER: &[u8] = b"raw REPL; CTRL-B to exit\r\n>";
/// Printed by the board on a soft reset (the ESP8266 port prefixes `PYB: `).
pub const SOFT_REBOOT: &[u8] = b"soft reboot\r\n";
/// The start of the friendly REPL's banner, printed after a hard reset.
pub const BOOT_BANNER: &[u8] = b"MicroPython v";
/// The line that ends the friendly REPL's banner. A reboot is recognised by this line
/// rather than by `MicroPython v` alone, which a scenario may well print itself.
pub const BOOT_BANNER_END: &[u8] = b"Type \"help()\" for more information.";
/// How much recent output is kept to recognise a reboot banner split across reads.
const REBOOT_WINDOW: usize = 256;

/// Something a board can be reached through.
pub trait Port: Read + Write + Send {}
impl<T: Read + Write + Send> Port for T {}

/// Why talking to a board failed. Every message names the port.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The port could not be opened.
    #[error("{port}: cannot open the port: {message}")]
    Open {
        /// The port.
        port: String,
        /// What the operating system said, with a hint where one is known.
        message: String,
    },
    /// The port went away (unplugged, closed, i/o error).
    #[error("{port}: the port was lost while {doing}: {source}")]
    Lost {
        /// The port.
        port: String,
        /// What the client was doing.
        doing: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The board did not answer in time.
    #[error("{port}: no answer within {secs:.1} s while {doing} (last bytes received: {tail})")]
    Timeout {
        /// The port.
        port: String,
        /// What the client was doing.
        doing: String,
        /// The time allowed.
        secs: f64,
        /// The last bytes seen, escaped.
        tail: String,
    },
    /// The board answered something that is not the protocol.
    #[error("{port}: unexpected answer while {doing}: {got}")]
    Protocol {
        /// The port.
        port: String,
        /// What the client was doing.
        doing: String,
        /// What arrived, escaped and shortened.
        got: String,
    },
    /// The board restarted (boot banner or soft reboot) when it should not have.
    #[error("{port}: the board rebooted while {doing} (seen: {seen})")]
    Rebooted {
        /// The port.
        port: String,
        /// What the client was doing.
        doing: String,
        /// The text that shows the reboot, escaped.
        seen: String,
    },
    /// Code sent for the harness's own housekeeping raised on the board.
    #[error("{port}: the board raised an exception while {doing}: {text}")]
    Remote {
        /// The port.
        port: String,
        /// What the client was doing.
        doing: String,
        /// The board's traceback, last line first.
        text: String,
    },
    /// `/mpdiff` exists on the board and was not made by mpdiff.
    #[error(
        "{port}: {folder} exists on the board and is not mpdiff's (no {folder}/.mpdiff marker); \
         refusing to touch it: rename or remove it on the board"
    )]
    NotOurs {
        /// The port.
        port: String,
        /// The folder.
        folder: String,
    },
}

impl BoardError {
    /// Whether the port itself is gone, so the connection must be dropped.
    pub fn is_lost(&self) -> bool {
        matches!(self, BoardError::Lost { .. } | BoardError::Open { .. })
    }
}

/// What one raw-REPL execution printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// The program's output (up to the first `\x04`), at most the output cap.
    pub stdout: Vec<u8>,
    /// The uncaught exception's text (between the two `\x04`), empty when none.
    pub stderr: Vec<u8>,
    /// Bytes of output dropped because of the cap.
    pub dropped: u64,
}

impl ExecOutput {
    /// The output as text (lossy).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// The exception text (lossy), `\r\n` turned into `\n`.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).replace("\r\n", "\n")
    }
}

/// Settings of the client.
#[derive(Debug, Clone)]
pub struct RawOptions {
    /// Time allowed for one protocol step that runs no user code (entering raw mode,
    /// a soft reset, the `OK` after a command).
    pub step_timeout: Duration,
    /// Code is written in chunks of this many bytes...
    pub chunk: usize,
    /// ...with this pause in between, so a board with a small UART buffer keeps up
    /// (MicroPython's own `pyboard.py` uses 256 bytes and 10 ms).
    pub chunk_pause: Duration,
    /// At most this many bytes of a program's output are kept.
    pub output_cap: usize,
}

impl Default for RawOptions {
    fn default() -> Self {
        RawOptions {
            step_timeout: Duration::from_secs(10),
            chunk: 256,
            chunk_pause: Duration::from_millis(10),
            output_cap: 1 << 20,
        }
    }
}

/// A raw-REPL client over a byte stream.
pub struct RawRepl<P> {
    port: P,
    name: String,
    options: RawOptions,
    /// Bytes read but not consumed yet.
    pending: Vec<u8>,
    sent: u64,
    received: u64,
    /// Whether the board is known to sit at the raw prompt `>`.
    at_prompt: bool,
}

impl<P: Read + Write> RawRepl<P> {
    /// A client for the board behind `port`; `name` is used in every error.
    pub fn new(port: P, name: impl Into<String>, options: RawOptions) -> Self {
        RawRepl {
            port,
            name: name.into(),
            options,
            pending: Vec::new(),
            sent: 0,
            received: 0,
            at_prompt: false,
        }
    }

    /// The port's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes written so far.
    pub fn bytes_sent(&self) -> u64 {
        self.sent
    }

    /// Bytes read so far.
    pub fn bytes_received(&self) -> u64 {
        self.received
    }

    /// The settings.
    pub fn options(&self) -> &RawOptions {
        &self.options
    }

    /// Whether the board is known to wait at the raw prompt.
    pub fn at_prompt(&self) -> bool {
        self.at_prompt
    }

    /// The stream, for the caller's own use.
    pub fn port_mut(&mut self) -> &mut P {
        &mut self.port
    }

    fn lost(&self, doing: &str, source: io::Error) -> BoardError {
        BoardError::Lost {
            port: self.name.clone(),
            doing: doing.to_string(),
            source,
        }
    }

    fn write_all(&mut self, data: &[u8], doing: &str) -> Result<(), BoardError> {
        let mut rest = data;
        while !rest.is_empty() {
            match self.port.write(rest) {
                Ok(0) => {
                    return Err(self.lost(
                        doing,
                        io::Error::new(ErrorKind::WriteZero, "write returned 0"),
                    ));
                }
                Ok(n) => {
                    self.sent += n as u64;
                    rest = &rest[n..];
                }
                // A full pseudo-terminal or serial buffer: wait for the board to read.
                Err(e) if is_retry(&e) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => return Err(self.lost(doing, e)),
            }
        }
        self.port.flush().map_err(|e| self.lost(doing, e))
    }

    /// Reads what is available into `pending`, waiting at most until `deadline`.
    /// Returns whether anything arrived.
    fn fill(&mut self, deadline: Instant, doing: &str) -> Result<bool, BoardError> {
        let mut buf = [0u8; 4096];
        loop {
            match self.port.read(&mut buf) {
                Ok(0) => {
                    return Err(self.lost(
                        doing,
                        io::Error::new(ErrorKind::UnexpectedEof, "end of stream"),
                    ));
                }
                Ok(n) => {
                    self.received += n as u64;
                    self.pending.extend_from_slice(&buf[..n]);
                    return Ok(true);
                }
                Err(e) if is_retry(&e) => {
                    if Instant::now() >= deadline {
                        return Ok(false);
                    }
                }
                Err(e) => return Err(self.lost(doing, e)),
            }
        }
    }

    fn timeout(&self, doing: &str, secs: f64) -> BoardError {
        BoardError::Timeout {
            port: self.name.clone(),
            doing: doing.to_string(),
            secs,
            tail: escape_tail(&self.pending, 80),
        }
    }

    /// Reads until `pattern` arrives; returns the bytes before it and consumes the pattern.
    fn read_until(
        &mut self,
        pattern: &[u8],
        deadline: Instant,
        doing: &str,
    ) -> Result<Vec<u8>, BoardError> {
        let start = Instant::now();
        let mut searched = 0;
        loop {
            if let Some(pos) = find(&self.pending[searched..], pattern) {
                let pos = searched + pos;
                let before = self.pending[..pos].to_vec();
                self.pending.drain(..pos + pattern.len());
                return Ok(before);
            }
            searched = self.pending.len().saturating_sub(pattern.len());
            if (Instant::now() >= deadline || !self.fill(deadline, doing)?)
                && Instant::now() >= deadline
            {
                return Err(self.timeout(doing, (Instant::now() - start).as_secs_f64()));
            }
        }
    }

    /// Discards whatever the board has sent, waiting until it is quiet for `quiet`
    /// (or `deadline`).
    fn drain(&mut self, quiet: Duration, deadline: Instant, doing: &str) -> Result<(), BoardError> {
        self.pending.clear();
        loop {
            let until = (Instant::now() + quiet).min(deadline);
            if !self.fill(until, doing)? || Instant::now() >= deadline {
                self.pending.clear();
                return Ok(());
            }
            self.pending.clear();
        }
    }

    /// Interrupts any running program (Ctrl-C twice) and enters raw mode.
    pub fn enter(&mut self) -> Result<(), BoardError> {
        let doing = "entering the raw REPL";
        let deadline = Instant::now() + self.options.step_timeout;
        self.at_prompt = false;
        // Ctrl-C before anything else: a half-typed line at the friendly prompt is
        // cancelled rather than run by a carriage return.
        self.write_all(b"\x03\x03", doing)?;
        self.drain(Duration::from_millis(50), deadline, doing)?;
        self.write_all(b"\r\x01", doing)?;
        self.read_until(RAW_BANNER, deadline, doing)?;
        self.at_prompt = true;
        Ok(())
    }

    /// Soft-resets the board from the raw prompt (fresh heap and `sys.modules`, files
    /// kept) and waits until it is back at the raw prompt.
    pub fn soft_reset(&mut self) -> Result<(), BoardError> {
        let doing = "soft-resetting the board";
        if !self.at_prompt {
            self.enter()?;
        }
        let deadline = Instant::now() + self.options.step_timeout;
        self.at_prompt = false;
        self.write_all(b"\x04", doing)?;
        let before = self.read_until(SOFT_REBOOT, deadline, doing)?;
        if !before.starts_with(b"OK") {
            return Err(BoardError::Protocol {
                port: self.name.clone(),
                doing: doing.to_string(),
                got: escape_tail(&before, 80),
            });
        }
        // boot.py may print between the two.
        self.read_until(RAW_BANNER, deadline, doing)?;
        self.at_prompt = true;
        Ok(())
    }

    /// Runs `code` and returns what it printed. Waits for each protocol step at most
    /// `step_timeout` and for the program at most until `deadline`. On a time-out the
    /// program is interrupted (Ctrl-C) and the error is returned.
    pub fn exec(&mut self, code: &[u8], deadline: Instant) -> Result<ExecOutput, BoardError> {
        let doing = "sending code";
        if let Some(b) = code.iter().find(|b| (1..=4).contains(*b)) {
            return Err(BoardError::Protocol {
                port: self.name.clone(),
                doing: doing.to_string(),
                got: format!(
                    "the code holds control byte {b:#04x}, which the raw REPL cannot carry"
                ),
            });
        }
        if !self.at_prompt {
            self.enter()?;
        }
        // Anything the board printed on its own since the last prompt is noise.
        self.pending.clear();
        self.at_prompt = false;
        let chunk = self.options.chunk.max(1);
        let mut chunks = code.chunks(chunk).peekable();
        while let Some(c) = chunks.next() {
            self.write_all(c, doing)?;
            if chunks.peek().is_some() && !self.options.chunk_pause.is_zero() {
                std::thread::sleep(self.options.chunk_pause);
            }
        }
        self.write_all(b"\x04", doing)?;
        let step_deadline =
            (Instant::now() + self.options.step_timeout).min(deadline.max(Instant::now()));
        let doing = "waiting for the board to accept the code";
        let junk = self.read_until(b"OK", step_deadline, doing)?;
        if !junk.is_empty() {
            self.check_reboot(&junk, doing)?;
            return Err(BoardError::Protocol {
                port: self.name.clone(),
                doing: doing.to_string(),
                got: escape_tail(&junk, 80),
            });
        }
        let mut out = ExecOutput::default();
        match self.follow(&mut out, deadline) {
            Ok(()) => {
                self.at_prompt = true;
                Ok(out)
            }
            Err(e @ BoardError::Timeout { .. }) => {
                self.recover();
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Reads the two `\x04`-framed parts and the prompt.
    fn follow(&mut self, out: &mut ExecOutput, deadline: Instant) -> Result<(), BoardError> {
        let cap = self.options.output_cap;
        let start = Instant::now();
        for part in 0..2 {
            let doing = if part == 0 {
                "running code (waiting for its output)"
            } else {
                "running code (waiting for its exception text)"
            };
            loop {
                if let Some(pos) = self.pending.iter().position(|&b| b == 4) {
                    let data: Vec<u8> = self.pending.drain(..=pos).collect();
                    let data = &data[..data.len() - 1];
                    keep(
                        if part == 0 {
                            &mut out.stdout
                        } else {
                            &mut out.stderr
                        },
                        data,
                        cap,
                        &mut out.dropped,
                    );
                    break;
                }
                // Move what cannot hold the frame end into the output, so huge output
                // stays bounded; keep a tail for reboot detection.
                let keep_tail = REBOOT_WINDOW.min(self.pending.len());
                let cut = self.pending.len() - keep_tail;
                if cut > 0 {
                    let data: Vec<u8> = self.pending.drain(..cut).collect();
                    let target = if part == 0 {
                        &mut out.stdout
                    } else {
                        &mut out.stderr
                    };
                    let before = target.len();
                    keep(target, &data, cap, &mut out.dropped);
                    let from = before.saturating_sub(REBOOT_WINDOW);
                    let recent = [&target[from..], &self.pending[..]].concat();
                    self.check_reboot(&recent, doing)?;
                } else {
                    self.check_reboot(&self.pending.clone(), doing)?;
                }
                if Instant::now() >= deadline {
                    return Err(self.timeout(doing, (Instant::now() - start).as_secs_f64()));
                }
                self.fill(deadline, doing)?;
            }
        }
        let doing = "waiting for the raw prompt";
        let step_deadline = Instant::now() + self.options.step_timeout;
        while self.pending.is_empty() {
            if !self.fill(step_deadline, doing)? && Instant::now() >= step_deadline {
                return Err(self.timeout(doing, self.options.step_timeout.as_secs_f64()));
            }
        }
        if self.pending[0] != b'>' {
            let got = escape_tail(&self.pending, 80);
            self.check_reboot(&self.pending.clone(), doing)?;
            return Err(BoardError::Protocol {
                port: self.name.clone(),
                doing: doing.to_string(),
                got,
            });
        }
        self.pending.remove(0);
        Ok(())
    }

    fn check_reboot(&self, data: &[u8], doing: &str) -> Result<(), BoardError> {
        let found = if let Some(end) = find(data, BOOT_BANNER_END) {
            // Show the banner line itself when it is there.
            let start = data[..end]
                .windows(BOOT_BANNER.len())
                .rposition(|w| w == BOOT_BANNER)
                .unwrap_or(end);
            Some(start)
        } else {
            find(data, SOFT_REBOOT)
        };
        if let Some(pos) = found {
            let end = (pos + 60).min(data.len());
            return Err(BoardError::Rebooted {
                port: self.name.clone(),
                doing: doing.to_string(),
                seen: escape_tail(&data[pos..end], 60),
            });
        }
        Ok(())
    }

    /// After a time-out: Ctrl-C, and if the board does not come back to the prompt, a
    /// fresh attempt at raw mode. Errors are ignored: the caller reports the time-out,
    /// and the next command starts by entering raw mode again if needed.
    pub fn recover(&mut self) {
        self.at_prompt = false;
        let deadline = Instant::now() + self.options.step_timeout.min(Duration::from_secs(3));
        if self.write_all(b"\x03\x03", "interrupting").is_err() {
            return;
        }
        // An interrupted program ends with its two frame ends and the prompt.
        if self.read_until(b"\x04>", deadline, "interrupting").is_ok() {
            self.at_prompt = true;
        } else if self.enter().is_ok() {
            // A board that answers again is soft-reset so the next run starts clean.
            let _ = self.soft_reset();
        }
    }

    /// The friendly REPL's banner line (`MicroPython v1.9.4-8-ga9a3caad0 on 2018-05-11;
    /// ESP module with ESP8266`): leaves raw mode, which prints it, and enters raw mode
    /// again.
    pub fn banner(&mut self) -> Result<String, BoardError> {
        let doing = "reading the board's banner";
        if !self.at_prompt {
            self.enter()?;
        }
        self.at_prompt = false;
        self.pending.clear();
        self.write_all(b"\x02", doing)?;
        let deadline = Instant::now() + self.options.step_timeout;
        let text = self.read_until(b">>> ", deadline, doing)?;
        self.enter()?;
        let text = String::from_utf8_lossy(&text).into_owned();
        text.lines()
            .map(|l| l.trim_end_matches('\r'))
            .find(|l| l.starts_with("MicroPython "))
            .map(str::to_string)
            .ok_or_else(|| BoardError::Protocol {
                port: self.name.clone(),
                doing: doing.to_string(),
                got: escape_tail(text.as_bytes(), 80),
            })
    }

    /// Leaves raw mode for the friendly REPL.
    pub fn exit(&mut self) -> Result<(), BoardError> {
        self.at_prompt = false;
        self.write_all(b"\r\x02", "leaving the raw REPL")
    }
}

fn is_retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
    )
}

fn keep(target: &mut Vec<u8>, data: &[u8], cap: usize, dropped: &mut u64) {
    let room = cap.saturating_sub(target.len());
    let n = room.min(data.len());
    target.extend_from_slice(&data[..n]);
    *dropped += (data.len() - n) as u64;
}

/// Position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The last `max` bytes of `data`, printable, for messages.
pub fn escape_tail(data: &[u8], max: usize) -> String {
    let from = data.len().saturating_sub(max);
    let mut s = String::new();
    if from > 0 {
        s.push('…');
    }
    s.push('"');
    for &b in &data[from..] {
        s.extend(std::ascii::escape_default(b).map(char::from));
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::board::pipe::{PipeEnd, pipe};
    use mpfw::repl::serve::{ServeOptions, StopFlag, serve};
    use mpfw::repl::{BoardInfo, Engine, ExecOutcome, InputMode, Io, Repl};
    use std::sync::{Arc, Mutex};

    /// Prints its source back; `raise` raises; `spin` runs until Ctrl-C.
    struct Echo {
        resets: Arc<Mutex<usize>>,
        ran: Arc<Mutex<Vec<String>>>,
    }

    impl Engine for Echo {
        fn exec(&mut self, source: &str, _mode: InputMode, io: &mut dyn Io) -> ExecOutcome {
            self.ran.lock().unwrap().push(source.to_string());
            match source {
                "raise" => ExecOutcome::Exception(
                    "Traceback (most recent call last):\nValueError: x\n".into(),
                ),
                "spin" => loop {
                    if io.interrupted() {
                        return ExecOutcome::Exception("KeyboardInterrupt: \n".into());
                    }
                    std::thread::sleep(Duration::from_millis(1));
                },
                _ => {
                    io.write(source.as_bytes());
                    io.write(b"\n");
                    ExecOutcome::Done
                }
            }
        }
        fn soft_reset(&mut self) {
            *self.resets.lock().unwrap() += 1;
        }
    }

    fn board() -> (RawRepl<PipeEnd>, StopFlag, Arc<Mutex<usize>>) {
        let (client, server) = pipe(Duration::from_millis(10));
        let stop = StopFlag::new();
        let resets = Arc::new(Mutex::new(0));
        let engine = Echo {
            resets: resets.clone(),
            ran: RAN.with(|r| r.clone()),
        };
        let s = stop.clone();
        std::thread::spawn(move || {
            let (r, mut w) = server.into_split();
            let mut repl = Repl::new(engine, BoardInfo::default());
            let opts = ServeOptions {
                line_rate: None,
                boot_banner: true,
            };
            serve(&mut repl, r, &mut w, &opts, &s)
        });
        let options = RawOptions {
            step_timeout: Duration::from_secs(5),
            chunk_pause: Duration::ZERO,
            ..RawOptions::default()
        };
        (RawRepl::new(client, "test-line", options), stop, resets)
    }

    thread_local! {
        static RAN: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[test]
    fn runs_code_and_separates_output_from_errors() {
        let (mut b, stop, _) = board();
        b.enter().unwrap();
        let out = b.exec(b"print('hi')\nx = 1", soon()).unwrap();
        assert_eq!(out.stdout_text(), "print('hi')\r\nx = 1\r\n");
        assert!(out.stderr.is_empty());
        let out = b.exec(b"raise", soon()).unwrap();
        assert!(out.stdout.is_empty());
        assert_eq!(
            out.stderr_text(),
            "Traceback (most recent call last):\nValueError: x\n"
        );
        assert!(b.at_prompt());
        // 4 bytes per frame end and prompt, "OK", the code, the output
        assert!(b.bytes_sent() > 20 && b.bytes_received() > 40);
        stop.stop();
    }

    #[test]
    fn output_naming_micropython_is_not_a_reboot() {
        let (mut b, stop, _) = board();
        b.enter().unwrap();
        let out = b.exec(b"banner = 'MicroPython v1.9.4'", soon()).unwrap();
        assert_eq!(out.stdout_text(), "banner = 'MicroPython v1.9.4'\r\n");
        let err = b
            .exec(
                b"MicroPython v1.9.4 on 2018-05-11; ESP module with ESP8266\nType \"help()\" for more information.",
                soon(),
            )
            .unwrap_err();
        assert!(
            matches!(err, BoardError::Rebooted { ref seen, .. } if seen.contains("MicroPython v1.9.4 on")),
            "{err}"
        );
        stop.stop();
    }

    #[test]
    fn a_half_typed_line_is_cancelled_not_run() {
        let (mut b, stop, _) = board();
        b.port_mut().write_all(b"half").unwrap();
        b.enter().unwrap();
        b.exec(b"whole", soon()).unwrap();
        assert_eq!(*RAN.with(|r| r.clone()).lock().unwrap(), ["whole"]);
        stop.stop();
    }

    #[test]
    fn the_banner_is_read_from_the_friendly_repl() {
        let (mut b, stop, _) = board();
        assert_eq!(
            b.banner().unwrap(),
            "MicroPython v1.9.4 on 2018-05-11; mpfw with Rust"
        );
        assert!(b.at_prompt());
        assert_eq!(b.exec(b"x", soon()).unwrap().stdout_text(), "x\r\n");
        stop.stop();
    }

    #[test]
    fn soft_reset_waits_for_the_board_to_come_back() {
        let (mut b, stop, resets) = board();
        b.soft_reset().unwrap();
        b.soft_reset().unwrap();
        assert_eq!(*resets.lock().unwrap(), 2);
        assert_eq!(b.exec(b"after", soon()).unwrap().stdout_text(), "after\r\n");
        stop.stop();
    }

    #[test]
    fn control_bytes_in_code_are_refused_before_sending() {
        let (mut b, stop, _) = board();
        let e = b.exec(b"x = '\x04'", soon()).unwrap_err();
        assert!(matches!(e, BoardError::Protocol { .. }), "{e}");
        assert!(e.to_string().starts_with("test-line: "), "{e}");
        assert_eq!(b.bytes_sent(), 0);
        stop.stop();
    }

    #[test]
    fn a_program_past_its_deadline_is_interrupted_and_the_board_reused() {
        let (mut b, stop, _) = board();
        b.enter().unwrap();
        let e = b
            .exec(b"spin", Instant::now() + Duration::from_millis(200))
            .unwrap_err();
        assert!(matches!(e, BoardError::Timeout { .. }), "{e}");
        assert!(e.to_string().contains("test-line"), "{e}");
        assert!(b.at_prompt(), "Ctrl-C brought the prompt back");
        assert_eq!(b.exec(b"next", soon()).unwrap().stdout_text(), "next\r\n");
        stop.stop();
    }

    #[test]
    fn output_beyond_the_cap_is_counted_not_kept() {
        let (mut b, stop, _) = board();
        b.options.output_cap = 100;
        let code = "y".repeat(1000);
        let out = b.exec(code.as_bytes(), soon()).unwrap();
        assert_eq!(out.stdout.len(), 100);
        assert_eq!(out.dropped, 902);
        stop.stop();
    }

    #[test]
    fn a_closed_line_is_reported_as_lost_with_its_cause() {
        let (client, server) = pipe(Duration::from_millis(10));
        drop(server);
        let mut b = RawRepl::new(client, "gone", RawOptions::default());
        let e = b.enter().unwrap_err();
        assert!(e.is_lost(), "{e}");
        assert!(std::error::Error::source(&e).is_some());
        assert!(e.to_string().starts_with("gone: the port was lost"), "{e}");
    }
}
