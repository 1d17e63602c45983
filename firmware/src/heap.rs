//! The GC heap: MicroPython 1.9.4's `py/gc.c` on a byte arena with the 32-bit geometry.
//!
//! Objects live in [`Heap`] at addresses `HEAP_BASE + offset`. The pool is split into 16-byte
//! blocks whose states (free, head, tail, mark) sit in a 2-bit allocation table, exactly as in
//! gc.c, so block counts, placement and therefore `gc.mem_free()` readings come out like the
//! real interpreter's.
//!
//! Collections need roots. gc.c finds them in the C state and, conservatively, on the C stack;
//! here the runtime registers them: permanent *root slots* ([`Heap::add_root_slot`]) for things
//! like the qstr pool chain, `sys.modules` or `__main__`, and a *root stack*
//! ([`Heap::push_root`]) for temporaries a Rust caller holds while it allocates again. An
//! allocation that finds no room collects once (like `gc_alloc`) using those roots, so anything
//! the runtime holds only in Rust locals must be on the root stack across an allocation.
//!
//! A few objects live outside the pool, in a small static area right below it (see
//! [`STATIC_BASE`]), because 1.9.4 keeps them in `mp_state_vm`: they cost no block, and every
//! word in them is a root, as gc.c's scan of `mp_state_ctx` makes them.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// A machine word of the modelled 32-bit MicroPython: an object, a small int, a qstr or an address.
pub type Word = u32;

/// Bytes per GC block (`MICROPY_BYTES_PER_GC_BLOCK` on 32-bit builds).
pub const BLOCK: usize = 16;

/// Bytes per word on the modelled build.
pub const WORD_BYTES: usize = 4;

/// Address of the first pool byte. 16-aligned, and looks like ESP8266 RAM.
pub const HEAP_BASE: Word = 0x3FFE_0000;

/// Bytes of static object storage, room for [`STATIC_OBJECTS`] objects of 16 bytes.
pub const STATIC_BYTES: usize = STATIC_OBJECTS * BLOCK;

/// Objects that 1.9.4 keeps in its static state (`mp_state_vm`) rather than on the GC heap:
/// the `sys.modules` and `__main__` dicts and the `sys.path` / `sys.argv` lists. Only their
/// headers are static; their tables and item arrays are heap blocks. A fifth slot stands
/// for objects 1.9.4 builds in a C frame (the `super` of `LOAD_SUPER_METHOD`).
pub const STATIC_OBJECTS: usize = 5;

/// The static slot used for objects that live in a C frame on 1.9.4 (see
/// [`STATIC_OBJECTS`]); whoever fills it restores the old contents afterwards.
pub const STATIC_SCRATCH: usize = 4;

/// Address of the static object storage, right below the pool so that one range test
/// ([`Heap::contains`]) covers "an object in RAM" for both.
pub const STATIC_BASE: Word = HEAP_BASE - STATIC_BYTES as Word;

/// Entries of the mark stack (`MICROPY_ALLOC_GC_STACK_SIZE`); deeper structures are finished by
/// rescanning the heap, as gc.c does, so marking never recurses.
const MARK_STACK: usize = 64;

const BLOCKS_PER_ATB: usize = 4;
const AT_FREE: u8 = 0;
const AT_HEAD: u8 = 1;
const AT_TAIL: u8 = 2;
const AT_MARK: u8 = 3;

/// The low bit of each 2-bit block state in a 64-bit word of the allocation table.
const LOW_BITS: u64 = 0x5555_5555_5555_5555;

// The mark loop's pointer test relies on every pool having fewer than 2^28 blocks.
const _: () = assert!(((u32::MAX - HEAP_BASE) as usize / BLOCK) < 1 << 28);

/// gc.c's sweep of one allocation-table byte, given whether the tail blocks met are to be
/// freed (`free_tail`, the index): the new byte, the heads freed and the new `free_tail`.
/// A head frees itself and its tail, a mark becomes a head again and keeps its tail, a free
/// block changes nothing.
static SWEEP: [[(u8, u8, bool); 256]; 2] = {
    let mut t = [[(0u8, 0u8, false); 256]; 2];
    let mut f = 0;
    while f < 2 {
        let mut a = 0;
        while a < 256 {
            let mut free_tail = f == 1;
            let mut new = a as u8;
            let mut freed = 0u8;
            let mut j = 0;
            while j < BLOCKS_PER_ATB {
                let shift = 2 * j;
                let kind = ((a >> shift) & 3) as u8;
                if kind == AT_HEAD {
                    freed += 1;
                    free_tail = true;
                    new &= !(3 << shift);
                } else if kind == AT_TAIL && free_tail {
                    new &= !(3 << shift);
                } else if kind == AT_MARK {
                    new = (new & !(3 << shift)) | (AT_HEAD << shift);
                    free_tail = false;
                }
                j += 1;
            }
            t[f][a] = (new, freed, free_tail);
            a += 1;
        }
        f += 1;
    }
    t
};

/// For each allocation-table byte, how many of its four blocks are free.
static FREE_IN_ATB: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut a = 0;
    while a < 256 {
        let mut j = 0;
        while j < BLOCKS_PER_ATB {
            if (a >> (2 * j)) & 3 == AT_FREE as usize {
                t[a] += 1;
            }
            j += 1;
        }
        a += 1;
    }
    t
};

/// An access outside the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadAddress(pub Word);

/// Whether heaps made from now on record a trace from their first allocation (see
/// [`Heap::set_trace`]); for tools that compare a whole run with an instrumented gc.c.
static TRACE_NEW_HEAPS: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Makes every [`Heap`] created afterwards start with tracing on (or off again).
pub fn trace_new_heaps(on: bool) {
    TRACE_NEW_HEAPS.store(on, core::sync::atomic::Ordering::Relaxed);
}

/// Whether traces also list the heads each sweep frees (`S blk`, after the collection's `C`).
static TRACE_SWEEPS: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Makes traces list the heads every sweep frees (or stop listing them), to compare what a
/// collection keeps with an instrumented gc.c that logs its sweep.
pub fn trace_sweeps(on: bool) {
    TRACE_SWEEPS.store(on, core::sync::atomic::Ordering::Relaxed);
}

/// One heap operation, as an instrumented gc.c reports it. Blocks are counted from the pool
/// start; sizes are the requested bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceEvent {
    /// `gc_alloc(bytes)` returned block `Some(b)`, or failed.
    Alloc(usize, Option<usize>),
    /// `gc_free` of the allocation headed at this block.
    Free(usize),
    /// `gc_realloc(block, bytes, allow_move)` was called (a real resize: neither null nor 0 bytes).
    Realloc(usize, usize, bool),
    /// The result of the realloc just above (the block, or failure).
    ReallocDone(Option<usize>),
    /// A collection started.
    Collect,
    /// A marker the runtime put in the trace (1: a source is about to be read, 2: it has
    /// been compiled), matching markers of the instrumented reference.
    Mark(u8),
    /// The sweep freed the unmarked head at this block (only with [`trace_sweeps`]).
    Swept(usize),
}

impl fmt::Display for TraceEvent {
    /// The instrumented gc.c's line format: `A n blk|FAIL`, `F blk`, `R blk n move`,
    /// `r blk|FAIL`, `C`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = |f: &mut fmt::Formatter<'_>, x: &Option<usize>| match x {
            Some(x) => write!(f, "{x}"),
            None => write!(f, "FAIL"),
        };
        match self {
            TraceEvent::Alloc(n, r) => {
                write!(f, "A {n} ")?;
                b(f, r)
            }
            TraceEvent::Free(x) => write!(f, "F {x}"),
            TraceEvent::Realloc(x, n, m) => write!(f, "R {x} {n} {}", u8::from(*m)),
            TraceEvent::ReallocDone(r) => {
                write!(f, "r ")?;
                b(f, r)
            }
            TraceEvent::Collect => write!(f, "C"),
            TraceEvent::Mark(m) => write!(f, "M {m}"),
            TraceEvent::Swept(x) => write!(f, "S {x}"),
        }
    }
}

impl fmt::Display for BadAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad heap address {:#010x}", self.0)
    }
}

impl core::error::Error for BadAddress {}

/// Handle of a permanent root registered with [`Heap::add_root_slot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootSlot(usize);

/// Counters like gc.c's `gc_info`, in blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeapInfo {
    /// Blocks in the pool.
    pub total_blocks: usize,
    /// Head and tail blocks.
    pub used_blocks: usize,
    /// Free blocks.
    pub free_blocks: usize,
    /// Longest run of free blocks.
    pub max_free: usize,
    /// Longest allocation, in blocks.
    pub max_block: usize,
    /// Allocations of exactly one block.
    pub num_1block: usize,
    /// Allocations of exactly two blocks.
    pub num_2block: usize,
}

