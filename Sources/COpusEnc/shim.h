#ifndef COpusEnc_SHIM_H
#define COpusEnc_SHIM_H
#include <opusenc.h>

/* ope_encoder_ctl is variadic: one inline wrapper per request used. */
static inline int copusenc_set_bitrate(OggOpusEnc *encoder, opus_int32 bitrate) {
    return ope_encoder_ctl(encoder, OPUS_SET_BITRATE(bitrate));
}
static inline int copusenc_set_signal_voice(OggOpusEnc *encoder) {
    return ope_encoder_ctl(encoder, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
}
static inline int copusenc_set_muxing_delay(OggOpusEnc *encoder, opus_int32 samples48k) {
    return ope_encoder_ctl(encoder, OPE_SET_MUXING_DELAY(samples48k));
}
static inline int copusenc_force_channels(OggOpusEnc *encoder, opus_int32 channels) {
    return ope_encoder_ctl(encoder, OPUS_SET_FORCE_CHANNELS(channels));
}
static inline int copusenc_set_decision_delay(OggOpusEnc *encoder, opus_int32 samples48k) {
    return ope_encoder_ctl(encoder, OPE_SET_DECISION_DELAY(samples48k));
}
static inline int copusenc_set_complexity(OggOpusEnc *encoder, opus_int32 complexity) {
    return ope_encoder_ctl(encoder, OPUS_SET_COMPLEXITY(complexity));
}
#endif
