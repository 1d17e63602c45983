//! Interned strings (qstrs) as in MicroPython 1.9.4's `py/qstr.c`.
//!
//! Ids 0..571 are the static table of the 32-bit unix build (`data/unix32-static-qstrs.tsv`),
//! which lives in "ROM" (Rust memory). New strings get the following ids in interning order and
//! are stored ON the heap exactly like qstr.c does it, so their cost in blocks is the real one:
//!
//! * each string takes `len + 4` bytes (2-byte hash, 1-byte length, data, NUL) in the current
//!   *chunk*; a chunk that is too small is first grown in place by exactly `len + 4` bytes, and
//!   if that is impossible it is shrunk to the bytes used and a new chunk of
//!   `max(128, len + 4)` bytes (or exactly `len + 4` when memory is short) is started;
//! * ids go into *pools* of `4 + N` words (`prev, total_prev_len, alloc, len, entries...`): the
//!   ROM pool counts as 10 entries, so the first heap pool holds 20, then 40, 80, ...
//!
//! Pool entries are the addresses of the string records, so the GC keeps every chunk alive
//! through the entry of its first string, and the pools through the chain from `last_pool`,
//! which [`Qstrs::new`] registers as a heap root slot. Nothing here is ever freed.

use alloc::boxed::Box;

use alloc::vec::Vec;

use once_cell::race::OnceBox;

use crate::heap::{Heap, RootSlot, WORD_BYTES, Word};

/// The static qstr table of the 32-bit unix build: `id, hash, len, C name, C-escaped string`.
const STATIC_TSV: &str = include_str!("../data/unix32-static-qstrs.tsv");

/// Number of static qstrs (ids `0..STATIC_COUNT`).
pub const STATIC_COUNT: usize = 571;

/// Minimum size of a new chunk (`MICROPY_ALLOC_QSTR_CHUNK_INIT`).
const CHUNK_INIT: usize = 128;

/// The `alloc` the ROM pool pretends to have, so the first heap pool holds 20.
const ROM_POOL_ALLOC: usize = 10;

/// Words of a pool header: `prev, total_prev_len, alloc, len`.
const POOL_HEADER_WORDS: usize = 4;

/// `qstr_compute_hash`: djb2 (`h = h*33 ^ c` from 5381) masked to 16 bits, 0 replaced by 1.
pub fn qstr_hash(data: &[u8]) -> u16 {
    let mut h: u32 = 5381;
    for &c in data {
        h = h.wrapping_mul(33) ^ u32::from(c);
    }
    match (h & 0xFFFF) as u16 {
        0 => 1,
        x => x,
    }
}

/// Decodes the C escapes `makeqstrdata.py` writes (`\xNN`, `\\`, `\"`, `\n`, ...).
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'x' => {
                    let hex = b
                        .get(i + 2..i + 4)
                        .and_then(|h| core::str::from_utf8(h).ok());
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(v) => {
                            out.push(v);
                            i += 4;
                        }
                        None => {
                            out.push(b'\\');
                            i += 1;
                        }
                    }
                    continue;
                }
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                other => out.push(other),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// One qstr as the runtime sees it: its text and hash (the arena copy is what the GC sees).
#[derive(Debug, Clone)]
struct Entry {
    text: Box<[u8]>,
    hash: u16,
    /// Address of the `hash, len, data, NUL` record in a chunk; 0 for static qstrs.
    addr: Word,
}

/// The static ids ("ROM"): the same for every machine, so parsed once per process and shared.
#[derive(Debug)]
struct StaticTable {
    entries: Vec<Entry>,
    /// Ids by text: open addressing on [`qstr_hash`], linear probing, 0 for an empty slot
    /// (id 0, the null qstr, is never found by text); a power of two at least twice the
    /// number of ids, so probes stay short. Every text lookup (each name the compiler
    /// meets) starts here, and hashing beats a tree walk of byte comparisons.
    slots: Vec<u16>,
}

/// The parsed static table; building it costs far more than a whole small script run, so
/// machines made one after another (one per scenario) must not each parse it again.
static STATIC_TABLE: OnceBox<StaticTable> = OnceBox::new();

fn static_table() -> &'static StaticTable {
    STATIC_TABLE.get_or_init(|| Box::new(StaticTable::parse()))
}

