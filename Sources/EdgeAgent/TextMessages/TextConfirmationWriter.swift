import Foundation
import LocalStore
import Sync

/// Writes the text message that confirms a booking, a change or a cancellation, in the caller's
/// language, with the restaurant's name, the day, the time, the party size and how to cancel.
public struct TextConfirmationWriter: Sendable {
    let phrases: PhraseBook
    let restaurantName: String
    /// Twilio Lookup tells a mobile from a landline before sending: no keypad consent is asked.
    let lookupConfigured: Bool

    public init(phrases: PhraseBook, restaurantName: String, lookupConfigured: Bool) {
        self.phrases = phrases
        self.restaurantName = restaurantName
        self.lookupConfigured = lookupConfigured
    }

    /// The confirmation of `kind` for the caller of `context`, when they called from a number that
    /// can take texts (an E.164 number; a landline is found out later).
    func confirmation(_ kind: TextConfirmation.Kind, context: ToolContext, timeZone: TimeZone) -> TextConfirmation? {
        guard let phone = context.callerPhone.flatMap(PhoneNumber.e164) else { return nil }
        let language = context.language
        let key: PhraseBook.Key =
            switch kind {
            case .booked: .textBooked
            case .changed: .textChanged
            case .cancelled: .textCancelled
            }
        let (phrases, restaurant) = (phrases, restaurantName)
        return TextConfirmation(
            kind: kind, to: phone, language: language, callID: context.callID, consented: lookupConfigured,
            body: { reservation in
                phrases.text(
                    key, language: language,
                    Self.values(reservation, restaurant: restaurant, language: language, timeZone: timeZone))
            })
    }

    /// The placeholders of a message about `reservation`.
    static func values(_ reservation: Reservation, restaurant: String, language: String, timeZone: TimeZone)
        -> [String: String]
    {
        let start = Date(unixMilliseconds: reservation.startsAt)
        let formatter = DateFormatter()
        formatter.timeZone = timeZone
        formatter.locale = Locale(identifier: language == "es" ? "es_ES" : "en_US")
        formatter.dateFormat = language == "es" ? "EEEE d 'de' MMMM" : "EEEE d MMMM"
        let day = formatter.string(from: start)
        formatter.dateFormat = "HH:mm"
        return [
            "restaurant": restaurant, "party_size": "\(reservation.partySize)", "day": day,
            "time": formatter.string(from: start),
        ]
    }
}
