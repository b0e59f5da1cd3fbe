import CallRecording
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import LocalStore
import Sync
import TestSupport
import Testing
import TwilioWire

@testable import EdgeAgent

/// `POST /twilio/recording`: Twilio's own recording of a call, downloaded from the REST double,
/// re-encoded and sealed to the owner like the box's own recordings, optionally deleted at Twilio.
@Suite("Twilio recordings imported to the box", .serialized)
struct TwilioRecordingImportTests {
    static let callSid = "CA11111111111111111111111111111111"
    static let recordingSid = "RE33333333333333333333333333333333"

    struct Context {
        let app: EdgeAgentApp
        let client: any TestClientProtocol
        let twilio: TwilioRecordingDouble
        let identity: RecordingIdentity
        let logs: LogCapture

        var importer: TwilioRecordingImporter { app.twilioRecordingImporter! }

        /// Posts a recording callback signed as Twilio would sign it (or with `signature`).
        func callback(
            recordingSid: String = TwilioRecordingImportTests.recordingSid, status: String = "completed",
            signature: String? = nil
        ) async throws -> TestResponse {
            let body = TwilioRecordingImportTests.callbackBody(recordingSid: recordingSid, status: status)
            let signed = TwilioSignature.compute(
                url: "https://agent.example.com/twilio/recording",
                parameters: FormParameters(body: Array(body.utf8))!, authToken: testAuthToken)
            return try await TwilioWebhookTests.post(
                client, "/twilio/recording", body: body, signature: signature ?? signed)
        }

        func recordings() async throws -> [Recording] {
            try await RecordingVault(database: app.database).all()
        }

        func importRow(_ sid: String = TwilioRecordingImportTests.recordingSid) async throws -> TwilioRecordingImport? {
            try await TwilioRecordingImports(database: app.database).import(id: sid)
        }