impl StaticTable {
    fn parse() -> StaticTable {
        let mut entries = Vec::with_capacity(STATIC_COUNT);
        for line in STATIC_TSV.lines() {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let mut cols = line.split('\t');
            let (Some(id), Some(_hash), Some(_len), Some(_name)) =
                (cols.next(), cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let Ok(id) = id.parse::<usize>() else {
                continue;
            };
            // Rows are in id order; a mismatch would shift every id, so stop there.
            if id != entries.len() {
                break;
            }
            let text = unescape(cols.next().unwrap_or(""));
            let hash = qstr_hash(&text);
            entries.push(Entry {
                text: text.into_boxed_slice(),
                hash,
                addr: 0,
            });
        }
        let size = (entries.len() * 2).next_power_of_two().max(2);
        let mut table = StaticTable {
            entries,
            slots: alloc::vec![0; size],
        };
        for id in 1..table.entries.len() {
            // A text listed twice is found as its first id.
            let entry = &table.entries[id];
            if table.find(&entry.text, entry.hash).is_none() {
                let mut pos = table.home(entry.hash);
                while table.slots[pos] != 0 {
                    pos = (pos + 1) & (table.slots.len() - 1);
                }
                table.slots[pos] = id as u16;
            }
        }
        table
    }

    /// The first slot to probe for a hash.
    fn home(&self, hash: u16) -> usize {
        usize::from(hash) & (self.slots.len() - 1)
    }

    /// The id of `s` (whose [`qstr_hash`] is `hash`) among the static qstrs.
    fn find(&self, s: &[u8], hash: u16) -> Option<u16> {
        let mut pos = self.home(hash);
        loop {
            let id = self.slots[pos];
            if id == 0 {
                return None;
            }
            let e = self.entries.get(usize::from(id))?;
            if e.hash == hash && *e.text == *s {
                return Some(id);
            }
            pos = (pos + 1) & (self.slots.len() - 1);
        }
    }
}

/// The qstr table: static ids plus the dynamic pools and chunks on the heap.
#[derive(Debug, Clone)]
pub struct Qstrs {
    /// Ids `0..statics.entries.len()`.
    statics: &'static StaticTable,
    /// The ids after the static ones, in interning order.
    entries: Vec<Entry>,
    /// Open-addressing index (by [`qstr_hash`], linear probing) of the dynamic strings that
    /// qstr.c's search can find again (never one the static table already has): each slot
    /// holds 1 + the position in `entries`, or 0 when empty. Its length is a power of two at
    /// least twice the number of entries, or 0 before the first one.
    index: Vec<u16>,
    /// Entries in `index`.
    indexed: usize,
    /// `last_pool`: 0 while only the ROM pool exists.
    last_pool: Word,
    pool_alloc: usize,
    pool_len: usize,
    /// `qstr_last_chunk`, `qstr_last_alloc`, `qstr_last_used`.
    chunk: Word,
    chunk_alloc: usize,
    chunk_used: usize,
    root: RootSlot,
    /// What the last failed [`Qstrs::intern`] passed to `m_malloc_fail`: the record's
    /// bytes for a chunk, twice the pool's length (an entry count, as qstr.c gives it) for
    /// a pool.
    pub fail_size: usize,
}

impl Qstrs {
    /// The static table, with the pool chain registered as a root slot of `heap`.
    pub fn new(heap: &mut Heap) -> Qstrs {
        let root = heap.add_root_slot(0);
        Qstrs {
            statics: static_table(),
            entries: Vec::with_capacity(64),
            index: Vec::new(),
            indexed: 0,
            last_pool: 0,
            pool_alloc: ROM_POOL_ALLOC,
            pool_len: STATIC_COUNT,
            chunk: 0,
            chunk_alloc: 0,
            chunk_used: 0,
            root,
            fail_size: 0,
        }
    }

    /// [`Qstrs::new`], then interns `startup` in order, like the unix port does at start-up
    /// (`sys.path` entries, argv, the script directory). `None` if the heap is too small.
    pub fn with_startup(heap: &mut Heap, startup: &[&[u8]]) -> Option<Qstrs> {
        let mut q = Qstrs::new(heap);
        for s in startup {
            q.intern(heap, s)?;
        }
        Some(q)
    }

    /// Total number of qstrs (static and dynamic); the next new id.
    pub fn len(&self) -> usize {
        self.statics.entries.len() + self.entries.len()
    }

    /// Always false: id 0 (the null qstr) exists from the start.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of static qstrs in this table.
    pub fn static_count(&self) -> usize {
        STATIC_COUNT.min(self.len())
    }

