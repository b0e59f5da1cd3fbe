import Foundation
public import NIOCore

/// The networks the admin API and the staff page answer (`admin.allowed_networks`): by default
/// loopback and the private ranges, so a box whose port is forwarded for Twilio still keeps its staff
/// window on the restaurant's LAN. A request from anywhere else is a 403.
public struct NetworkAllowList: Sendable, Equatable, CustomStringConvertible {
    /// One network in CIDR form: its address bytes and prefix length.
    public struct Network: Sendable, Equatable, CustomStringConvertible {
        let bytes: [UInt8]
        let prefixLength: Int
        public let description: String

        /// Parses `10.0.0.0/8`, `fd00::/8`, or a single address (a /32 or /128).
        public init?(_ text: String) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let bytes = Self.addressBytes(String(parts[0])) else { return nil }
            let maximum = bytes.count * 8
            let length = parts.count == 2 ? Int(parts[1]) : maximum
            guard let length, (0...maximum).contains(length) else { return nil }
            self.bytes = bytes
            self.prefixLength = length
            self.description = parts.count == 2 ? trimmed : "\(trimmed)/\(maximum)"
        }

        static func addressBytes(_ text: String) -> [UInt8]? {
            guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
            return Network.bytes(of: address)
        }

        /// The address's bytes; an IPv4-mapped IPv6 address (`::ffff:10.0.0.5`) as its IPv4 bytes.
        static func bytes(of address: SocketAddress) -> [UInt8]? {
            switch address {
            case .v4(let v4):
                return withUnsafeBytes(of: v4.address.sin_addr.s_addr) { Array($0) }
            case .v6(let v6):
                let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
                if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                    return Array(bytes[12...])
                }
                return bytes
            case .unixDomainSocket:
                return nil
            }
        }

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefixLength
            for (mine, theirs) in zip(bytes, address) where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if mine & mask != theirs & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    public let networks: [Network]

    /// Loopback and the private ranges of IPv4 and IPv6.
    public static let lan = NetworkAllowList(
        networks: [
            "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "::1/128", "fc00::/7",
            "fe80::/10",
        ].compactMap(Network.init))

    public init(networks: [Network]) {
        self.networks = networks
    }

    /// Parses a comma-separated list; nil names the first entry that is not a network.
    public static func parse(_ text: String) -> Result<NetworkAllowList, ParseError> {
        var networks: [Network] = []
        for entry in text.split(separator: ",") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let network = Network(String(entry)) else { return .failure(ParseError(entry: String(entry))) }
            networks.append(network)
        }
        return .success(NetworkAllowList(networks: networks))
    }

    /// An entry of `admin.allowed_networks` that is not an address or a CIDR network.
    public struct ParseError: Error, Equatable {
        public let entry: String
    }

    /// Whether a request from `address` is let in. A Unix socket (a local proxy) is.
    public func allows(_ address: SocketAddress?) -> Bool {
        guard let address else { return false }
        if case .unixDomainSocket = address { return true }
        guard let bytes = Network.bytes(of: address) else { return false }
        return networks.contains { $0.contains(bytes) }
    }

    public var description: String { networks.map(\.description).joined(separator: ", ") }
}
