import sys
import tracemalloc
import gc as _mpdiff_real_gc
class gc:
    # MicroPython's gc on CPython: memory is what tracemalloc traces since the
    # scenario started; free is a nominal heap minus that, so it rises when memory
    # comes back, as on MicroPython.
    heap = 0
    @staticmethod
    def collect():
        sys.stdout.flush()
        # The type attribute cache keeps the attribute names looked up last alive;
        # which ones survive depends on cache slots, so it is emptied first.
        sys._clear_type_cache()
        _mpdiff_real_gc.collect()
    @staticmethod
    def mem_alloc():
        return tracemalloc.get_traced_memory()[0]
    @staticmethod
    def mem_free():
        return gc.heap - tracemalloc.get_traced_memory()[0]
