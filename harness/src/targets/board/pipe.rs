//! An in-memory serial line: two connected ends, each `Read + Write`, whose reads time
//! out like a serial port's. Lets a board be served in-process and the protocol be tested
//! without a terminal. Dropping one end makes the other read end-of-stream.

use std::io::{self, ErrorKind, Read, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// The reading half of a [`PipeEnd`].
#[derive(Debug)]
pub struct PipeReader {
    rx: Receiver<Vec<u8>>,
    buf: Vec<u8>,
    timeout: Duration,
}

/// The writing half of a [`PipeEnd`].
#[derive(Debug, Clone)]
pub struct PipeWriter {
    tx: Sender<Vec<u8>>,
}

/// One end of an in-memory line.
#[derive(Debug)]
pub struct PipeEnd {
    reader: PipeReader,
    writer: PipeWriter,
}

/// Two connected ends; reads wait at most `timeout` before failing with `TimedOut`.
pub fn pipe(timeout: Duration) -> (PipeEnd, PipeEnd) {
    let (atx, brx) = mpsc::channel();
    let (btx, arx) = mpsc::channel();
    let end = |rx, tx| PipeEnd {
        reader: PipeReader {
            rx,
            buf: Vec::new(),
            timeout,
        },
        writer: PipeWriter { tx },
    };
    (end(arx, atx), end(brx, btx))
}

impl PipeEnd {
    /// The two halves, to read on one thread and write on another.
    pub fn into_split(self) -> (PipeReader, PipeWriter) {
        (self.reader, self.writer)
    }
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.buf.is_empty() {
            match self.rx.recv_timeout(self.timeout) {
                Ok(data) => self.buf = data,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(io::Error::new(
                        ErrorKind::TimedOut,
                        "no data within the read time-out",
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf.drain(..n);
        Ok(n)
    }
}

impl Write for PipeWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        self.tx
            .send(data.to_vec())
            .map_err(|_| io::Error::new(ErrorKind::BrokenPipe, "the other end is closed"))?;
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for PipeEnd {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.reader.read(out)
    }
}

impl Write for PipeEnd {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.writer.write(data)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}
