public import AsyncHTTPClient
public import NIOCore

/// The one HTTP client every upstream (LLM, speech, Twilio REST, headquarters) shares: pooled
/// connections on NIO's shared event loops, with explicit time limits so a dead upstream fails fast
/// instead of holding a caller in silence.
public enum UpstreamHTTP {
    /// Makes the shared client; shut it down (`shutdown()`) when the agent stops.
    ///
    /// - Parameter connectionsPerHost: every live call may stream from the LLM and the voice at once, so
    ///   the pool allows many connections per host (AsyncHTTPClient's default of 8 queues the ninth call).
    public static func makeClient(
        connectTimeout: TimeAmount = .seconds(2), readTimeout: TimeAmount = .seconds(15), connectionsPerHost: Int = 128
    ) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: connectTimeout, read: readTimeout)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connectionsPerHost
        configuration.httpVersion = .automatic
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
