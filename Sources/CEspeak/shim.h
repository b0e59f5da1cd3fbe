#ifndef CEspeak_SHIM_H
#define CEspeak_SHIM_H
#include <espeak-ng/speak_lib.h>
#include <stdlib.h>
#include <string.h>

/* Samples espeak-ng hands back during one synthesis. */
typedef struct {
    short *samples;
    int count;
    int capacity;
    int failed;
} cespeak_buffer;

/* The synthesis callback: appends the samples to the buffer passed as user data. */
static inline int cespeak_collect(short *wav, int numsamples, espeak_EVENT *events) {
    if (wav == NULL || numsamples <= 0 || events == NULL) return 0;
    cespeak_buffer *buffer = (cespeak_buffer *)events->user_data;
    if (buffer == NULL || buffer->failed) return 0;
    if (buffer->count + numsamples > buffer->capacity) {
        int capacity = (buffer->capacity == 0 ? 22050 : buffer->capacity * 2);
        while (capacity < buffer->count + numsamples) capacity *= 2;
        short *grown = (short *)realloc(buffer->samples, (size_t)capacity * sizeof(short));
        if (grown == NULL) {
            buffer->failed = 1;
            return 1;
        }
        buffer->samples = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->samples + buffer->count, wav, (size_t)numsamples * sizeof(short));
    buffer->count += numsamples;
    return 0;
}

/* Starts espeak-ng for synchronous synthesis into buffers; returns its sample rate, or <= 0. */
static inline int cespeak_initialize(void) {
    int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, NULL, espeakINITIALIZE_DONT_EXIT);
    if (rate > 0) espeak_SetSynthCallback(cespeak_collect);
    return rate;
}

/* Speaks UTF-8 `text` with `voice` into `buffer`; 0 on success. */
static inline int cespeak_speak(const char *voice, const char *text, cespeak_buffer *buffer) {
    if (espeak_SetVoiceByName(voice) != EE_OK) return -1;
    if (espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, buffer) != EE_OK) return -2;
    if (espeak_Synchronize() != EE_OK) return -3;
    return buffer->failed ? -4 : 0;
}

static inline void cespeak_release(cespeak_buffer *buffer) {
    free(buffer->samples);
    buffer->samples = NULL;
    buffer->count = 0;
    buffer->capacity = 0;
}
#endif
