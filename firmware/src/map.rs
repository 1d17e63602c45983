//! `mp_map_t` as in MicroPython 1.9.4's `py/map.c`, on the heap.
//!
//! A map is three words (the header embedded in a dict after its type word, or kept by the
//! runtime for the dicts that live in MicroPython's static state such as `sys.modules`):
//!
//! * word 0: `all_keys_are_qstrs` (bit 0), `is_fixed` (bit 1), `is_ordered` (bit 2),
//!   `used` (bits 3..), the bit-field packing GCC gives 1.9.4's struct;
//! * word 1: `alloc`;
//! * word 2: the address of a table of `alloc` `(key, value)` word pairs (`ceil(alloc/2)` blocks).
//!
//! Hashed maps probe linearly from `hash % alloc`, deleted keys leave tombstones
//! ([`MP_OBJ_SENTINEL`]) or empty slots, and the table grows only when an insert finds it
//! completely full, re-inserting the live keys in slot order. Slot order is what `dir()`,
//! `list(sys.modules)` and `import *` observe, so it must come out exactly like the C code's.

use alloc::vec::Vec;
use core::fmt;

use crate::heap::{Heap, WORD_BYTES, Word};
use crate::qstr::Qstrs;

/// `MP_OBJ_NULL`: an empty slot or a missing value.
pub const MP_OBJ_NULL: Word = 0;

/// `MP_OBJ_SENTINEL`: a deleted key (tombstone).
pub const MP_OBJ_SENTINEL: Word = 4;

/// `hash_allocation_sizes` of map.c.
const SIZES: [usize; 34] = [
    0, 2, 4, 6, 8, 10, 12, 17, 23, 29, 37, 47, 59, 73, 97, 127, 167, 223, 293, 389, 521, 691, 919,
    1223, 1627, 2161, 3229, 4831, 7243, 10861, 16273, 24407, 36607, 54907,
];

/// Bytes of one `(key, value)` slot.
const SLOT_BYTES: usize = 2 * WORD_BYTES;

/// Whether a word is a qstr object (REPR_A: `(q << 2) | 2`).
pub fn is_qstr(w: Word) -> bool {
    w & 3 == 2
}

/// The qstr object for id `q`.
pub fn qstr_obj(q: u16) -> Word {
    (Word::from(q) << 2) | 2
}

/// The id of a qstr object.
pub fn qstr_value(w: Word) -> u16 {
    (w >> 2) as u16
}

/// `get_hash_alloc_greater_or_equal_to`.
pub fn next_size(x: usize) -> usize {
    SIZES
        .iter()
        .copied()
        .find(|&s| s >= x)
        .unwrap_or((x + x / 2) | 1)
}

/// The heap could not provide a new table of this many bytes; the map is unchanged
/// (MemoryError, whose message names the size as `m_malloc_fail` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfMemory(pub usize);

impl fmt::Display for OutOfMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "memory allocation failed, allocating {} bytes", self.0)
    }
}

impl core::error::Error for OutOfMemory {}

/// `mp_map_lookup_kind_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKind {
    /// Find only.
    Lookup,
    /// Find, or add the key with a null value.
    AddIfNotFound,
    /// Find and remove the key (the value stays in the slot for the caller).
    RemoveIfFound,
}

/// Hashing and equality of keys, provided by the runtime (`mp_unary_op(HASH)`,
/// `mp_obj_equal`). Called for every key, qstrs included, whose hash must be the qstr's.
pub trait KeyOps {
    /// The hash of `key` (for a qstr, its stored 16-bit hash).
    fn hash(&self, heap: &Heap, key: Word) -> u32;
    /// `mp_obj_equal(a, b)`.
    fn eq(&self, heap: &Heap, a: Word, b: Word) -> bool;
    /// Whether `key` is a heap (non-interned) `str`: such a key still finds qstr keys by
    /// equality, whereas other non-qstr keys cannot be in a map whose keys are all qstrs.
    fn is_str(&self, heap: &Heap, key: Word) -> bool;
}

/// [`KeyOps`] for maps whose keys are qstrs (and small ints, hashed as themselves): identity
/// comparison, qstr hashes from the table.
#[derive(Debug, Clone, Copy)]
pub struct QstrKeys<'a>(pub &'a Qstrs);

impl KeyOps for QstrKeys<'_> {
    fn hash(&self, _heap: &Heap, key: Word) -> u32 {
        if is_qstr(key) {
            u32::from(self.0.hash(qstr_value(key)))
        } else {
            (key as i32 >> 1) as u32
        }
    }

    fn eq(&self, _heap: &Heap, a: Word, b: Word) -> bool {
        a == b
    }

    fn is_str(&self, _heap: &Heap, _key: Word) -> bool {
        false
    }
}

/// The three header words of a map, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapHeader {
    /// Live keys.
    pub used: usize,
    /// Slots in the table.
    pub alloc: usize,
    /// Table address (0 when `alloc` is 0).
    pub table: Word,
    /// Every key ever added since the last rehash/clear is a qstr.
    pub all_keys_are_qstrs: bool,
    /// A ROM table that cannot change.
    pub is_fixed: bool,
    /// A linearly searched array (OrderedDict, ROM tables).
    pub is_ordered: bool,
}

impl Default for MapHeader {
    fn default() -> Self {
        MapHeader {
            used: 0,
            alloc: 0,
            table: 0,
            all_keys_are_qstrs: true,
            is_fixed: false,
            is_ordered: false,
        }
    }
}

impl MapHeader {
    /// `mp_map_init(n)`: a hashed map with exactly `n` zeroed slots (no table for 0).
    pub fn new(heap: &mut Heap, n: usize) -> Result<MapHeader, OutOfMemory> {
        let table = if n == 0 {
            0
        } else {
            heap.alloc(n * SLOT_BYTES)
                .ok_or(OutOfMemory(n * SLOT_BYTES))?
        };
        Ok(MapHeader {
            alloc: n,
            table,
            ..MapHeader::default()
        })
    }

