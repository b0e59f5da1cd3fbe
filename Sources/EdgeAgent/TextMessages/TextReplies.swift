import Foundation
public import LocalStore

/// What a caller's reply to a text confirmation does: STOP (and Twilio's other opt-out words, and
/// "BAJA") stops every text to the number; START lets them come again; C cancels the number's next
/// table and answers with its cancellation. Anything else is left alone.
public struct TextReplies: Sendable {
    let queue: TextConfirmations
    let book: ReservationBook
    let phrases: PhraseBook
    let restaurantName: String

    public init(queue: TextConfirmations, book: ReservationBook, phrases: PhraseBook, restaurantName: String) {
        self.queue = queue
        self.book = book
        self.phrases = phrases
        self.restaurantName = restaurantName
    }

    /// Twilio's opt-out words (it also stops the texts at the carrier), and Spanish "BAJA".
    static let stopWords: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "BAJA"]
    static let startWords: Set<String> = ["START", "YES", "UNSTOP", "ALTA"]
    static let cancelWords: Set<String> = ["C", "CANCELAR", "ANULAR"]

    /// Handles `body` from `from`; returns the reply to send back, if any.
    public func handle(from: String, body: String) async throws -> String? {
        guard let phone = PhoneNumber.e164(from) else { return nil }
        let word = body.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters)).uppercased()
        if Self.stopWords.contains(word) {
            try await queue.optOut(phone)
            return nil
        }
        if Self.startWords.contains(word) {
            try await queue.optIn(phone)
            return nil
        }
        guard Self.cancelWords.contains(word) else { return nil }
        let language = word == "C" ? (try await queue.lastLanguage(to: phone) ?? "en") : "es"
        guard let next = try await book.upcoming(phone: phone).first else {
            return phrases.text(.textReplyNothing, language: language, ["restaurant": restaurantName])
        }
        let cancelled = try await book.cancel(id: next.id, actor: "text:reply")
        return phrases.text(
            .textReplyCancelled, language: language,
            TextConfirmationWriter.values(
                cancelled, restaurant: restaurantName, language: language, timeZone: book.availability.policy.timeZone))
    }
}
