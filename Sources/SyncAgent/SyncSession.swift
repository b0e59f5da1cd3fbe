public import LocalStore
public import Logging
public import Resilience

/// What every part of a sync with headquarters works with: the box's database, the signed client,
/// the device key, the link (headquarters' URL, this device and site), the guard on headquarters
/// (``Upstream``: breaker and retries) and the logger. One value for ``OutboxUploader``,
/// ``DownloadApplier`` and ``RecordingUploader``, made once per round by ``SyncWorker``.
public struct SyncSession: Sendable {
    public let database: EdgeDatabase
    public let client: SyncClient
    public let identity: DeviceIdentity
    public let link: HeadquartersLink
    public let upstream: Upstream
    public let logger: Logger

    public init(
        database: EdgeDatabase, client: SyncClient, identity: DeviceIdentity, link: HeadquartersLink,
        upstream: Upstream, logger: Logger
    ) {
        self.database = database
        self.client = client
        self.identity = identity
        self.link = link
        self.upstream = upstream
        self.logger = logger
    }
}

/// The parts of a sync read their session's values by these names.
protocol SyncSessionPart {
    var session: SyncSession { get }
}

extension SyncSessionPart {
    var database: EdgeDatabase { session.database }
    var client: SyncClient { session.client }
    var identity: DeviceIdentity { session.identity }
    var link: HeadquartersLink { session.link }
    var upstream: Upstream { session.upstream }
    var logger: Logger { session.logger }
}
