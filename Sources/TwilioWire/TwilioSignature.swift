import Crypto
public import Foundation

/// Twilio's `X-Twilio-Signature`: Base64 of HMAC-SHA1, keyed with the account's auth token, over the
/// full URL Twilio requested followed by every POST parameter as name and value, sorted by name.
public enum TwilioSignature {
    /// The URL Twilio signs when it opens a Media Stream: `url` (an `https` or `http` URL ending in
    /// the path and query Twilio requested) with the WebSocket scheme, `wss` or `ws`.
    public static func webSocketURL(_ url: String) -> String {
        if url.hasPrefix("https://") { return "wss://" + url.dropFirst("https://".count) }
        if url.hasPrefix("http://") { return "ws://" + url.dropFirst("http://".count) }
        return url
    }

    /// The signature Twilio would send for a request to `url` with `parameters`.
    public static func compute(url: String, parameters: FormParameters, authToken: String) -> String {
        var message = url
        // Names sorted by code point; a repeated name's values de-duplicated and sorted, as Twilio's SDKs do.
        // Grouping is by exact bytes: Swift's String equality would merge differently normalised accents,
        // which Twilio keeps apart.
        let grouped = Dictionary(grouping: parameters.pairs, by: { Array($0.name.utf8) })
        for name in grouped.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let values = Set(grouped[name]!.map { Array($0.value.utf8) }).sorted { $0.lexicographicallyPrecedes($1) }
            for value in values {
                message += String(decoding: name, as: UTF8.self) + String(decoding: value, as: UTF8.self)
            }
        }
        let code = HMAC<Insecure.SHA1>.authenticationCode(
            for: Data(message.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(code).base64EncodedString()
    }

    /// Whether `header` is the right signature for the request, trying the URL both without and with
    /// its scheme's default port (Twilio signs either form). The comparison takes the same time
    /// wherever the first differing byte is.
    public static func isValid(header: String?, url: String, parameters: FormParameters, authToken: String) -> Bool {
        guard let header, let received = Data(base64Encoded: header) else { return false }
        var valid = false
        for candidate in urlVariants(url) {
            let expected = Data(base64Encoded: compute(url: candidate, parameters: parameters, authToken: authToken))!
            // Evaluate every variant, so the time taken does not tell which one nearly matched.
            valid = constantTimeEquals(expected, received) || valid
        }
        return valid
    }

    /// The URL as given, and the same with its scheme's default port added or removed. Edited as text,
    /// so the path and query keep exactly the bytes Twilio signed.
    static func urlVariants(_ url: String) -> [String] {
        guard let schemeEnd = url.range(of: "://") else { return [url] }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard let defaultPort = ["https": "443", "http": "80", "wss": "443", "ws": "80"][scheme] else { return [url] }
        let authorityStart = schemeEnd.upperBound
        let authorityEnd = url[authorityStart...].firstIndex(where: { "/?#".contains($0) }) ?? url.endIndex
        let authority = url[authorityStart..<authorityEnd]
        let hostEnd = authority.lastIndex(of: ":").flatMap { colon in
            // A colon inside an IPv6 literal is not a port separator.
            authority[colon...].contains("]") ? nil : colon
        }
        let other: String
        if let hostEnd {
            guard authority[authority.index(after: hostEnd)...] == defaultPort else { return [url] }
            other = String(url[..<authorityStart]) + authority[..<hostEnd] + url[authorityEnd...]
        } else {
            other = String(url[..<authorityEnd]) + ":" + defaultPort + url[authorityEnd...]
        }
        return [url, other]
    }

    /// Whether two byte strings are equal, in a time that does not depend on where they differ.
    public static func constantTimeEquals(_ left: Data, _ right: Data) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }
}
