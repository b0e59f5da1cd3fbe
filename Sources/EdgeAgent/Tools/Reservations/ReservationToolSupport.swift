import Foundation
import LocalStore
import Sync

/// Shared parameter schemas and helpers of the reservation tools.
enum ReservationParameters {
    static let date = JSONSchema.string(
        description: "Day in the restaurant's time zone, YYYY-MM-DD", pattern: "[0-9]{4}-[0-9]{2}-[0-9]{2}")
    static let time = JSONSchema.string(
        description: "Time of day in the restaurant's time zone, 24-hour HH:MM", pattern: "[0-9]{2}:[0-9]{2}")
    static let partySize = JSONSchema.integer(description: "Number of guests", minimum: 1, maximum: 100)
    static let phone = JSONSchema.string(
        description: "Phone number in international form, like +15551234567; the caller's number when omitted",
        pattern: "[+0-9 ()./-]{6,24}")
    static let reservationID = JSONSchema.string(description: "The reservation's id", maxLength: 64)
    static let notes = JSONSchema.string(description: "Requests such as a high chair or a birthday", maxLength: 500)

    static func date(_ arguments: ToolArguments) throws -> LocalDate? {
        guard let text = arguments.string("date") else { return nil }
        guard let date = LocalDate(text) else { throw ToolError("date \(text) does not exist; use YYYY-MM-DD") }
        return date
    }

    static func time(_ arguments: ToolArguments) throws -> LocalTime? {
        guard let text = arguments.string("time") else { return nil }
        guard let time = LocalTime(text), time.minutesSinceMidnight < 1440 else {
            throw ToolError("time \(text) is not a time of day; use 24-hour HH:MM")
        }
        return time
    }

    /// The reservation as the model sees it, in the restaurant's time.
    static func describe(_ reservation: Reservation, timeZone: TimeZone) -> JSONValue {
        let start = Date(unixMilliseconds: reservation.startsAt)
        var object: [String: JSONValue] = [
            "reservation_id": .string(reservation.id), "status": .string(reservation.status.rawValue),
            "name": .string(reservation.name), "party_size": .number(Double(reservation.partySize)),
            "date": .string(LocalDate(start, in: timeZone).description),
            "time": .string(LocalTime(start, in: timeZone).description),
        ]
        if let notes = reservation.notes { object["notes"] = .string(notes) }
        return .object(object)
    }

    /// Whether `reservation` already reads as `changes` would make it.
    static func alreadyHas(_ reservation: Reservation, _ changes: ReservationBook.Changes, timeZone: TimeZone) -> Bool {
        let start = Date(unixMilliseconds: reservation.startsAt)
        return (changes.date.map { $0 == LocalDate(start, in: timeZone) } ?? true)
            && (changes.time.map { $0 == LocalTime(start, in: timeZone) } ?? true)
            && (changes.partySize.map { $0 == reservation.partySize } ?? true)
            && (changes.notes.map { $0 == reservation.notes } ?? true)
    }

    /// Finds the one upcoming reservation meant: by id, else by phone (the caller's when none is given),
    /// optionally on a date; asks for more detail when several match.
    static func resolve(
        _ arguments: ToolArguments, context: ToolContext, book: ReservationBook
    ) async throws -> Reservation {
        if let id = arguments.string("reservation_id") {
            guard let reservation = try await book.reservation(id: id) else {
                throw ToolError("no reservation has id \(id)")
            }
            return reservation
        }
        guard let rawPhone = arguments.string("phone") ?? context.callerPhone else {
            throw ToolError("give reservation_id or phone")
        }
        guard let phone = PhoneNumber.e164(rawPhone) else {
            throw ToolError("the phone number must be in international form, like +15551234567")
        }
        let matches = try await book.upcoming(phone: phone, on: try date(arguments))
        switch matches.count {
        case 0:
            throw ToolError("no upcoming reservation was found for that phone number")
        case 1:
            return matches[0]
        default:
            let timeZone = book.availability.policy.timeZone
            throw ToolError(
                "several upcoming reservations match; ask which one and pass its date or reservation_id",
                details: ["matches": .array(matches.map { describe($0, timeZone: timeZone) })])
        }
    }
}
