#ifndef CALLVAULT_CPOCKETSPHINX_SHIM_H
#define CALLVAULT_CPOCKETSPHINX_SHIM_H
#include <stdio.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/logmath.h>

/* cmd_ln_init is variadic: Swift cannot call it. One decoder from an acoustic model directory,
   a language model and a dictionary; library logging off (it would print recognised words). */
static inline ps_decoder_t *cv_ps_create(const char *hmm, const char *lm, const char *dict) {
    err_set_logfp(NULL);
    cmd_ln_t *config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-lm", lm, "-dict", dict,
                                   "-logfn", "/dev/null", NULL);
    if (config == NULL) return NULL;
    ps_decoder_t *decoder = ps_init(config);
    cmd_ln_free_r(config);
    return decoder;
}
#endif
