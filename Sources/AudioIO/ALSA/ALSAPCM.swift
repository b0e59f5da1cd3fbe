import CALSA
import Foundation

/// A failure of ALSA (libasound): the device, what was being done, and ALSA's own words.
public struct ALSAError: Error, CustomStringConvertible, Sendable {
    public let device: String
    public let description: String

    init(device: String, doing: String, code: Int32) {
        self.device = device
        let reason = String(cString: snd_strerror(code))
        description =
            "ALSA could not \(doing) the sound device '\(device)': \(reason). List the devices with "
            + "`edge-agent audio devices`; check the headset is plugged in and not muted (alsamixer)"
    }
}

/// One direction of a sound device, 16-bit mono at a chosen rate (ALSA's plug layer converts to what
/// the hardware takes). Reads and writes block until the device has taken or given the samples, so
/// they belong on a thread of their own, never on the cooperative pool or a NIO event loop.
///
/// Not `Sendable`: one thread owns one stream.
public final class ALSAPCM {
    /// Which way the audio goes.
    public enum Direction: Sendable {
        case playback
        case capture
    }

    public let device: String
    public let direction: Direction
    public let sampleRate: Int
    private let pcm: OpaquePointer

    /// Opens `device` (`default`, `plughw:1,0`, a name from ``ALSADevices/list()``).
    /// - Parameter latency: how much audio ALSA buffers.
    public init(
        device: String, direction: Direction, sampleRate: Int = TelephoneAudio.sampleRate,
        latency: Duration = .milliseconds(100)
    ) throws(ALSAError) {
        self.device = device
        self.direction = direction
        self.sampleRate = sampleRate
        var handle: OpaquePointer?
        let stream = direction == .playback ? SND_PCM_STREAM_PLAYBACK : SND_PCM_STREAM_CAPTURE
        let opened = snd_pcm_open(&handle, device, stream, 0)
        guard opened >= 0, let handle else {
            throw ALSAError(device: device, doing: "open for \(direction)", code: opened)
        }
        let microseconds = UInt32(
            latency.components.seconds * 1_000_000
                + latency.components.attoseconds / 1_000_000_000_000)
        let configured = snd_pcm_set_params(
            handle, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 1, UInt32(sampleRate), 1, microseconds)
        guard configured >= 0 else {
            snd_pcm_close(handle)
            throw ALSAError(device: device, doing: "set 16-bit mono at \(sampleRate) Hz on", code: configured)
        }
        pcm = handle
    }

    deinit {
        snd_pcm_close(pcm)
    }

    /// Plays `samples`, blocking until ALSA has taken them all (an underrun is recovered from).
    public func write(_ samples: [Int16]) throws(ALSAError) {
        var offset = 0
        while offset < samples.count {
            let written = samples.withUnsafeBufferPointer { buffer in
                snd_pcm_writei(pcm, buffer.baseAddress! + offset, snd_pcm_uframes_t(samples.count - offset))
            }
            if written < 0 {
                let recovered = snd_pcm_recover(pcm, Int32(written), 1)
                guard recovered >= 0 else { throw ALSAError(device: device, doing: "play on", code: Int32(written)) }
                continue
            }
            offset += Int(written)
        }
    }

    /// Records `count` samples, blocking until they have been captured (an overrun is recovered from).
    public func read(_ count: Int) throws(ALSAError) -> [Int16] {
        var samples = [Int16](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            // A frame (20 ms) at a time: some plugins (ALSA's file plugin) refuse more than a period.
            let chunk = min(count - offset, TelephoneAudio.samplesPerFrame)
            let read = samples.withUnsafeMutableBufferPointer { buffer in
                snd_pcm_readi(pcm, buffer.baseAddress! + offset, snd_pcm_uframes_t(chunk))
            }
            if read < 0 {
                let recovered = snd_pcm_recover(pcm, Int32(read), 1)
                guard recovered >= 0 else { throw ALSAError(device: device, doing: "record from", code: Int32(read)) }
                continue
            }
            if read == 0 { break }
            offset += Int(read)
        }
        return Array(samples.prefix(offset))
    }

    /// Waits until everything written has been played.
    public func drain() {
        if direction == .playback { snd_pcm_drain(pcm) }
    }
}
