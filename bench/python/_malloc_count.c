/* Counts the heap bytes a process holds through malloc and friends, and their peak, for bench_zo.py's memory
 * section: built with `cc -O2 -shared -fPIC`, loaded with LD_PRELOAD into the measuring child process only.
 *
 * Every allocation function forwards to glibc's own (__libc_*) and adds malloc_usable_size of the block;
 * free subtracts it. This sees torch's CPU allocator (posix_memalign), NumPy buffers, BLAS scratch and C++
 * containers of our kernels alike; not pymalloc's arenas or thread stacks (mmap directly: tracemalloc and RSS
 * cover those). Counting is exact and independent of glibc's arenas, its moving mmap threshold and page reuse,
 * which make the resident set vary between identical runs.
 *
 * Python reads it through ctypes: gfo_malloc_current(), gfo_malloc_peak(), gfo_malloc_reset_peak().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>

extern void* __libc_malloc(size_t);
extern void __libc_free(void*);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);

static _Atomic long long current_bytes, peak_bytes;

static void account(long long delta) {
  long long now = atomic_fetch_add_explicit(&current_bytes, delta, memory_order_relaxed) + delta;
  long long peak = atomic_load_explicit(&peak_bytes, memory_order_relaxed);
  while (now > peak && !atomic_compare_exchange_weak_explicit(&peak_bytes, &peak, now, memory_order_relaxed,
                                                               memory_order_relaxed)) {
  }
}

static void* counted(void* p) {
  if (p) account((long long)malloc_usable_size(p));
  return p;
}

void* malloc(size_t n) { return counted(__libc_malloc(n)); }
void* calloc(size_t n, size_t size) { return counted(__libc_calloc(n, size)); }
void* memalign(size_t align, size_t n) { return counted(__libc_memalign(align, n)); }
void* aligned_alloc(size_t align, size_t n) { return counted(__libc_memalign(align, n)); }
void* valloc(size_t n) { return counted(__libc_memalign((size_t)sysconf(_SC_PAGESIZE), n)); }

void* pvalloc(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  return counted(__libc_memalign(page, (n + page - 1) / page * page));
}

int posix_memalign(void** out, size_t align, size_t n) {
  if (align % sizeof(void*) != 0 || (align & (align - 1)) != 0) return EINVAL;
  void* p = counted(__libc_memalign(align, n));
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

void free(void* p) {
  if (!p) return;
  account(-(long long)malloc_usable_size(p));
  __libc_free(p);
}

void* realloc(void* p, size_t n) {
  long long before = p ? (long long)malloc_usable_size(p) : 0;
  void* q = __libc_realloc(p, n);
  if (q) account((long long)malloc_usable_size(q) - before);
  else if (p && n == 0) account(-before);  // realloc(p, 0) freed p
  return q;
}

void* reallocarray(void* p, size_t n, size_t size) {
  if (size && n > (size_t)-1 / size) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(p, n * size);
}

long long gfo_malloc_current(void) { return atomic_load(&current_bytes); }
long long gfo_malloc_peak(void) { return atomic_load(&peak_bytes); }
void gfo_malloc_reset_peak(void) { atomic_store(&peak_bytes, atomic_load(&current_bytes)); }