/// The GC heap.
#[derive(Debug, Clone)]
pub struct Heap {
    /// Allocation table: 2 bits per block, block `b` at bits `2*(b%4)` of byte `b/4`.
    atb: Vec<u8>,
    /// The pool bytes; block `b` is at `HEAP_BASE + 16*b`.
    pool: Vec<u8>,
    /// Every pool byte at or after this offset is zero: nothing but zeros was ever written
    /// there. Allocations there need no clearing, and a dropped heap's pool is zeroed again
    /// only up to here before the next heap takes it (see [`fresh_pool`]).
    dirty: usize,
    /// `gc_last_free_atb_index`: where the first-fit search starts, in ATB bytes.
    last_free_atb: usize,
    /// `gc_lock_depth`: while locked, allocation and freeing are refused, as in gc.c.
    lock_depth: usize,
    /// `gc_auto_collect_enabled` (`gc.enable()` / `gc.disable()`).
    auto_collect: bool,
    /// `gc_alloc_threshold` in blocks; `usize::MAX` when off (the default).
    threshold_blocks: usize,
    /// `gc_alloc_amount`: blocks allocated since the last collection.
    alloc_amount: usize,
    /// Permanent roots.
    slots: Vec<Word>,
    /// Temporary roots, last in first out.
    stack: Vec<Word>,
    /// Number of collections run so far (diagnostics and tests).
    collections: usize,
    /// The operations recorded while tracing is on; `None` (the normal case) costs one test
    /// per operation.
    trace: Option<Vec<TraceEvent>>,
    /// Static object storage at [`STATIC_BASE`] (outside the pool, scanned as roots).
    statics: [u8; STATIC_BYTES],
    /// The mark stack and the root list of [`Heap::collect`], kept between collections so
    /// that one allocates nothing on the Rust heap once they have grown.
    scratch: (Vec<usize>, Vec<Word>),
}

impl Heap {
    /// A heap carved out of `heap_bytes` bytes like `gc_init` with finalisers enabled: the end
    /// is rounded down to a block, then the allocation table takes `A = 8T / (8 + 4 + 8*4*16)`
    /// bytes, the finaliser table `A/2`, and the pool `4A` blocks.
    pub fn new(heap_bytes: usize) -> Heap {
        let blocks = Self::pool_blocks_for(heap_bytes);
        Heap {
            atb: vec![0; blocks / BLOCKS_PER_ATB],
            pool: fresh_pool(blocks * BLOCK),
            dirty: 0,
            last_free_atb: 0,
            lock_depth: 0,
            auto_collect: true,
            threshold_blocks: usize::MAX,
            alloc_amount: 0,
            slots: Vec::new(),
            stack: Vec::new(),
            collections: 0,
            trace: TRACE_NEW_HEAPS
                .load(core::sync::atomic::Ordering::Relaxed)
                .then(Vec::new),
            statics: [0; STATIC_BYTES],
            scratch: (Vec::new(), Vec::new()),
        }
    }

    /// Address of static object `i` (< [`STATIC_OBJECTS`]): 16 zeroed bytes outside the pool
    /// that [`Heap::free`] and the sweep never touch and whose words the collector treats as
    /// roots.
    pub fn static_obj(i: usize) -> Word {
        STATIC_BASE + (i.min(STATIC_OBJECTS - 1) * BLOCK) as Word
    }

