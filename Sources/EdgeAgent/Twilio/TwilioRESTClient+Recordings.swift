import AsyncHTTPClient
public import NIOCore

extension TwilioRESTClient {
    /// Downloads a recording's audio as WAV (`GET …/Recordings/{RecordingSid}.wav`), handing each
    /// piece to `consume` as it arrives, so minutes of audio never sit whole in memory. The URL is
    /// built from `TWILIO_API_BASE_URL`, never taken from the callback.
    ///
    /// - Throws: ``RequestError`` for a refusal (404 with code 20404: Twilio has no such recording).
    public func downloadRecording(
        sid recordingSid: String, timeout: TimeAmount, consume: (ByteBuffer) async throws -> Void
    ) async throws {
        let request = authorizedRequest("Recordings/\(recordingSid).wav")
        let response = try await http.execute(request, timeout: timeout)
        try await Self.check(response)
        for try await piece in response.body {
            try await consume(piece)
        }
    }

    /// Deletes Twilio's copy of a recording (`DELETE …/Recordings/{RecordingSid}.json`); one already
    /// gone counts as deleted.
    public func deleteRecording(sid recordingSid: String) async throws {
        var request = authorizedRequest("Recordings/\(recordingSid).json")
        request.method = .DELETE
        let response = try await http.execute(request, timeout: timeout)
        do {
            try await Self.check(response)
        } catch let error as RequestError where error.status == 404 {
            return
        }
    }
}
