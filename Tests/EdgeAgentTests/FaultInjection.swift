import AsyncHandoff
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// How a cloud double misbehaves; set (and changed mid-test) through ``FaultInjection``.
enum UpstreamFault: Sendable, Equatable, CustomStringConvertible {
    case none
    /// Answers this status with the provider's JSON error body.
    case status(Int)
    /// Never answers, until the test releases the hold.
    case hang
    /// Answers 200 with an HTML page instead of what the API documents.
    case garbage
    /// Answers 200, then sends a byte every 300 ms.
    case drip

    var description: String {
        switch self {
        case .none: "none"
        case .status(let status): "HTTP \(status)"
        case .hang: "hang"
        case .garbage: "garbage"
        case .drip: "drip"
        }
    }
}

/// The fault a double injects, shared by the doubles of one test.
final class FaultInjection: Sendable {
    let fault: NIOLockedValueBox<UpstreamFault>
    /// Released at the end of a test so hanging requests end and the server can stop.
    let hold = Gate()

    init(_ fault: UpstreamFault = .none) {
        self.fault = NIOLockedValueBox(fault)
    }

    func set(_ fault: UpstreamFault) { self.fault.withLockedValue { $0 = fault } }

    /// The faulty answer to send instead of the real one, or nil to answer normally.
    /// - Parameter errorBody: the provider's JSON error body for a status fault.
    func response(errorBody: String) async -> Response? {
        switch fault.withLockedValue({ $0 }) {
        case .none:
            return nil
        case .status(let status):
            return Response(
                status: .init(code: status), headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: errorBody)))
        case .hang:
            await hold.wait()
            return Response(status: .gatewayTimeout)
        case .garbage:
            return Response(
                status: .ok, headers: [.contentType: "text/html"],
                body: .init(byteBuffer: ByteBuffer(string: "<html><body>502 Bad Gateway</body></html>")))
        case .drip:
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init { writer in
                    for byte in Array(#"{"text": "slow"}"#.utf8) + [UInt8](repeating: 0x20, count: 100) {
                        try await writer.write(ByteBuffer(bytes: [byte]))
                        try await Task.sleep(for: .milliseconds(300))
                    }
                    try await writer.finish(nil)
                })
        }
    }
}