    /// The header as the three words stored in the arena.
    pub fn to_words(&self) -> [Word; 3] {
        let w0 = ((self.used as Word) << 3)
            | (Word::from(self.is_ordered) << 2)
            | (Word::from(self.is_fixed) << 1)
            | Word::from(self.all_keys_are_qstrs);
        [w0, self.alloc as Word, self.table]
    }

    /// Decodes three header words.
    pub fn from_words(w: [Word; 3]) -> MapHeader {
        MapHeader {
            used: (w[0] >> 3) as usize,
            alloc: w[1] as usize,
            table: w[2],
            all_keys_are_qstrs: w[0] & 1 != 0,
            is_fixed: w[0] & 2 != 0,
            is_ordered: w[0] & 4 != 0,
        }
    }

    /// Reads the header at `addr`.
    #[inline]
    pub fn load(heap: &Heap, addr: Word) -> MapHeader {
        // one range check for the three words (each reads 0 outside the pool, as word reads do)
        let w = match heap.bytes(addr, 3 * WORD_BYTES) {
            Some(&[a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3]) => [
                u32::from_le_bytes([a0, a1, a2, a3]),
                u32::from_le_bytes([b0, b1, b2, b3]),
                u32::from_le_bytes([c0, c1, c2, c3]),
            ],
            _ => [
                heap.field(addr, 0),
                heap.field(addr, 1),
                heap.field(addr, 2),
            ],
        };
        MapHeader::from_words(w)
    }

    /// Writes the header at `addr` (ignored outside the heap).
    pub fn store(&self, heap: &mut Heap, addr: Word) {
        for (i, w) in self.to_words().into_iter().enumerate() {
            let _ = heap.set_field(addr, i, w);
        }
    }

    /// Address of slot `i`.
    pub fn slot(&self, i: usize) -> Word {
        self.table.wrapping_add((i * SLOT_BYTES) as Word)
    }

    fn key_at(&self, heap: &Heap, i: usize) -> Word {
        heap.read_word(self.slot(i))
    }

    fn set_key(&self, heap: &mut Heap, i: usize, key: Word) {
        let _ = heap.write_word(self.slot(i), key);
    }

    fn set_value(&self, heap: &mut Heap, i: usize, value: Word) {
        let _ = heap.write_word(self.slot(i) + WORD_BYTES as Word, value);
    }

    /// Whether slot `i` holds a live key (`MP_MAP_SLOT_IS_FILLED`).
    pub fn is_filled(&self, heap: &Heap, i: usize) -> bool {
        i < self.alloc && !matches!(self.key_at(heap, i), MP_OBJ_NULL | MP_OBJ_SENTINEL)
    }

    /// The live `(key, value)` pairs in slot order (what `dict_iter_next` visits).
    pub fn items(&self, heap: &Heap) -> Vec<(Word, Word)> {
        let n = if self.is_ordered {
            self.used
        } else {
            self.alloc
        };
        (0..n)
            .filter(|&i| self.is_filled(heap, i))
            .map(|i| {
                let s = self.slot(i);
                (heap.read_word(s), heap.read_word(s + WORD_BYTES as Word))
            })
            .collect()
    }

    /// `dict_iter_next`: the first live slot at or after `*cur`, advancing `*cur` past it.
    pub fn next_filled(&self, heap: &Heap, cur: &mut usize) -> Option<(Word, Word)> {
        let n = if self.is_ordered {
            self.used
        } else {
            self.alloc
        };
        for i in *cur..n {
            if self.is_filled(heap, i) {
                *cur = i + 1;
                let s = self.slot(i);
                return Some((heap.read_word(s), heap.read_word(s + WORD_BYTES as Word)));
            }
        }
        *cur = n;
        None
    }

    /// `mp_map_clear`: frees the table and leaves an empty hashed map of alloc 0.
    pub fn clear(&mut self, heap: &mut Heap) {
        if !self.is_fixed {
            heap.free(self.table);
        }
        *self = MapHeader::default();
    }

    /// `mp_map_deinit`: frees the table; `used = alloc = 0`, flags kept.
    pub fn deinit(&mut self, heap: &mut Heap) {
        if !self.is_fixed {
            heap.free(self.table);
        }
        self.used = 0;
        self.alloc = 0;
    }

    /// `mp_map_rehash`: a table of the next size, live keys re-added in old slot order, the old
    /// table freed at once. On failure nothing changes.
    fn rehash(&mut self, heap: &mut Heap, keys: &dyn KeyOps) -> Result<(), OutOfMemory> {
        let old = *self;
        let new_alloc = next_size(old.alloc + 1);
        // The old table must survive a collection that the allocation may run.
        let depth = heap.push_root(old.table);
        let table = heap.alloc(new_alloc * SLOT_BYTES);
        heap.truncate_roots(depth);
        let table = table.ok_or(OutOfMemory(new_alloc * SLOT_BYTES))?;
        self.alloc = new_alloc;
        self.used = 0;
        self.all_keys_are_qstrs = true;
        self.table = table;
        for i in 0..old.alloc {
            let k = old.key_at(heap, i);
            if k != MP_OBJ_NULL && k != MP_OBJ_SENTINEL {
                let v = heap.read_word(old.slot(i) + WORD_BYTES as Word);
                // The new table has room for every live key, so this cannot rehash again.
                let fast = if self.all_keys_are_qstrs
                    && !self.is_fixed
                    && !self.is_ordered
                    && is_qstr(k)
                {
                    self.add_qstr(heap, k, keys.hash(heap, k) as usize)
                } else {
                    None
                };
                let slot = match fast {
                    Some(s) => Ok(Some(s)),
                    None => self.lookup(heap, k, LookupKind::AddIfNotFound, keys),
                };
                if let Ok(Some(s)) = slot {
                    let _ = heap.write_word(s + WORD_BYTES as Word, v);
                }
            }
        }
        heap.free(old.table);
        Ok(())
    }

