#ifndef CSpeexDSP_SHIM_H
#define CSpeexDSP_SHIM_H
#include <speex/speex_preprocess.h>
#include <speex/speex_resampler.h>
#include <speex/speex_echo.h>

/* speex_preprocess_ctl takes a void pointer per request: typed wrappers for the ones used. */
static inline int cspeex_preprocess_enable_vad(SpeexPreprocessState *state, int enabled) {
    return speex_preprocess_ctl(state, SPEEX_PREPROCESS_SET_VAD, &enabled);
}
static inline int cspeex_preprocess_enable_denoise(SpeexPreprocessState *state, int enabled) {
    return speex_preprocess_ctl(state, SPEEX_PREPROCESS_SET_DENOISE, &enabled);
}
#endif
