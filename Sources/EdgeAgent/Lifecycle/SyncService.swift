public import Logging
public import ServiceLifecycle
public import SyncAgent

/// `serve`'s sync with headquarters: rounds of ``SyncWorker`` until the agent stops. Off when the box
/// is neither enrolled nor given `EDGE_HQ_URL`.
public struct SyncService: Service {
    let worker: SyncWorker?
    let logger: Logger

    public init(worker: SyncWorker?, logger: Logger) {
        self.worker = worker
        self.logger = logger
    }

    public func run() async throws {
        guard let worker else {
            logger.info("sync with headquarters is off: the box is not enrolled (edge-agent provision)")
            return
        }
        await cancelWhenGracefulShutdown {
            await worker.run()
        }
    }
}
