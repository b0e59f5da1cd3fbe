import AudioIO
import EdgeAgent
import Foundation
import LocalStore
import Logging

// The child process of the recording kill -9 test: starts an agent's store with recording on, starts
// recording a call, writes three seconds of both sides, says "ready <recording id>", and waits to be
// killed. Arguments: the data folder and the owner's public key (base64).
let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: recording-crash-writer DATA_DIR PUBLIC_KEY\n".utf8))
    exit(2)
}
var configuration = AgentConfiguration()
configuration.dataDirectory = arguments[1]
configuration.recordingPublicKey = arguments[2]
let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: Logger(label: "crash-writer"))
let (call, _) = try await CallLog(database: app.database).recordIncoming(
    .init(
        callSid: "CA" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
        from: "+15551234567", to: "+15557654321", direction: "inbound", status: .inProgress))
let start = ContinuousClock.now
let (recorder, id) = try await app.recordings!.start(callID: call.id, at: start)
for frame in 0..<150 {
    let tone = (0..<160).map { MuLaw.encode(Int16(5000 * sin(Double(frame * 160 + $0) * 0.3))) }
    await recorder.caller(tone, timestampMilliseconds: frame * 20)
    await recorder.agent(tone, at: start + .milliseconds(frame * 20))
}
// Unbuffered, so the test sees the line at once.
FileHandle.standardOutput.write(Data("ready \(id)\n".utf8))
while true { sleep(60) }
