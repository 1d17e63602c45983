//! Object representation: MicroPython 1.9.4's REPR_A words, the ROM objects (built-in types,
//! functions, modules and constants) and the B32 layouts of the objects that live on the heap.
//!
//! A value is a [`Word`]: a small int is `(n << 1) | 1`, a qstr is `(q << 2) | 2`, anything else
//! is an address. Addresses from [`ROM_BASE`] up name built-in objects (never on the heap, so the
//! GC ignores them); heap addresses are objects whose word 0 is their type.

use crate::heap::Word;

/// First address of the ROM objects; object `i` is at `ROM_BASE + 8 * i`.
pub const ROM_BASE: Word = 0x4020_0000;

/// `MP_OBJ_NULL` (also `MP_OBJ_STOP_ITERATION` in REPR_A).
pub const NULL: Word = 0;
/// `MP_OBJ_SENTINEL`: a map tombstone, and "store" in attribute protocols.
pub const SENTINEL: Word = 4;

/// Smallest small int (31-bit).
pub const SMALL_INT_MIN: i64 = -(1 << 30);
/// Largest small int (31-bit).
pub const SMALL_INT_MAX: i64 = (1 << 30) - 1;

/// Encodes a small int (the caller checks the range).
pub const fn small(n: i32) -> Word {
    ((n as u32) << 1) | 1
}

/// Whether `w` is a small int.
pub const fn is_small(w: Word) -> bool {
    w & 1 == 1
}

/// The value of a small int.
pub const fn small_value(w: Word) -> i32 {
    (w as i32) >> 1
}

/// Encodes a qstr.
pub const fn qstr_obj(q: u16) -> Word {
    ((q as u32) << 2) | 2
}

/// Whether `w` is a qstr.
pub const fn is_qstr(w: Word) -> bool {
    w & 3 == 2
}

/// The id of a qstr value.
pub const fn qstr_value(w: Word) -> u16 {
    (w >> 2) as u16
}

/// Whether `w` is an address (neither small int nor qstr) other than NULL/SENTINEL.
pub const fn is_ptr(w: Word) -> bool {
    w & 3 == 0 && w > SENTINEL
}

macro_rules! rom_objects {
    ($($v:ident),* $(,)?) => {
        /// The ROM objects.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u16)]
        #[allow(missing_docs)]
        pub enum R { $($v),* }
        /// Every ROM object, by index.
        pub const ALL: &[R] = &[$(R::$v),*];
    };
}

