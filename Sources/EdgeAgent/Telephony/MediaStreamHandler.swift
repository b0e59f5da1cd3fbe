import Foundation
public import HummingbirdWebSocket
import LocalStore
public import Logging
import Synchronization

/// Serves one Twilio Media Stream: waits for `start`, checks the call id and its stream token, hands
/// the stream to a ``CallSession``, and feeds it every message in order until Twilio stops, the session
/// hangs up, or the socket stalls.
///
/// Bad input (malformed JSON, bad Base64, oversized or binary frames, unknown events) is logged with
/// the call id and skipped; it never touches another call.
public struct MediaStreamHandler: Sendable {
    let services: CallServices
    /// How long Twilio may take to send `start` after the socket opens.
    let startTimeout: Duration
    /// How long the socket may go without a message before the call is considered gone
    /// (Twilio sends audio every 20 ms).
    let stallTimeout: Duration
    /// Malformed messages tolerated before the stream is closed.
    let maximumMalformed = 100

    public init(services: CallServices, startTimeout: Duration = .seconds(5), stallTimeout: Duration = .seconds(10)) {
        self.services = services
        self.startTimeout = startTimeout
        self.stallTimeout = stallTimeout
    }

    /// Runs the stream to its end.
    public func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async {
        var logger = logger
        let opened = ContinuousClock.now
        let lastMessage = Mutex<ContinuousClock.Instant?>(nil)
        // Closing the socket ends the loop below: that is how a silent or stalled stream is dropped.
        let watchdog = Task { [startTimeout, stallTimeout, logger] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                let last = lastMessage.withLock { $0 }
                let silent =
                    last.map { $0.duration(to: .now) > stallTimeout } ?? (opened.duration(to: .now) > startTimeout)
                if silent {
                    logger.warning("the Media Stream sent nothing for too long; ending it")
                    try? await outbound.close(.goingAway, reason: "stalled")
                    return
                }
            }
        }
        defer { watchdog.cancel() }

        var session: CallSession?
        var malformed = 0
        do {
            for try await message in inbound.messages(maxSize: 64 * 1024) {
                lastMessage.withLock { $0 = .now }
                guard case .text(let text) = message else {
                    logger.warning("binary Media Streams frame ignored")
                    continue
                }
                let decoded: MediaStreamInbound
                do {
                    decoded = try MediaStreamInbound.decode(text)
                } catch {
                    malformed += 1
                    logger.warning("\(error)")
                    if malformed > maximumMalformed {
                        logger.error("too many malformed Media Streams messages; closing the stream")
                        break
                    }
                    continue
                }
                guard let current = session else {
                    guard case .start(let start) = decoded else { continue }
                    guard let opened = try await open(start, outbound: outbound, logger: logger) else { return }
                    logger[metadataKey: "call.id"] = .string(opened.call.id)
                    logger[metadataKey: "call.sid"] = .string(start.callSid)
                    session = opened
                    await opened.begin()
                    continue
                }
                if case .unknown(let event) = decoded {
                    logger.debug("unknown Media Streams event ignored", metadata: ["event": .string(event)])
                }
                await current.receive(decoded)
                if case .stop = decoded { break }
            }
        } catch {
            logger.warning("Media Stream ended: \(error)")
        }
        await session?.end(reason: "stream closed")
    }

    /// Authenticates `start` and makes its session; nil (after closing the socket) when refused.
    private func open(_ start: MediaStreamInbound.Start, outbound: WebSocketOutboundWriter, logger: Logger) async throws
        -> CallSession?
    {
        guard let callID = start.customParameters["callId"], let token = start.customParameters["streamToken"],
            services.streamTokens.isValid(token, callID: callID),
            let call = try await services.calls.call(id: callID), call.callSid == start.callSid
        else {
            logger.warning(
                "Media Stream refused: unknown call or wrong stream token",
                metadata: ["call.sid": .string(start.callSid)])
            try? await outbound.close(.policyViolation, reason: "unknown stream")
            return nil
        }
        return CallSession(
            call: call, streamSid: start.streamSid, services: services, logger: logger,
            send: { message in try? await outbound.write(.text(message.encode(streamSid: start.streamSid))) },
            hangUp: { try? await outbound.close(.normalClosure, reason: "goodbye") })
    }
}
