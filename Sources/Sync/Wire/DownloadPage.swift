/// `GET /v1/sync/changes?cursor=…&limit=…`: what headquarters wrote for the box's site (menus, their
/// translations, reservations made or changed at headquarters), in the order it wrote them.
///
/// The cursor is opaque to the box: it stores `nextCursor` once the page is applied, and sends it with
/// the next request (none the first time). A page holds at most `limit` changes; `more` says whether to
/// ask again at once.
public struct DownloadPage: Codable, Sendable, Equatable {
    public var changes: [SyncChange]
    public var nextCursor: String
    public var more: Bool

    public init(changes: [SyncChange], nextCursor: String, more: Bool) {
        self.changes = changes
        self.nextCursor = nextCursor
        self.more = more
    }

    enum CodingKeys: String, CodingKey {
        case changes
        case nextCursor = "next_cursor"
        case more
    }
}

/// The cursor's text: `c1.` and headquarters' change counter for the site.
public enum DownloadCursor {
    /// The counter in `text`; nil for text that is not a cursor. No text means the beginning.
    public static func parse(_ text: String?) -> Int64? {
        guard let text, !text.isEmpty else { return 0 }
        guard text.hasPrefix("c1."), let value = Int64(text.dropFirst(3)), value >= 0 else { return nil }
        return value
    }

    public static func make(_ value: Int64) -> String { "c1.\(value)" }
}
