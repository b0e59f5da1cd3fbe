#ifndef CSpeexDSP_SHIM_H
#define CSpeexDSP_SHIM_H
#include <speex/speex_preprocess.h>
#include <speex/speex_resampler.h>
#include <speex/speex_echo.h>

/* speex_preprocess_ctl and speex_echo_ctl take a void pointer per request: typed wrappers. */
static inline int cspeex_preprocess_enable_vad(SpeexPreprocessState *state, int enabled) {
    return speex_preprocess_ctl(state, SPEEX_PREPROCESS_SET_VAD, &enabled);
}
static inline int cspeex_preprocess_enable_denoise(SpeexPreprocessState *state, int enabled) {
    return speex_preprocess_ctl(state, SPEEX_PREPROCESS_SET_DENOISE, &enabled);
}
/* A request whose argument is an int (SPEEX_PREPROCESS_SET_AGC, _NOISE_SUPPRESS, _AGC_MAX_GAIN...). */
static inline int cspeex_preprocess_set_int(SpeexPreprocessState *state, int request, int value) {
    return speex_preprocess_ctl(state, request, &value);
}
/* A request whose argument is a float (SPEEX_PREPROCESS_SET_AGC_LEVEL in the floating-point build). */
static inline int cspeex_preprocess_set_float(SpeexPreprocessState *state, int request, float value) {
    return speex_preprocess_ctl(state, request, &value);
}
/* Links the echo canceller to the preprocessor, which then also suppresses the residual echo. */
static inline int cspeex_preprocess_set_echo_state(SpeexPreprocessState *state, SpeexEchoState *echo) {
    return speex_preprocess_ctl(state, SPEEX_PREPROCESS_SET_ECHO_STATE, echo);
}
static inline int cspeex_echo_set_sampling_rate(SpeexEchoState *state, int rate) {
    return speex_echo_ctl(state, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
}
#endif
