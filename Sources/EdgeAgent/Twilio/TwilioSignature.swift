import Crypto
import Foundation

/// Twilio's `X-Twilio-Signature`: Base64 of HMAC-SHA1, keyed with the account's auth token, over the
/// full URL Twilio requested followed by every POST parameter as name and value, sorted by name.
public enum TwilioSignature {
    /// The signature Twilio would send for a request to `url` with `parameters`.
    public static func compute(url: String, parameters: FormParameters, authToken: String) -> String {
        var message = url
        // Names sorted by code point; a repeated name's values de-duplicated and sorted, as Twilio's SDKs do.
        let grouped = Dictionary(grouping: parameters.pairs, by: \.name)
        for name in grouped.keys.sorted(by: { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }) {
            let values = Set(grouped[name]!.map(\.value)).sorted {
                $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars)
            }
            for value in values { message += name + value }
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

    /// The URL as given, without an explicit default port, and with it.
    static func urlVariants(_ url: String) -> [String] {
        guard var components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            return [url]
        }
        let defaultPort = scheme == "https" ? 443 : (scheme == "http" ? 80 : nil)
        guard let defaultPort else { return [url] }
        var variants = [url]
        if components.port == defaultPort {
            components.port = nil
        } else if components.port == nil {
            components.port = defaultPort
        } else {
            return variants
        }
        if let other = components.string { variants.append(other) }
        return variants
    }

    static func constantTimeEquals(_ left: Data, _ right: Data) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }
}