        func filesOnDisk() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: app.recordings!.folder)) ?? []).sorted()
        }
    }

    static func callbackBody(recordingSid: String, status: String) -> String {
        "AccountSid=\(TwilioRecordingDouble.accountSID)&CallSid=\(callSid)&RecordingSid=\(recordingSid)"
            + "&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2F\(TwilioRecordingDouble.accountSID)"
            + "%2FRecordings%2F\(recordingSid)&RecordingStatus=\(status)&RecordingDuration=4&RecordingChannels=2"
            + "&RecordingStartTime=Tue%2C%2015%20Dec%202026%2019%3A01%3A07%20%2B0000"
            + "&RecordingSource=StartCallRecordingAPI&RecordingTrack=both"
    }

    func withImporter(
        faults: [TwilioRecordingDouble.Fault] = [], deleteAtTwilio: Bool = true, twilioRecording: Bool = true,
        _ body: @escaping @Sendable (Context) async throws -> Void
    ) async throws {
        let twilio = TwilioRecordingDouble(
            recordings: [Self.recordingSid: TwilioRecordingDouble.dualChannelWAV(seconds: 4)], faults: faults)
        let identity = try RecordingIdentity.generate()
        try await withLoopbackServer(twilio.router) { baseURL in
            let folder = TemporaryFolder()
            let logs = LogCapture()
            var configuration = testConfiguration(folder: folder)
            configuration.twilio.accountSID = TwilioRecordingDouble.accountSID
            configuration.twilio.apiBaseURL = baseURL
            configuration.recordingPublicKey = identity.publicKeyBase64
            configuration.recording.twilio = twilioRecording
            configuration.recording.deleteAtTwilio = deleteAtTwilio
            let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: logs.logger)
            let application = Application(router: app.makeRouter(), logger: logs.logger)
            try await application.test(.router) { client in
                try await body(Context(app: app, client: client, twilio: twilio, identity: identity, logs: logs))
            }
            await app.shutdown()
        }
    }

    @Test("a completed recording is downloaded, sealed to the owner in both channels, and deleted at Twilio")
    func importsAndDeletes() async throws {
        try await withImporter { context in
            let response = try await context.callback()
            #expect(response.status == .noContent)
            await context.importer.idle()

            let recording = try #require(try await context.recordings().first)
            #expect(recording.source == .twilio)
            #expect(recording.state == .complete)
            #expect(abs((recording.durationMilliseconds ?? 0) - 4000) <= 20)
            let call = try #require(try await CallLog(database: context.app.database).call(sid: Self.callSid))
            #expect(recording.callID == call.id)
            #expect(context.app.recordings!.measure(recording)?.sha256 == recording.ciphertextSHA256)

            // The box holds only ciphertext; the owner's identity reads both channels in their places.
            let file = [UInt8](
                try Data(contentsOf: URL(fileURLWithPath: context.app.recordings!.path(of: recording.fileName))))
            #expect(!file.contains(subsequence: Array("OggS".utf8)))
            let plain = try SealedStreamReader.decrypt(file, identity: context.identity)
            #expect(plain.complete)
            let folder = TemporaryFolder()
            let (first, second) = try await OggOpusDecoder.decodeStereo(plain.bytes, folder: folder.path)
            let half = first.count / 2
            let rms = RecordingTests().rms
            #expect(rms(Array(first[200..<half - 400])) > 2000, "the first channel's tone is in the first half")
            #expect(rms(Array(first[half + 400..<first.count - 200])) < 300)
            #expect(rms(Array(second[200..<half - 400])) < 300)
            #expect(
                rms(Array(second[half + 400..<second.count - 200])) > 2000,
                "the second channel's tone is in the second half")

            let entry = try #require(try await context.importRow())
            #expect(entry.state == .imported)
            #expect(entry.recordingID == recording.id)
            #expect(entry.deletedAtTwilio != nil)
            #expect(context.twilio.deletions.withLockedValue { $0 } == [Self.recordingSid])
            #expect(context.twilio.unauthorized.withLockedValue { $0 } == 0)
            let (audit, outbox) = try await context.app.database.read { db in
                (
                    try String.fetchAll(db, sql: "SELECT action FROM audit_log ORDER BY id"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE table_name = 'recordings'")
                )
            }
            #expect(audit.contains("recording.import") && audit.contains("recording.delete_at_twilio"))
            #expect(outbox == 1)
            #expect(!context.logs.all.joined().contains(testAuthToken))
        }
    }

    @Test("a repeated callback imports once; in-progress and absent are only acknowledged")
    func repeatedCallback() async throws {
        try await withImporter(deleteAtTwilio: false) { context in
            let status1 = try await context.callback(status: "in-progress").status
            #expect(status1 == .noContent)
            let status2 = try await context.callback().status
            #expect(status2 == .noContent)
            await context.importer.idle()
            let status3 = try await context.callback().status
            #expect(status3 == .noContent)
            await context.importer.idle()
            let status4 = try await context.callback(status: "absent").status
            #expect(status4 == .noContent)
            let recordingCount = try await context.recordings().count
            #expect(recordingCount == 1)
            #expect(context.filesOnDisk().count == 1)
            #expect(context.twilio.downloads.withLockedValue { $0 } == [Self.recordingSid])
            #expect(context.twilio.deletions.withLockedValue { $0 }.isEmpty)
            let deleted = try await context.importRow()?.deletedAtTwilio
            #expect(deleted == nil)
        }
    }

    @Test("Twilio failing, then a download cut short: retried, nothing half-written is kept, stored once")
    func retriedAfterFailures() async throws {
        // The media upstream tries twice per pass: both attempts of the first pass fail.
        try await withImporter(faults: [.serverError, .truncated, .serverError]) { context in
            let status5 = try await context.callback().status
            #expect(status5 == .noContent)
            await context.importer.idle()
            let failed = try #require(try await context.importRow())
            #expect(failed.state == .pending)
            #expect(failed.attempts == 1)
            #expect(failed.lastError?.contains("ended") == true, "\(failed.lastError ?? "")")
            #expect(try await context.recordings() == [])
            #expect(context.filesOnDisk().isEmpty)

            // The next pass (the service runs one every few minutes, and at start) gets it.
            await context.importer.startPass()
            await context.importer.idle()
            let entry = try #require(try await context.importRow())
            #expect(entry.state == .imported)
            let recordingCount = try await context.recordings().count
            #expect(recordingCount == 1)
            #expect(context.filesOnDisk().count == 1)
            #expect(context.twilio.downloads.withLockedValue { $0.count } == 4)
        }
    }

    @Test("a recording Twilio does not have, or that is not a WAV, is given up with a reason and leaves no file")
    func givenUp() async throws {
        try await withImporter(faults: [.garbage]) { context in
            let status6 = try await context.callback().status
            #expect(status6 == .noContent)
            let status7 = try await context.callback(recordingSid: "RE44444444444444444444444444444444").status
            #expect(status7 == .noContent)
            await context.importer.idle()
            let garbage = try #require(try await context.importRow())
            #expect(garbage.state == .failed)
            #expect(
                garbage.lastError?.contains(#"not a WAV file (it starts with "<html><body>")"#) == true,
                "\(garbage.lastError ?? "")")
            let missing = try #require(try await context.importRow("RE44444444444444444444444444444444"))
            #expect(missing.state == .failed)
            #expect(missing.lastError?.contains("404") == true)
            #expect(try await context.recordings() == [])
            #expect(context.filesOnDisk().isEmpty)
            #expect(
                context.twilio.deletions.withLockedValue { $0 }.isEmpty,
                "nothing is deleted at Twilio that the box does not hold")
            // A later pass does not try them again.
            await context.importer.startPass()
            await context.importer.idle()
            #expect(context.twilio.downloads.withLockedValue { $0.count } == 2)
        }
    }

    @Test("a forged or malformed callback is refused and queues nothing")
    func refusedCallbacks() async throws {
        try await withImporter { context in
            let forged = try await context.callback(signature: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
            #expect(forged.status == .forbidden)
            let malformed = try await context.callback(recordingSid: "RE1")
            #expect(malformed.status == .badRequest)
            #expect(String(buffer: malformed.body).contains("RecordingSid"))
            let unknownStatus = try await context.callback(status: "exploded")
            #expect(unknownStatus.status == .badRequest)
            await context.importer.idle()
            let imports = try await context.app.database.read { db in try TwilioRecordingImport.fetchCount(db) }
            #expect(imports == 0)
            #expect(context.twilio.downloads.withLockedValue { $0 }.isEmpty)
        }
    }

    @Test(
        "with Twilio recording on, the TwiML starts a dual-channel recording that calls back; off, callbacks are ignored"
    )
    func twimlAndOff() async throws {
        try await withImporter { context in
            let response = try await TwilioWebhookTests.post(
                context.client, "/twilio/voice", body: TwilioWebhookTests.voiceBody,
                signature: TwilioWebhookTests.voiceSignature)
            let twiml = String(buffer: response.body)
            #expect(
                twiml.contains(
                    #"<Start><Recording channels="dual" recordingStatusCallback="https://agent.example.com/twilio/recording""#
                ))
            #expect(twiml.contains(#"recordingStatusCallbackEvent="completed absent""#))
            #expect(twiml.range(of: "<Start>")!.lowerBound < twiml.range(of: "<Connect>")!.lowerBound)
        }
        try await withImporter(twilioRecording: false) { context in
            #expect(context.app.twilioRecordingImporter == nil)
            let response = try await TwilioWebhookTests.post(
                context.client, "/twilio/voice", body: TwilioWebhookTests.voiceBody,
                signature: TwilioWebhookTests.voiceSignature)
            #expect(!String(buffer: response.body).contains("<Recording"))
            let status8 = try await context.callback().status
            #expect(status8 == .noContent)
            #expect(try await context.recordings() == [])
            #expect(context.twilio.downloads.withLockedValue { $0 }.isEmpty)
        }
    }
}