rom_objects! {
    // constants
    NoneObj, False, True, Ellipsis, MemoryErrorObj, KeyboardInterruptObj, EmptyTuple, EmptyBytes,
    // types
    TType, TObject, TNoneType, TBool, TInt, TFloat, TStr, TBytes, TBytearray, TList, TTuple,
    TDict, TSet, TModule, TFunction, TClosure, TCell, TBoundMeth, TBuiltin, TRange, TIterator,
    TSlice, TFile, TEllipsis, TDictView, TStaticMethod, TClassMethod, TProperty, TEnumerate, TZip,
    TGenerator, TSuper, TGenInstance, TCode, TFrozenset, TMap, TFilter, TRangeIter, TReversed,
    // exceptions
    EBaseException, ESystemExit, EKeyboardInterrupt, EGeneratorExit, EException, EStopIteration,
    EArithmeticError, EOverflowError, EZeroDivisionError, EAssertionError, EAttributeError,
    EEOFError, EImportError, ELookupError, EIndexError, EKeyError, EMemoryError, ENameError,
    EOSError, ERuntimeError, ENotImplementedError, ESyntaxError, EIndentationError, ETypeError,
    EValueError, EUnicodeError,
    // built-in modules
    MSys, MGc, MUos, MBuiltins, MMicropython, MMain, MUio, MArray, MUerrno, MUjson,
    // the unix port's other built-in modules (attributes in crate::romext) and ROM floats
    MMath, MCmath, MUcollections, MUstruct, MThread, MUctypes, MUzlib, MUre, MUheapq, MUtimeq,
    MUhashlib, MUbinascii, MUrandom, MUselect, MWebsocket, MUtime, MUsocket, MUmachine,
    MTermios, FloatE, FloatPi,
    // sys.version and sys.maxsize: ROM objects in 1.9.4 (reading them allocates nothing)
    StrSysVersion, IntMaxsize,
    // sys.stdin, sys.stdout, sys.stderr: the unix port's static TextIOWrapper objects
    StdinObj, StdoutObj, StderrObj,
    // built-in functions
    FBuildClass, FImport, FAbs, FAll, FAny, FCallable, FChr, FDir, FDivmod, FEval, FExec,
    FGetattr, FSetattr, FGlobals, FHasattr, FHash, FId, FIsinstance, FIssubclass, FIter, FLen,
    FLocals, FMax, FMin, FNext, FOrd, FPrint, FRepr, FSorted, FSum, FOpen, FDelattr, FRound,
    FHex, FBin, FOct, FPow, FInput,
    // module functions
    FSysExit, FSysPrintException, FGcCollect, FGcMemFree, FGcMemAlloc, FGcEnable, FGcDisable,
    FGcIsenabled, FGcThreshold, FOsListdir, FOsMkdir, FOsRmdir, FOsRemove, FOsRename, FOsStat,
    FOsChdir, FOsGetcwd, FJsonDumps, FMpMemInfo, FMpQstrInfo, FMpHeapLock, FMpHeapUnlock,
    // methods of built-in types
    MListAppend, MListExtend, MListPop, MListInsert, MListRemove, MListIndex, MListCount,
    MListSort, MListReverse, MListClear, MListCopy,
    MDictKeys, MDictValues, MDictItems, MDictGet, MDictPop, MDictSetdefault, MDictUpdate,
    MDictClear, MDictCopy, MDictPopitem,
    MStrJoin, MStrSplit, MStrStartswith, MStrEndswith, MStrStrip, MStrRstrip, MStrLstrip,
    MStrReplace, MStrFind, MStrRfind, MStrFormat, MStrUpper, MStrLower, MStrEncode, MBytesDecode,
    MStrIndex, MStrCount, MStrIsdigit, MStrIsalpha, MStrIsspace, MStrRsplit, MStrPartition,
    MStrRpartition, MStrRindex, MStrSplitlines, MStrCenter, MStrIsupper, MStrIslower,
    MBytearrayExtend, MIntToBytes, MIntFromBytes,
    MTupleIndex, MTupleCount, MSetAdd, MSetDiscard, MSetRemove,
    MFileRead, MFileWrite, MFileClose, MFileEnter, MFileExit, MFileReadline,
    MObjectInit, MExcArgs, MGenClose, MGenSend, MGenThrow,
    FMpConst, FReversed, MNativeInit, FJsonLoads, MFileReadlines, FCompile,
    MPropGetter, MPropSetter, MPropDeleter, MDictFromkeys,
    MSetClear, MSetCopy, MSetDifference, MSetDifferenceUpdate, MSetIntersection,
    MSetIntersectionUpdate, MSetIsdisjoint, MSetIssubset, MSetIssuperset, MSetPop,
    MSetSymmetricDifference, MSetSymmetricDifferenceUpdate, MSetUnion, MSetUpdate,
    MSetContains, MDictGetitem, MDictSetitem, MDictDelitem, NotImplementedObj, TCheckedFun,
    MObjectNew,
    // uio.StringIO / uio.BytesIO and their own methods
    TStringIO, TBytesIO, MIoGetvalue, MIoSeek, MIoFlush, MIoReadinto,
    // ucollections.OrderedDict: a dict whose map is ordered
    TOrderedDict,
    // ucollections.deque
    TDeque, MDequeAppend, MDequePopleft,
    // array.array and memoryview (crate::array)
    TArray, TMemoryview,
    // uhashlib.sha256
    TSha256, MHashUpdate, MHashDigest,
    // ure: compiled regexes and matches
    TRe, TMatch, MReMatch, MReSearch, MReSplit, MMatchGroup,
    // uos.ilistdir's iterator (mp_type_polymorph_iter)
    TListdirIter,
}

impl R {
    /// The address of this ROM object.
    pub const fn addr(self) -> Word {
        ROM_BASE + 8 * self as u32
    }

    /// The ROM object at `w`, if `w` is one.
    pub fn from_addr(w: Word) -> Option<R> {
        if w < ROM_BASE || !(w - ROM_BASE).is_multiple_of(8) {
            return None;
        }
        ALL.get(((w - ROM_BASE) / 8) as usize).copied()
    }
}

/// The Python value of a ROM object.
pub const fn rom(r: R) -> Word {
    r.addr()
}

/// `None`.
pub const NONE: Word = R::NoneObj.addr();
/// `False`.
pub const FALSE: Word = R::False.addr();
/// `True`.
pub const TRUE: Word = R::True.addr();

