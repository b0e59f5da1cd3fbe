import Foundation
public import HTTPTypes
public import Hummingbird
public import LocalStore
import Logging
import Sync
import TwilioWire

/// `POST /twilio/voice`, `POST /twilio/status` and `POST /twilio/recording`: Twilio's webhooks, each
/// refused with 403 unless its `X-Twilio-Signature` is right for `EDGE_PUBLIC_URL` plus the request's
/// path and query.
public struct TwilioWebhookRoutes: Sendable {
    /// Twilio's webhooks are small; anything larger is not Twilio.
    static let maximumBodyBytes = 64 * 1024

    let configuration: AgentConfiguration
    let calls: CallLog
    let streamTokens: StreamTokens
    /// Imports Twilio's recordings; nil when `recording.twilio` is off (callbacks are then acknowledged
    /// and ignored).
    let recordingImporter: TwilioRecordingImporter?
    /// Replies to text confirmations (STOP, START, C); nil when texts are not set up.
    let textReplies: TextReplies?

    public init(
        configuration: AgentConfiguration, calls: CallLog, streamTokens: StreamTokens,
        recordingImporter: TwilioRecordingImporter? = nil, textReplies: TextReplies? = nil
    ) {
        self.textReplies = textReplies
        self.configuration = configuration
        self.calls = calls
        self.streamTokens = streamTokens
        self.recordingImporter = recordingImporter
    }

    public func register(on router: Router<some RequestContext>) {
        router.post("/twilio/voice") { request, context in
            try await voice(request: request, context: context)
        }
        router.post("/twilio/status") { request, context in
            try await status(request: request, context: context)
        }
        router.post("/twilio/recording") { request, context in
            try await recording(request: request, context: context)
        }
        router.post("/twilio/sms") { request, context in
            try await sms(request: request, context: context)
        }
    }