    /// The entry of id `q`, static or dynamic.
    fn entry(&self, q: u16) -> Option<&Entry> {
        let q = usize::from(q);
        match q.checked_sub(self.statics.entries.len()) {
            None => self.statics.entries.get(q),
            Some(dynamic) => self.entries.get(dynamic),
        }
    }

    /// `qstr_find_strn`: the id of `s` if it is interned, without interning it.
    pub fn lookup(&self, _heap: &Heap, s: &[u8]) -> Option<u16> {
        self.find(s)
    }

    /// [`Qstrs::lookup`] without a heap (the Rust index mirrors the arena).
    pub fn find(&self, s: &[u8]) -> Option<u16> {
        self.find_hashed(s, qstr_hash(s))
    }

    fn find_hashed(&self, s: &[u8], hash: u16) -> Option<u16> {
        if let Some(q) = self.statics.find(s, hash) {
            return Some(q);
        }
        if self.index.is_empty() {
            return None;
        }
        let mask = self.index.len() - 1;
        let mut pos = usize::from(hash) & mask;
        loop {
            let slot = usize::from(self.index[pos]);
            let e = self.entries.get(slot.checked_sub(1)?)?;
            if e.hash == hash && *e.text == *s {
                return u16::try_from(self.statics.entries.len() + slot - 1).ok();
            }
            pos = (pos + 1) & mask;
        }
    }

    /// Adds `entries[position]` to the index, doubling the index when half full.
    fn index_entry(&mut self, position: usize) {
        if 2 * (self.indexed + 1) > self.index.len() {
            let size = (self.index.len() * 2).max(64);
            let old = core::mem::replace(&mut self.index, alloc::vec![0; size]);
            for slot in old.into_iter().filter(|s| *s != 0) {
                self.place(usize::from(slot) - 1);
            }
        }
        self.place(position);
        self.indexed += 1;
    }

    fn place(&mut self, position: usize) {
        let mask = self.index.len() - 1;
        let mut pos = usize::from(self.entries[position].hash) & mask;
        while self.index[pos] != 0 {
            pos = (pos + 1) & mask;
        }
        // Positions stay below 2^16: ids are u16 and every entry has one.
        self.index[pos] = (position + 1) as u16;
    }

    /// `qstr_from_strn`: the id of `s`, interning it if needed. `None` means out of memory,
    /// where qstr.c raises MemoryError; the table stays consistent.
    pub fn intern(&mut self, heap: &mut Heap, s: &[u8]) -> Option<u16> {
        let hash = qstr_hash(s);
        if let Some(q) = self.find_hashed(s, hash) {
            return Some(q);
        }
        let n_bytes = s.len() + 4;
        if self.chunk != 0 && self.chunk_used + n_bytes > self.chunk_alloc {
            // Grow in place only: moving would invalidate the pool entries.
            if heap
                .realloc(self.chunk, self.chunk_alloc + n_bytes, false)
                .is_some()
            {
                self.chunk_alloc += n_bytes;
            } else {
                let _ = heap.realloc(self.chunk, self.chunk_used, false);
                self.chunk = 0;
            }
        }
        if self.chunk == 0 {
            let (chunk, al) = match heap.alloc(n_bytes.max(CHUNK_INIT)) {
                Some(c) => (c, n_bytes.max(CHUNK_INIT)),
                None => match heap.alloc(n_bytes) {
                    Some(c) => (c, n_bytes),
                    None => {
                        self.fail_size = n_bytes;
                        return None;
                    }
                },
            };
            self.chunk = chunk;
            self.chunk_alloc = al;
            self.chunk_used = 0;
        }
        let addr = self.chunk + self.chunk_used as Word;
        self.chunk_used += n_bytes;
        // qstr.c stores the length in one byte (MICROPY_QSTR_BYTES_IN_LEN = 1).
        // (written in place: the record is hash, length, data, NUL)
        if let Some(rec) = heap.bytes_mut(addr, n_bytes) {
            let (head, rest) = rec.split_at_mut(3);
            head.copy_from_slice(&[hash.to_le_bytes()[0], hash.to_le_bytes()[1], s.len() as u8]);
            let (data, nul) = rest.split_at_mut(s.len());
            data.copy_from_slice(s);
            nul[0] = 0;
        }

        // qstr_add: a full pool is replaced by one twice its size. The new chunk is only
        // reachable from Rust state at this point, so keep it across a possible collection.
        if self.pool_len >= self.pool_alloc {
            let alloc = self.pool_alloc * 2;
            let depth = heap.push_root(self.chunk);
            let pool = heap.alloc((POOL_HEADER_WORDS + alloc) * WORD_BYTES);
            heap.truncate_roots(depth);
            let Some(pool) = pool else {
                self.fail_size = alloc;
                return None;
            };
            let total_prev = self.len() - self.pool_len;
            let _ = heap.set_field(pool, 0, self.last_pool);
            let _ = heap.set_field(pool, 1, (total_prev + self.pool_len) as Word);
            let _ = heap.set_field(pool, 2, alloc as Word);
            self.last_pool = pool;
            self.pool_alloc = alloc;
            self.pool_len = 0;
            heap.set_root_slot(self.root, pool);
        }
        let _ = heap.set_field(self.last_pool, POOL_HEADER_WORDS + self.pool_len, addr);
        self.pool_len += 1;
        let _ = heap.set_field(self.last_pool, 3, self.pool_len as Word);
        let id = self.len();
        let id16 = u16::try_from(id).ok()?;
        let text: Box<[u8]> = s.into();
        // A string of 256+ bytes is stored with a truncated length byte, so qstr.c can never
        // find it again; mirror that.
        self.entries.push(Entry { text, hash, addr });
        if s.len() < 256 {
            self.index_entry(self.entries.len() - 1);
        }
        Some(id16)
    }