/// `True`/`False` for a Rust bool.
pub const fn py_bool(b: bool) -> Word {
    if b { TRUE } else { FALSE }
}

/// A ROM type: its name and base type.
pub fn rom_type_info(r: R) -> Option<(&'static str, Option<R>)> {
    use R::*;
    let info = match r {
        TType => ("type", Some(TObject)),
        TObject => ("object", None),
        TNoneType => ("NoneType", Some(TObject)),
        // 1.9.4's bool is not a subclass of int
        TBool => ("bool", Some(TObject)),
        TInt => ("int", Some(TObject)),
        TFloat => ("float", Some(TObject)),
        TStr => ("str", Some(TObject)),
        TBytes => ("bytes", Some(TObject)),
        TBytearray => ("bytearray", Some(TObject)),
        TList => ("list", Some(TObject)),
        TTuple => ("tuple", Some(TObject)),
        TDict => ("dict", Some(TObject)),
        TSet => ("set", Some(TObject)),
        TModule => ("module", Some(TObject)),
        TFunction => ("function", Some(TObject)),
        TClosure => ("closure", Some(TObject)),
        TCell => ("cell", Some(TObject)),
        TBoundMeth => ("bound_method", Some(TObject)),
        TBuiltin => ("function", Some(TObject)),
        TRange => ("range", Some(TObject)),
        TIterator => ("iterator", Some(TObject)),
        TSlice => ("slice", Some(TObject)),
        TFile => ("TextIOWrapper", Some(TObject)),
        TEllipsis => ("", Some(TObject)),
        TDictView => ("dict_view", Some(TObject)),
        TStaticMethod => ("staticmethod", Some(TObject)),
        TClassMethod => ("classmethod", Some(TObject)),
        TProperty => ("property", Some(TObject)),
        TEnumerate => ("enumerate", Some(TObject)),
        TZip => ("zip", Some(TObject)),
        TGenerator => ("generator", Some(TObject)),
        TSuper => ("super", Some(TObject)),
        TGenInstance => ("generator", Some(TObject)),
        TCode => ("code", Some(TObject)),
        TFrozenset => ("frozenset", Some(TObject)),
        TMap => ("map", Some(TObject)),
        TFilter => ("filter", Some(TObject)),
        TRangeIter => ("iterator", Some(TObject)),
        TReversed => ("reversed", Some(TObject)),
        // mp_type_checked_fun: a built-in method taken from a type checks its first argument
        TCheckedFun => ("function", Some(TObject)),
        TStringIO => ("StringIO", Some(TObject)),
        TBytesIO => ("BytesIO", Some(TObject)),
        TOrderedDict => ("OrderedDict", Some(TDict)),
        TDeque => ("deque", Some(TObject)),
        TArray => ("array", Some(TObject)),
        TMemoryview => ("memoryview", Some(TObject)),
        TSha256 => ("sha256", Some(TObject)),
        TRe => ("ure", Some(TObject)),
        TMatch => ("match", Some(TObject)),
        TListdirIter => ("iterator", Some(TObject)),
        EBaseException => ("BaseException", Some(TObject)),
        ESystemExit => ("SystemExit", Some(EBaseException)),
        EKeyboardInterrupt => ("KeyboardInterrupt", Some(EBaseException)),
        EGeneratorExit => ("GeneratorExit", Some(EBaseException)),
        EException => ("Exception", Some(EBaseException)),
        EStopIteration => ("StopIteration", Some(EException)),
        EArithmeticError => ("ArithmeticError", Some(EException)),
        EOverflowError => ("OverflowError", Some(EArithmeticError)),
        EZeroDivisionError => ("ZeroDivisionError", Some(EArithmeticError)),
        EAssertionError => ("AssertionError", Some(EException)),
        EAttributeError => ("AttributeError", Some(EException)),
        EEOFError => ("EOFError", Some(EException)),
        EImportError => ("ImportError", Some(EException)),
        ELookupError => ("LookupError", Some(EException)),
        EIndexError => ("IndexError", Some(ELookupError)),
        EKeyError => ("KeyError", Some(ELookupError)),
        EMemoryError => ("MemoryError", Some(EException)),
        ENameError => ("NameError", Some(EException)),
        EOSError => ("OSError", Some(EException)),
        ERuntimeError => ("RuntimeError", Some(EException)),
        ENotImplementedError => ("NotImplementedError", Some(ERuntimeError)),
        ESyntaxError => ("SyntaxError", Some(EException)),
        EIndentationError => ("IndentationError", Some(ESyntaxError)),
        ETypeError => ("TypeError", Some(EException)),
        EValueError => ("ValueError", Some(EException)),
        EUnicodeError => ("UnicodeError", Some(EValueError)),
        _ => return None,
    };
    Some(info)
}