    /// A text to the restaurant's number: a reply to a confirmation (see ``TextReplies``). Answers
    /// TwiML, with a `<Message>` when there is something to say back.
    func sms(request: Request, context: some RequestContext) async throws -> Response {
        let form = try await verifiedForm(request: request, context: context)
        guard let from = form["From"], let body = form["Body"] else {
            throw APIError.badRequest("From and Body are required")
        }
        let reply = try await textReplies?.handle(from: from, body: body)
        let twiml = reply.map { "<Response><Message>\(XMLEscaping.escape($0))</Message></Response>" } ?? "<Response/>"
        return Response(
            status: .ok, headers: [.contentType: "text/xml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: twiml)))
    }

    /// A call comes in: record it once per CallSid and connect its Media Stream.
    func voice(request: Request, context: some RequestContext) async throws -> Response {
        let form = try await verifiedForm(request: request, context: context)
        let incoming = try Self.incomingCall(form)
        var logger = context.logger
        logger[metadataKey: "call.sid"] = .string(incoming.callSid)

        let (call, created) = try await calls.recordIncoming(incoming)
        logger[metadataKey: "call.id"] = .string(call.id)
        logger.info(created ? "incoming call recorded" : "repeated voice webhook; answering with the same stream")

        let twiml = TwiML.connectStream(
            url: configuration.mediaStreamURL,
            parameters: [("callId", call.id), ("streamToken", streamTokens.token(callID: call.id))],
            recordingCallback: recordingImporter == nil ? nil : configuration.publicURL.joining("/twilio/recording"))
        return Response(
            status: .ok, headers: [.contentType: "text/xml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: twiml)))
    }

    /// A status callback: move the call's status forward (recording the call if it was never seen).
    func status(request: Request, context: some RequestContext) async throws -> Response {
        let form = try await verifiedForm(request: request, context: context)
        guard let callSid = form["CallSid"], Self.isCallSid(callSid) else {
            throw APIError.badRequest("CallSid is missing or malformed")
        }
        guard let rawStatus = form["CallStatus"], let status = Call.Status(twilioValue: rawStatus) else {
            throw APIError.badRequest("CallStatus is missing or not one of Twilio's call statuses")
        }
        let duration = try form["CallDuration"].map { text -> Int in
            guard let seconds = Int(text), seconds >= 0 else {
                throw APIError.badRequest("CallDuration is not a number")
            }
            return seconds
        }
        var logger = context.logger
        logger[metadataKey: "call.sid"] = .string(callSid)
        let call = try await calls.applyStatus(
            .init(
                callSid: callSid, from: form["From"] ?? "unknown", to: form["To"] ?? "unknown",
                direction: form["Direction"] ?? "inbound", status: status),
            durationSeconds: duration)
        logger.info("call status", metadata: ["call.status": .string(call.status.rawValue)])
        return Response(status: .noContent)
    }

    /// Twilio's recording status callback: a completed recording is queued for import (stored
    /// encrypted on the box in the background; a repeated callback imports once); `absent` and
    /// `in-progress` are only logged. Answers 204 once the request is safely in the database.
    func recording(request: Request, context: some RequestContext) async throws -> Response {
        let form = try await verifiedForm(request: request, context: context)
        guard let callSid = form["CallSid"], Self.isCallSid(callSid) else {
            throw APIError.badRequest("CallSid is missing or malformed")
        }
        guard let recordingSid = form["RecordingSid"], Self.isSid(recordingSid, prefix: "RE") else {
            throw APIError.badRequest("RecordingSid is missing or malformed")
        }
        guard let status = form["RecordingStatus"], ["in-progress", "completed", "absent", "failed"].contains(status)
        else {
            throw APIError.badRequest("RecordingStatus is missing or not one of Twilio's recording statuses")
        }
        var logger = context.logger
        logger[metadataKey: "call.sid"] = .string(callSid)
        logger[metadataKey: "twilio.recording_sid"] = .string(recordingSid)
        guard status == "completed" else {
            logger.log(
                level: status == "in-progress" ? .info : .warning, "Twilio recording status",
                metadata: ["recording.status": .string(status)])
            return Response(status: .noContent)
        }
        guard let recordingImporter else {
            logger.warning(
                "Twilio recording callback ignored: recording.twilio is off, or Twilio credentials or the owner's key are missing"
            )
            return Response(status: .noContent)
        }
        let created = try await recordingImporter.accept(recordingSid: recordingSid, callSid: callSid)
        logger.info(created ? "Twilio recording queued for import" : "repeated Twilio recording callback")
        return Response(status: .noContent)
    }

    /// Reads the form body and checks its signature; throws 403 (no TwiML) when it does not match.
    private func verifiedForm(request: Request, context: some RequestContext) async throws -> FormParameters {
        guard let authToken = configuration.twilio.authToken else {
            context.logger.warning("webhook refused: TWILIO_AUTH_TOKEN is not configured")
            throw APIError(
                .forbidden, code: "webhooks_disabled",
                message: "webhooks are refused until TWILIO_AUTH_TOKEN is configured")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maximumBodyBytes)
        } catch {
            throw APIError(
                .contentTooLarge, code: "payload_too_large", message: "a Twilio webhook body is at most 64 KiB")
        }
        guard let form = FormParameters(body: body.readableBytesView) else {
            throw APIError.badRequest("the body is not application/x-www-form-urlencoded UTF-8")
        }
        let url = signedURL(for: request)
        guard
            TwilioSignature.isValid(
                header: request.headers[.twilioSignature], url: url, parameters: form, authToken: authToken.value)
        else {
            context.logger.warning(
                "Twilio signature did not match: check TWILIO_AUTH_TOKEN and that EDGE_PUBLIC_URL is the URL Twilio calls",
                metadata: [
                    "http.path": .string(request.uri.path),
                    "signature.present": .stringConvertible(request.headers[.twilioSignature] != nil),
                ])
            throw APIError(
                .forbidden, code: "invalid_signature",
                message: "X-Twilio-Signature is missing or does not match this request")
        }
        return form
    }

    /// `EDGE_PUBLIC_URL` (scheme, host, port and any path prefix) followed by the path and query
    /// exactly as received.
    func signedURL(for request: Request) -> String {
        configuration.publicURL.joining(request.uri.description)
    }

    static func incomingCall(_ form: FormParameters) throws -> CallLog.IncomingCall {
        guard let callSid = form["CallSid"], isCallSid(callSid) else {
            throw APIError.badRequest("CallSid is missing or malformed")
        }
        guard let from = form["From"], let to = form["To"] else {
            throw APIError.badRequest("From and To are required")
        }
        let status = form["CallStatus"].flatMap(Call.Status.init(twilioValue:)) ?? .ringing
        return .init(callSid: callSid, from: from, to: to, direction: form["Direction"] ?? "inbound", status: status)
    }

    /// `CA` followed by 32 letters or digits.
    static func isCallSid(_ value: String) -> Bool {
        isSid(value, prefix: "CA")
    }

    /// A Twilio SID: `prefix` followed by 32 letters or digits.
    static func isSid(_ value: String, prefix: String) -> Bool {
        value.count == 34 && value.hasPrefix(prefix)
            && value.dropFirst(2).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}

extension HTTPField.Name {
    /// Twilio's webhook signature header.
    public static let twilioSignature = Self("X-Twilio-Signature")!
}