    /// `mp_map_lookup`: the address of the slot holding `key`, or `None`.
    ///
    /// * `Lookup`: the slot if found.
    /// * `AddIfNotFound`: the existing slot, or a new one with the key set and a null value.
    /// * `RemoveIfFound`: the slot whose key was just removed, its value still in place.
    ///
    /// `Err` only when a needed growth could not allocate; the map is then unchanged.
    pub fn lookup(
        &mut self,
        heap: &mut Heap,
        key: Word,
        kind: LookupKind,
        keys: &dyn KeyOps,
    ) -> Result<Option<Word>, OutOfMemory> {
        if self.is_fixed && kind != LookupKind::Lookup {
            return Ok(None);
        }
        let mut compare_only_ptrs = self.all_keys_are_qstrs;
        if compare_only_ptrs && !is_qstr(key) {
            if keys.is_str(heap, key) {
                compare_only_ptrs = false;
            } else if kind != LookupKind::AddIfNotFound {
                // Such a key can never be in a map of qstr keys.
                return Ok(None);
            }
        }
        let matches =
            |heap: &Heap, k: Word| k == key || (!compare_only_ptrs && keys.eq(heap, k, key));

        if self.is_ordered {
            return self.lookup_ordered(heap, key, kind, matches);
        }

        if self.alloc == 0 {
            if kind == LookupKind::AddIfNotFound {
                self.rehash(heap, keys)?;
            } else {
                return Ok(None);
            }
        }

        let hash = keys.hash(heap, key) as usize;
        let mut pos = hash % self.alloc;
        let mut start = pos;
        let mut avail: Option<usize> = None;
        loop {
            let k = self.key_at(heap, pos);
            if k == MP_OBJ_NULL {
                if kind != LookupKind::AddIfNotFound {
                    return Ok(None);
                }
                let at = avail.unwrap_or(pos);
                return Ok(Some(self.fill(heap, at, key)));
            } else if k == MP_OBJ_SENTINEL {
                avail.get_or_insert(pos);
            } else if matches(heap, k) {
                if kind == LookupKind::RemoveIfFound {
                    self.used = self.used.saturating_sub(1);
                    let next = self.key_at(heap, (pos + 1) % self.alloc);
                    let mark = if next == MP_OBJ_NULL {
                        MP_OBJ_NULL
                    } else {
                        MP_OBJ_SENTINEL
                    };
                    self.set_key(heap, pos, mark);
                }
                return Ok(Some(self.slot(pos)));
            }
            // (pos + 1) % alloc without a division
            pos = if pos + 1 == self.alloc { 0 } else { pos + 1 };
            if pos == start {
                if kind != LookupKind::AddIfNotFound {
                    return Ok(None);
                }
                if let Some(at) = avail {
                    return Ok(Some(self.fill(heap, at, key)));
                }
                // 100 % full: grow and probe again in the new table.
                self.rehash(heap, keys)?;
                pos = hash % self.alloc;
                start = pos;
            }
        }
    }

    /// The slot of qstr `key` (of hash `hash`) in a hashed map whose keys are all qstrs (a
    /// `Lookup`: a tombstone is passed over, an empty slot or a full turn ends the search),
    /// with one range check for the whole slot table. `None` when the table is not all in the
    /// pool: the general lookup then does the same probe.
    fn find_qstr(&self, heap: &Heap, key: Word, hash: usize) -> Option<Option<Word>> {
        let start = hash % self.alloc;
        let table = heap.bytes(self.table, self.alloc.checked_mul(SLOT_BYTES)?)?;
        let (slots, _) = table.as_chunks::<SLOT_BYTES>();
        let mut pos = start;
        while let Some(b) = slots.get(pos) {
            let k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            if k == key {
                return Some(Some(self.slot(pos)));
            }
            if k == MP_OBJ_NULL {
                return Some(None);
            }
            pos += 1;
            if pos == slots.len() {
                pos = 0;
            }
            if pos == start {
                return Some(None);
            }
        }
        Some(None)
    }

    /// What [`MapHeader::lookup`] does for an `AddIfNotFound` of qstr `key` (of hash `hash`)
    /// in a hashed, growable map whose keys are all qstrs (keys compared by identity only),
    /// with one range check for the whole slot table: the existing slot, or the new one filled
    /// at the first tombstone or else the empty slot that ends the probe. `None` (nothing
    /// changed) when the table is not all in the pool or the probe makes a full turn: the
    /// general lookup then does the same probe and what follows it.
    fn add_qstr(&mut self, heap: &mut Heap, key: Word, hash: usize) -> Option<Word> {
        let start = hash % self.alloc;
        let table = heap.bytes(self.table, self.alloc.checked_mul(SLOT_BYTES)?)?;
        let (slots, _) = table.as_chunks::<SLOT_BYTES>();
        let mut pos = start;
        let mut avail: Option<usize> = None;
        let at = loop {
            let b = slots.get(pos)?;
            let k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            if k == MP_OBJ_NULL {
                break avail.unwrap_or(pos);
            } else if k == MP_OBJ_SENTINEL {
                avail.get_or_insert(pos);
            } else if k == key {
                return Some(self.slot(pos));
            }
            pos += 1;
            if pos == slots.len() {
                pos = 0;
            }
            if pos == start {
                return None;
            }
        };
        Some(self.fill(heap, at, key))
    }

    /// Puts a new key into slot `i` with a null value.
    fn fill(&mut self, heap: &mut Heap, i: usize, key: Word) -> Word {
        self.used += 1;
        self.set_key(heap, i, key);
        self.set_value(heap, i, MP_OBJ_NULL);
        if !is_qstr(key) {
            self.all_keys_are_qstrs = false;
        }
        self.slot(i)
    }

