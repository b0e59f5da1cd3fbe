public import CoreMetrics
public import Prometheus

/// The agent's metrics registry and the swift-metrics factory over it.
///
/// One instance per application, passed to whatever records metrics, instead of bootstrapping the
/// process-wide `MetricsSystem`: two agents in one test process keep separate numbers.
public struct AgentMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory
    /// How late each outbound frame left, at the pacer (recorded for every frame of every call, so the
    /// handle is made once here rather than looked up per frame).
    public let frameLateness: CoreMetrics.Timer
    /// End of the caller's speech to the agent's first frame, per turn.
    public let turnResponse: CoreMetrics.Timer
    /// Callers who talked over the agent.
    public let bargeIns: CoreMetrics.Counter
    /// Sounds over the agent's speech too short to interrupt it (a clatter, a shout across the room).
    public let ignoredSounds: CoreMetrics.Counter
    /// Upset callers offered a person or a call-back, or put through at their request.
    public let escalations: CoreMetrics.Counter
    /// Pieces spoken by the local voice because ElevenLabs could not.
    public let localVoiceFallbacks: CoreMetrics.Counter
    /// Hold lines played because an answer was late.
    public let holdLines: CoreMetrics.Counter
    /// Calls moved to the keypad flow because speech understanding failed.
    public let keypadCalls: CoreMetrics.Counter
    /// Recordings that could not start or stopped early (a full disk): an alert.
    public let recordingFailures: CoreMetrics.Counter
    /// Twilio recordings stored encrypted on the box.
    public let twilioRecordingsImported: CoreMetrics.Counter
    /// Attempts to import a Twilio recording that failed (retried unless Twilio has no such recording).
    public let twilioRecordingImportFailures: CoreMetrics.Counter
    /// Moments with more guests than seats (after a merge with headquarters), not yet resolved.
    public let overbookedSlots: CoreMetrics.Gauge
    /// Phrase characters played from the cache instead of bought from ElevenLabs; times
    /// ``ttsPricePerThousandCharacters`` / 1000 it is the money the cache saved.
    public let cacheSavedCharacters: CoreMetrics.Counter
    /// The configured ElevenLabs price (`tts.price_per_1k_chars`), so a dashboard can turn characters into money.
    public let ttsPricePerThousandCharacters: CoreMetrics.Gauge
    /// Free bytes in the data folder's file system, read at every scrape.
    public let diskFreeBytes: CoreMetrics.Gauge
    /// The free space below which `/readyz` reports the disk degraded (`disk.minimum_free_mb`).
    public let diskMinimumFreeBytes: CoreMetrics.Gauge
    /// The systemd watchdog interval (`WatchdogSec`), 0 when the agent runs without a watchdog.
    public let watchdogIntervalSeconds: CoreMetrics.Gauge
    /// `WATCHDOG=1` pings sent to systemd.
    public let watchdogPings: CoreMetrics.Counter

    /// Every value of the `outcome` dimension of `edge_calls_total` (what ``CallSession`` reports).
    public static let callOutcomes = [
        "transferred", "reservation_created", "reservation_changed", "reservation_cancelled", "message_taken",
        "information", "no_conversation",
    ]
    /// Every value of the `stage` dimension of `edge_turn_stage_seconds`, in the order a turn passes them:
    /// end of speech to final transcript, to the model's first token, to the first audio, to the first frame sent.
    public static let turnStages = ["transcription", "llm_first_token", "tts_first_audio", "playout"]
    /// Every value of the `reason` dimension of `edge_watchdog_probe_failures_total`.
    public static let watchdogProbeFailureReasons = ["failed", "late"]

    private let callCounters: [String: CoreMetrics.Counter]
    private let stageTimers: [String: CoreMetrics.Timer]
    private let watchdogProbeFailureCounters: [String: CoreMetrics.Counter]

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        self.factory = factory
        frameLateness = CoreMetrics.Timer(label: "edge_outbound_frame_lateness_seconds", factory: factory)
        turnResponse = CoreMetrics.Timer(label: "edge_turn_response_seconds", factory: factory)
        bargeIns = CoreMetrics.Counter(label: "edge_barge_ins_total", factory: factory)
        ignoredSounds = CoreMetrics.Counter(label: "edge_barge_ins_ignored_total", factory: factory)
        escalations = CoreMetrics.Counter(label: "edge_escalations_total", factory: factory)
        localVoiceFallbacks = CoreMetrics.Counter(label: "edge_tts_local_fallbacks_total", factory: factory)
        holdLines = CoreMetrics.Counter(label: "edge_hold_lines_total", factory: factory)
        keypadCalls = CoreMetrics.Counter(label: "edge_keypad_fallbacks_total", factory: factory)
        recordingFailures = CoreMetrics.Counter(label: "edge_recording_failures_total", factory: factory)
        twilioRecordingsImported = CoreMetrics.Counter(
            label: "edge_twilio_recordings_imported_total", factory: factory)
        overbookedSlots = CoreMetrics.Gauge(label: "edge_overbooked_slots", factory: factory)
        twilioRecordingImportFailures = CoreMetrics.Counter(
            label: "edge_twilio_recording_import_failures_total", factory: factory)
        cacheSavedCharacters = CoreMetrics.Counter(
            label: "edge_phrase_cache_saved_characters_total", factory: factory)
        ttsPricePerThousandCharacters = CoreMetrics.Gauge(
            label: "edge_tts_price_per_thousand_characters", factory: factory)
        diskFreeBytes = CoreMetrics.Gauge(label: "edge_disk_free_bytes", factory: factory)
        diskMinimumFreeBytes = CoreMetrics.Gauge(label: "edge_disk_minimum_free_bytes", factory: factory)
        watchdogIntervalSeconds = CoreMetrics.Gauge(label: "edge_watchdog_interval_seconds", factory: factory)
        watchdogPings = CoreMetrics.Counter(label: "edge_watchdog_pings_total", factory: factory)
        // Every labelled series is made here, so each is exposed (at zero) from the first scrape and
        // Prometheus' rate() and the alert rules see it before the first call.
        callCounters = Dictionary(
            uniqueKeysWithValues: Self.callOutcomes.map {
                ($0, CoreMetrics.Counter(label: "edge_calls_total", dimensions: [("outcome", $0)], factory: factory))
            })
        stageTimers = Dictionary(
            uniqueKeysWithValues: Self.turnStages.map {
                ($0, CoreMetrics.Timer(label: "edge_turn_stage_seconds", dimensions: [("stage", $0)], factory: factory))
            })
        watchdogProbeFailureCounters = Dictionary(
            uniqueKeysWithValues: Self.watchdogProbeFailureReasons.map {
                (
                    $0,
                    CoreMetrics.Counter(
                        label: "edge_watchdog_probe_failures_total", dimensions: [("reason", $0)], factory: factory)
                )
            })
    }

    /// `edge_calls_total{outcome}`: calls ended, by what they achieved (one of ``callOutcomes``).
    public func calls(outcome: String) -> CoreMetrics.Counter {
        callCounters[outcome]
            ?? CoreMetrics.Counter(label: "edge_calls_total", dimensions: [("outcome", outcome)], factory: factory)
    }

    /// `edge_turn_stage_seconds{stage}`: the time one stage of a turn took (one of ``turnStages``).
    public func turnStage(_ stage: String) -> CoreMetrics.Timer {
        stageTimers[stage]
            ?? CoreMetrics.Timer(label: "edge_turn_stage_seconds", dimensions: [("stage", stage)], factory: factory)
    }

    /// `edge_watchdog_probe_failures_total{reason}`: health probes that said no (`failed`) or did not
    /// answer in time (`late`), so no watchdog ping went out.
    public func watchdogProbeFailures(_ reason: String) -> CoreMetrics.Counter {
        watchdogProbeFailureCounters[reason]
            ?? CoreMetrics.Counter(
                label: "edge_watchdog_probe_failures_total", dimensions: [("reason", reason)], factory: factory)
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String {
        registry.emitToString()
    }
}
