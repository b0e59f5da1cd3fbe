import Foundation
import GRDB
import LocalStore
import Logging
import Resilience
public import Sync

/// Brings headquarters' changes down by cursor and applies each page in one local transaction, with
/// the cursor, so a page is applied wholly or not at all and never twice. Headquarters is the arbiter:
/// a downloaded row replaces the box's unless the box holds a newer version (which it has yet to
/// upload, and headquarters will judge). Downloaded rows do not go back to the outbox. A menu item
/// staff marked (un)available keeps that availability while headquarters sends the version it was
/// set on, and takes headquarters' once the item changes there (``MenuCatalog/merged(_:in:)``).
public struct DownloadApplier: Sendable, SyncSessionPart {
    let session: SyncSession
    public var pageSize = 500
    static let cursorKey = "download_cursor"

    public init(session: SyncSession) {
        self.session = session
    }

    /// What a pull did.
    public struct Report: Sendable, Equatable {
        public var pages = 0
        public var applied = 0
        /// Rows the box kept because it holds a newer version.
        public var keptLocal = 0
        /// Menu items whose words or price changed.
        public var changedMenuItems: Set<String> = []
        /// The booking settings headquarters sent, when it sent new ones.
        public var settings: SiteSettings?
        /// When the reservations that came down start (and started, before a change), Unix ms: the
        /// moments to check for overbooking.
        public var reservationStarts: Set<Int64> = []
        /// Voicemails left at headquarters that became new staff messages.
        public var voicemails = 0
    }

    /// Pages until headquarters has nothing more.
    public func pull() async throws -> Report {
        var report = Report()
        while true {
            let cursor = try await SyncState(database: database).value(Self.cursorKey)
            let page = try await upstream.run(classify: OutboxUploader.classify) {
                try await client.download(cursor: cursor, limit: pageSize, identity: identity, deviceID: link.deviceID)
            }
            if !page.changes.isEmpty || page.nextCursor != cursor {
                try await apply(page, report: &report)
            }
            report.pages += 1
            if report.pages == 1 {
                // Headquarters' clock as just measured: the box's change stamps follow it.
                let offset = client.serverNow() - client.localNow()
                let now = database.clock.nowMilliseconds()
                try await database.write { db in
                    try HybridLogicalClock.setHeadquartersOffset(offset, physical: now, in: db)
                }
            }
            guard page.more else { return report }
        }
    }

    /// Applies one page and stores its cursor, in one transaction.
    func apply(_ page: DownloadPage, report: inout Report) async throws {
        let now = database.clock.nowMilliseconds()
        let outcome = try await database.write { db -> Report in
            var counts = Report()
            try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
            for change in page.changes {
                guard let row = change.row else { continue }
                switch row {
                case .menuItem(let item):
                    // Staff's availability for the night holds until headquarters changes the item.
                    try MenuCatalog.merged(item, in: db).save(db)
                    counts.changedMenuItems.insert(item.id)
                    counts.applied += 1
                case .menuItemTranslation(let translation):
                    try translation.save(db)
                    counts.changedMenuItems.insert(translation.menuItemID)
                    counts.applied += 1
                case .reservation(var reservation):
                    let local = try Reservation.fetchOne(db, key: reservation.id)
                    if let local, local.version > reservation.version {
                        counts.keptLocal += 1
                        continue
                    }
                    counts.reservationStarts.insert(reservation.startsAt)
                    if let local { counts.reservationStarts.insert(local.startsAt) }
                    // Links to rows this box never had (another box's call, a web customer) are dropped.
                    if let customer = reservation.customerID, try Customer.fetchOne(db, key: customer) == nil {
                        reservation.customerID = nil
                    }
                    if let call = reservation.callID, try Call.fetchOne(db, key: call) == nil {
                        reservation.callID = nil
                    }
                    try reservation.save(db)
                    counts.applied += 1
                case .siteSettings(let settings):
                    try SiteSettingsStore.save(settings, changedAt: change.changedAt, in: db)
                    counts.settings = settings
                    counts.applied += 1
                case .voicemail(let voicemail):
                    // Inserted once: a page downloaded again keeps what staff did with the message.
                    let message = Self.staffMessage(voicemail)
                    if try StaffMessage.fetchOne(db, key: message.id) == nil {
                        try message.insert(db)
                        counts.voicemails += 1
                    }
                    counts.applied += 1
                default:
                    continue
                }
            }
            if let latest = page.changes.map(\.changedAt).max() {
                try HybridLogicalClock.observe(latest, physical: now, in: db)
            }
            try SyncState.set(Self.cursorKey, page.nextCursor, at: now, in: db)
            return counts
        }
        report.applied += outcome.applied
        report.keptLocal += outcome.keptLocal
        report.changedMenuItems.formUnion(outcome.changedMenuItems)
        if let settings = outcome.settings { report.settings = settings }
        report.reservationStarts.formUnion(outcome.reservationStarts)
        report.voicemails += outcome.voicemails
    }

    /// The staff message a voicemail left at headquarters becomes.
    static func staffMessage(_ voicemail: Voicemail) -> StaffMessage {
        StaffMessage(
            id: voicemail.id, callID: nil,
            message:
                "Voicemail of \(voicemail.durationSeconds) s left while this box could not answer (the call went to headquarters' fallback); its recording is kept at headquarters as \(voicemail.id).",
            callbackPhone: voicemail.caller, language: voicemail.language, createdAt: voicemail.calledAt)
    }
}