    /// The linear-search variant for ordered maps (OrderedDict): removal shifts the rest
    /// down and parks the removed pair after the end; a full array grows by 4 slots.
    fn lookup_ordered(
        &mut self,
        heap: &mut Heap,
        key: Word,
        kind: LookupKind,
        matches: impl Fn(&Heap, Word) -> bool,
    ) -> Result<Option<Word>, OutOfMemory> {
        for i in 0..self.used {
            if matches(heap, self.key_at(heap, i)) {
                if kind == LookupKind::RemoveIfFound {
                    let value = heap.read_word(self.slot(i) + WORD_BYTES as Word);
                    self.used -= 1;
                    for j in i..self.used {
                        let (k, v) = (
                            heap.read_word(self.slot(j + 1)),
                            heap.read_word(self.slot(j + 1) + WORD_BYTES as Word),
                        );
                        self.set_key(heap, j, k);
                        self.set_value(heap, j, v);
                    }
                    let last = self.used;
                    self.set_key(heap, last, MP_OBJ_NULL);
                    self.set_value(heap, last, value);
                    return Ok(Some(self.slot(last)));
                }
                return Ok(Some(self.slot(i)));
            }
        }
        if kind != LookupKind::AddIfNotFound {
            return Ok(None);
        }
        if self.used == self.alloc {
            let new_alloc = self.alloc + 4;
            let table = heap
                .realloc(self.table, new_alloc * SLOT_BYTES, true)
                .ok_or(OutOfMemory(new_alloc * SLOT_BYTES))?;
            self.table = table;
            self.alloc = new_alloc;
            for i in self.used..self.alloc {
                self.set_key(heap, i, MP_OBJ_NULL);
                self.set_value(heap, i, MP_OBJ_NULL);
            }
        }
        let i = self.used;
        Ok(Some(self.fill(heap, i, key)))
    }
}

/// `mp_map_init` for a header stored at `map`.
pub fn map_init(heap: &mut Heap, map: Word, n: usize) -> Result<(), OutOfMemory> {
    let h = MapHeader::new(heap, n)?;
    h.store(heap, map);
    Ok(())
}

/// `mp_map_lookup` for a header stored at `map` (see [`MapHeader::lookup`]).
pub fn map_lookup(
    heap: &mut Heap,
    map: Word,
    key: Word,
    kind: LookupKind,
    keys: &dyn KeyOps,
) -> Result<Option<Word>, OutOfMemory> {
    let before = MapHeader::load(heap, map);
    if kind == LookupKind::Lookup
        && before.all_keys_are_qstrs
        && !before.is_ordered
        && before.alloc != 0
        && is_qstr(key)
    {
        // the commonest case (names, attributes): what `MapHeader::lookup` does for it, with
        // identity comparison only and no change to the header, in a lean loop
        if let Some(found) = before.find_qstr(heap, key, keys.hash(heap, key) as usize) {
            return Ok(found);
        }
    }
    let mut h = before;
    let r = h.lookup(heap, key, kind, keys);
    // the words decode and encode exactly, so an unchanged header need not be written back
    if h != before {
        h.store(heap, map);
    }
    r
}

/// The value stored under `key`, if any.
pub fn map_get(heap: &mut Heap, map: Word, key: Word, keys: &dyn KeyOps) -> Option<Word> {
    let slot = map_lookup(heap, map, key, LookupKind::Lookup, keys).ok()??;
    Some(heap.read_word(slot + WORD_BYTES as Word))
}

/// `map[key] = value` (adding the key if needed).
pub fn map_set(
    heap: &mut Heap,
    map: Word,
    key: Word,
    value: Word,
    keys: &dyn KeyOps,
) -> Result<(), OutOfMemory> {
    // The value must survive a collection run by a growth of the table.
    let depth = heap.push_root(value);
    let r = map_lookup(heap, map, key, LookupKind::AddIfNotFound, keys);
    heap.truncate_roots(depth);
    if let Some(slot) = r? {
        let _ = heap.write_word(slot + WORD_BYTES as Word, value);
    }
    Ok(())
}

/// `del map[key]` as the dict layer does it: removes the key and clears the value slot so the
/// GC can free the value. Returns the old value, `None` if the key was absent (KeyError).
pub fn map_delete(heap: &mut Heap, map: Word, key: Word, keys: &dyn KeyOps) -> Option<Word> {
    let slot = map_lookup(heap, map, key, LookupKind::RemoveIfFound, keys).ok()??;
    let v = heap.read_word(slot + WORD_BYTES as Word);
    let _ = heap.write_word(slot + WORD_BYTES as Word, MP_OBJ_NULL);
    Some(v)
}

/// `mp_map_clear` for a header stored at `map`.
pub fn map_clear(heap: &mut Heap, map: Word) {
    let mut h = MapHeader::load(heap, map);
    h.clear(heap);
    h.store(heap, map);
}

/// The live `(key, value)` pairs of the map at `map`, in slot order.
pub fn map_items(heap: &Heap, map: Word) -> Vec<(Word, Word)> {
    MapHeader::load(heap, map).items(heap)
}

/// `mp_set_t` lookups: the map kinds plus the toggle used by `symmetric_difference_update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetLookup {
    /// Find only.
    Lookup,
    /// Find, or add.
    AddIfNotFound,
    /// Find and remove.
    RemoveIfFound,
    /// Remove if present, else add.
    AddOrRemove,
}

impl SetLookup {
    fn adds(self) -> bool {
        matches!(self, SetLookup::AddIfNotFound | SetLookup::AddOrRemove)
    }

    fn removes(self) -> bool {
        matches!(self, SetLookup::RemoveIfFound | SetLookup::AddOrRemove)
    }
}