/// Whether `r` is an exception type.
pub fn is_exc_type(r: R) -> bool {
    (R::EBaseException as u16..=R::EUnicodeError as u16).contains(&(r as u16))
}

/// The names bound in `builtins` (ROM), in the order of py/modbuiltins.c's table where it matters
/// for nothing but lookup.
pub const BUILTINS: &[(&str, R)] = &[
    ("__build_class__", R::FBuildClass),
    ("__import__", R::FImport),
    ("abs", R::FAbs),
    ("all", R::FAll),
    ("any", R::FAny),
    ("callable", R::FCallable),
    ("chr", R::FChr),
    ("compile", R::FCompile),
    ("dir", R::FDir),
    ("divmod", R::FDivmod),
    ("eval", R::FEval),
    ("exec", R::FExec),
    ("getattr", R::FGetattr),
    ("setattr", R::FSetattr),
    ("delattr", R::FDelattr),
    ("globals", R::FGlobals),
    ("hasattr", R::FHasattr),
    ("hash", R::FHash),
    ("id", R::FId),
    ("isinstance", R::FIsinstance),
    ("issubclass", R::FIssubclass),
    ("iter", R::FIter),
    ("len", R::FLen),
    ("locals", R::FLocals),
    ("max", R::FMax),
    ("min", R::FMin),
    ("next", R::FNext),
    ("ord", R::FOrd),
    ("print", R::FPrint),
    ("repr", R::FRepr),
    ("sorted", R::FSorted),
    ("sum", R::FSum),
    ("open", R::FOpen),
    ("round", R::FRound),
    ("hex", R::FHex),
    ("bin", R::FBin),
    ("oct", R::FOct),
    ("pow", R::FPow),
    ("input", R::FInput),
    ("bool", R::TBool),
    ("bytes", R::TBytes),
    ("bytearray", R::TBytearray),
    ("memoryview", R::TMemoryview),
    ("dict", R::TDict),
    ("enumerate", R::TEnumerate),
    ("filter", R::TFilter),
    ("float", R::TFloat),
    ("frozenset", R::TFrozenset),
    ("int", R::TInt),
    ("list", R::TList),
    ("map", R::TMap),
    ("object", R::TObject),
    ("range", R::TRange),
    ("reversed", R::FReversed),
    ("set", R::TSet),
    ("str", R::TStr),
    ("tuple", R::TTuple),
    ("type", R::TType),
    ("zip", R::TZip),
    ("staticmethod", R::TStaticMethod),
    ("classmethod", R::TClassMethod),
    ("property", R::TProperty),
    ("super", R::TSuper),
    ("Ellipsis", R::Ellipsis),
    ("NotImplemented", R::NotImplementedObj),
    ("slice", R::TSlice),
    ("BaseException", R::EBaseException),
    ("SystemExit", R::ESystemExit),
    ("KeyboardInterrupt", R::EKeyboardInterrupt),
    ("GeneratorExit", R::EGeneratorExit),
    ("Exception", R::EException),
    ("StopIteration", R::EStopIteration),
    ("ArithmeticError", R::EArithmeticError),
    ("OverflowError", R::EOverflowError),
    ("ZeroDivisionError", R::EZeroDivisionError),
    ("AssertionError", R::EAssertionError),
    ("AttributeError", R::EAttributeError),
    ("EOFError", R::EEOFError),
    ("ImportError", R::EImportError),
    ("LookupError", R::ELookupError),
    ("IndexError", R::EIndexError),
    ("KeyError", R::EKeyError),
    ("MemoryError", R::EMemoryError),
    ("NameError", R::ENameError),
    ("OSError", R::EOSError),
    ("RuntimeError", R::ERuntimeError),
    ("NotImplementedError", R::ENotImplementedError),
    ("SyntaxError", R::ESyntaxError),
    ("IndentationError", R::EIndentationError),
    ("TypeError", R::ETypeError),
    ("ValueError", R::EValueError),
    ("UnicodeError", R::EUnicodeError),
];

