import Foundation
import GRDB
public import Sync

/// Customer profiles, found by E.164 phone number.
public struct CustomerDirectory: Sendable {
    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// The profile of `phone`, if any.
    public func customer(phone: String) async throws -> Customer? {
        guard let phone = PhoneNumber.e164(phone) else { return nil }
        return try await database.read { db in try Self.customer(phone: phone, in: db) }
    }

    /// Remembers what a call taught about a known caller (their language); unknown callers are not
    /// given a profile just for calling.
    public func rememberAfterCall(phone: String, language: String?) async throws {
        guard let phone = PhoneNumber.e164(phone), let language else { return }
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            guard var customer = try Self.customer(phone: phone, in: db), customer.preferredLanguage != language else {
                return
            }
            customer.preferredLanguage = language
            try customer.saveChange(at: now, in: db)
        }
    }

    static func customer(phone: String, in db: Database) throws -> Customer? {
        try Customer.filter(Column("phone") == phone).fetchOne(db)
    }

    /// Finds or creates the profile of `phone` inside the caller's transaction, setting the name when
    /// given; enqueues the change for headquarters when anything changed.
    static func upsert(phone: String, name: String?, partySize: Int?, at now: Int64, in db: Database) throws
        -> Customer
    {
        if var existing = try customer(phone: phone, in: db) {
            let trimmedName = name?.trimmingCharacters(in: .whitespacesAndNewlines)
            var changed = false
            if let trimmedName, !trimmedName.isEmpty, existing.name != trimmedName {
                existing.name = trimmedName
                changed = true
            }
            if let partySize, existing.usualPartySize == nil {
                existing.usualPartySize = partySize
                changed = true
            }
            guard changed else { return existing }
            try existing.saveChange(at: now, in: db)
            return existing
        }
        let customer = Customer(
            id: UUID().uuidString.lowercased(), phone: phone, name: name, usualPartySize: partySize,
            createdAt: now, updatedAt: now)
        try customer.insert(db)
        try Outbox.enqueueUpsert(.customer(customer), at: now, in: db)
        return customer
    }
}