    /// The bytes of qstr `q` as stored in the arena (or ROM); empty for an unknown id.
    pub fn get<'h>(&'h self, heap: &'h Heap, q: u16) -> &'h [u8] {
        let Some(e) = self.entry(q) else {
            return &[];
        };
        if e.addr == 0 {
            return &e.text;
        }
        let len = usize::from(heap.read_u8(e.addr + 2));
        heap.bytes(e.addr + 3, len).unwrap_or(&[])
    }

    /// Arena address of the bytes of dynamic qstr `q` (what `qstr_data` points at), for
    /// objects that share a qstr's text; `None` for static (ROM) qstrs, unknown ids and texts
    /// of 256 bytes or more.
    pub fn data_addr(&self, q: u16) -> Option<Word> {
        let e = self.entry(q)?;
        (e.addr != 0 && e.text.len() < 256).then_some(e.addr + 3)
    }

    /// The bytes of qstr `q` from the Rust mirror; empty for an unknown id. Like `qstr_data`,
    /// this reads the one-byte stored length, so a text of 256 bytes or more comes back cut
    /// to its length modulo 256.
    pub fn text(&self, q: u16) -> &[u8] {
        self.entry(q)
            .map_or(&[], |e| &e.text[..e.text.len() & 0xFF])
    }

    /// The text of qstr `q` as `str` (qstrs come from source text or `str` objects, so they
    /// are UTF-8; anything else reads as empty).
    pub fn str(&self, q: u16) -> &str {
        core::str::from_utf8(self.text(q)).unwrap_or("")
    }

    /// `qstr_hash`: the stored 16-bit hash of `q` (0 for an unknown id).
    pub fn hash(&self, q: u16) -> u16 {
        self.entry(q).map_or(0, |e| e.hash)
    }

    /// `qstr_len` (the stored one-byte length, see [`Qstrs::text`]).
    pub fn qlen(&self, q: u16) -> usize {
        self.entry(q).map_or(0, |e| e.text.len() & 0xFF)
    }

    /// What the GC must keep: the last pool (which chains to the others and whose entries keep
    /// the chunks). Already registered as a root slot by [`Qstrs::new`].
    pub fn roots(&self) -> Vec<Word> {
        if self.last_pool == 0 {
            Vec::new()
        } else {
            alloc::vec![self.last_pool]
        }
    }

    /// `qstr_pool_info` (what `micropython.qstr_info()` prints), walking the heap pools:
    /// `(n_pool, n_qstr, n_str_data_bytes, n_total_bytes)`, where the total adds the pools'
    /// block sizes to the string records' `len + 4` bytes.
    pub fn pool_info(&self, heap: &Heap) -> (usize, usize, usize, usize) {
        let (mut n_pool, mut n_qstr, mut n_data, mut n_total) = (0, 0, 0, 0);
        let mut pool = self.last_pool;
        // A pool is a heap head; the chain ends at the ROM pool (0). The bound guards against
        // a corrupted chain.
        while pool != 0 && heap.is_head(pool) && n_pool <= self.len() {
            n_pool += 1;
            let len = heap.field(pool, 3) as usize;
            n_qstr += len;
            for i in 0..len {
                let rec = heap.field(pool, POOL_HEADER_WORDS + i);
                n_data += usize::from(heap.read_u8(rec + 2)) + 4;
            }
            n_total += heap.blocks(pool) * crate::heap::BLOCK;
            pool = heap.field(pool, 0);
        }
        (n_pool, n_qstr, n_data, n_total + n_data)
    }