/// The ROM table of built-in modules (`mp_builtin_module_map`): name → module.
pub const BUILTIN_MODULES: &[(&str, R)] = &[
    ("__main__", R::MMain),
    ("builtins", R::MBuiltins),
    ("micropython", R::MMicropython),
    ("sys", R::MSys),
    ("gc", R::MGc),
    ("uos", R::MUos),
    ("uio", R::MUio),
    ("array", R::MArray),
    ("uerrno", R::MUerrno),
    ("ujson", R::MUjson),
    ("math", R::MMath),
    ("cmath", R::MCmath),
    ("ucollections", R::MUcollections),
    ("ustruct", R::MUstruct),
    ("_thread", R::MThread),
    ("uctypes", R::MUctypes),
    ("uzlib", R::MUzlib),
    ("ure", R::MUre),
    ("uheapq", R::MUheapq),
    ("utimeq", R::MUtimeq),
    ("uhashlib", R::MUhashlib),
    ("ubinascii", R::MUbinascii),
    ("urandom", R::MUrandom),
    ("uselect", R::MUselect),
    ("websocket", R::MWebsocket),
    ("utime", R::MUtime),
    ("usocket", R::MUsocket),
    ("umachine", R::MUmachine),
    ("termios", R::MTermios),
];

/// The attributes of a ROM module other than its `__name__` (values resolved by the runtime).
pub fn module_functions(m: R) -> &'static [(&'static str, R)] {
    match m {
        R::MGc => &[
            ("collect", R::FGcCollect),
            ("disable", R::FGcDisable),
            ("enable", R::FGcEnable),
            ("isenabled", R::FGcIsenabled),
            ("mem_free", R::FGcMemFree),
            ("mem_alloc", R::FGcMemAlloc),
            ("threshold", R::FGcThreshold),
        ],
        R::MSys => &[
            ("exit", R::FSysExit),
            ("print_exception", R::FSysPrintException),
        ],
        R::MUos => &[
            ("chdir", R::FOsChdir),
            ("getcwd", R::FOsGetcwd),
            ("listdir", R::FOsListdir),
            ("mkdir", R::FOsMkdir),
            ("remove", R::FOsRemove),
            ("rename", R::FOsRename),
            ("rmdir", R::FOsRmdir),
            ("stat", R::FOsStat),
        ],
        R::MMicropython => &[
            ("const", R::FMpConst),
            ("mem_info", R::FMpMemInfo),
            ("qstr_info", R::FMpQstrInfo),
            ("heap_lock", R::FMpHeapLock),
            ("heap_unlock", R::FMpHeapUnlock),
        ],
        R::MUio => &[("open", R::FOpen)],
        R::MUjson => &[("dumps", R::FJsonDumps), ("loads", R::FJsonLoads)],
        _ => &[],
    }
}

