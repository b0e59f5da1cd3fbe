import Foundation
import GRDB

/// The cloud voice staff chose per language (`voice_choices`), kept across restarts; each choice is
/// written with its audit entry in one transaction.
public struct VoiceChoiceStore: Sendable {
    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// The chosen voice per language.
    public func all() async throws -> [String: String] {
        try await database.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT language, voice_id FROM voice_choices").map {
                    ($0["language"] as String, $0["voice_id"] as String)
                })
        }
    }

    /// Records that `actor` chose `voice` for `language`.
    public func choose(_ voice: String, for language: String, actor: String) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO voice_choices (language, voice_id, chosen_by, chosen_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (language) DO UPDATE SET voice_id = excluded.voice_id,
                        chosen_by = excluded.chosen_by, chosen_at = excluded.chosen_at
                    """, arguments: [language, voice, actor, now])
            try AuditLog.record(
                actor: actor, action: "voice.choose", entity: "voice_choices", entityID: language,
                details: ["voice": voice], at: now, in: db)
        }
    }
}
