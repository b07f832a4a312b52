/* The malloc counter the allocation tests read (Tests/CallVaultTestSupport/MallocCounter.swift).
 * Preloaded into the test process (LD_PRELOAD); counts malloc-family calls made on the thread between
 * cv_count_begin() and cv_count_end(). scripts/test builds it:
 *   cc -shared -fPIC -O2 -o libcallvault-malloc-counter.so scripts/malloc-counter.c
 */
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static __thread int counting;
static __thread long count;

void cv_count_begin(void) { count = 0; counting = 1; }
long cv_count_end(void) { counting = 0; return count; }

void *malloc(size_t n) { if (counting) count++; return __libc_malloc(n); }
void *calloc(size_t m, size_t n) { if (counting) count++; return __libc_calloc(m, n); }
void *realloc(void *p, size_t n) { if (counting) count++; return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { if (counting) count++; return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { if (counting) count++; return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    if (counting) count++;
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