    /// Current chunk address (0 if none), its allocated and used bytes.
    pub fn chunk_state(&self) -> (Word, usize, usize) {
        (self.chunk, self.chunk_alloc, self.chunk_used)
    }

    /// Current pool address (0 for the ROM pool), its capacity and fill.
    pub fn pool_state(&self) -> (Word, usize, usize) {
        (self.last_pool, self.pool_alloc, self.pool_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::{BLOCK, HEAP_BASE};
    use alloc::collections::BTreeMap;
    use alloc::format;

    #[test]
    fn dynamic_strings_are_found_again_through_index_growth() {
        let mut heap = Heap::new(256 * 1024);
        let mut q = Qstrs::new(&mut heap);
        let texts: Vec<Vec<u8>> = (0..700).map(|i| format!("name_{i}").into_bytes()).collect();
        let ids: Vec<u16> = texts
            .iter()
            .map(|t| q.intern(&mut heap, t).unwrap())
            .collect();
        for (i, (t, id)) in texts.iter().zip(&ids).enumerate() {
            assert_eq!(usize::from(*id), STATIC_COUNT + i);
            assert_eq!(q.find(t), Some(*id));
            // interning again gives the same id and adds nothing
            assert_eq!(q.intern(&mut heap, t), Some(*id));
        }
        assert_eq!(q.len(), STATIC_COUNT + texts.len());
        assert_eq!(q.find(b"name_700"), None);
        // A 256-byte string is stored but can never be found again, as in qstr.c.
        let long = [b'x'; 256];
        let first = q.intern(&mut heap, &long).unwrap();
        assert_eq!(q.find(&long), None);
        assert_ne!(q.intern(&mut heap, &long), Some(first));
        // Its text reads back through the one-byte length: 256 bytes read as 0, 300 as 44.
        assert_eq!(q.text(first), b"");
        let longer = [b'y'; 300];
        let id = q.intern(&mut heap, &longer).unwrap();
        assert_eq!((q.text(id), q.qlen(id)), (&longer[..44], 44));
        assert_eq!(q.get(&heap, id), &longer[..44]);
    }

    #[test]
    fn a_failed_intern_names_the_record_size_like_qstr_c() {
        let mut heap = Heap::new(36 * 1024);
        let mut q = Qstrs::new(&mut heap);
        // the first dynamic string needs a chunk (and the ROM pool a successor)
        q.intern(&mut heap, b"first").unwrap();
        while let Some(p) = heap.alloc(16) {
            heap.push_root(p);
        }
        let long = [b'x'; 200];
        assert_eq!(q.intern(&mut heap, &long), None);
        // m_malloc_fail(n_bytes): hash (2), length (1), the text and its NUL
        assert_eq!(q.fail_size, 204);
        assert_eq!(q.find(&long), None);
        assert_eq!(q.find(b"first").map(|id| q.text(id)), Some(&b"first"[..]));
    }

    #[test]
    fn every_static_text_is_found_at_its_first_id() {
        let mut heap = Heap::new(36 * 1024);
        let q = Qstrs::new(&mut heap);
        let mut first: BTreeMap<&[u8], u16> = BTreeMap::new();
        for id in 1..q.static_count() as u16 {
            first.entry(q.text(id)).or_insert(id);
        }
        assert!(first.len() > 500);
        for (text, id) in &first {
            assert_eq!(q.find(text), Some(*id), "{:?}", core::str::from_utf8(text));
        }
        // Near misses: a prefix, a longer text, another case.
        for miss in [&b"__nam"[..], b"__name__x", b"PRINT", b"zipp"] {
            assert_eq!(q.find(miss), None);
        }
    }

    #[test]
    fn a_second_machine_shares_the_table_but_not_the_dynamic_ids() {
        let mut heap_a = Heap::new(36 * 1024);
        let mut a = Qstrs::new(&mut heap_a);
        let id = a.intern(&mut heap_a, b"only_in_a").unwrap();
        assert_eq!(usize::from(id), STATIC_COUNT);
        let mut heap_b = Heap::new(36 * 1024);
        let b = Qstrs::new(&mut heap_b);
        assert_eq!(b.find(b"only_in_a"), None);
        assert_eq!(b.len(), STATIC_COUNT);
        assert_eq!(a.find(b"only_in_a"), Some(id));
        assert_eq!(a.find(b"print"), b.find(b"print"));
    }

    #[test]
    fn static_table_matches_the_build() {
        let mut heap = Heap::new(36 * 1024);
        let q = Qstrs::new(&mut heap);
        assert_eq!(q.len(), 571);
        assert_eq!(q.str(1), "");
        assert_eq!(q.str(2), "__dir__");
        for (name, id) in [
            ("__class__", 13),
            ("__file__", 23),
            ("__init__", 33),
            ("__main__", 41),
            ("__module__", 43),
            ("__name__", 45),
            ("__path__", 50),
            ("__qualname__", 53),
            ("zip", 570),
        ] {
            assert_eq!(q.find(name.as_bytes()), Some(id), "{name}");
        }
        assert_eq!(q.find(b"\n"), Some(84));
        assert_eq!(q.find(b"__all__"), None);
        // Every hash computed here equals the one recorded from the build.
        for line in STATIC_TSV.lines().filter(|l| !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            let id: u16 = cols[0].parse().unwrap();
            let want = u16::from_str_radix(cols[1].trim_start_matches("0x"), 16).unwrap();
            if id != 0 {
                assert_eq!(q.hash(id), want, "hash of {}", cols[3]);
                assert_eq!(q.qlen(id), cols[2].parse::<usize>().unwrap());
            }
        }
        assert_eq!(heap.mem_alloc(), 0);
    }

    #[test]
    fn hashes_from_the_spec() {
        for (s, h) in [
            ("__name__", 14562),
            ("__file__", 21507),
            ("__path__", 9160),
            ("__main__", 5006),
            ("sys", 36540),
            ("gc", 28257),
            ("rootpackage", 38937),
            ("package", 51135),
            ("subpackage", 28955),
            ("module", 39359),
            ("rootpackage.package.subpackage.module", 47241),
            ("x", 46557),
            ("f", 46531),
            ("L", 46569),
        ] {
            assert_eq!(qstr_hash(s.as_bytes()), h, "{s}");
        }
    }

    #[test]
    fn first_intern_makes_chunk_then_pool() {
        let mut heap = Heap::new(36 * 1024);
        let mut q = Qstrs::with_startup(&mut heap, &[b"/usr/lib/micropython"]).unwrap();
        // Chunk (128 B = 8 blk) first, then the 20-entry pool (24 words = 6 blk).
        assert_eq!(heap.mem_alloc(), (8 + 6) * BLOCK);
        assert_eq!(q.chunk_state(), (HEAP_BASE, 128, 24));
        assert_eq!(q.pool_state(), (HEAP_BASE + 8 * 16, 20, 1));
        assert_eq!(q.find(b"/usr/lib/micropython"), Some(571));
        assert_eq!(q.get(&heap, 571), b"/usr/lib/micropython");
        // The arena record: hash, length, data, NUL.
        let h = qstr_hash(b"/usr/lib/micropython");
        assert_eq!(heap.read_u16(HEAP_BASE), h);
        assert_eq!(heap.read_u8(HEAP_BASE + 2), 20);
        assert_eq!(heap.read_u8(HEAP_BASE + 23), 0);
        // Pool words: prev (ROM), total_prev_len, alloc, len, entry.
        let pool = HEAP_BASE + 128;
        assert_eq!(heap.field(pool, 1), 571);
        assert_eq!(heap.field(pool, 2), 20);
        assert_eq!(heap.field(pool, 3), 1);
        assert_eq!(heap.field(pool, 4), HEAP_BASE);
        // Existing strings keep their ids and cost nothing.
        assert_eq!(q.intern(&mut heap, b"__name__"), Some(45));
        assert_eq!(q.intern(&mut heap, b"/usr/lib/micropython"), Some(571));
        assert_eq!(q.len(), 572);
        // The pool chain is a root: a collection keeps everything.
        assert_eq!(heap.collect(&[]), 0);
        assert_eq!(heap.mem_alloc(), 14 * BLOCK);
        assert_eq!(q.roots(), alloc::vec![pool]);
    }

    /// §4.4/§4.6: 30 new 27-byte identifiers (31-byte records) after the unix start-up
    /// layout (chunk 0..8, pool 8..14). Derivation: 3 fit in the first chunk (24 + 93 = 117);
    /// the 4th cannot grow it (the pool follows), so it is shrunk (still 8 blk) and chunk 1
    /// starts at block 14 with 128 B; from the 8th string on it grows in place by 31 B each
    /// time. The 20th entry fills pool 0, so after chunk 1 has grown to 17 strings (531 B,
    /// 34 blk) a 40-entry pool (11 blk) is placed right behind it, at block 48. The 21st string
    /// cannot grow chunk 1: it is shrunk to 527 B (33 blk, freeing block 47) and chunk 2
    /// starts at block 59, then grows to 10 strings (314 B, 20 blk). Total 33 + 11 + 20 = 64.
    #[test]
    fn thirty_identifiers_cost_pool_and_chunks() {
        let mut heap = Heap::new(36 * 1024);
        let mut q = Qstrs::with_startup(&mut heap, &[b"/usr/lib/micropython"]).unwrap();
        let before = heap.mem_alloc();
        for i in 0..30 {
            q.intern(
                &mut heap,
                format!("unique_identifier_number_{i:02}").as_bytes(),
            )
            .unwrap();
        }
        assert_eq!(heap.mem_alloc() - before, 64 * BLOCK);
        let block = |b: u32| HEAP_BASE + b * 16;
        assert_eq!(heap.blocks(block(0)), 8);
        assert_eq!(heap.blocks(block(14)), 33);
        assert!(!heap.is_head(block(47)));
        assert_eq!(heap.blocks(block(48)), 11);
        assert_eq!(q.pool_state(), (block(48), 40, 11));
        assert_eq!(q.chunk_state(), (block(59), 314, 310));
        assert_eq!(heap.blocks(block(59)), 20);
        assert_eq!(q.len(), 571 + 31);
        assert_eq!(q.get(&heap, 601), b"unique_identifier_number_29".as_slice());
    }

    #[test]
    fn chunk_grows_in_place_when_the_next_blocks_are_free() {
        let mut heap = Heap::new(36 * 1024);
        let mut q = Qstrs::new(&mut heap);
        // The first chunk is 128 B; the 20-entry pool lands right after it.
        q.intern(&mut heap, b"abcdefghijklmnopqrstuvwxyz0123456789")
            .unwrap(); // 40 B
        let (c0, al0, used0) = q.chunk_state();
        assert_eq!((al0, used0), (128, 40));
        q.intern(&mut heap, &[b'a'; 80]).unwrap(); // 84 B -> 124 used
        assert_eq!(q.chunk_state(), (c0, 128, 124));
        // 10 more bytes do not fit and the pool blocks growth: shrink (8 blk stay 8) and a new
        // 128-byte chunk after the pool.
        let before = heap.mem_alloc();
        q.intern(&mut heap, b"123456").unwrap();
        let (c1, al1, used1) = q.chunk_state();
        assert_eq!((al1, used1), (128, 10));
        assert_eq!(c1, HEAP_BASE + (8 + 6) * 16);
        assert_eq!(heap.mem_alloc() - before, 128);
        // Fill the new chunk up to 126 bytes, then grow in place by exactly len+4 bytes.
        q.intern(&mut heap, &[b'b'; 112]).unwrap(); // 116 -> 126
        let before = heap.mem_alloc();
        q.intern(&mut heap, b"xyz").unwrap(); // 7 more -> alloc 135 -> 9 blocks
        assert_eq!(q.chunk_state(), (c1, 135, 133));
        assert_eq!(heap.mem_alloc() - before, 16);
        assert_eq!(heap.blocks(c1), 9);
        assert_eq!(q.get(&heap, q.find(b"xyz").unwrap()), b"xyz");
    }

    #[test]
    fn shrink_frees_unused_blocks_of_the_old_chunk() {
        let mut heap = Heap::new(36 * 1024);
        let mut q = Qstrs::new(&mut heap);
        q.intern(&mut heap, b"a").unwrap(); // chunk 128 B used 5, pool after it
        let (c0, _, _) = q.chunk_state();
        assert_eq!(heap.blocks(c0), 8);
        // 200 bytes cannot fit or grow: shrink the old chunk to 5 bytes = 1 block.
        let before = heap.mem_alloc();
        q.intern(&mut heap, &[b'z'; 200]).unwrap();
        assert_eq!(heap.blocks(c0), 1);
        let (c1, al1, used1) = q.chunk_state();
        assert_eq!((al1, used1), (204, 204));
        assert_eq!(heap.blocks(c1), 13);
        assert_eq!(heap.mem_alloc() + 7 * BLOCK - before, 13 * BLOCK);
    }

    /// §4.4's `m_empty` example: a path qstr that does not fit a blocked chunk whose used
    /// bytes end in its 7th block shrinks it 8 -> 7 blocks and starts an 8-block chunk: +7 blk.
    #[test]
    fn blocked_chunk_shrinks_then_a_new_one_starts() {
        let mut heap = Heap::new(36 * 1024);
        let mut q = Qstrs::with_startup(&mut heap, &[b"/usr/lib/micropython"]).unwrap();
        // 24 + 3 * 28 = 108 bytes used: inside the first 7 blocks.
        for name in [
            "identifier_number_one_xx",
            "identifier_number_two_xx",
            "identifier_number_thr_xx",
        ] {
            q.intern(&mut heap, name.as_bytes()).unwrap();
        }
        assert_eq!(q.chunk_state(), (HEAP_BASE, 128, 108));
        let before = heap.mem_alloc();
        q.intern(&mut heap, b"/tmp/measure/m_empty.py").unwrap();
        assert_eq!(heap.mem_alloc() - before, 7 * BLOCK);
        assert_eq!(heap.blocks(HEAP_BASE), 7);
        assert_eq!(q.chunk_state().1, 128);
        // The freed 8th block is a 1-block hole before the pool.
        assert!(!heap.is_head(HEAP_BASE + 7 * 16));
    }

    #[test]
    fn pool_info_counts_pools_records_and_blocks() {
        let mut heap = Heap::new(64 * 1024);
        let mut q = Qstrs::new(&mut heap);
        assert_eq!(q.pool_info(&heap), (0, 0, 0, 0));
        for i in 0..25 {
            q.intern(&mut heap, format!("q{i:02}").as_bytes()).unwrap();
        }
        // Pools of 20 (6 blk) and 40 (11 blk); 25 records of 3 + 4 bytes.
        assert_eq!(q.pool_info(&heap), (2, 25, 175, 17 * 16 + 175));
    }

    /// The unix binary started as `micropython -X heapsize=36K s2.py` from `/tmp/rtmem_exp`
    /// interns these three strings and `micropython.qstr_info()` prints
    /// `n_pool=1, n_qstr=3, n_str_data_bytes=51, n_total_bytes=147`.
    #[test]
    fn startup_pool_info_matches_the_unix_binary() {
        let mut heap = Heap::new(36 * 1024);
        let q = Qstrs::with_startup(
            &mut heap,
            &[b"/usr/lib/micropython", b"/tmp/rtmem_exp", b"s2.py"],
        )
        .unwrap();
        assert_eq!(q.pool_info(&heap), (1, 3, 51, 147));
    }

    #[test]
    fn pools_double_and_chain() {
        let mut heap = Heap::new(64 * 1024);
        let mut q = Qstrs::new(&mut heap);
        for i in 0..(20 + 40 + 1) {
            q.intern(&mut heap, format!("q{i}").as_bytes()).unwrap();
        }
        let (p, alloc, len) = q.pool_state();
        assert_eq!((alloc, len), (80, 1));
        assert_eq!(heap.blocks(p), 21);
        let prev = heap.field(p, 0);
        assert_eq!(heap.blocks(prev), 11);
        assert_eq!(heap.field(p, 1), 571 + 60);
        assert_eq!(heap.field(prev, 1), 571 + 20);
        let first = heap.field(prev, 0);
        assert_eq!(heap.blocks(first), 6);
        assert_eq!(heap.field(first, 0), 0);
        assert_eq!(q.find(b"q60"), Some(571 + 60));
        // Everything is still reachable from the single root slot.
        assert_eq!(heap.collect(&[]), 0);
        for i in 0..61u16 {
            assert_eq!(q.get(&heap, 571 + i), format!("q{i}").as_bytes());
        }
    }

    #[test]
    fn out_of_memory_is_reported_and_consistent() {
        let mut heap = Heap::new(1024); // 60 blocks
        let mut q = Qstrs::new(&mut heap);
        let mut last = None;
        for i in 0..1000 {
            match q.intern(&mut heap, format!("identifier_{i:04}").as_bytes()) {
                Some(id) => last = Some((i, id)),
                None => break,
            }
        }
        let (i, id) = last.unwrap();
        assert!(i < 999);
        assert_eq!(q.len(), usize::from(id) + 1);
        assert_eq!(q.find(format!("identifier_{i:04}").as_bytes()), Some(id));
        assert_eq!(heap.collect(&[]), 0);
    }
}