    /// Starts (with an empty record) or stops recording heap operations.
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on.then(Vec::new);
    }

    /// The operations recorded since tracing started or since the last call; empty when off.
    pub fn take_trace(&mut self) -> Vec<TraceEvent> {
        self.trace.as_mut().map(core::mem::take).unwrap_or_default()
    }

    /// Whether operations are being recorded (callers may skip work whose only visible effect
    /// would be a trace line).
    pub fn tracing(&self) -> bool {
        self.trace.is_some()
    }

    /// Puts marker `m` in the trace (nothing when tracing is off).
    pub fn trace_mark(&mut self, m: u8) {
        self.record(TraceEvent::Mark(m));
    }

    #[inline]
    fn record(&mut self, e: TraceEvent) {
        if let Some(t) = &mut self.trace {
            t.push(e);
        }
    }

    /// The pool size in blocks that `gc_init` gives a heap of `heap_bytes` bytes.
    pub fn pool_blocks_for(heap_bytes: usize) -> usize {
        let total = heap_bytes & !(BLOCK - 1);
        // 8 bits per ATB byte; 4 blocks per ATB byte -> half a finaliser byte; 4 blocks of pool.
        let atb_len =
            total.saturating_mul(8) / (8 + 8 * BLOCKS_PER_ATB / 8 + 8 * BLOCKS_PER_ATB * BLOCK);
        // The pool address range must stay inside 32 bits.
        let max_blocks = ((u32::MAX - HEAP_BASE) as usize / BLOCK) & !(BLOCKS_PER_ATB - 1);
        (atb_len * BLOCKS_PER_ATB).min(max_blocks)
    }

    /// Number of blocks in the pool.
    pub fn total_blocks(&self) -> usize {
        self.atb.len() * BLOCKS_PER_ATB
    }

    /// Pool size in bytes (`mem_free() + mem_alloc()`).
    pub fn pool_bytes(&self) -> usize {
        self.total_blocks() * BLOCK
    }

    fn kind(&self, block: usize) -> u8 {
        match self.atb.get(block / BLOCKS_PER_ATB) {
            Some(b) => (b >> (2 * (block % BLOCKS_PER_ATB))) & 3,
            None => AT_FREE,
        }
    }

    fn set_kind(&mut self, block: usize, kind: u8) {
        if let Some(b) = self.atb.get_mut(block / BLOCKS_PER_ATB) {
            let shift = 2 * (block % BLOCKS_PER_ATB);
            *b = (*b & !(3 << shift)) | (kind << shift);
        }
    }

    /// The block a pointer designates, if it is a block-aligned address inside the pool
    /// (gc.c's `VERIFY_PTR`).
    fn block_of(&self, p: Word) -> Option<usize> {
        let off = p.checked_sub(HEAP_BASE)? as usize;
        if !off.is_multiple_of(BLOCK) || off >= self.pool.len() {
            return None;
        }
        Some(off / BLOCK)
    }

    fn addr_of(block: usize) -> Word {
        HEAP_BASE + (block * BLOCK) as Word
    }

    /// Whether `w` is the exact address of an allocated head block.
    pub fn is_head(&self, w: Word) -> bool {
        self.block_of(w)
            .is_some_and(|b| matches!(self.kind(b), AT_HEAD | AT_MARK))
    }

    /// Whether `w` lies anywhere inside the pool (allocated or not) or the static objects
    /// just below it: whether it can be the address of an object in RAM.
    #[inline]
    pub fn contains(&self, w: Word) -> bool {
        (w.wrapping_sub(STATIC_BASE) as usize) < STATIC_BYTES + self.pool.len()
    }

    /// Blocks of the allocation headed at `p` (0 if `p` is not a head), like `gc_nbytes / 16`.
    pub fn blocks(&self, p: Word) -> usize {
        match self.block_of(p) {
            Some(b) if matches!(self.kind(b), AT_HEAD | AT_MARK) => self.run_len(b),
            _ => 0,
        }
    }

    /// Head block plus its tails.
    fn run_len(&self, head: usize) -> usize {
        1 + self.run_of(head + 1, AT_TAIL, usize::MAX)
    }

    /// The states of up to 32 blocks from block `b` on (any alignment), block `b + k` at bits
    /// `2k..2k+2`, and how many of those fields are blocks of the pool (none past its end).
    #[inline]
    fn states_at(&self, b: usize) -> (u64, usize) {
        let i = b / BLOCKS_PER_ATB;
        let x = match self.atb.get(i..i + 8) {
            Some(c) => u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
            None => {
                let mut c = [0xFF; 8];
                if let Some(rest) = self.atb.get(i..) {
                    c[..rest.len()].copy_from_slice(rest);
                }
                u64::from_le_bytes(c)
            }
        };
        let skip = b % BLOCKS_PER_ATB;
        let valid = (32 - skip).min(self.total_blocks().saturating_sub(b));
        (x >> (2 * skip), valid)
    }

    /// How many consecutive blocks from block `b` on are in state `kind` (at most `max`): 32
    /// blocks (eight table bytes) per step instead of one block at a time.
    fn run_of(&self, b: usize, kind: u8, max: usize) -> usize {
        let pattern = u64::from(kind) * LOW_BITS;
        let mut n = 0;
        while n < max {
            let (x, valid) = self.states_at(b + n);
            let y = x ^ pattern;
            // bit 2k set where block k is in another state
            let other = (y | (y >> 1)) & LOW_BITS;
            let same = ((other.trailing_zeros() / 2) as usize).min(valid);
            n += same;
            if same < valid || b + n >= self.total_blocks() {
                break;
            }
        }
        n.min(max)
    }

    /// Sets blocks `start..end` to `kind`, whole table bytes at a time where it can.
    fn set_kinds(&mut self, start: usize, end: usize, kind: u8) {
        let byte = kind * 0b0101_0101;
        let mut b = start;
        while b < end && !b.is_multiple_of(BLOCKS_PER_ATB) {
            self.set_kind(b, kind);
            b += 1;
        }
        while b + BLOCKS_PER_ATB <= end {
            if let Some(a) = self.atb.get_mut(b / BLOCKS_PER_ATB) {
                *a = byte;
            }
            b += BLOCKS_PER_ATB;
        }
        while b < end {
            self.set_kind(b, kind);
            b += 1;
        }
    }

    /// `gc_lock()`: while locked, allocations return `None` and frees are ignored.
    pub fn lock(&mut self) {
        self.lock_depth += 1;
    }

    /// `gc_unlock()`.
    pub fn unlock(&mut self) {
        self.lock_depth = self.lock_depth.saturating_sub(1);
    }

    /// Whether the heap is locked.
    pub fn is_locked(&self) -> bool {
        self.lock_depth != 0
    }

    /// `gc.enable()` / `gc.disable()`: whether an allocation may collect by itself.
    pub fn set_auto_collect(&mut self, enabled: bool) {
        self.auto_collect = enabled;
    }

    /// `gc.isenabled()`.
    pub fn auto_collect(&self) -> bool {
        self.auto_collect
    }

    /// `gc.threshold(n)`: collect before an allocation once `n / 16` blocks were allocated since
    /// the last collection. `None` (or a negative value on the Python side) switches it off.
    pub fn set_threshold(&mut self, bytes: Option<usize>) {
        self.threshold_blocks = bytes.map_or(usize::MAX, |b| b / BLOCK);
    }

    /// `gc.threshold()`: the threshold in bytes, `None` when off.
    pub fn threshold(&self) -> Option<usize> {
        (self.threshold_blocks != usize::MAX).then(|| self.threshold_blocks * BLOCK)
    }

    /// Number of collections run so far.
    pub fn collections(&self) -> usize {
        self.collections
    }

    /// `gc_last_free_atb_index`, in groups of four blocks (for tests and diagnostics).
    pub fn last_free_index(&self) -> usize {
        self.last_free_atb
    }

    /// Registers a permanent root, initially `w`.
    pub fn add_root_slot(&mut self, w: Word) -> RootSlot {
        self.slots.push(w);
        RootSlot(self.slots.len() - 1)
    }

    /// Changes a permanent root.
    pub fn set_root_slot(&mut self, slot: RootSlot, w: Word) {
        if let Some(s) = self.slots.get_mut(slot.0) {
            *s = w;
        }
    }

    /// The value of a permanent root.
    pub fn root_slot(&self, slot: RootSlot) -> Word {
        self.slots.get(slot.0).copied().unwrap_or(0)
    }

    /// Pushes a temporary root; returns the depth before the push, for [`Heap::truncate_roots`].
    pub fn push_root(&mut self, w: Word) -> usize {
        self.stack.push(w);
        self.stack.len() - 1
    }

    /// Pops the last temporary root.
    pub fn pop_root(&mut self) -> Option<Word> {
        self.stack.pop()
    }

    /// Depth of the temporary root stack.
    pub fn root_depth(&self) -> usize {
        self.stack.len()
    }

    /// Drops temporary roots down to `depth`.
    pub fn truncate_roots(&mut self, depth: usize) {
        self.stack.truncate(depth);
    }

    /// Replaces the temporary root at `index` (e.g. after a realloc moved an object).
    pub fn set_root(&mut self, index: usize, w: Word) {
        if let Some(s) = self.stack.get_mut(index) {
            *s = w;
        }
    }

    /// `gc_alloc`: `ceil(n/16)` zeroed blocks, first fit from the last-free index. Collects once
    /// and retries when nothing fits (and before the search once the threshold is reached),
    /// unless automatic collection is disabled. `None` for 0 bytes, when locked, or when out of
    /// memory.
    pub fn alloc(&mut self, n_bytes: usize) -> Option<Word> {
        let r = self.alloc_inner(n_bytes);
        if self.trace.is_some() && n_bytes > 0 {
            let b = r.and_then(|p| self.block_of(p));
            self.record(TraceEvent::Alloc(n_bytes, b));
        }
        r
    }

    fn alloc_inner(&mut self, n_bytes: usize) -> Option<Word> {
        let n_blocks = n_bytes.div_ceil(BLOCK);
        if n_blocks == 0 || self.is_locked() {
            return None;
        }
        if self.auto_collect && self.alloc_amount >= self.threshold_blocks {
            self.collect(&[]);
        }
        match self.find(n_blocks) {
            Some(start) => Some(self.claim(start, n_blocks)),
            None if self.auto_collect => {
                // gc.c keeps its free-run counter across this retry, which can only corrupt
                // the heap (a run "starting" before block 0); the retry here counts afresh.
                self.collect(&[]);
                let start = self.find(n_blocks)?;
                Some(self.claim(start, n_blocks))
            }
            None => None,
        }
    }

    /// Like [`Heap::alloc`] but never collects (gc.c's search with collection already tried).
    pub fn alloc_no_collect(&mut self, n_bytes: usize) -> Option<Word> {
        let n_blocks = n_bytes.div_ceil(BLOCK);
        if n_blocks == 0 {
            return None;
        }
        let r = if self.is_locked() {
            None
        } else {
            self.find(n_blocks).map(|start| self.claim(start, n_blocks))
        };
        if self.trace.is_some() {
            let b = r.and_then(|p| self.block_of(p));
            self.record(TraceEvent::Alloc(n_bytes, b));
        }
        r
    }

    /// First fit: returns the start block of the first run of `n` free blocks at or after the
    /// last-free index, and updates that index as gc.c does (only for single blocks).
    ///
    /// gc.c walks block by block, counting free blocks and resetting the count at a used one,
    /// until the count reaches `n`. This walk does the same 32 blocks (eight table bytes) at a
    /// time: the count goes on into the chunk's leading free blocks; if that does not complete
    /// it, the first window of `n` free blocks inside the chunk is where the count would reach
    /// `n` next; failing both, the count leaves the chunk as its trailing free blocks.
    fn find(&mut self, n: usize) -> Option<usize> {
        const CHUNK: usize = 8;
        const CHUNK_BLOCKS: usize = CHUNK * BLOCKS_PER_ATB;
        let mut n_free = 0;
        let mut i = self.last_free_atb;
        while i < self.atb.len() {
            let x = match self.atb.get(i..i + CHUNK) {
                Some(c) => u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
                None => {
                    // past the end of the table: blocks that are never free
                    let mut c = [0xFF; CHUNK];
                    let have = self.atb.len() - i;
                    c[..have].copy_from_slice(&self.atb[i..]);
                    u64::from_le_bytes(c)
                }
            };
            // one bit per block of the chunk (bit 2k for block k): free ones, used ones
            let free = !(x | (x >> 1)) & LOW_BITS;
            let used = !free & LOW_BITS;
            let base = i * BLOCKS_PER_ATB;
            let lead = (used.trailing_zeros() / 2) as usize;
            if n_free + lead >= n {
                return Some(self.found(base + (n - n_free - 1), n));
            }
            if used == 0 {
                n_free += CHUNK_BLOCKS;
                i += CHUNK;
                continue;
            }
            if n <= CHUNK_BLOCKS {
                // bit 2k stays set while blocks k..k+s are all free
                let mut window = free;
                for s in 1..n {
                    window &= free >> (2 * s);
                    if window == 0 {
                        break;
                    }
                }
                if window != 0 {
                    let k = (window.trailing_zeros() / 2) as usize;
                    return Some(self.found(base + k + n - 1, n));
                }
            }
            n_free = (used.leading_zeros() / 2) as usize;
            i += CHUNK;
        }
        None
    }

    /// The run of `n` blocks ending at block `end` was found: its start, after gc.c's update
    /// of the last-free index for single blocks.
    fn found(&mut self, end: usize, n: usize) -> usize {
        if n == 1 {
            self.last_free_atb = (end + 1) / BLOCKS_PER_ATB;
        }
        end + 1 - n
    }

    /// Zeroes pool bytes `lo..hi` (those from `dirty` on are zero already).
    #[inline]
    fn clear(&mut self, lo: usize, hi: usize) {
        if lo < self.dirty {
            let r = &mut self.pool[lo..hi.min(self.dirty)];
            // one block, the usual case, without a call to memset
            match <&mut [u8; BLOCK]>::try_from(&mut *r) {
                Ok(b) => *b = [0; BLOCK],
                Err(_) => r.fill(0),
            }
        }
    }

    #[inline]
    fn claim(&mut self, start: usize, n: usize) -> Word {
        let i = start / BLOCKS_PER_ATB;
        let shift = 2 * (start % BLOCKS_PER_ATB);
        match self.atb.get_mut(i..i + 8) {
            // the run within one 64-bit table word: a head then tails, in one write
            Some(c) if shift + 2 * n < 64 => {
                let field = (1u64 << (2 * n)) - 1;
                let run = ((u64::from(AT_TAIL) * LOW_BITS) & field & !3) | u64::from(AT_HEAD);
                let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
                let x = (x & !(field << shift)) | (run << shift);
                c.copy_from_slice(&x.to_le_bytes());
            }
            _ => {
                self.set_kind(start, AT_HEAD);
                self.set_kinds(start + 1, start + n, AT_TAIL);
            }
        }
        self.alloc_amount += n;
        // MICROPY_GC_CONSERVATIVE_CLEAR: the whole run is zeroed (past `dirty` it already is).
        self.clear(start * BLOCK, (start + n) * BLOCK);
        Self::addr_of(start)
    }

    /// `gc_free`: frees the allocation headed at `p`. Anything else (null, interior pointers,
    /// free blocks, a locked heap) is ignored.
    pub fn free(&mut self, p: Word) {
        if self.is_locked() {
            return;
        }
        let Some(block) = self.block_of(p) else {
            return;
        };
        if self.kind(block) != AT_HEAD {
            return;
        }
        self.record(TraceEvent::Free(block));
        if block / BLOCKS_PER_ATB < self.last_free_atb {
            self.last_free_atb = block / BLOCKS_PER_ATB;
        }
        let i = block / BLOCKS_PER_ATB;
        let shift = 2 * (block % BLOCKS_PER_ATB);
        if let Some(c) = self.atb.get_mut(i..i + 8) {
            let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            // the states after the head (zeros, i.e. free blocks, shifted in at the top)
            let after = x >> (shift + 2);
            let y = after ^ (u64::from(AT_TAIL) * LOW_BITS);
            let tails = (((y | (y >> 1)) & LOW_BITS).trailing_zeros() / 2) as usize;
            // fields of the word after the head; a run reaching the last may go on past it
            let fields = (64 - shift - 2) / 2;
            if tails < fields {
                let field = (1u64 << (2 * (tails + 1))) - 1;
                let x = x & !(field << shift);
                c.copy_from_slice(&x.to_le_bytes());
                return;
            }
        }
        let n = self.run_len(block);
        self.set_kinds(block, block + n, AT_FREE);
    }

    /// What `realloc(p, new_blocks * BLOCK, false)` does to a run of `blocks` blocks headed at
    /// `p` when it succeeds in place because the blocks after the run are free: they become
    /// the run's (zeroed) tail, and `true` is returned. `false` when that is not the case (the
    /// caller then calls [`Heap::realloc`], which also handles tracing, a locked heap and
    /// every other outcome); always `false` while tracing, so the trace sees the call.
    pub fn grow_run_in_place(&mut self, p: Word, blocks: usize, new_blocks: usize) -> bool {
        if self.trace.is_some() || self.is_locked() || blocks == 0 || new_blocks <= blocks {
            return false;
        }
        let Some(head) = self.block_of(p) else {
            return false;
        };
        let (end, new_end) = (head + blocks, head + new_blocks);
        if new_end > self.total_blocks()
            || self.kind(head) != AT_HEAD
            || (blocks > 1 && self.kind(end - 1) != AT_TAIL)
            || (end..new_end).any(|b| self.kind(b) != AT_FREE)
        {
            return false;
        }
        if new_end == end + 1 {
            self.set_kind(end, AT_TAIL);
        } else {
            self.set_kinds(end, new_end, AT_TAIL);
        }
        self.clear(end * BLOCK, new_end * BLOCK);
        true
    }

    /// `gc_realloc`: null `p` allocates, 0 bytes frees (returning `None`); a shrink frees the
    /// tail blocks; a grow extends in place when the following blocks are free, otherwise moves
    /// (alloc, copy, free; the alloc may collect) if `allow_move`, else fails with `None`.
    pub fn realloc(&mut self, p: Word, n_bytes: usize, allow_move: bool) -> Option<Word> {
        if p == 0 {
            return self.alloc(n_bytes);
        }
        if n_bytes == 0 {
            self.free(p);
            return None;
        }
        if self.trace.is_none() {
            return self.realloc_inner(p, n_bytes, allow_move);
        }
        let old = self.block_of(p).unwrap_or(usize::MAX);
        self.record(TraceEvent::Realloc(old, n_bytes, allow_move));
        let r = self.realloc_inner(p, n_bytes, allow_move);
        let b = r.and_then(|p| self.block_of(p));
        self.record(TraceEvent::ReallocDone(b));
        r
    }

    fn realloc_inner(&mut self, p: Word, n_bytes: usize, allow_move: bool) -> Option<Word> {
        if self.is_locked() {
            return None;
        }
        let block = self.block_of(p)?;
        if self.kind(block) != AT_HEAD {
            return None;
        }
        let new_blocks = n_bytes.div_ceil(BLOCK);
        // Count the run and the free blocks after it, stopping once there are enough (a
        // tail never follows a free block, so the run is counted whole first).
        let (n_blocks, n_free) = self.run_and_free_after(block, new_blocks);
        if new_blocks == n_blocks {
            return Some(p);
        }
        if new_blocks < n_blocks {
            self.set_kinds(block + new_blocks, block + n_blocks, AT_FREE);
            if (block + new_blocks) / BLOCKS_PER_ATB < self.last_free_atb {
                self.last_free_atb = (block + new_blocks) / BLOCKS_PER_ATB;
            }
            return Some(p);
        }
        if new_blocks <= n_blocks + n_free {
            self.set_kinds(block + n_blocks, block + new_blocks, AT_TAIL);
            self.clear((block + n_blocks) * BLOCK, (block + new_blocks) * BLOCK);
            return Some(p);
        }
        if !allow_move {
            return None;
        }
        // The old object must survive a collection the alloc may run.
        let depth = self.push_root(p);
        let out = self.alloc(n_bytes);
        self.truncate_roots(depth);
        let out = out?;
        let (src, dst) = ((block * BLOCK), self.offset(out)?);
        self.pool.copy_within(src..src + n_blocks * BLOCK, dst);
        self.dirty = self.dirty.max(dst + n_blocks * BLOCK);
        self.free(p);
        Some(out)
    }

    /// The blocks of the run headed at `block`, and the free blocks after it counted up to
    /// `new_blocks` minus the run (as [`Heap::run_of`] counts them). Both come from one 64-bit
    /// table word when the run and the count end inside it.
    fn run_and_free_after(&self, block: usize, new_blocks: usize) -> (usize, usize) {
        let i = block / BLOCKS_PER_ATB;
        let shift = 2 * (block % BLOCKS_PER_ATB);
        if let Some(c) = self.atb.get(i..i + 8) {
            let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            // blocks block.. in the word; above them zeros are shifted in, which read as free
            let fields = (64 - shift) / 2;
            let y = (x >> (shift + 2)) ^ (u64::from(AT_TAIL) * LOW_BITS);
            let tails = (((y | (y >> 1)) & LOW_BITS).trailing_zeros() / 2) as usize;
            let n = tails + 1;
            if n < fields {
                let max = new_blocks.saturating_sub(n);
                let z = x >> (shift + 2 * n);
                let free = (((z | (z >> 1)) & LOW_BITS).trailing_zeros() / 2) as usize;
                if free < fields - n || max <= fields - n {
                    return (n, free.min(max));
                }
            }
        }
        let n = self.run_len(block);
        (
            n,
            self.run_of(block + n, AT_FREE, new_blocks.saturating_sub(n)),
        )
    }

    /// `gc.collect()`: marks from the registered roots and `extra_roots`, then from every word
    /// of every marked block that is the exact address of an allocated head, sweeps, resets the
    /// last-free index and returns the number of freed heads.
    pub fn collect(&mut self, extra_roots: &[Word]) -> usize {
        self.record(TraceEvent::Collect);
        self.lock_depth += 1;
        self.alloc_amount = 0;
        let mut overflow = false;
        let (mut stack, mut roots) = core::mem::take(&mut self.scratch);
        stack.reserve(MARK_STACK);
        // gc_collect_start scans the root part of mp_state_ctx, where the static objects are
        let statics = self
            .statics
            .chunks_exact(WORD_BYTES)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        roots.clear();
        roots.extend(
            statics
                .chain(self.slots.iter().copied())
                .chain(self.stack.iter().copied())
                .chain(extra_roots.iter().copied()),
        );
        for &w in &roots {
            if let Some(b) = self.block_of(w)
                && self.kind(b) == AT_HEAD
            {
                self.set_kind(b, AT_MARK);
                self.mark_subtree(b, &mut stack, &mut overflow);
            }
        }
        while overflow {
            overflow = false;
            for b in 0..self.total_blocks() {
                if self.kind(b) == AT_MARK {
                    self.mark_subtree(b, &mut stack, &mut overflow);
                }
            }
        }
        if self.trace.is_some() && TRACE_SWEEPS.load(core::sync::atomic::Ordering::Relaxed) {
            for b in 0..self.total_blocks() {
                if self.kind(b) == AT_HEAD {
                    self.record(TraceEvent::Swept(b));
                }
            }
        }
        self.scratch = (stack, roots);
        let freed = self.sweep();
        self.last_free_atb = 0;
        self.lock_depth -= 1;
        self.collections += 1;
        freed
    }

    /// gc.c's `gc_mark_subtree`: scans `block`'s run, marks unmarked heads it points to and
    /// pushes them on a bounded stack; a full stack sets `overflow` for a later rescan.
    fn mark_subtree(&mut self, mut block: usize, stack: &mut Vec<usize>, overflow: &mut bool) {
        stack.clear();
        let total = self.total_blocks();
        loop {
            let n = self.run_len(block);
            let (pool, atb) = (&self.pool, &mut self.atb);
            let mut visit = |w: Word| {
                // VERIFY_PTR: a block-aligned address inside the pool, in one comparison: the
                // offset's four low bits rotated to the top make a misaligned offset (and one
                // below the base, which wraps) at least 2^28, more than any pool's blocks
                let child = w.wrapping_sub(HEAP_BASE).rotate_right(4) as usize;
                if child >= total {
                    return;
                }
                let (byte, shift) = (child / BLOCKS_PER_ATB, 2 * (child % BLOCKS_PER_ATB));
                if (atb[byte] >> shift) & 3 == AT_HEAD {
                    // head (1) to mark (3)
                    atb[byte] |= AT_MARK << shift;
                    if stack.len() < MARK_STACK {
                        stack.push(child);
                    } else {
                        *overflow = true;
                    }
                }
            };
            // a block (four words) per step, in address order
            for b in pool[block * BLOCK..(block + n) * BLOCK].chunks_exact(BLOCK) {
                visit(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                visit(u32::from_le_bytes([b[4], b[5], b[6], b[7]]));
                visit(u32::from_le_bytes([b[8], b[9], b[10], b[11]]));
                visit(u32::from_le_bytes([b[12], b[13], b[14], b[15]]));
            }
            match stack.pop() {
                Some(b) => block = b,
                None => break,
            }
        }
    }

    /// gc.c's `gc_sweep`, four blocks (one allocation-table byte) at a time through
    /// [`SWEEP`].
    fn sweep(&mut self) -> usize {
        let mut freed = 0;
        let mut free_tail = false;
        let mut chunks = self.atb.chunks_exact_mut(8);
        for c in &mut chunks {
            let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            if x & LOW_BITS == 0 {
                // only free and tail blocks (free ones, or long objects' tails): the tails
                // go if the index says so, and the index stays as it is
                if free_tail {
                    c.fill(0);
                }
                continue;
            }
            for a in c.iter_mut() {
                Self::sweep_byte(a, &mut free_tail, &mut freed);
            }
        }
        for a in chunks.into_remainder() {
            Self::sweep_byte(a, &mut free_tail, &mut freed);
        }
        freed
    }

    #[inline]
    fn sweep_byte(a: &mut u8, free_tail: &mut bool, freed: &mut usize) {
        let (new, n, tail) = SWEEP[usize::from(*free_tail)][usize::from(*a)];
        *a = new;
        *freed += usize::from(n);
        *free_tail = tail;
    }

    /// Counters like `gc_info`.
    pub fn info(&self) -> HeapInfo {
        let total = self.total_blocks();
        let mut info = HeapInfo {
            total_blocks: total,
            ..HeapInfo::default()
        };
        let mut run_free = 0;
        let mut b = 0;
        while b < total {
            match self.kind(b) {
                AT_FREE => {
                    info.free_blocks += 1;
                    run_free += 1;
                    info.max_free = info.max_free.max(run_free);
                    b += 1;
                }
                _ => {
                    run_free = 0;
                    let n = self.run_len(b);
                    info.used_blocks += n;
                    match n {
                        1 => info.num_1block += 1,
                        2 => info.num_2block += 1,
                        _ => {}
                    }
                    info.max_block = info.max_block.max(n);
                    b += n;
                }
            }
        }
        info
    }

    /// Free blocks in the pool (what [`Heap::info`] counts, without the walk over runs).
    fn free_blocks(&self) -> usize {
        // 32 blocks (eight table bytes) per step: one bit per free block, counted
        let mut chunks = self.atb.chunks_exact(8);
        let mut n = 0;
        for c in &mut chunks {
            let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            n += (!(x | (x >> 1)) & LOW_BITS).count_ones() as usize;
        }
        n + chunks
            .remainder()
            .iter()
            .map(|a| usize::from(FREE_IN_ATB[usize::from(*a)]))
            .sum::<usize>()
    }

    /// `gc.mem_free()`: free blocks × 16.
    pub fn mem_free(&self) -> usize {
        self.free_blocks() * BLOCK
    }

    /// `gc.mem_alloc()`: head and tail blocks × 16 (every block is free, a head or a tail;
    /// marks exist only during a collection).
    pub fn mem_alloc(&self) -> usize {
        (self.total_blocks() - self.free_blocks()) * BLOCK
    }

    /// The block map `gc_dump_alloc_table` prints (`micropython.mem_info(1)`): a header, then
    /// 64 blocks per line after a `%05x: ` offset, runs of two or more all-free lines
    /// abbreviated, `.` free, `=` tail, `m` marked, and for heads the character `head_char`
    /// gives (gc.c uses `T L D S A F B M` by type, else `h`).
    pub fn dump_alloc_table(&self, head_char: &dyn Fn(Word) -> char) -> alloc::string::String {
        use core::fmt::Write as _;
        const PER_LINE: usize = 64;
        let total = self.total_blocks();
        let mut s = alloc::string::String::new();
        // mp_printf prints %p as bare hex.
        let _ = write!(s, "GC memory layout; from {HEAP_BASE:x}:");
        let mut bl = 0;
        while bl < total {
            if bl % PER_LINE == 0 {
                let mut bl2 = bl;
                while bl2 < total && self.kind(bl2) == AT_FREE {
                    bl2 += 1;
                }
                if bl2 - bl >= 2 * PER_LINE {
                    let _ = write!(s, "\n       ({} lines all free)", (bl2 - bl) / PER_LINE);
                    bl = bl2 & !(PER_LINE - 1);
                    if bl >= total {
                        break;
                    }
                }
                let _ = write!(s, "\n{:05x}: ", (bl * BLOCK) & 0xfffff);
            }
            s.push(match self.kind(bl) {
                AT_FREE => '.',
                AT_HEAD => head_char(Self::addr_of(bl)),
                AT_TAIL => '=',
                _ => 'm',
            });
            bl += 1;
        }
        s.push('\n');
        s
    }

    fn offset(&self, addr: Word) -> Option<usize> {
        let off = addr.checked_sub(HEAP_BASE)? as usize;
        (off < self.pool.len()).then_some(off)
    }

    fn range(&self, addr: Word, len: usize) -> Option<core::ops::Range<usize>> {
        let off = addr.checked_sub(HEAP_BASE)? as usize;
        let end = off.checked_add(len)?;
        (end <= self.pool.len()).then_some(off..end)
    }

    /// Reads a little-endian word; 0 for an address outside the pool.
    pub fn read_word(&self, addr: Word) -> Word {
        self.bytes(addr, WORD_BYTES)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Writes a little-endian word.
    pub fn write_word(&mut self, addr: Word, w: Word) -> Result<(), BadAddress> {
        let b = self.bytes_mut(addr, WORD_BYTES).ok_or(BadAddress(addr))?;
        b.copy_from_slice(&w.to_le_bytes());
        Ok(())
    }

    /// Reads word `index` of the object at `obj` (0 when outside the pool).
    pub fn field(&self, obj: Word, index: usize) -> Word {
        match u32::try_from(index * WORD_BYTES) {
            Ok(d) => obj.checked_add(d).map_or(0, |a| self.read_word(a)),
            Err(_) => 0,
        }
    }

    /// Writes word `index` of the object at `obj`.
    pub fn set_field(&mut self, obj: Word, index: usize, w: Word) -> Result<(), BadAddress> {
        let addr = u32::try_from(index * WORD_BYTES)
            .ok()
            .and_then(|d| obj.checked_add(d))
            .ok_or(BadAddress(obj))?;
        self.write_word(addr, w)
    }

    /// Reads a byte; 0 outside the pool.
    pub fn read_u8(&self, addr: Word) -> u8 {
        self.bytes(addr, 1).map_or(0, |b| b[0])
    }

    /// Writes a byte.
    pub fn write_u8(&mut self, addr: Word, v: u8) -> Result<(), BadAddress> {
        let b = self.bytes_mut(addr, 1).ok_or(BadAddress(addr))?;
        b[0] = v;
        Ok(())
    }

    /// Reads a little-endian 16-bit value; 0 outside the pool.
    pub fn read_u16(&self, addr: Word) -> u16 {
        self.bytes(addr, 2)
            .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
    }

    /// Writes a little-endian 16-bit value.
    pub fn write_u16(&mut self, addr: Word, v: u16) -> Result<(), BadAddress> {
        let b = self.bytes_mut(addr, 2).ok_or(BadAddress(addr))?;
        b.copy_from_slice(&v.to_le_bytes());
        Ok(())
    }

    /// `len` bytes at `addr`, if they are all inside the pool or all inside the static objects.
    #[inline]
    pub fn bytes(&self, addr: Word, len: usize) -> Option<&[u8]> {
        match self.range(addr, len) {
            Some(r) => self.pool.get(r),
            None => self.static_bytes(addr, len),
        }
    }

    /// Mutable `len` bytes at `addr`, if they are all inside the pool or all inside the static
    /// objects.
    #[inline]
    pub fn bytes_mut(&mut self, addr: Word, len: usize) -> Option<&mut [u8]> {
        match self.range(addr, len) {
            Some(r) => {
                self.dirty = self.dirty.max(r.end);
                self.pool.get_mut(r)
            }
            None => self.static_bytes_mut(addr, len),
        }
    }

    /// The static-object range of `len` bytes at `addr`, kept out of line: pool accesses are
    /// the hot path and pay only for the failed pool test.
    #[cold]
    fn static_range(addr: Word, len: usize) -> Option<core::ops::Range<usize>> {
        let off = addr.checked_sub(STATIC_BASE)? as usize;
        let end = off.checked_add(len)?;
        (end <= STATIC_BYTES).then_some(off..end)
    }

    #[cold]
    fn static_bytes(&self, addr: Word, len: usize) -> Option<&[u8]> {
        self.statics.get(Self::static_range(addr, len)?)
    }

    #[cold]
    fn static_bytes_mut(&mut self, addr: Word, len: usize) -> Option<&mut [u8]> {
        self.statics.get_mut(Self::static_range(addr, len)?)
    }

    /// Copies `data` to `addr`.
    pub fn write_bytes(&mut self, addr: Word, data: &[u8]) -> Result<(), BadAddress> {
        let b = self.bytes_mut(addr, data.len()).ok_or(BadAddress(addr))?;
        b.copy_from_slice(data);
        Ok(())
    }
}

/// Pools of dropped heaps, zeroed again, kept for the next heaps of the same size: zeroing the
/// few bytes a run wrote is cheaper than zeroing a whole fresh allocation. A new heap's pool
/// is all zeros either way.
#[cfg(feature = "std")]
static SPARE_POOLS: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());

