public import Foundation
public import LocalStore
public import Logging
public import ServiceLifecycle

/// Sends the queued text confirmations through Twilio's Messages API, oldest first: after a
/// restart, and when the internet comes back, what is due goes out. A landline (when Lookup is
/// configured), a number that replied STOP, or one Twilio refuses for good is skipped; a failure
/// that may pass (no network, 429, 5xx) is tried again later, backing off to an hour.
public struct TextConfirmationSender: Service {
    let queue: TextConfirmations
    let twilio: TwilioRESTClient
    /// Twilio Lookup's base URL, asked for the line type when `lookup` is on.
    let lookupBaseURL: URL
    let from: String
    let lookup: Bool
    let wake: AsyncStream<Void>
    let idle: Duration
    let logger: Logger

    /// - Parameters:
    ///   - twilio: the restaurant's Twilio account, the Messages and Lookup APIs.
    ///   - from: the restaurant's Twilio number the messages come from.
    ///   - lookup: ask Twilio Lookup whether the number is a mobile before sending.
    ///   - wake: a signal that something was queued (the sender also looks every `idle`).
    public init(
        queue: TextConfirmations, twilio: TwilioRESTClient, lookupBaseURL: URL, from: String, lookup: Bool,
        wake: AsyncStream<Void>, idle: Duration = .seconds(30), logger: Logger
    ) {
        self.queue = queue
        self.twilio = twilio
        self.lookupBaseURL = lookupBaseURL
        self.from = from
        self.lookup = lookup
        self.wake = wake
        self.idle = idle
        self.logger = logger
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                let (ticks, tick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                group.addTask {
                    for await _ in wake { tick.yield() }
                }
                group.addTask { [idle] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: idle)
                        tick.yield()
                    }
                }
                tick.yield()
                for await _ in ticks {
                    if Task.isCancelled { break }
                    await sendDue()
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
        }
    }

    /// Sends every message due now; returns how many were sent.
    @discardableResult
    public func sendDue() async -> Int {
        let due: [TextConfirmations.Message]
        do {
            due = try await queue.due()
        } catch {
            logger.error("the text queue could not be read", metadata: ["error": "\(error)"])
            return 0
        }
        var sent = 0
        for message in due where !Task.isCancelled {
            if await send(message) { sent += 1 }
        }
        return sent
    }

    private func send(_ message: TextConfirmations.Message) async -> Bool {
        do {
            if try await queue.isOptedOut(message.to) {
                try await queue.markSkipped(message.id, reason: "opted out")
                return false
            }
            if lookup, let type = try await twilio.lineType(of: message.to, lookupBaseURL: lookupBaseURL),
                !["mobile", "voip", "nonFixedVoip"].contains(type)
            {
                try await queue.markSkipped(message.id, reason: "not a mobile (\(type))")
                return false
            }
            let sid = try await twilio.sendMessage(to: message.to, from: from, body: message.body)
            try await queue.markSent(message.id, providerID: sid)
            logger.info("text confirmation sent", metadata: ["text.id": .string(message.id)])
            return true
        } catch let error as TwilioRESTClient.RequestError where error.status < 500 && error.status != 429 {
            // Twilio refuses this message for good: 21610 is a number that replied STOP at the carrier.
            if error.twilioCode == 21610 { try? await queue.optOut(message.to) }
            try? await queue.markSkipped(message.id, reason: error.description)
            logger.warning(
                "text confirmation refused", metadata: ["text.id": .string(message.id), "error": "\(error)"])
            return false
        } catch {
            let delay = min(3600, 30 * (1 << min(message.attempts, 7)))
            let retryAt = queue.nowMilliseconds + Int64(delay) * 1000
            try? await queue.markRetry(message.id, reason: "\(error)", retryAt: retryAt)
            logger.warning(
                "text confirmation not sent; trying again later",
                metadata: ["text.id": .string(message.id), "retry.seconds": .stringConvertible(delay)])
            return false
        }
    }
}
