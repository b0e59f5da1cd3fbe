public import GRDB

/// A message a caller left for the staff.
public struct StaffMessage: Codable, Sendable, Equatable, Identifiable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "staff_messages"

    /// Where the message stands.
    public enum Status: String, Codable, Sendable {
        case new
        case read
        case done
    }

    public var id: String
    public var callID: String?
    public var message: String
    public var callbackPhone: String?
    public var language: String?
    public var status: Status
    public var createdAt: Int64

    public init(
        id: String, callID: String?, message: String, callbackPhone: String?, language: String?, status: Status = .new,
        createdAt: Int64
    ) {
        self.id = id
        self.callID = callID
        self.message = message
        self.callbackPhone = callbackPhone
        self.language = language
        self.status = status
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case callID = "call_id"
        case message
        case callbackPhone = "callback_phone"
        case language
        case status
        case createdAt = "created_at"
    }
}