/// Methods of built-in types: (type, name, method).
pub const METHODS: &[(R, &str, R)] = &[
    (R::TProperty, "deleter", R::MPropDeleter),
    (R::TProperty, "getter", R::MPropGetter),
    (R::TProperty, "setter", R::MPropSetter),
    (R::TGenInstance, "close", R::MGenClose),
    (R::TGenInstance, "send", R::MGenSend),
    (R::TGenInstance, "throw", R::MGenThrow),
    (R::TList, "append", R::MListAppend),
    (R::TList, "clear", R::MListClear),
    (R::TList, "copy", R::MListCopy),
    (R::TList, "count", R::MListCount),
    (R::TList, "extend", R::MListExtend),
    (R::TList, "index", R::MListIndex),
    (R::TList, "insert", R::MListInsert),
    (R::TList, "pop", R::MListPop),
    (R::TList, "remove", R::MListRemove),
    (R::TList, "reverse", R::MListReverse),
    (R::TList, "sort", R::MListSort),
    (R::TDict, "__delitem__", R::MDictDelitem),
    (R::TDict, "__getitem__", R::MDictGetitem),
    (R::TDict, "__setitem__", R::MDictSetitem),
    (R::TDict, "clear", R::MDictClear),
    (R::TDict, "copy", R::MDictCopy),
    (R::TDict, "fromkeys", R::MDictFromkeys),
    (R::TDict, "get", R::MDictGet),
    (R::TDict, "items", R::MDictItems),
    (R::TDict, "keys", R::MDictKeys),
    (R::TDict, "pop", R::MDictPop),
    (R::TDict, "popitem", R::MDictPopitem),
    (R::TDict, "setdefault", R::MDictSetdefault),
    (R::TDict, "update", R::MDictUpdate),
    (R::TDict, "values", R::MDictValues),
    (R::TStr, "center", R::MStrCenter),
    (R::TStr, "count", R::MStrCount),
    (R::TStr, "encode", R::MStrEncode),
    (R::TStr, "endswith", R::MStrEndswith),
    (R::TStr, "find", R::MStrFind),
    (R::TStr, "format", R::MStrFormat),
    (R::TStr, "index", R::MStrIndex),
    (R::TStr, "isalpha", R::MStrIsalpha),
    (R::TStr, "isdigit", R::MStrIsdigit),
    (R::TStr, "islower", R::MStrIslower),
    (R::TStr, "isspace", R::MStrIsspace),
    (R::TStr, "isupper", R::MStrIsupper),
    (R::TStr, "join", R::MStrJoin),
    (R::TStr, "lower", R::MStrLower),
    (R::TStr, "lstrip", R::MStrLstrip),
    (R::TStr, "partition", R::MStrPartition),
    (R::TStr, "replace", R::MStrReplace),
    (R::TStr, "rfind", R::MStrRfind),
    (R::TStr, "rindex", R::MStrRindex),
    (R::TStr, "rpartition", R::MStrRpartition),
    (R::TStr, "rsplit", R::MStrRsplit),
    (R::TStr, "rstrip", R::MStrRstrip),
    (R::TStr, "split", R::MStrSplit),
    (R::TStr, "splitlines", R::MStrSplitlines),
    (R::TStr, "startswith", R::MStrStartswith),
    (R::TStr, "strip", R::MStrStrip),
    (R::TStr, "upper", R::MStrUpper),
    (R::TBytes, "center", R::MStrCenter),
    (R::TBytes, "count", R::MStrCount),
    (R::TBytes, "decode", R::MBytesDecode),
    (R::TBytes, "endswith", R::MStrEndswith),
    (R::TBytes, "find", R::MStrFind),
    (R::TBytes, "format", R::MStrFormat),
    (R::TBytes, "index", R::MStrIndex),
    (R::TBytes, "isalpha", R::MStrIsalpha),
    (R::TBytes, "isdigit", R::MStrIsdigit),
    (R::TBytes, "islower", R::MStrIslower),
    (R::TBytes, "isspace", R::MStrIsspace),
    (R::TBytes, "isupper", R::MStrIsupper),
    (R::TBytes, "join", R::MStrJoin),
    (R::TBytes, "lower", R::MStrLower),
    (R::TBytes, "lstrip", R::MStrLstrip),
    (R::TBytes, "partition", R::MStrPartition),
    (R::TBytes, "replace", R::MStrReplace),
    (R::TBytes, "rfind", R::MStrRfind),
    (R::TBytes, "rindex", R::MStrRindex),
    (R::TBytes, "rpartition", R::MStrRpartition),
    (R::TBytes, "rsplit", R::MStrRsplit),
    (R::TBytes, "rstrip", R::MStrRstrip),
    (R::TBytes, "split", R::MStrSplit),
    (R::TBytes, "splitlines", R::MStrSplitlines),
    (R::TBytes, "startswith", R::MStrStartswith),
    (R::TBytes, "strip", R::MStrStrip),
    (R::TBytes, "upper", R::MStrUpper),
    (R::TBytearray, "append", R::MListAppend),
    (R::TBytearray, "extend", R::MBytearrayExtend),
    (R::TArray, "append", R::MListAppend),
    (R::TArray, "extend", R::MBytearrayExtend),
    (R::TInt, "from_bytes", R::MIntFromBytes),
    (R::TInt, "to_bytes", R::MIntToBytes),
    (R::TTuple, "count", R::MTupleCount),
    (R::TTuple, "index", R::MTupleIndex),
    (R::TSet, "__contains__", R::MSetContains),
    (R::TSet, "add", R::MSetAdd),
    (R::TSet, "clear", R::MSetClear),
    (R::TSet, "copy", R::MSetCopy),
    (R::TSet, "difference", R::MSetDifference),
    (R::TSet, "difference_update", R::MSetDifferenceUpdate),
    (R::TSet, "discard", R::MSetDiscard),
    (R::TSet, "intersection", R::MSetIntersection),
    (R::TSet, "intersection_update", R::MSetIntersectionUpdate),
    (R::TSet, "isdisjoint", R::MSetIsdisjoint),
    (R::TSet, "issubset", R::MSetIssubset),
    (R::TSet, "issuperset", R::MSetIssuperset),
    (R::TSet, "pop", R::MSetPop),
    (R::TSet, "remove", R::MSetRemove),
    (R::TSet, "symmetric_difference", R::MSetSymmetricDifference),
    (
        R::TSet,
        "symmetric_difference_update",
        R::MSetSymmetricDifferenceUpdate,
    ),
    (R::TSet, "union", R::MSetUnion),
    (R::TSet, "update", R::MSetUpdate),
    (R::TFrozenset, "__contains__", R::MSetContains),
    (R::TFrozenset, "copy", R::MSetCopy),
    (R::TFrozenset, "difference", R::MSetDifference),
    (R::TFrozenset, "intersection", R::MSetIntersection),
    (R::TFrozenset, "isdisjoint", R::MSetIsdisjoint),
    (R::TFrozenset, "issubset", R::MSetIssubset),
    (R::TFrozenset, "issuperset", R::MSetIssuperset),
    (
        R::TFrozenset,
        "symmetric_difference",
        R::MSetSymmetricDifference,
    ),
    (R::TFrozenset, "union", R::MSetUnion),
    (R::TFile, "__enter__", R::MFileEnter),
    (R::TFile, "__exit__", R::MFileExit),
    (R::TFile, "close", R::MFileClose),
    (R::TFile, "read", R::MFileRead),
    (R::TFile, "readline", R::MFileReadline),
    (R::TFile, "readlines", R::MFileReadlines),
    (R::TFile, "write", R::MFileWrite),
    (R::TStringIO, "__enter__", R::MFileEnter),
    (R::TStringIO, "__exit__", R::MFileExit),
    (R::TStringIO, "close", R::MFileClose),
    (R::TStringIO, "flush", R::MIoFlush),
    (R::TStringIO, "getvalue", R::MIoGetvalue),
    (R::TStringIO, "read", R::MFileRead),
    (R::TStringIO, "readinto", R::MIoReadinto),
    (R::TStringIO, "readline", R::MFileReadline),
    (R::TStringIO, "seek", R::MIoSeek),
    (R::TStringIO, "write", R::MFileWrite),
    (R::TBytesIO, "__enter__", R::MFileEnter),
    (R::TBytesIO, "__exit__", R::MFileExit),
    (R::TBytesIO, "close", R::MFileClose),
    (R::TBytesIO, "flush", R::MIoFlush),
    (R::TBytesIO, "getvalue", R::MIoGetvalue),
    (R::TBytesIO, "read", R::MFileRead),
    (R::TBytesIO, "readinto", R::MIoReadinto),
    (R::TBytesIO, "readline", R::MFileReadline),
    (R::TBytesIO, "seek", R::MIoSeek),
    (R::TBytesIO, "write", R::MFileWrite),
    (R::TSha256, "digest", R::MHashDigest),
    (R::TSha256, "update", R::MHashUpdate),
    (R::TRe, "match", R::MReMatch),
    (R::TRe, "search", R::MReSearch),
    (R::TRe, "split", R::MReSplit),
    (R::TMatch, "group", R::MMatchGroup),
    (R::TDeque, "append", R::MDequeAppend),
    (R::TDeque, "popleft", R::MDequePopleft),
    (R::TObject, "__init__", R::MObjectInit),
    (R::TObject, "__new__", R::MObjectNew),
];

