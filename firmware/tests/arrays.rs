//! `array.array` and `memoryview` (py/objarray.c): values, views, errors and what an array
//! buffer costs. The expected texts are what MicroPython 1.9.4 (32-bit unix port, 36K heap)
//! prints for the same scripts.

mod support;

use support::{exec, machine};

fn run(src: &str) -> String {
    let mut m = machine(&[]);
    let (out, err) = exec(&mut m, src, "t.py");
    err.unwrap_or(out)
}

#[test]
fn arrays_views_and_their_errors() {
    let out = run("import array\n\
         a = array.array('h', [1, -2, 3])\n\
         a.append(40000)\n\
         a.extend(b'\\x05\\x00')\n\
         a[1:3] = array.array('h', [7, 8, 9])\n\
         print(a, len(a), a[-1], a[1:3], list(a))\n\
         m = memoryview(a)\n\
         m[0] = -1\n\
         print(m[0], len(m[2:]), bytes(m[4:]), a)\n\
         print(array.array('B', [256 + 7, -1]), array.array('f', [1, 0.5]), array.array('d'))\n\
         for bad in (\"array.array('x')\", \"a[::2]\", \"a.extend([1])\", \"a[0:1] = [1]\", \"memoryview(b'ab')[0] = 1\"):\n\
         \x20   try:\n\
         \x20       exec(bad)\n\
         \x20   except Exception as e:\n\
         \x20       print(type(e).__name__, e)\n");
    assert_eq!(
        out,
        "array('h', [1, 7, 8, 9, -25536, 5]) 6 5 array('h', [7, 8]) [1, 7, 8, 9, -25536, 5]\n\
         -1 4 b'@\\x9c\\x05\\x00' array('h', [-1, 7, 8, 9, -25536, 5])\n\
         array('B', [7, 255]) array('f', [1.0, 0.5]) array('d')\n\
         ValueError bad typecode\n\
         NotImplementedError only slices with step=1 (aka None) are supported\n\
         TypeError object with buffer protocol required\n\
         NotImplementedError array/bytes required on right side\n\
         TypeError 'memoryview' object does not support item assignment\n"
    );
}

#[test]
fn an_array_buffer_costs_its_object_and_items() {
    let out = run("import array, gc\n\
         gc.collect()\n\
         f0 = gc.mem_free()\n\
         buf = array.array('i', range(100))\n\
         gc.collect()\n\
         f1 = gc.mem_free()\n\
         del buf\n\
         gc.collect()\n\
         print(f0 - f1, gc.mem_free() - f1)\n");
    assert_eq!(out, "448 400\n");
}
