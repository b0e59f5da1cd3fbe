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
        localVoiceFallbacks = CoreMetrics.Counter(label: "edge_tts_local_fallbacks_total", factory: factory)
        holdLines = CoreMetrics.Counter(label: "edge_hold_lines_total", factory: factory)
        keypadCalls = CoreMetrics.Counter(label: "edge_keypad_fallbacks_total", factory: factory)
        recordingFailures = CoreMetrics.Counter(label: "edge_recording_failures_total", factory: factory)
        twilioRecordingsImported = CoreMetrics.Counter(
            label: "edge_twilio_recordings_imported_total", factory: factory)
        overbookedSlots = CoreMetrics.Gauge(label: "edge_overbooked_slots", factory: factory)
        twilioRecordingImportFailures = CoreMetrics.Counter(
            label: "edge_twilio_recording_import_failures_total", factory: factory)
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String {
        registry.emitToString()
    }
}