/// The rows of a ROM table whose rows start with their owner (a type, a module), grouped by
/// owner at compile time ([`by_owner!`]): each owner's row indices, in table order.
pub struct ByOwner<const N: usize> {
    /// Row indices, owner after owner.
    pub(crate) order: [u16; N],
    /// Per owner (`R as usize`), its range of `order`.
    pub(crate) ranges: [(u16, u16); ALL.len()],
}

impl<const N: usize> ByOwner<N> {
    /// The indices of `owner`'s rows, in table order.
    pub fn of(&self, owner: R) -> &[u16] {
        let (start, end) = self.ranges[owner as usize];
        &self.order[usize::from(start)..usize::from(end)]
    }
}

/// A [`ByOwner`] of `$table` (a constant slice of tuples whose first field is an [`R`]),
/// built at compile time.
macro_rules! by_owner {
    ($table:expr) => {{
        let mut order = [0u16; $table.len()];
        let mut ranges = [(0u16, 0u16); $crate::obj::ALL.len()];
        let mut n = 0;
        let mut owner = 0;
        while owner < $crate::obj::ALL.len() {
            let start = n;
            let mut i = 0;
            while i < $table.len() {
                if $table[i].0 as usize == owner {
                    order[n] = i as u16;
                    n += 1;
                }
                i += 1;
            }
            ranges[owner] = (start as u16, n as u16);
            owner += 1;
        }
        $crate::obj::ByOwner { order, ranges }
    }};
}
pub(crate) use by_owner;

