// Writes reservations into the database named by its argument as fast as it can, printing
// `committed <id>` after each commit returns, until it is killed. The kill -9 survival test
// kills it at a random moment and checks that every printed reservation survived.
import Foundation
import LocalStore
import Logging

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: store-crash-writer DATABASE\n".utf8))
    exit(2)
}
let database = try EdgeDatabase(path: CommandLine.arguments[1], logger: Logger(label: "crash-writer"))
let allDay = ReservationPolicy.Period(opens: LocalTime("00:00")!, closes: LocalTime("24:00")!)!
let policy = ReservationPolicy(
    timeZone: TimeZone(identifier: "UTC")!,
    openingHours: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [allDay]) }),
    slotMinutes: 15, seatsPerSlot: 1_000_000, maxPartySize: 8, diningMinutes: 60, bookingHorizonDays: 400)
let book = ReservationBook(database: database, policy: policy)
let tomorrow = LocalDate(Date(), in: policy.timeZone).adding(days: 1)
var counter = 0
while true {
    counter += 1
    let time = LocalTime(minutesSinceMidnight: (counter % 92) * 15)!
    let reservation = try await book.create(
        .init(
            name: "Guest \(counter)", phone: "+1555000\(String(format: "%04d", counter % 10_000))", partySize: 2,
            date: tomorrow, time: time, source: .staff),
        actor: "crash-writer")
    // Unbuffered write: the line leaves the process before the next reservation starts.
    FileHandle.standardOutput.write(Data("committed \(reservation.id)\n".utf8))
}
