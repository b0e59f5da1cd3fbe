import CALSA
import COpus
import COpusEnc
import CSodium
import CSpeexDSP
import Foundation
import Testing

/// Each C library links through its module map and answers a real call, so a missing `-dev` package
/// or a broken pkg-config entry fails here with the library's name rather than deep in a later feature.
@Suite("C libraries")
struct SystemLibrariesTests {
    @Test("libsodium initialises and seals a message")
    func sodium() {
        #expect(sodium_init() >= 0)
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_box_publickeybytes()))
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_box_secretkeybytes()))
        #expect(crypto_box_keypair(&publicKey, &secretKey) == 0)
        let message: [UInt8] = Array("hello".utf8)
        var sealed = [UInt8](repeating: 0, count: message.count + Int(crypto_box_sealbytes()))
        #expect(crypto_box_seal(&sealed, message, UInt64(message.count), publicKey) == 0)
        var opened = [UInt8](repeating: 0, count: message.count)
        #expect(crypto_box_seal_open(&opened, sealed, UInt64(sealed.count), publicKey, secretKey) == 0)
        #expect(opened == message)
    }

    @Test("libopus encodes a 20 ms voice frame at 8 kHz through the shim's ctl wrappers")
    func opus() {
        var error: Int32 = 0
        guard let encoder = opus_encoder_create(8000, 1, OPUS_APPLICATION_VOIP, &error) else {
            Issue.record("opus_encoder_create failed with \(error)")
            return
        }
        #expect(error == OPUS_OK)
        defer { opus_encoder_destroy(encoder) }
        #expect(copus_encoder_set_bitrate(encoder, 16000) == OPUS_OK)
        #expect(copus_encoder_set_signal_voice(encoder) == OPUS_OK)
        let samples = (0..<160).map { Int16(8000 * sin(Double($0) * 2 * .pi * 440 / 8000)) }
        var packet = [UInt8](repeating: 0, count: 400)
        let length = opus_encode(encoder, samples, 160, &packet, Int32(packet.count))
        #expect(length > 0)
    }

    @Test("libopusenc is linked")
    func opusenc() {
        let version = String(cString: ope_get_version_string())
        #expect(version.contains("libopusenc"))
    }

    @Test("SpeexDSP builds a preprocessor with VAD on")
    func speexdsp() {
        let state = speex_preprocess_state_init(160, 8000)
        #expect(state != nil)
        defer { speex_preprocess_state_destroy(state) }
        #expect(cspeex_preprocess_enable_vad(state, 1) == 0)
        var frame = [Int16](repeating: 0, count: 160)
        _ = speex_preprocess_run(state, &frame)
    }

    @Test("ALSA opens the null device, which needs no sound card")
    func alsa() {
        var handle: OpaquePointer?
        #expect(snd_pcm_open(&handle, "null", SND_PCM_STREAM_PLAYBACK, 0) == 0)
        if let handle { snd_pcm_close(handle) }
    }
}
