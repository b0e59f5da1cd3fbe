import Synchronization

/// The memory tier of the phrase cache: audio by key, bounded in bytes, least recently used evicted
/// first. A hit is a dictionary lookup under a lock (well under a microsecond); eviction scans for the
/// oldest entry, which is fine because it happens only when a new phrase is added.
final class MemoryPhraseTier: Sendable {
    private struct Entry {
        let audio: [UInt8]
        var lastUse: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var tick: UInt64 = 0
    }

    /// The most audio held at once.
    let capacityBytes: Int
    private let state = Mutex(State())

    init(capacityBytes: Int) {
        self.capacityBytes = capacityBytes
    }

    /// The audio of `key`, marked as just used.
    func audio(_ key: String) -> [UInt8]? {
        state.withLock { state in
            guard var entry = state.entries[key] else { return nil }
            state.tick += 1
            entry.lastUse = state.tick
            state.entries[key] = entry
            return entry.audio
        }
    }

    /// Whether `key` is held, without marking it used.
    func contains(_ key: String) -> Bool {
        state.withLock { $0.entries[key] != nil }
    }

    /// Adds `audio`, evicting the least recently used entries until it fits. Audio larger than the
    /// whole tier is not kept.
    func insert(_ key: String, audio: [UInt8]) {
        guard audio.count <= capacityBytes else { return }
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.bytes -= old.audio.count }
            while state.bytes + audio.count > capacityBytes,
                let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse })
            {
                state.entries[oldest.key] = nil
                state.bytes -= oldest.value.audio.count
            }
            state.tick += 1
            state.entries[key] = Entry(audio: audio, lastUse: state.tick)
            state.bytes += audio.count
        }
    }

    /// Forgets `key`.
    func remove(_ key: String) {
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.bytes -= old.audio.count }
        }
    }

    /// The bytes held now.
    var bytes: Int { state.withLock { $0.bytes } }
    /// The entries held now.
    var count: Int { state.withLock { $0.entries.count } }
}
