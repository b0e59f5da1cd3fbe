public import Logging
public import ServiceLifecycle

/// `serve`'s cache warmer: at start, fetches every catalog phrase not cached yet for the configured
/// voices (a changed voice or catalog makes new keys, so a restart after such a change warms them),
/// then keeps the hit counters flushed until the agent stops.
public struct PhraseWarmingService: Service {
    let warmer: PhraseWarmer
    let cache: PhraseCache
    let logger: Logger

    public init(warmer: PhraseWarmer, cache: PhraseCache, logger: Logger) {
        self.warmer = warmer
        self.cache = cache
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await warm()
        }
        try? await gracefulShutdown()
        await cache.flush()
    }

    private func warm() async {
        guard warmer.speech.provider != nil else {
            logger.info("no cloud voice configured: the phrase cache is not warmed")
            return
        }
        do {
            let report = try await warmer.warm()
            let level: Logger.Level = report.failed == 0 ? .info : .warning
            logger.log(
                level: level, "phrase cache warmed",
                metadata: [
                    "cache.phrases": .stringConvertible(report.phrases),
                    "cache.fetched": .stringConvertible(report.fetched),
                    "cache.failed": .stringConvertible(report.failed),
                    "cache.bytes": .stringConvertible(report.bytes),
                ])
        } catch is CancellationError {
            return
        } catch {
            logger.warning("phrase cache not warmed", metadata: ["error": "\(error)"])
        }
    }
}
