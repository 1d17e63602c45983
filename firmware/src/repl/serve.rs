//! Serving the REPL over a byte stream (host only): a reader thread collects the incoming
//! bytes so that a Ctrl-C can interrupt a running program, as the UART interrupt does on
//! a board; the REPL consumes the rest in order.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use super::{CTRL_C, Console, Engine, Repl};

/// How to serve.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Emulate a UART at this many bits per second (10 bits per byte, both directions),
    /// so timings over a pseudo-terminal look like a real line. `None`: as fast as the
    /// stream goes.
    pub line_rate: Option<u32>,
    /// Print the boot banner when serving starts.
    pub boot_banner: bool,
}

/// A stop switch for [`serve`]: set it and the server returns within its poll interval.
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the server to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether a stop was asked for.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Keeps a direction of the line at its rate.
struct Pace {
    byte_time: Option<Duration>,
    next: Instant,
}

impl Pace {
    fn new(rate: Option<u32>) -> Self {
        Pace {
            byte_time: rate
                .filter(|r| *r > 0)
                .map(|r| Duration::from_secs_f64(10.0 / f64::from(r))),
            next: Instant::now(),
        }
    }
    fn bytes(&mut self, n: usize) {
        let Some(t) = self.byte_time else { return };
        let now = Instant::now();
        if self.next < now {
            self.next = now;
        }
        self.next += t * n as u32;
        // Sleep in slices of a couple of milliseconds: the OS cannot do finer.
        let ahead = self.next.saturating_duration_since(now);
        if ahead > Duration::from_millis(2) {
            thread::sleep(ahead);
        }
    }
}

struct LineConsole<'a, W: Write> {
    out: &'a mut W,
    rx: &'a Receiver<u8>,
    queued: &'a mut VecDeque<u8>,
    tx_pace: Pace,
    failed: Option<io::Error>,
}

impl<W: Write> Console for LineConsole<'_, W> {
    fn write(&mut self, data: &[u8]) {
        if self.failed.is_some() || data.is_empty() {
            return;
        }
        if let Err(e) = write_all_retry(self.out, data) {
            self.failed = Some(e);
            return;
        }
        self.tx_pace.bytes(data.len());
    }

    fn interrupted(&mut self) -> bool {
        // Ctrl-C is taken out of the stream while a program runs; everything else waits
        // for the REPL, like the UART ring buffer.
        loop {
            match self.rx.try_recv() {
                Ok(CTRL_C) => return true,
                Ok(b) => self.queued.push_back(b),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return false,
            }
        }
    }
}

fn write_all_retry<W: Write>(out: &mut W, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match out.write(data) {
            Ok(0) => return Err(io::Error::new(ErrorKind::WriteZero, "write returned 0")),
            Ok(n) => data = &data[n..],
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e),
        }
    }
    out.flush().or_else(|e| {
        if e.kind() == ErrorKind::WouldBlock {
            Ok(())
        } else {
            Err(e)
        }
    })
}

/// Serves `repl` until the input ends, writing fails, or `stop` is set. `input` is read on
/// its own thread; a read that times out is retried, so a stream with a read time-out
/// lets the server notice `stop`.
pub fn serve<E, R, W>(
    repl: &mut Repl<E>,
    input: R,
    output: &mut W,
    options: &ServeOptions,
    stop: &StopFlag,
) -> io::Result<()>
where
    E: Engine,
    R: Read + Send + 'static,
    W: Write,
{
    let (tx, rx) = mpsc::channel::<u8>();
    let reader_stop = stop.clone();
    let reader = thread::Builder::new()
        .name("mpfw-serial-rx".into())
        .spawn(move || read_loop(input, tx, reader_stop))?;
    let mut queued = VecDeque::new();
    let mut rx_pace = Pace::new(options.line_rate);
    let mut console = LineConsole {
        out: output,
        rx: &rx,
        queued: &mut queued,
        tx_pace: Pace::new(options.line_rate),
        failed: None,
    };
    if options.boot_banner {
        repl.boot(&mut console);
    }
    let result = loop {
        if let Some(e) = console.failed.take() {
            break Err(e);
        }
        if stop.is_set() {
            break Ok(());
        }
        let byte = match console.queued.pop_front() {
            Some(b) => b,
            None => match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(b) => b,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break Ok(()),
            },
        };
        rx_pace.bytes(1);
        repl.feed(byte, &mut console);
    };
    // The reader notices the flag at its next read time-out; it is not joined, so a
    // stream without time-outs (stdin) cannot keep the server from returning.
    stop.stop();
    drop(reader);
    result
}

fn read_loop<R: Read>(mut input: R, tx: mpsc::Sender<u8>, stop: StopFlag) {
    let mut buf = [0u8; 1024];
    while !stop.is_set() {
        match input.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                for &b in &buf[..n] {
                    if tx.send(b).is_err() {
                        return;
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                if e.kind() == ErrorKind::WouldBlock {
                    thread::sleep(Duration::from_millis(2));
                }
            }
            Err(_) => return,
        }
    }
}

/// A new pseudo-terminal pair, ready to be served: the path a client opens, the server's
/// two handles on the master side (one to read, one to write), and the terminal side,
/// which the server keeps open so that a client closing and reopening the path does not
/// end the session.
#[cfg(all(unix, feature = "serve"))]
pub struct Pty {
    /// The path of the terminal side, e.g. `/dev/pts/7`.
    pub path: String,
    /// The master side, for reading (its time-out is the `poll` given to [`open_pty`]).
    pub reader: serialport::TTYPort,
    /// The master side, for writing.
    pub writer: serialport::TTYPort,
    /// The terminal side; keep it alive while serving.
    pub slave: serialport::TTYPort,
}

/// Opens a pseudo-terminal pair whose master side reads with a `poll` time-out, so a
/// server loop notices its stop flag that often.
#[cfg(all(unix, feature = "serve"))]
pub fn open_pty(poll: Duration) -> io::Result<Pty> {
    use serialport::{SerialPort, TTYPort};
    let (mut writer, slave) = TTYPort::pair().map_err(io::Error::other)?;
    let path = slave
        .name()
        .ok_or_else(|| io::Error::other("the pseudo-terminal has no name"))?;
    let mut reader = writer.try_clone_native().map_err(io::Error::other)?;
    reader.set_timeout(poll).map_err(io::Error::other)?;
    writer.set_timeout(poll).map_err(io::Error::other)?;
    Ok(Pty {
        path,
        reader,
        writer,
        slave,
    })
}
