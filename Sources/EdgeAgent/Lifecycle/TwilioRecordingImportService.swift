public import Logging
public import ServiceLifecycle

/// `serve`'s importer of Twilio recordings: a pass at start (imports a crash or an outage left
/// pending), then one every ``interval`` until the agent stops; a stop waits for the running import.
public struct TwilioRecordingImportService: Service {
    let importer: TwilioRecordingImporter?
    let interval: Duration
    let logger: Logger

    public init(importer: TwilioRecordingImporter?, interval: Duration = .seconds(300), logger: Logger) {
        self.importer = importer
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        guard let importer else { return }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await importer.startPass()
                await importer.idle()
                try? await Task.sleep(for: interval)
            }
        }
        await importer.idle()
    }
}
