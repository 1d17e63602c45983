//! `ucollections.namedtuple` (py/objnamedtuple.c): the factory makes a type object on the
//! heap, 1.9.4's `mp_obj_namedtuple_type_t` (the 15-word `mp_obj_type_t`, `n_fields`, then
//! one qstr per field); its instances are plain tuples (2 + n words) whose type is that
//! object. Such a type is not a user class: it has no locals dict, its parent is `tuple`,
//! and word 2 (the print slot) holds `tuple`'s address to tell it apart.

use alloc::string::String;
use alloc::vec::Vec;

use crate::heap::Word;
use crate::obj::{self, NULL, R, layout, rom};
use crate::runtime::{Args, PR, Rt};

/// The word of a namedtuple type that marks it (the print slot of `mp_obj_type_t`).
const MARK: usize = 2;
/// `n_fields`, after the 15 words of `mp_obj_type_t`.
const N_FIELDS: usize = layout::TYPE_WORDS;

impl Rt<'_> {
    /// Whether `t` is a type made by `namedtuple`.
    pub fn is_namedtuple_type(&self, t: Word) -> bool {
        self.st.heap.contains(t)
            && self.st.heap.read_word(t) == rom(R::TType)
            && self.st.heap.field(t, MARK) == rom(R::TTuple)
    }

    /// The type `w` has for the tuple and dict protocols: `tuple` for a namedtuple instance
    /// (a tuple with another type word), `dict` for an OrderedDict, else its own type.
    pub fn seq_type_of(&self, w: Word) -> Word {
        let t = self.type_of(w);
        if t == rom(R::TOrderedDict) {
            rom(R::TDict)
        } else if self.is_namedtuple_type(t) {
            rom(R::TTuple)
        } else {
            t
        }
    }

    /// The field names of a namedtuple type.
    pub fn namedtuple_fields(&self, t: Word) -> Vec<u16> {
        let n = self.f(t, N_FIELDS) as usize;
        (0..n).map(|i| self.f(t, N_FIELDS + 1 + i) as u16).collect()
    }

    /// `new_namedtuple_type(name, fields)`: fields is a str of names split at whitespace,
    /// or a tuple or list of names.
    pub(crate) fn namedtuple_new_type(&mut self, name: Word, fields: Word) -> PR<Word> {
        let nq = self.str_to_qstr(name)?;
        let base = self.vlen();
        let r = (|| {
            let mut fields = fields;
            if self.is_str(fields) {
                fields = self.call_builtin(R::MStrSplit, Args { w: &[fields], n: 1 })?;
                self.vpush(fields);
            }
            let items = self.tuple_or_list_items(fields)?;
            let t = self.alloc_obj(rom(R::TType), N_FIELDS + 1 + items.len())?;
            self.vpush(t);
            self.wf(t, layout::TYPE_NAME, u32::from(nq));
            self.wf(t, MARK, rom(R::TTuple));
            self.wf(t, layout::TYPE_PARENT, rom(R::TTuple));
            self.wf(t, N_FIELDS, items.len() as Word);
            for (i, f) in items.iter().enumerate() {
                let q = self.str_to_qstr(*f)?;
                self.wf(t, N_FIELDS + 1 + i, u32::from(q));
            }
            Ok(t)
        })();
        self.vtrunc(base);
        r
    }

    /// `namedtuple_make_new`: positional values, then keyword values by field name.
    pub(crate) fn namedtuple_make_new(&mut self, t: Word, a: Args<'_>) -> PR<Word> {
        let fields = self.namedtuple_fields(t);
        let n_kw = a.n_kw();
        if a.n + n_kw != fields.len() {
            // MICROPY_ERROR_REPORTING_DETAILED on the unix port
            let (name, want, got) = (
                self.type_name_of_type(t),
                alloc::format!("{}", fields.len()),
                alloc::format!("{}", a.n + n_kw),
            );
            return Err(self.exc_varg(
                R::ETypeError,
                "%q() takes %d positional arguments but %d were given",
                &[&name, &want, &got],
            ));
        }
        let tup = self.alloc_obj(t, 2 + fields.len())?;
        self.wf(tup, 1, fields.len() as Word);
        for i in 0..a.n {
            self.wf(tup, 2 + i, a.w[i]);
        }
        for k in 0..n_kw {
            let kw = self.str_to_qstr(a.w[a.n + 2 * k])?;
            let Some(id) = fields.iter().position(|f| *f == kw) else {
                let s = self.qstr_string(kw);
                return Err(self.exc_varg(
                    R::ETypeError,
                    "unexpected keyword argument '%q'",
                    &[&s],
                ));
            };
            if self.f(tup, 2 + id) != NULL {
                let s = self.qstr_string(kw);
                return Err(self.exc_varg(
                    R::ETypeError,
                    "function got multiple values for argument '%q'",
                    &[&s],
                ));
            }
            self.wf(tup, 2 + id, a.w[a.n + 2 * k + 1]);
        }
        Ok(tup)
    }

    /// `namedtuple_attr` loading: the value of a field, if `attr` names one.
    pub fn namedtuple_field(&self, o: Word, attr: u16) -> Option<Word> {
        let t = self.type_of(o);
        let i = self.namedtuple_fields(t).iter().position(|f| *f == attr)?;
        Some(self.f(o, 2 + i))
    }

    /// `namedtuple_print`: `Name(a=1, b=2)`, and the lengths of its writes (the name, `(`,
    /// then per field `, `, the name, `=`, the value's writes, and `)`).
    pub(crate) fn namedtuple_repr(
        &mut self,
        o: Word,
        out: &mut String,
        pieces: Option<&mut Vec<usize>>,
        depth: usize,
    ) {
        let t = self.type_of(o);
        let name = self.qstr_string(self.f(t, layout::TYPE_NAME) as u16);
        let fields = self.namedtuple_fields(t);
        let items = self.seq_items(o);
        let mut p = Vec::new();
        out.push_str(&name);
        out.push('(');
        p.push(name.len());
        p.push(1);
        for (i, (f, x)) in fields.iter().zip(items.iter()).enumerate() {
            if i > 0 {
                out.push_str(", ");
                p.push(2);
            }
            let fname = self.qstr_string(*f);
            out.push_str(&fname);
            out.push('=');
            p.push(fname.len());
            p.push(1);
            if pieces.is_some() {
                self.repr_pieces(*x, &mut p, depth + 1);
            }
            self.repr_into(*x, out, depth + 1);
        }
        out.push(')');
        p.push(1);
        if let Some(v) = pieces {
            v.extend(p);
        }
    }

    /// The tuple items of a namedtuple instance, if `o` is one.
    pub fn namedtuple_items(&self, o: Word) -> Option<Vec<Word>> {
        if !self.st.heap.contains(o) || !self.is_namedtuple_type(self.type_of(o)) {
            return None;
        }
        let n = self.f(o, 1) as usize;
        Some((0..n).map(|i| self.f(o, 2 + i)).collect())
    }

    /// Whether `o` is a namedtuple instance.
    pub fn is_namedtuple(&self, o: Word) -> bool {
        obj::is_ptr(o) && self.st.heap.contains(o) && self.is_namedtuple_type(self.type_of(o))
    }
}
