import Foundation
public import Hummingbird
public import Logging
import TwilioWire

/// Twilio signs the Media Streams WebSocket upgrade with `X-Twilio-Signature` over the `wss://` URL
/// it opens (no parameters, the request being a GET). When an auth token is configured the upgrade is
/// refused with 403, before any WebSocket exists, unless the signature matches; the per-call stream
/// token is checked on `start` as well.
public struct MediaStreamUpgradeCheck: Sendable {
    let configuration: AgentConfiguration

    public init(configuration: AgentConfiguration) {
        self.configuration = configuration
    }

    /// The URL Twilio signed for `request`: `EDGE_PUBLIC_URL` as `wss` (`ws` for a plain-http test
    /// URL), then the path and query exactly as received.
    public func signedURL(for request: Request) -> String {
        TwilioSignature.webSocketURL(configuration.publicURL.joining(request.uri.description))
    }

    /// Throws a 403 ``APIError`` when an auth token is configured and the upgrade's signature is
    /// missing or wrong.
    public func verify(_ request: Request, logger: Logger) throws {
        guard let authToken = configuration.twilio.authToken else { return }
        let header = request.headers[.twilioSignature]
        guard
            TwilioSignature.isValid(
                header: header, url: signedURL(for: request), parameters: FormParameters([]),
                authToken: authToken.value)
        else {
            logger.warning(
                "Media Stream refused: its Twilio signature did not match; check TWILIO_AUTH_TOKEN and that EDGE_PUBLIC_URL is the URL Twilio calls",
                metadata: ["signature.present": .stringConvertible(header != nil)])
            throw APIError(
                .forbidden, code: "invalid_signature",
                message: "X-Twilio-Signature is missing or does not match this Media Stream's URL")
        }
    }
}