/// `mp_set_t` (`alloc, used, table` words; a table of `alloc` keys, `ceil(alloc/4)` blocks):
/// the same probing, tombstones and growth as hashed maps, keys only, always compared with
/// [`KeyOps::eq`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetHeader {
    /// Slots in the table.
    pub alloc: usize,
    /// Live keys.
    pub used: usize,
    /// Table address (0 when `alloc` is 0).
    pub table: Word,
}

impl SetHeader {
    /// `mp_set_init(n)`: exactly `n` zeroed slots.
    pub fn new(heap: &mut Heap, n: usize) -> Result<SetHeader, OutOfMemory> {
        let table = if n == 0 {
            0
        } else {
            heap.alloc(n * WORD_BYTES)
                .ok_or(OutOfMemory(n * WORD_BYTES))?
        };
        Ok(SetHeader {
            alloc: n,
            used: 0,
            table,
        })
    }

    /// Reads the three header words at `addr` (`alloc, used, table`).
    pub fn load(heap: &Heap, addr: Word) -> SetHeader {
        SetHeader {
            alloc: heap.field(addr, 0) as usize,
            used: heap.field(addr, 1) as usize,
            table: heap.field(addr, 2),
        }
    }

    /// Writes the header at `addr`.
    pub fn store(&self, heap: &mut Heap, addr: Word) {
        let _ = heap.set_field(addr, 0, self.alloc as Word);
        let _ = heap.set_field(addr, 1, self.used as Word);
        let _ = heap.set_field(addr, 2, self.table);
    }

    fn at(&self, heap: &Heap, i: usize) -> Word {
        heap.field(self.table, i)
    }

    fn put(&self, heap: &mut Heap, i: usize, w: Word) {
        let _ = heap.set_field(self.table, i, w);
    }

    /// The live keys in slot order.
    pub fn items(&self, heap: &Heap) -> Vec<Word> {
        (0..self.alloc)
            .map(|i| self.at(heap, i))
            .filter(|&k| k != MP_OBJ_NULL && k != MP_OBJ_SENTINEL)
            .collect()
    }

    /// Empties slot `pos` the way deletions do (empty if the next slot is empty, else a
    /// tombstone).
    fn vacate(&mut self, heap: &mut Heap, pos: usize) {
        self.used = self.used.saturating_sub(1);
        let next = self.at(heap, (pos + 1) % self.alloc);
        let mark = if next == MP_OBJ_NULL {
            MP_OBJ_NULL
        } else {
            MP_OBJ_SENTINEL
        };
        self.put(heap, pos, mark);
    }

    /// `mp_set_rehash`. A failed allocation zeroes `used`, as in 1.9.4, but keeps the old
    /// `alloc`, which 1.9.4 overwrites before allocating.
    fn rehash(&mut self, heap: &mut Heap, keys: &dyn KeyOps) -> Result<(), OutOfMemory> {
        let old = *self;
        let new_alloc = next_size(old.alloc + 1);
        let depth = heap.push_root(old.table);
        let table = heap.alloc(new_alloc * WORD_BYTES);
        heap.truncate_roots(depth);
        let Some(table) = table else {
            // 1.9.4 has already zeroed `used` (and set `alloc`, which is not copied here: its
            // old table would then be read past its end) when m_new0 raises, so the set's
            // len() is 0 afterwards
            self.used = 0;
            return Err(OutOfMemory(new_alloc * WORD_BYTES));
        };
        *self = SetHeader {
            alloc: new_alloc,
            used: 0,
            table,
        };
        for i in 0..old.alloc {
            let k = old.at(heap, i);
            if k != MP_OBJ_NULL && k != MP_OBJ_SENTINEL {
                let _ = self.lookup(heap, k, SetLookup::AddIfNotFound, keys);
            }
        }
        heap.free(old.table);
        Ok(())
    }

    /// `mp_set_lookup`: the element found (removed, for the removing kinds) or added; `None`
    /// if it is absent and was not added. `Err` only when a needed growth could not allocate.
    pub fn lookup(
        &mut self,
        heap: &mut Heap,
        key: Word,
        kind: SetLookup,
        keys: &dyn KeyOps,
    ) -> Result<Option<Word>, OutOfMemory> {
        if self.alloc == 0 {
            if kind.adds() {
                self.rehash(heap, keys)?;
            } else {
                return Ok(None);
            }
        }
        let hash = keys.hash(heap, key) as usize;
        let mut pos = hash % self.alloc;
        let mut start = pos;
        let mut avail: Option<usize> = None;
        loop {
            let e = self.at(heap, pos);
            if e == MP_OBJ_NULL {
                if !kind.adds() {
                    return Ok(None);
                }
                let at = avail.unwrap_or(pos);
                self.used += 1;
                self.put(heap, at, key);
                return Ok(Some(key));
            } else if e == MP_OBJ_SENTINEL {
                avail.get_or_insert(pos);
            } else if e == key || keys.eq(heap, e, key) {
                if kind.removes() {
                    self.vacate(heap, pos);
                }
                return Ok(Some(e));
            }
            pos = (pos + 1) % self.alloc;
            if pos == start {
                if !kind.adds() {
                    return Ok(None);
                }
                if let Some(at) = avail {
                    self.used += 1;
                    self.put(heap, at, key);
                    return Ok(Some(key));
                }
                self.rehash(heap, keys)?;
                pos = hash % self.alloc;
                start = pos;
            }
        }
    }

    /// `mp_set_remove_first` (`set.pop()`): removes and returns the first live key.
    pub fn remove_first(&mut self, heap: &mut Heap) -> Option<Word> {
        for pos in 0..self.alloc {
            let e = self.at(heap, pos);
            if e != MP_OBJ_NULL && e != MP_OBJ_SENTINEL {
                self.vacate(heap, pos);
                return Some(e);
            }
        }
        None
    }

