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
#endif
