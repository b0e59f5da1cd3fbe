public import Foundation

extension URL {
    /// This base URL followed by `suffix` (which starts with `/` or `?`) as text, with the base's
    /// trailing slash dropped, so `https://h/v1/` and `https://h/v1` both give `https://h/v1/chat`.
    /// Text rather than `appendingPathComponent`, so a suffix's query and escapes stay as written.
    public func joining(_ suffix: String) -> String {
        var base = absoluteString
        if base.hasSuffix("/") { base.removeLast() }
        return base + suffix
    }
}
