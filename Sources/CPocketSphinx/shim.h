#ifndef CPocketSphinx_SHIM_H
#define CPocketSphinx_SHIM_H
#include <stdio.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/logmath.h>

/* A decoder configured by `argc` command-line style arguments (`-hmm`, `-dict`, `-samprate`...), logging
 * nowhere; NULL when an argument or the model is refused. Grammars are added later
 * (ps_set_jsgf_string), one search per dialogue step. */
static inline ps_decoder_t *cpocketsphinx_open(int argc, char **argv) {
    err_set_logfp(NULL);
    cmd_ln_t *config = cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
    if (config == NULL) return NULL;
    ps_decoder_t *decoder = ps_init(config);
    cmd_ln_free_r(config);
    return decoder;
}
#endif