    /// `mp_set_clear`: frees the table.
    pub fn clear(&mut self, heap: &mut Heap) {
        heap.free(self.table);
        *self = SetHeader::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::{BLOCK, HEAP_BASE};
    use alloc::string::String;
    use alloc::vec;

    const FIXTURE: &str = include_str!("../data/mpmap_fixture.txt");

    /// A heap, the qstr table and a dict-like object whose map header sits at word 1.
    struct World {
        heap: Heap,
        qstrs: Qstrs,
        dict: Word,
    }

    impl World {
        fn new(init: usize) -> World {
            let mut heap = Heap::new(64 * 1024);
            let qstrs = Qstrs::new(&mut heap);
            let dict = heap.alloc(16).unwrap();
            heap.add_root_slot(dict);
            map_init(&mut heap, dict + 4, init).unwrap();
            World { heap, qstrs, dict }
        }

        fn key(&mut self, s: &str) -> Word {
            qstr_obj(self.qstrs.intern(&mut self.heap, s.as_bytes()).unwrap())
        }

        fn add(&mut self, s: &str, value: Word) {
            let k = self.key(s);
            map_set(
                &mut self.heap,
                self.dict + 4,
                k,
                value,
                &QstrKeys(&self.qstrs),
            )
            .unwrap();
        }

        fn del(&mut self, s: &str) -> Option<Word> {
            let k = self.key(s);
            map_delete(&mut self.heap, self.dict + 4, k, &QstrKeys(&self.qstrs))
        }

        fn get(&mut self, s: &str) -> Option<Word> {
            let k = self.key(s);
            map_get(&mut self.heap, self.dict + 4, k, &QstrKeys(&self.qstrs))
        }

        fn header(&self) -> MapHeader {
            MapHeader::load(&self.heap, self.dict + 4)
        }

        fn keys(&self) -> Vec<String> {
            map_items(&self.heap, self.dict + 4)
                .into_iter()
                .map(|(k, _)| String::from(self.qstrs.str(qstr_value(k))))
                .collect()
        }
    }

    #[test]
    fn sizes_follow_map_c() {
        assert_eq!(next_size(1), 2);
        assert_eq!(next_size(2), 2);
        assert_eq!(next_size(5), 6);
        assert_eq!(next_size(13), 17);
        assert_eq!(next_size(54907), 54907);
        assert_eq!(next_size(54908), (54908 + 54908 / 2) | 1);
    }

    #[test]
    fn header_words_pack_like_the_bit_fields() {
        let h = MapHeader {
            used: 5,
            alloc: 6,
            table: HEAP_BASE + 32,
            all_keys_are_qstrs: true,
            is_fixed: false,
            is_ordered: true,
        };
        assert_eq!(h.to_words(), [(5 << 3) | 4 | 1, 6, HEAP_BASE + 32]);
        assert_eq!(MapHeader::from_words(h.to_words()), h);
    }

    /// Every sequence of the fixture, replayed on the arena map, gives the model's slot order,
    /// alloc and used, and the table takes `ceil(alloc/2)` blocks with no old tables left over.
    #[test]
    fn matches_the_reference_model_fixture() {
        let mut checked = 0;
        for (n, line) in FIXTURE.lines().enumerate() {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 5, "fixture line {n}");
            let init: usize = cols[0].parse().unwrap();
            let mut w = World::new(init);
            for (i, op) in cols[1].split(' ').enumerate() {
                let (sign, name) = op.split_at(1);
                if sign == "+" {
                    w.add(name, (i as Word) << 1 | 1);
                } else {
                    w.del(name);
                }
            }
            let want: Vec<&str> = cols[2].split(' ').filter(|s| !s.is_empty()).collect();
            assert_eq!(w.keys(), want, "fixture line {n}");
            let h = w.header();
            assert_eq!(h.alloc, cols[3].parse::<usize>().unwrap(), "line {n}");
            assert_eq!(h.used, cols[4].parse::<usize>().unwrap(), "line {n}");
            assert!(h.all_keys_are_qstrs);
            let table_blocks = if h.alloc == 0 { 0 } else { h.alloc.div_ceil(2) };
            assert_eq!(w.heap.blocks(h.table), table_blocks, "line {n}");
            // Only the qstr storage, the dict and its current table are allocated.
            let before = w.heap.mem_alloc();
            assert_eq!(w.heap.collect(&[]), 0, "line {n}: an old table was leaked");
            assert_eq!(w.heap.mem_alloc(), before);
            checked += 1;
        }
        assert_eq!(checked, 200);
    }