/// [`METHODS`] by type.
static METHODS_BY_TYPE: ByOwner<{ METHODS.len() }> = by_owner!(METHODS);

/// The indices in [`METHODS`] of type `t`'s methods, in table order.
pub fn method_indices_of(t: R) -> &'static [u16] {
    METHODS_BY_TYPE.of(t)
}

/// Name of a ROM function/method, for messages.
pub fn rom_fun_name(r: R) -> &'static str {
    if let Some((n, _)) = BUILTINS.iter().find(|(_, x)| *x == r) {
        return n;
    }
    for m in [R::MGc, R::MSys, R::MUos, R::MMicropython, R::MUjson] {
        if let Some((n, _)) = module_functions(m).iter().find(|(_, x)| *x == r) {
            return n;
        }
    }
    if let Some((_, n, _)) = METHODS.iter().find(|(_, _, x)| *x == r) {
        return n;
    }
    "?"
}

/// Whether a ROM object is a callable function (built-in function or method).
pub fn is_rom_fun(r: R) -> bool {
    (r as u16) >= R::FBuildClass as u16
}

/// Word offsets of heap object fields (B32 layouts, semantics.md §4.3).
pub mod layout {
    /// module: `base, globals`.
    pub const MODULE_WORDS: usize = 2;
    /// dict: `base, map(3)`; the map starts at word 1.
    pub const DICT_WORDS: usize = 4;
    /// str/bytes: `base, hash, len, data`.
    pub const STR_WORDS: usize = 4;
    /// list: `base, alloc, len, items`.
    pub const LIST_WORDS: usize = 4;
    /// `fun_bc`: `base, globals, bytecode, const_table`, then default args.
    pub const FUN_WORDS: usize = 4;
    /// user type (`mp_obj_type_t`): 15 words; name at 1, parent at 13, locals dict at 14.
    pub const TYPE_WORDS: usize = 15;
    /// Word of a type's name.
    pub const TYPE_NAME: usize = 1;
    /// Word of a type's parent (a type, a tuple of bases, or NULL).
    pub const TYPE_PARENT: usize = 13;
    /// Word of a type's locals dict.
    pub const TYPE_LOCALS: usize = 14;
    /// instance: `base, members map(3)`.
    pub const INSTANCE_WORDS: usize = 4;
    /// generator function (`mp_obj_gen_wrap_t`): `base, fun_bc`.
    pub const GEN_WRAP_WORDS: usize = 2;
    /// generator instance (`mp_obj_gen_instance_t`) before its state: `base, globals`, then
    /// the code state `fun_bc, ip, sp, exc_sp, old_globals`; `n_state` words and 3 words per
    /// exception-handler record follow.
    pub const GEN_HEADER_WORDS: usize = 7;
    /// exception: `base, traceback alloc|len, traceback data, args`.
    pub const EXC_WORDS: usize = 4;
    /// raw code: `kind|flags|n_pos_args, bytecode, const_table`.
    pub const RAW_CODE_WORDS: usize = 3;

    /// The size `vstr_ensure_extra` renews a vstr's buffer to when `need` bytes do not fit
    /// its allocation: `ROUND_ALLOC(need + 16)` of py/vstr.c.
    pub const fn vstr_grown(need: usize) -> usize {
        ((need + 16) & !7) + 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn methods_by_type_list_each_types_methods_in_table_order() {
        let mut seen = 0;
        for &t in ALL {
            let indexed: Vec<_> = method_indices_of(t)
                .iter()
                .map(|i| &METHODS[usize::from(*i)])
                .collect();
            let scanned: Vec<_> = METHODS.iter().filter(|(ty, _, _)| *ty == t).collect();
            assert_eq!(indexed, scanned, "{t:?}");
            seen += indexed.len();
        }
        assert_eq!(seen, METHODS.len());
    }
}