/// Most pools kept in [`SPARE_POOLS`] (one per heap alive at once is enough), and the largest.
#[cfg(feature = "std")]
const SPARE_POOLS_MAX: (usize, usize) = (16, 1 << 20);

/// An all-zero pool of `len` bytes.
fn fresh_pool(len: usize) -> Vec<u8> {
    #[cfg(feature = "std")]
    if let Ok(mut spare) = SPARE_POOLS.lock()
        && let Some(i) = spare.iter().position(|p| p.len() == len)
    {
        return spare.swap_remove(i);
    }
    vec![0; len]
}

impl Drop for Heap {
    fn drop(&mut self) {
        #[cfg(feature = "std")]
        if self.pool.len() <= SPARE_POOLS_MAX.1
            && let Ok(mut spare) = SPARE_POOLS.lock()
            && spare.len() < SPARE_POOLS_MAX.0
        {
            let mut pool = core::mem::take(&mut self.pool);
            let dirty = self.dirty.min(pool.len());
            pool[..dirty].fill(0);
            spare.push(pool);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_sizes_match_gc_init() {
        assert_eq!(Heap::pool_blocks_for(36 * 1024), 2248);
        assert_eq!(Heap::new(36 * 1024).pool_bytes(), 35968);
        assert_eq!(Heap::new(16 * 1024).pool_bytes(), 16000);
        assert_eq!(Heap::new(64 * 1024).pool_bytes(), 64000);
        assert_eq!(Heap::new(100_000).pool_bytes(), 97664);
        assert_eq!(Heap::new(1024 * 1024).pool_bytes(), 1_024_512);
        let h = Heap::new(36 * 1024);
        assert_eq!(h.mem_free() + h.mem_alloc(), 35968);
        assert_eq!(h.mem_free(), 35968);
    }

    /// The first fit of gc.c, one block at a time: what `find`'s whole-byte steps must equal.
    fn first_fit_block_by_block(h: &Heap, n: usize) -> Option<usize> {
        let mut run = 0;
        for b in h.last_free_atb * BLOCKS_PER_ATB..h.total_blocks() {
            if h.kind(b) == AT_FREE {
                run += 1;
                if run == n {
                    return Some(b + 1 - n);
                }
            } else {
                run = 0;
            }
        }
        None
    }

    #[test]
    fn fast_search_and_counts_agree_with_the_block_walk() {
        // Small and large requests on a small and an ESP8266-sized heap, so whole bytes and
        // eight-byte stretches of the table are both skipped, used and free.
        for (heap, big, steps) in [(8 * 1024, 40, 4000), (36 * 1024, 400, 6000)] {
            let mut h = Heap::new(heap);
            let mut live: Vec<Word> = Vec::new();
            // A fixed pseudo-random mix of sizes and frees that fragments the heap.
            let mut x: u32 = 12345;
            for step in 0..steps {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let r = (x >> 16) as usize;
                if r.is_multiple_of(3) && !live.is_empty() {
                    let p = live.swap_remove(r % live.len());
                    h.free(p);
                } else {
                    let n_bytes = 1 + (r % 7) * (1 + r % big);
                    let expect = first_fit_block_by_block(&h, n_bytes.div_ceil(BLOCK));
                    match h.alloc_no_collect(n_bytes) {
                        Some(p) => {
                            assert_eq!(Some(h.block_of(p).unwrap()), expect, "{heap}: step {step}");
                            live.push(p);
                        }
                        None => assert_eq!(expect, None, "{heap}: step {step}"),
                    }
                }
                let info = h.info();
                assert_eq!(h.mem_free(), info.free_blocks * BLOCK);
                assert_eq!(h.mem_alloc(), info.used_blocks * BLOCK);
            }
        }
    }

    /// Runs counted one block at a time: what `run_of`'s table-word steps must equal.
    fn run_block_by_block(h: &Heap, b: usize, kind: u8, max: usize) -> usize {
        let mut n = 0;
        while n < max && b + n < h.total_blocks() && h.kind(b + n) == kind {
            n += 1;
        }
        n
    }

    /// gc.c's sweep one block at a time: what `sweep`'s table bytes and words must equal.
    fn sweep_block_by_block(h: &mut Heap) -> usize {
        let mut freed = 0;
        let mut free_tail = false;
        for b in 0..h.total_blocks() {
            match h.kind(b) {
                AT_HEAD => {
                    h.set_kind(b, AT_FREE);
                    freed += 1;
                    free_tail = true;
                }
                AT_TAIL if free_tail => h.set_kind(b, AT_FREE),
                AT_MARK => {
                    h.set_kind(b, AT_HEAD);
                    free_tail = false;
                }
                _ => {}
            }
        }
        freed
    }

    #[test]
    fn sweep_by_table_words_agrees_with_the_block_walk() {
        let mut x: u32 = 55_555;
        let mut next = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 8) as usize
        };
        for heap in [1024, 1040, 1100, 36 * 1024] {
            for round in 0..100 {
                let mut h = Heap::new(heap);
                let total = h.total_blocks();
                let mut b = 0;
                while b < total {
                    // long runs of one state as well as noise
                    let kind = (next() % 4) as u8;
                    let len = 1 + next() % (1 + (round % 5) * 30);
                    for k in b..(b + len).min(total) {
                        h.set_kind(k, kind);
                    }
                    b += len;
                }
                let mut expect = h.clone();
                let freed = sweep_block_by_block(&mut expect);
                assert_eq!(h.sweep(), freed, "{heap}: round {round}");
                assert_eq!(h.atb, expect.atb, "{heap}: round {round}");
            }
        }
    }