    #[test]
    fn qstr_lookups_take_the_same_slots_as_the_general_probe() {
        // keys added and removed in a pseudo-random order leave tombstones and full turns
        let mut w = World::new(0);
        let names: Vec<String> = (0..40).map(|i| alloc::format!("k{i}")).collect();
        let mut seed = 12345u32;
        for step in 0..400 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let name = &names[(seed >> 16) as usize % names.len()];
            if seed & 0x100 != 0 {
                w.add(name, step);
            } else {
                let _ = w.del(name);
            }
            let h = w.header();
            for probe in &names {
                let k = w.key(probe);
                let keys = QstrKeys(&w.qstrs);
                let fast = map_lookup(&mut w.heap, w.dict + 4, k, LookupKind::Lookup, &keys);
                let mut general = h;
                let slow = general.lookup(&mut w.heap, k, LookupKind::Lookup, &keys);
                assert_eq!(fast, slow, "step {step}, key {probe}");
                assert_eq!(general, h);
            }
        }
    }

    /// semantics.md §3.4: `__main__` (alloc 1) of a script that imports `sys` and `rootpackage`.
    #[test]
    fn main_namespace_example() {
        let mut w = World::new(1);
        for k in ["__name__", "__file__", "sys", "rootpackage"] {
            w.add(k, 1);
        }
        assert_eq!(w.keys(), ["sys", "rootpackage", "__name__", "__file__"]);
        assert_eq!(w.header().alloc, 4);
    }

    /// semantics.md §3.4: `sys.modules` (alloc 3) after importing the 4-level tree, and the
    /// package globals of `p`; §2: esp8266's `__main__` after `_boot.py`.
    #[test]
    fn sys_modules_and_package_examples() {
        let mut w = World::new(3);
        for k in [
            "rootpackage",
            "rootpackage.package",
            "rootpackage.package.subpackage",
            "rootpackage.package.subpackage.module",
        ] {
            w.add(k, 1);
        }
        assert_eq!(
            w.keys(),
            [
                "rootpackage.package.subpackage.module",
                "rootpackage",
                "rootpackage.package",
                "rootpackage.package.subpackage"
            ]
        );
        let mut p = World::new(1);
        for k in ["__name__", "__path__", "__file__", "sib"] {
            p.add(k, 1);
        }
        assert_eq!(p.keys(), ["__path__", "sib", "__name__", "__file__"]);
        let mut m = World::new(1);
        for k in ["__name__", "gc", "uos", "bdev"] {
            m.add(k, 1);
        }
        assert_eq!(m.keys(), ["uos", "gc", "__name__", "bdev"]);
    }

    #[test]
    fn growth_frees_the_old_table_at_once() {
        let mut w = World::new(1);
        let base = w.heap.mem_alloc();
        assert_eq!(base % BLOCK, 0);
        w.add("__name__", 3);
        assert_eq!(w.header().alloc, 1);
        w.add("__file__", 5); // 1 -> 2
        assert_eq!(w.header().alloc, 2);
        w.add("x", 7); // 2 -> 4
        w.add("y", 9);
        assert_eq!(w.header().alloc, 4);
        let before = w.heap.mem_alloc();
        w.add("z", 11); // 4 -> 6: 2 blk -> 3 blk
        assert_eq!(w.header().alloc, 6);
        assert_eq!(w.heap.mem_alloc() - before, BLOCK);
        assert_eq!(w.get("x"), Some(7));
        assert_eq!(w.get("z"), Some(11));
        assert_eq!(w.get("nope"), None);
        // Re-adding keeps the slot and replaces the value.
        w.add("x", 13);
        assert_eq!(w.get("x"), Some(13));
        assert_eq!(w.header().used, 5);
    }

    #[test]
    fn delete_leaves_empty_or_tombstone_and_clears_the_value() {
        // alloc 4 (no growth): keys that collide are placed by probing.
        let mut w = World::new(4);
        let names = ["a", "b", "c", "d"];
        for (i, k) in names.iter().enumerate() {
            w.add(k, (i as Word) << 1 | 1);
        }
        let h = w.header();
        assert_eq!(h.used, 4);
        // Delete each key: the slot becomes empty iff the next slot is empty.
        let k = w.key("a");
        let slot = (0..4).find(|&i| w.heap.read_word(h.slot(i)) == k).unwrap();
        assert_eq!(w.del("a"), Some(1));
        assert_eq!(w.heap.read_word(h.slot(slot)), MP_OBJ_SENTINEL);
        assert_eq!(w.heap.read_word(h.slot(slot) + 4), MP_OBJ_NULL);
        assert_eq!(w.del("a"), None);
        assert_eq!(w.header().used, 3);
        // A new key reuses the first tombstone met on its probe, so no growth.
        w.add("e", 99);
        assert_eq!(w.header().alloc, 4);
        assert_eq!(w.get("e"), Some(99));
    }

    #[test]
    fn clear_frees_the_table() {
        let mut w = World::new(1);
        w.add("x", 1);
        w.add("y", 1);
        let before = w.heap.mem_alloc();
        map_clear(&mut w.heap, w.dict + 4);
        assert_eq!(w.heap.mem_alloc(), before - BLOCK);
        assert_eq!(w.header(), MapHeader::default());
        assert!(w.keys().is_empty());
        // The first add after a clear rehashes alloc 0 -> 2.
        w.add("z", 1);
        assert_eq!(w.header().alloc, 2);
    }

    /// Non-qstr, non-str keys: small ints stand for other objects, compared by value.
    struct IntKeys<'a>(&'a Qstrs);

    impl KeyOps for IntKeys<'_> {
        fn hash(&self, heap: &Heap, key: Word) -> u32 {
            QstrKeys(self.0).hash(heap, key)
        }
        fn eq(&self, _heap: &Heap, a: Word, b: Word) -> bool {
            a == b
        }
        fn is_str(&self, _heap: &Heap, _key: Word) -> bool {
            false
        }
    }

    #[test]
    fn non_qstr_keys_clear_the_flag_and_lookups_short_circuit() {
        let mut w = World::new(2);
        let k = w.key("x");
        let keys = IntKeys(&w.qstrs);
        let m = w.dict + 4;
        map_set(&mut w.heap, m, k, 1, &keys).unwrap();
        // A non-str, non-qstr key cannot be in an all-qstr map: found nothing, probed nothing.
        assert_eq!(map_get(&mut w.heap, m, 5 << 1 | 1, &keys), None);
        map_set(&mut w.heap, m, 4 << 1 | 1, 7, &keys).unwrap();
        assert!(!MapHeader::load(&w.heap, m).all_keys_are_qstrs);
        assert_eq!(map_get(&mut w.heap, m, 4 << 1 | 1, &keys), Some(7));
        // The flag comes back after a rehash that re-adds only qstrs.
        assert_eq!(map_delete(&mut w.heap, m, 4 << 1 | 1, &keys), Some(7));
        let y = qstr_obj(w.qstrs.intern(&mut w.heap, b"y").unwrap());
        let z = qstr_obj(w.qstrs.intern(&mut w.heap, b"z").unwrap());
        let keys = IntKeys(&w.qstrs);
        map_set(&mut w.heap, m, y, 1, &keys).unwrap();
        map_set(&mut w.heap, m, z, 1, &keys).unwrap();
        let h = MapHeader::load(&w.heap, m);
        assert_eq!(h.alloc, 4);
        assert!(h.all_keys_are_qstrs);
    }

    #[test]
    fn failed_growth_reports_out_of_memory_and_keeps_the_map() {
        let mut heap = Heap::new(1024); // 60 blocks
        let mut qstrs = Qstrs::new(&mut heap);
        let dict = heap.alloc(16).unwrap();
        heap.add_root_slot(dict);
        let m = dict + 4;
        map_init(&mut heap, m, 2).unwrap();
        let ks: Vec<Word> = ["a", "b", "c"]
            .iter()
            .map(|s| qstr_obj(qstrs.intern(&mut heap, s.as_bytes()).unwrap()))
            .collect();
        let keys = QstrKeys(&qstrs);
        map_set(&mut heap, m, ks[0], 1, &keys).unwrap();
        map_set(&mut heap, m, ks[1], 3, &keys).unwrap();
        // Fill the rest of the heap with rooted blocks.
        while let Some(p) = heap.alloc(16) {
            heap.push_root(p);
        }
        assert_eq!(
            map_set(&mut heap, m, ks[2], 5, &keys),
            Err(OutOfMemory(4 * SLOT_BYTES))
        );
        let h = MapHeader::load(&heap, m);
        assert_eq!((h.alloc, h.used), (2, 2));
        assert_eq!(map_get(&mut heap, m, ks[0], &keys), Some(1));
        assert_eq!(map_get(&mut heap, m, ks[1], &keys), Some(3));
        assert_eq!(map_get(&mut heap, m, ks[2], &keys), None);
        // With room again, the same insert succeeds.
        heap.truncate_roots(0);
        map_set(&mut heap, m, ks[2], 5, &keys).unwrap();
        assert_eq!(map_get(&mut heap, m, ks[2], &keys), Some(5));
    }

    #[test]
    fn ordered_maps_keep_insertion_order() {
        let mut w = World::new(0);
        let mut h = MapHeader {
            is_ordered: true,
            ..MapHeader::default()
        };
        let ks: Vec<Word> = ["q", "p", "r", "s", "t"].iter().map(|s| w.key(s)).collect();
        let keys = QstrKeys(&w.qstrs);
        for (i, &k) in ks.iter().enumerate() {
            let s = h
                .lookup(&mut w.heap, k, LookupKind::AddIfNotFound, &keys)
                .unwrap()
                .unwrap();
            w.heap.write_word(s + 4, i as Word).unwrap();
        }
        assert_eq!(h.alloc, 8);
        let s = h
            .lookup(&mut w.heap, ks[1], LookupKind::RemoveIfFound, &keys)
            .unwrap()
            .unwrap();
        assert_eq!(w.heap.read_word(s + 4), 1);
        let order: Vec<Word> = h.items(&w.heap).into_iter().map(|(k, _)| k).collect();
        assert_eq!(order, vec![ks[0], ks[2], ks[3], ks[4]]);
    }

    /// Sets probe like maps: the same fixture sequences give the same key order (the model's
    /// map and set differ only in values), and tables take `ceil(alloc/4)` blocks.
    #[test]
    fn sets_follow_the_model_too() {
        for line in FIXTURE.lines().filter(|l| !l.starts_with('#')).take(100) {
            let cols: Vec<&str> = line.split('\t').collect();
            let init: usize = cols[0].parse().unwrap();
            let mut w = World::new(0);
            let mut set = SetHeader::new(&mut w.heap, init).unwrap();
            let slot = w.heap.add_root_slot(set.table);
            for op in cols[1].split(' ') {
                let (sign, name) = op.split_at(1);
                let k = w.key(name);
                let kind = if sign == "+" {
                    SetLookup::AddIfNotFound
                } else {
                    SetLookup::RemoveIfFound
                };
                set.lookup(&mut w.heap, k, kind, &QstrKeys(&w.qstrs))
                    .unwrap();
                w.heap.set_root_slot(slot, set.table);
            }
            let got: Vec<String> = set
                .items(&w.heap)
                .into_iter()
                .map(|k| String::from(w.qstrs.str(qstr_value(k))))
                .collect();
            let want: Vec<&str> = cols[2].split(' ').filter(|s| !s.is_empty()).collect();
            assert_eq!(got, want, "{line}");
            assert_eq!(set.alloc, cols[3].parse::<usize>().unwrap());
            assert_eq!(set.used, cols[4].parse::<usize>().unwrap());
            let blocks = if set.alloc == 0 {
                0
            } else {
                set.alloc.div_ceil(4)
            };
            assert_eq!(w.heap.blocks(set.table), blocks);
        }
    }

    #[test]
    fn set_toggle_pop_and_clear() {
        let mut w = World::new(0);
        let (a, b) = (w.key("a"), w.key("b"));
        let keys = QstrKeys(&w.qstrs);
        let mut s = SetHeader::default();
        assert_eq!(s.lookup(&mut w.heap, a, SetLookup::Lookup, &keys), Ok(None));
        assert_eq!(
            s.lookup(&mut w.heap, a, SetLookup::AddOrRemove, &keys),
            Ok(Some(a))
        );
        assert_eq!(
            s.lookup(&mut w.heap, b, SetLookup::AddIfNotFound, &keys),
            Ok(Some(b))
        );
        assert_eq!((s.alloc, s.used), (2, 2));
        assert_eq!(
            s.lookup(&mut w.heap, a, SetLookup::AddOrRemove, &keys),
            Ok(Some(a))
        );
        assert_eq!(s.used, 1);
        assert_eq!(s.lookup(&mut w.heap, a, SetLookup::Lookup, &keys), Ok(None));
        assert_eq!(s.remove_first(&mut w.heap), Some(b));
        assert_eq!(s.remove_first(&mut w.heap), None);
        let t = s.table;
        s.clear(&mut w.heap);
        assert_eq!(w.heap.blocks(t), 0);
        assert_eq!(s, SetHeader::default());
    }
}