    #[test]
    fn run_lengths_by_table_words_agree_with_the_block_walk() {
        // Random tables of every kind mix, from runs of one state to noise, and table sizes
        // that do and do not fill whole eight-byte words.
        let mut x: u32 = 987_654_321;
        let mut next = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 8) as usize
        };
        for heap in [1024, 1040, 1100, 36 * 1024] {
            let mut h = Heap::new(heap);
            let total = h.total_blocks();
            for round in 0..60 {
                // runs of random states with random lengths, biased to long runs
                let mut b = 0;
                while b < total {
                    let kind = (next() % 4) as u8;
                    let len = 1 + next() % (1 + (round % 6) * 20);
                    for k in b..(b + len).min(total) {
                        h.set_kind(k, kind);
                    }
                    b += len;
                }
                for _ in 0..200 {
                    let start = next() % (total + 40);
                    let kind = (next() % 4) as u8;
                    let max = match next() % 3 {
                        0 => usize::MAX,
                        1 => next() % 8,
                        _ => next() % 200,
                    };
                    assert_eq!(
                        h.run_of(start, kind, max),
                        run_block_by_block(&h, start, kind, max),
                        "{heap}: round {round}, start {start}, kind {kind}, max {max}"
                    );
                    if start < total && matches!(h.kind(start), AT_HEAD | AT_MARK) {
                        assert_eq!(
                            h.run_len(start),
                            1 + run_block_by_block(&h, start + 1, AT_TAIL, usize::MAX)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn growing_a_run_in_place_is_what_realloc_does() {
        let mut x: u32 = 4242;
        let mut next = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 8) as usize
        };
        let mut h = Heap::new(8 * 1024);
        let mut live: Vec<Word> = Vec::new();
        let (mut grown, mut declined) = (0, 0);
        for _ in 0..6000 {
            match next() % 5 {
                0 | 1 => {
                    if let Some(p) = h.alloc(1 + next() % 60) {
                        let _ = h.write_word(p, 0xdead_beef);
                        live.push(p);
                    }
                }
                2 | 3 if !live.is_empty() => {
                    let p = live.swap_remove(next() % live.len());
                    h.free(p);
                }
                _ if !live.is_empty() => {
                    let p = live[next() % live.len()];
                    let blocks = h.blocks(p);
                    let new_blocks = blocks + 1 + next() % 2;
                    let mut by_realloc = h.clone();
                    if h.grow_run_in_place(p, blocks, new_blocks) {
                        grown += 1;
                        let r = by_realloc.realloc(p, new_blocks * BLOCK, false);
                        assert_eq!(r, Some(p));
                    } else {
                        declined += 1;
                    }
                    assert_eq!(h.atb, by_realloc.atb);
                    assert_eq!(h.pool, by_realloc.pool);
                    assert_eq!(h.last_free_atb, by_realloc.last_free_atb);
                }
                _ => {}
            }
        }
        assert!(grown > 100 && declined > 100, "{grown} {declined}");
    }

    #[test]
    fn collection_frees_exactly_what_roots_cannot_reach() {
        let mut x: u32 = 99;
        let mut next = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as usize
        };
        for round in 0..20 {
            let mut h = Heap::new(16 * 1024);
            let mut objs: Vec<Word> = Vec::new();
            while let Some(p) = h.alloc_no_collect(4 + next() % 70) {
                objs.push(p);
                if objs.len() > 200 + round * 10 {
                    break;
                }
            }
            // Each object points at a few others (some at their interior, which keeps
            // nothing alive); one object points at 100 others, past the 64-entry mark stack.
            let mut edges: Vec<Vec<usize>> = vec![Vec::new(); objs.len()];
            for (i, &p) in objs.iter().enumerate() {
                let words = h.blocks(p) * BLOCK / WORD_BYTES;
                for k in 0..words.min(1 + next() % 3) {
                    let j = next() % objs.len();
                    let interior = next() % 5 == 0;
                    let w = objs[j] + if interior { 4 } else { 0 };
                    h.write_word(p + (k * WORD_BYTES) as Word, w).unwrap();
                    if !interior {
                        edges[i].push(j);
                    }
                }
            }
            let big = h.alloc_no_collect(100 * WORD_BYTES);
            if let Some(big) = big {
                let mut hub_edges = Vec::new();
                for k in 0..100 {
                    let j = next() % objs.len();
                    h.write_word(big + (k * WORD_BYTES) as Word, objs[j])
                        .unwrap();
                    hub_edges.push(j);
                }
                objs.push(big);
                edges.push(hub_edges);
            }
            let roots: Vec<Word> = (0..3).map(|_| objs[next() % objs.len()]).collect();
            // reachability by a plain graph walk
            let mut seen = vec![false; objs.len()];
            let mut todo: Vec<usize> = roots
                .iter()
                .map(|r| objs.iter().position(|o| o == r).unwrap())
                .collect();
            while let Some(i) = todo.pop() {
                if !seen[i] {
                    seen[i] = true;
                    todo.extend(edges[i].iter().copied());
                }
            }
            let blocks_before: Vec<usize> = objs.iter().map(|p| h.blocks(*p)).collect();
            let freed = h.collect(&roots);
            assert_eq!(freed, seen.iter().filter(|s| !**s).count(), "round {round}");
            let mut live_blocks = 0;
            for (i, p) in objs.iter().enumerate() {
                assert_eq!(h.is_head(*p), seen[i], "round {round} object {i}");
                if seen[i] {
                    assert_eq!(h.blocks(*p), blocks_before[i]);
                    live_blocks += blocks_before[i];
                }
            }
            assert_eq!(h.mem_alloc(), live_blocks * BLOCK, "round {round}");
        }
    }

    #[test]
    fn tiny_and_zero_heaps_do_not_panic() {
        let mut h = Heap::new(0);
        assert_eq!(h.pool_bytes(), 0);
        assert_eq!(h.alloc(1), None);
        assert_eq!(h.read_word(HEAP_BASE), 0);
        assert!(h.write_word(HEAP_BASE, 1).is_err());
        assert_eq!(h.collect(&[HEAP_BASE]), 0);
    }

    #[test]
    fn first_fit_and_block_rounding() {
        let mut h = Heap::new(16 * 1024);
        assert_eq!(h.alloc(0), None);
        let a = h.alloc(1).unwrap();
        assert_eq!(a, HEAP_BASE);
        let b = h.alloc(16).unwrap();
        assert_eq!(b, HEAP_BASE + 16);
        let c = h.alloc(17).unwrap();
        assert_eq!(c, HEAP_BASE + 32);
        assert_eq!(h.blocks(c), 2);
        assert_eq!(h.mem_alloc(), 64);
        assert_eq!(h.mem_free(), 16000 - 64);
        // A freed hole is reused by the next allocation that fits.
        h.free(b);
        let d = h.alloc(5).unwrap();
        assert_eq!(d, b);
        // A 2-block request skips the 1-block hole left by freeing `a`.
        h.free(a);
        let e = h.alloc(32).unwrap();
        assert_eq!(e, HEAP_BASE + 64);
        let f = h.alloc(3).unwrap();
        assert_eq!(f, a);
    }

    #[test]
    fn last_free_index_rules() {
        let mut h = Heap::new(16 * 1024);
        // Multi-block allocations do not move the index.
        let big = h.alloc(16 * 5).unwrap();
        assert_eq!(h.last_free_index(), 0);
        // A single block at block 5 sets it to (5 + 1) / 4 = 1.
        let one = h.alloc(4).unwrap();
        assert_eq!(one, HEAP_BASE + 5 * 16);
        assert_eq!(h.last_free_index(), 1);
        let _more: Vec<Word> = (0..6).map(|_| h.alloc(1).unwrap()).collect();
        assert_eq!(h.last_free_index(), 3);
        // Freeing the first object lowers it to 0 and the hole gets reused.
        h.free(big);
        assert_eq!(h.last_free_index(), 0);
        let mut h2 = Heap::new(16 * 1024);
        let x: Vec<Word> = (0..8).map(|_| h2.alloc(1).unwrap()).collect();
        assert_eq!(h2.last_free_index(), 2);
        // A freed block in group 1 lowers the index to 1; block 4 is then found first.
        h2.free(x[5]);
        h2.free(x[4]);
        assert_eq!(h2.last_free_index(), 1);
        assert_eq!(h2.alloc(20).unwrap(), x[4]);
        // A collection resets the index to 0.
        let keep: Vec<Word> = x.clone();
        h2.collect(&keep);
        assert_eq!(h2.last_free_index(), 0);
    }

    #[test]
    fn runs_of_every_length_and_alignment_are_claimed_and_freed_exactly() {
        for pad in 0..6 {
            for n in 1..70 {
                let mut h = Heap::new(16 * 1024);
                // a padding run puts the new run at block `pad` (mod 4 and across table words)
                let p = (pad > 0).then(|| h.alloc(pad * BLOCK).unwrap());
                let a = h.alloc(n * BLOCK).unwrap();
                let s = pad;
                assert_eq!(a, Heap::addr_of(s));
                assert_eq!(h.kind(s), AT_HEAD, "pad {pad} n {n}");
                assert!(
                    (s + 1..s + n).all(|b| h.kind(b) == AT_TAIL),
                    "pad {pad} n {n}"
                );
                assert!((s + n..s + n + 40).all(|b| h.kind(b) == AT_FREE));
                assert_eq!(h.blocks(a), n);
                // a neighbour right after the run must survive its free
                let after = h.alloc(BLOCK).unwrap();
                assert_eq!(after, Heap::addr_of(s + n));
                h.free(a);
                assert!((s..s + n).all(|b| h.kind(b) == AT_FREE), "pad {pad} n {n}");
                assert_eq!(h.kind(s + n), AT_HEAD);
                if let Some(p) = p {
                    assert_eq!(h.blocks(p), pad);
                }
                assert_eq!(h.mem_alloc(), (pad + 1) * BLOCK);
            }
        }
    }

    #[test]
    fn a_new_heap_is_all_zeros_even_on_a_reused_pool() {
        // an odd size, so that no other test's heap shares this test's pools
        let size = 16 * 1024 + 272;
        for round in 0..3u8 {
            let mut h = Heap::new(size);
            let total = h.pool_bytes();
            let base = HEAP_BASE as usize;
            assert!(
                h.pool.iter().all(|&b| b == 0),
                "round {round}: the pool starts zeroed"
            );
            // dirty some bytes in several ways: writes, a moving realloc, a freed block
            let a = h.alloc(48).unwrap();
            h.write_bytes(a, &[0x5A; 48]).unwrap();
            let _hold = h.alloc(16).unwrap();
            let b = h.realloc(a, 200, true).unwrap();
            assert_ne!(a, b);
            h.write_word(b + 196, 0xFFFF_FFFF).unwrap();
            let last = (base + total - 4) as Word;
            h.write_word(last, 0x1234_5678).unwrap();
            h.free(b);
            let c = h.alloc(total / 2).unwrap();
            assert!(h.bytes(c, total / 2).unwrap().iter().all(|&x| x == 0));
        }
    }

    #[test]
    fn allocations_are_zeroed() {
        let mut h = Heap::new(16 * 1024);
        let a = h.alloc(32).unwrap();
        h.write_bytes(a, &[0xAA; 32]).unwrap();
        h.free(a);
        let b = h.alloc(20).unwrap();
        assert_eq!(a, b);
        assert_eq!(h.bytes(b, 32).unwrap(), &[0u8; 32][..]);
    }

    #[test]
    fn realloc_shrinks_grows_and_moves() {
        let mut h = Heap::new(16 * 1024);
        let a = h.alloc(64).unwrap();
        assert_eq!(h.realloc(a, 20, false), Some(a));
        assert_eq!(h.blocks(a), 2);
        assert_eq!(h.mem_alloc(), 32);
        // The freed tail lets a grow happen in place.
        assert_eq!(h.realloc(a, 48, false), Some(a));
        assert_eq!(h.blocks(a), 3);
        let b = h.alloc(16).unwrap();
        assert_eq!(b, a + 48);
        h.write_word(a, 0x1234_5678).unwrap();
        // Blocked by `b`: no move allowed -> None, nothing changes.
        assert_eq!(h.realloc(a, 64, false), None);
        assert_eq!(h.blocks(a), 3);
        // Move allowed: alloc + copy + free.
        let c = h.realloc(a, 64, true).unwrap();
        assert_eq!(c, b + 16);
        assert_eq!(h.read_word(c), 0x1234_5678);
        assert_eq!(h.blocks(a), 0);
        assert_eq!(h.blocks(c), 4);
        assert_eq!(h.realloc(c, 0, true), None);
        assert_eq!(h.blocks(c), 0);
        assert_eq!(h.mem_alloc(), 16);
    }

    #[test]
    fn collect_frees_exactly_the_unreachable() {
        let mut h = Heap::new(16 * 1024);
        let root = h.alloc(16).unwrap();
        let child = h.alloc(40).unwrap();
        let grandchild = h.alloc(4).unwrap();
        let garbage = h.alloc(100).unwrap();
        let garbage_child = h.alloc(4).unwrap();
        h.set_field(root, 1, child).unwrap();
        h.set_field(child, 9, grandchild).unwrap();
        h.set_field(garbage, 0, garbage_child).unwrap();
        let before = h.mem_alloc();
        assert_eq!(h.collect(&[root]), 2);
        assert_eq!(h.mem_alloc(), before - (7 + 1) * 16);
        for p in [root, child, grandchild] {
            assert!(h.is_head(p));
        }
        assert!(!h.is_head(garbage));
        assert!(!h.is_head(garbage_child));
        // With no roots, everything goes.
        assert_eq!(h.collect(&[]), 3);
        assert_eq!(h.mem_alloc(), 0);
    }

    #[test]
    fn conservative_words_keep_only_exact_heads() {
        let mut h = Heap::new(16 * 1024);
        let root = h.alloc(16).unwrap();
        let exact = h.alloc(16).unwrap();
        let interior = h.alloc(48).unwrap();
        h.set_field(root, 0, exact).unwrap();
        h.set_field(root, 1, interior + 16).unwrap();
        h.set_field(root, 2, interior + 4).unwrap();
        assert_eq!(h.collect(&[root]), 1);
        assert!(h.is_head(exact));
        assert!(!h.is_head(interior));
        // Interior root pointers keep nothing either.
        assert_eq!(h.collect(&[root + 4]), 2);
    }

    #[test]
    fn deep_chains_use_the_rescan_not_the_call_stack() {
        let mut h = Heap::new(64 * 1024);
        // A linked list of 3000 nodes and a wide node pointing at 200 children.
        let mut prev = 0;
        let mut first = 0;
        for i in 0..3000 {
            let n = h.alloc(8).unwrap();
            if i == 0 {
                first = n;
            } else {
                h.set_field(prev, 0, n).unwrap();
            }
            prev = n;
        }
        let wide = h.alloc(200 * 4).unwrap();
        for i in 0..200 {
            let c = h.alloc(4).unwrap();
            h.set_field(wide, i, c).unwrap();
        }
        let _garbage = h.alloc(4).unwrap();
        assert_eq!(h.collect(&[first, wide]), 1);
        assert_eq!(h.mem_alloc(), (3000 + 50 + 200) * 16);
    }

    #[test]
    fn root_slots_and_stack_are_roots() {
        let mut h = Heap::new(16 * 1024);
        let a = h.alloc(4).unwrap();
        let b = h.alloc(4).unwrap();
        let c = h.alloc(4).unwrap();
        let slot = h.add_root_slot(a);
        let d = h.push_root(b);
        assert_eq!(h.collect(&[]), 1);
        assert!(h.is_head(a) && h.is_head(b) && !h.is_head(c));
        h.truncate_roots(d);
        h.set_root_slot(slot, 0);
        assert_eq!(h.collect(&[]), 2);
    }

    #[test]
    fn out_of_memory_collects_once_then_fails() {
        let mut h = Heap::new(1024);
        let total = h.total_blocks();
        let keep = h.alloc(16).unwrap();
        h.add_root_slot(keep);
        for _ in 1..total {
            h.alloc(1).unwrap();
        }
        assert_eq!(h.mem_free(), 0);
        let n = h.collections();
        let p = h.alloc(16 * (total - 1)).unwrap();
        assert_eq!(h.collections(), n + 1);
        assert_eq!(p, keep + 16);
        let depth = h.push_root(p);
        let n = h.collections();
        assert_eq!(h.alloc(16), None);
        assert_eq!(h.collections(), n + 1);
        h.set_auto_collect(false);
        h.truncate_roots(depth);
        h.free(p);
        for _ in 1..total {
            h.alloc(1).unwrap();
        }
        let n = h.collections();
        assert_eq!(h.alloc(1), None);
        assert_eq!(h.collections(), n);
    }

    #[test]
    fn threshold_collects_before_allocating() {
        let mut h = Heap::new(16 * 1024);
        h.set_threshold(Some(64));
        assert_eq!(h.threshold(), Some(64));
        for _ in 0..4 {
            h.alloc(16).unwrap();
        }
        let n = h.collections();
        let p = h.alloc(16).unwrap();
        assert_eq!(h.collections(), n + 1);
        // Everything earlier was garbage, so the new object lands at the start.
        assert_eq!(p, HEAP_BASE);
    }

    #[test]
    fn alloc_table_dump_format() {
        let mut h = Heap::new(16 * 1024); // 1000 blocks
        h.alloc(16).unwrap();
        h.alloc(40).unwrap();
        let d = h.dump_alloc_table(&|_| 'h');
        let mut lines = d.lines();
        assert_eq!(lines.next(), Some("GC memory layout; from 3ffe0000:"));
        let first = lines.next().unwrap();
        assert_eq!(first.len(), 7 + 64);
        assert!(first.starts_with("00000: hh==...."));
        // Blocks 64..1000 are free: 14 whole lines abbreviated, then the last partial line.
        assert_eq!(lines.next(), Some("       (14 lines all free)"));
        assert_eq!(lines.next().map(|l| l.len()), Some(7 + 1000 - 960));
        assert_eq!(lines.next(), None);
    }

    /// Random alloc/realloc/free/collect with every live object rooted and stamped with its
    /// own address: nothing live is ever freed, overlapped or altered, and the counters add up.
    #[test]
    fn random_operations_keep_live_objects_intact() {
        let mut h = Heap::new(16 * 1024);
        let mut seed: u64 = 0x5eed;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut live: Vec<(Word, usize)> = Vec::new();
        for _ in 0..4000 {
            match next(10) {
                0..=4 => {
                    let n = 4 + next(120) as usize;
                    if let Some(p) = h.alloc(n) {
                        h.write_word(p, p).unwrap();
                        h.push_root(p);
                        live.push((p, n));
                    }
                }
                5 | 6 if !live.is_empty() => {
                    let i = next(live.len() as u64) as usize;
                    let (p, _) = live.swap_remove(i);
                    h.free(p);
                }
                7 if !live.is_empty() => {
                    let i = next(live.len() as u64) as usize;
                    let n = 4 + next(200) as usize;
                    if let Some(q) = h.realloc(live[i].0, n, next(2) == 0) {
                        assert_eq!(h.read_word(q), live[i].0);
                        h.write_word(q, q).unwrap();
                        live[i] = (q, n);
                    }
                }
                _ => {
                    h.truncate_roots(0);
                    for &(p, _) in &live {
                        h.push_root(p);
                    }
                    h.collect(&[]);
                }
            }
            // Roots may name freed or moved objects; rebuild them from `live`.
            h.truncate_roots(0);
            for &(p, _) in &live {
                h.push_root(p);
            }
            let info = h.info();
            assert_eq!(info.used_blocks + info.free_blocks, 1000);
            let want: usize = live.iter().map(|&(_, n)| n.div_ceil(BLOCK)).sum();
            assert_eq!(info.used_blocks, want);
            for &(p, n) in &live {
                assert_eq!(h.read_word(p), p);
                assert_eq!(h.blocks(p), n.div_ceil(BLOCK));
            }
        }
    }

    #[test]
    fn bad_addresses_never_panic() {
        let mut h = Heap::new(16 * 1024);
        let end = HEAP_BASE + h.pool_bytes() as Word;
        assert_eq!(h.read_word(end - 2), 0);
        assert_eq!(h.read_word(0), 0);
        assert_eq!(h.read_word(u32::MAX), 0);
        assert!(h.write_word(end, 1).is_err());
        assert!(h.bytes(end - 1, 2).is_none());
        assert_eq!(h.field(u32::MAX - 3, 5), 0);
        h.free(12345);
        h.free(HEAP_BASE + 3);
        assert_eq!(h.realloc(HEAP_BASE + 16, 10, true), None);
        assert_eq!(h.blocks(end), 0);
    }
}
