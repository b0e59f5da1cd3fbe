import AsyncHTTPClient
import CloudAccountDoubles
import EdgeAgent
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import LocalStore
import Logging
import NIOCore
import PostgresNIO
import Sync
import TestSupport
import Testing
import TwilioWire

@testable import EdgeHQ
@testable import SyncAgent

/// The restaurant's number when its box cannot answer: `provision --twilio-number` points the number
/// at the box and at headquarters, and headquarters answers Twilio (every request checked against
/// the signature Twilio's own library makes) with the landline and then a voicemail that reaches
/// the box as a staff message.
@Suite("Twilio fallback at headquarters", .serialized)
struct TwilioFallbackTests {
    typealias Auth = EnrolmentAndAuthenticationTests
    static let accountSID = "AC" + String(repeating: "a1", count: 16)
    static let authToken = "fallback-test-token-5f2c"
    static let number = "+15557654321"
    static let landline = "+15550001111"

    /// A box enrolled at `hq` through `provision`, with its agent prepared against the Twilio double.
    static func withBox(
        _ hq: HQHarness, hqURL: String, twilioURL: String, site: String,
        _ body: (EdgeAgentApp, HeadquartersLink) async throws -> Void
    ) async throws {
        let temporary = TemporaryFolder(prefix: "box")
        let folder = temporary.file("data")  // made by provision, as on a fresh box
        let created = try await hq.directory.addSite(name: site)
        let (token, _) = try await hq.directory.makeEnrolmentToken(site: created.id, validFor: .seconds(3600))
        let link = try await Provisioning.provision(
            dataDirectory: folder, headquartersURL: hqURL, token: token, caCertificatePEM: nil, name: "box",
            force: false, logger: Auth.logger)
        var configuration = AgentConfiguration()
        configuration.dataDirectory = folder
        configuration.http.port = 0
        configuration.publicURL = URL(string: "https://agent.example.com")!
        configuration.twilio.accountSID = accountSID
        configuration.twilio.authToken = Secret(authToken)
        configuration.twilio.apiBaseURL = URL(string: twilioURL)!
        configuration.restaurant.name = "Casa Lupe"
        configuration.restaurant.staffPhone = landline
        configuration.minimumFreeDiskBytes = 0
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: Auth.logger)
        do {
            try await body(app, link)
        } catch {
            await app.shutdown()
            throw error
        }
        await app.shutdown()
    }

    /// Twilio's REST stand-in on a loopback port while `body` runs.
    static func withTwilio(
        _ twilio: TwilioPhoneNumbersDouble, _ body: @Sendable (String) async throws -> Void
    ) async throws {
        let router = Router()
        twilio.register(on: router)
        try await Application(router: router).test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }

    @Test(
        "provision --twilio-number: the number calls the box and falls back to headquarters, which keeps the token sealed; another account's number changes nothing"
    )
    func provisioning() async throws {
        let twilio = TwilioPhoneNumbersDouble(
            accountSID: Self.accountSID, authToken: Self.authToken, numbers: [Self.number: "https://old.example.com/v"])
        try await HQHarness.with { hq in
            try await hq.serve { hqURL in
                try await Self.withTwilio(twilio) { twilioURL in
                    try await Self.withBox(hq, hqURL: hqURL, twilioURL: twilioURL, site: "Casa Lupe") { app, link in
                        let provisioning = TwilioNumberProvisioning(app: app)
                        await #expect(throws: TwilioNumberProvisioning.Failure.self) {
                            _ = try await provisioning.provision(number: "+15559990000")
                        }
                        do {
                            _ = try await provisioning.provision(number: "+15559990000")
                        } catch let error as TwilioNumberProvisioning.Failure {
                            #expect(
                                error.description
                                    == "+15559990000 is not a number of Twilio account \(Self.accountSID): check the number and TWILIO_ACCOUNT_SID"
                            )
                        }
                        #expect(twilio.updates.withLockedValue { $0.count } == 0)
                        #expect(try await hq.count("site_twilio") == 0)
                        #expect(ProvisionedNumber.load(dataDirectory: app.configuration.dataDirectory) == nil)

                        let provisioned = try await provisioning.provision(number: "+1 555-765-4321")
                        let fallback = "\(hqURL)/v1/twilio/fallback/\(link.siteID)"
                        #expect(
                            provisioned
                                == ProvisionedNumber(
                                    phoneNumber: Self.number, sid: twilio.number(Self.number)!["sid"]!,
                                    voiceURL: "https://agent.example.com/twilio/voice", fallbackURL: fallback))
                        let held = try #require(twilio.number(Self.number))
                        #expect(held["voice_url"] == "https://agent.example.com/twilio/voice")
                        #expect(held["voice_method"] == "POST")
                        #expect(held["voice_fallback_url"] == fallback)
                        #expect(held["voice_fallback_method"] == "POST")
                        #expect(ProvisionedNumber.load(dataDirectory: app.configuration.dataDirectory) == provisioned)

                        // Headquarters holds the account once, the token only sealed.
                        #expect(try await hq.count("site_twilio") == 1)
                        let rows = try await hq.database.client.query(
                            "SELECT auth_token_sealed, landline FROM site_twilio WHERE site_id = \(link.siteID)")
                        for try await (sealed, landline) in rows.decode((ByteBuffer, String?).self) {
                            let bytes = Array(sealed.readableBytesView)
                            #expect(bytes.count == 12 + Self.authToken.utf8.count + 16)
                            #expect(String(decoding: bytes, as: UTF8.self).contains(Self.authToken) == false)
                            #expect(landline == Self.landline)
                        }
                        let account = try #require(try await hq.app.twilioAccounts.account(site: link.siteID))
                        #expect(account.authToken == Self.authToken)

                        // The same provisioning again is the same state: one account, the same URLs.
                        #expect(try await provisioning.provision(number: Self.number) == provisioned)
                        #expect(try await hq.count("site_twilio") == 1)

                        // The doctor now sees headquarters accept the key and the number set right.
                        let checks = await Doctor(app: app, clockSynchronized: { true }).run()
                        let byName = Dictionary(uniqueKeysWithValues: checks.map { ($0.name, $0) })
                        #expect(
                            byName["headquarters"]
                                == DoctorCheck("headquarters", .pass, "device key accepted, site Casa Lupe"))
                        #expect(
                            byName["twilio number"]
                                == DoctorCheck(
                                    "twilio number", .pass, "\(Self.number) calls this box, falls back to \(fallback)"))

                        // A revoked box is told so, with the fix.
                        try await hq.directory.revoke(deviceID: link.deviceID)
                        let revoked = await Doctor(app: app, clockSynchronized: { true }).run()
                            .first { $0.name == "headquarters" }
                        #expect(revoked?.status == .fail)
                        #expect(revoked?.fix == "edge-agent provision --force --hq URL --token TOKEN")
                    }
                }
            }
        }
    }

    @Test(
        "the box offline: the caller hears the restaurant in their language, the landline rings, and a voicemail is imported once and reaches the box as one staff message"
    )
    func fallbackCall() async throws {
        let twilio = TwilioPhoneNumbersDouble(
            accountSID: Self.accountSID, authToken: Self.authToken, numbers: [Self.number: nil])
        let wav = Self.wav(seconds: 1)
        let recordingSID = "RE" + String(repeating: "3", count: 32)
        twilio.recordings.withLockedValue { $0[recordingSID] = wav }
        let storeFolder = TemporaryFolder(prefix: "hq-store")
        let store = storeFolder.file("store")  // made by headquarters when it stores the first file
        try await HQHarness.with(recordingStorage: .folder(store)) { hq in
            try await hq.serve { hqURL in
                try await Self.withTwilio(twilio) { twilioURL in
                    let (identity, link) = try await Auth.enrolledBox(hq, url: hqURL, site: "Casa Lupe")
                    let client = try SyncClient(baseURL: hqURL, logger: Auth.logger)
                    defer { Task { await client.shutdown() } }
                    let registered = try await client.registerTwilio(
                        TwilioRegistrationRequest(
                            accountSID: Self.accountSID, authToken: Self.authToken, phoneNumber: Self.number,
                            landline: Self.landline, language: "en", restaurantName: "Casa Lupe"),
                        identity: identity, deviceID: link.deviceID)
                    let base = "\(hqURL)/v1/twilio/fallback/\(link.siteID)"
                    #expect(registered.fallbackURL == base)
                    // A caller the box knows speaks Spanish (synced from the box).
                    let caller = "+15551230000"
                    try await hq.database.client.query(
                        """
                        INSERT INTO customers (site_id, id, version, changed_at, origin, row)
                        VALUES (\(link.siteID), 'cus_1', 1, 1, 'box',
                            jsonb_build_object('id', 'cus_1', 'phone', \(caller)::text, 'preferred_language', 'es'))
                        """)
                    let callSID = "CA" + String(repeating: "1", count: 32)
                    let call = [
                        ("AccountSid", Self.accountSID), ("CallSid", callSID), ("From", caller), ("To", Self.number),
                        ("CallStatus", "ringing"), ("Direction", "inbound"), ("FromCountry", "US"),
                        ("ErrorCode", "11200"), ("ErrorUrl", "https://agent.example.com/twilio/voice"),
                    ]

                    // A forged request is refused and stores nothing.
                    let forged = try await Self.post(base, call, signature: "bm90IGEgc2lnbmF0dXJl")
                    #expect(forged.status == 403)
                    #expect(try await hq.count("fallback_calls") == 0)
                    let unknown = try await Self.post(
                        "\(hqURL)/v1/twilio/fallback/site_unknown", call,
                        signature: try await Self.twilioSignature("\(hqURL)/v1/twilio/fallback/site_unknown", call))
                    #expect(unknown.status == 404)

                    let greeting = try await Self.post(
                        base, call, signature: try await Self.twilioSignature(base, call))
                    #expect(greeting.status == 200)
                    #expect(greeting.contentType == "text/xml; charset=utf-8")
                    #expect(
                        greeting.body
                            == #"<?xml version="1.0" encoding="UTF-8"?><Response><Say language="es-US">Gracias por llamar a Casa Lupe. Nuestro asistente telefónico no puede atenderle ahora. Le pasamos con el restaurante.</Say><Dial action="\#(base)/dial" method="POST" timeout="20">+15550001111</Dial></Response>"#
                    )
                    // Twilio asking again for the same call is the same call.
                    _ = try await Self.post(base, call, signature: try await Self.twilioSignature(base, call))
                    #expect(try await hq.count("fallback_calls") == 1)

                    let dial = call + [("DialCallStatus", "no-answer"), ("DialCallDuration", "0")]
                    let voicemail = try await Self.post(
                        base + "/dial", dial, signature: try await Self.twilioSignature(base + "/dial", dial))
                    #expect(
                        voicemail.body
                            == #"<?xml version="1.0" encoding="UTF-8"?><Response><Say language="es-US">Deje su nombre, su número y su mensaje después del tono, y le devolveremos la llamada.</Say><Record action="\#(base)/recorded" maxLength="120" method="POST" playBeep="true" recordingStatusCallback="\#(base)/recording" recordingStatusCallbackEvent="completed" timeout="5" trim="trim-silence" /></Response>"#
                    )
                    let recorded =
                        call + [
                            ("RecordingUrl", twilio.recordingURL(base: twilioURL, sid: recordingSID)),
                            ("RecordingDuration", "14"), ("Digits", "hangup"),
                        ]
                    let goodbye = try await Self.post(
                        base + "/recorded", recorded,
                        signature: try await Self.twilioSignature(base + "/recorded", recorded))
                    #expect(
                        goodbye.body.contains(
                            #"<Say language="es-US">Gracias. Hemos recibido su mensaje. Adiós.</Say><Hangup />"#))

                    // The recording callback while Twilio still processes the file: kept pending, not lost.
                    twilio.failingRecordingFetches.withLockedValue { $0 = 1 }
                    let status = [
                        ("AccountSid", Self.accountSID), ("CallSid", callSID), ("RecordingSid", recordingSID),
                        ("RecordingUrl", twilio.recordingURL(base: twilioURL, sid: recordingSID)),
                        ("RecordingStatus", "completed"), ("RecordingDuration", "14"), ("RecordingChannels", "1"),
                        ("RecordingSource", "RecordVerb"),
                    ]
                    let first = try await Self.post(
                        base + "/recording", status,
                        signature: try await Self.twilioSignature(base + "/recording", status))
                    #expect(first.status == 204)
                    #expect(try await hq.count("voicemails") == 0)
                    let pending = try #require(try await hq.app.fallbackCalls.call(site: link.siteID, callSID: callSID))
                    #expect(pending.importStatus == "pending")
                    #expect(pending.importAttempts == 1)

                    // The housekeeping loop's retry imports it, and Twilio's copy is deleted.
                    #expect(await hq.app.voicemails.importPending() == 1)
                    #expect(try await hq.count("voicemails") == 1)
                    let key = VoicemailImporter.storageKey(site: link.siteID, recordingSID: recordingSID)
                    #expect(FileManager.default.contents(atPath: store + "/" + key) == Data(wav))
                    #expect(twilio.recordings.withLockedValue { $0.isEmpty })
                    // Twilio repeating its callback imports nothing twice.
                    _ = try await Self.post(
                        base + "/recording", status,
                        signature: try await Self.twilioSignature(base + "/recording", status))
                    #expect(try await hq.count("voicemails") == 1)
                    #expect(twilio.recordingFetches.withLockedValue { $0 } == [recordingSID, recordingSID])

                    // The box, back online, downloads it as one staff message, and only once.
                    let folder = TemporaryFolder(prefix: "box")
                    let database = try EdgeDatabase(dataDirectory: folder.path, logger: Logger(label: "box"))
                    let applier = DownloadApplier(
                        session: SyncSession(
                            database: database, client: client, identity: identity, link: link,
                            upstream: OutboxUploadTests.upstream(), logger: Auth.logger))
                    #expect(try await applier.pull().voicemails == 1)
                    try await database.write { db in
                        try db.execute(sql: "UPDATE staff_messages SET status = 'read'")
                        try SyncState.set(DownloadApplier.cursorKey, "", at: 1, in: db)
                    }
                    #expect(try await applier.pull().voicemails == 0)
                    let messages = try await database.read { db in try StaffMessage.fetchAll(db) }
                    #expect(messages.count == 1)
                    #expect(messages.first?.id == "vm_" + recordingSID)
                    #expect(messages.first?.callbackPhone == caller)
                    #expect(messages.first?.language == "es")
                    #expect(messages.first?.status == .read)
                    #expect(messages.first?.message.contains("Voicemail of 14 s") == true)
                    try database.close()

                    // An English caller from abroad and the restaurant answering the landline.
                    let second = [
                        ("AccountSid", Self.accountSID), ("CallSid", "CA" + String(repeating: "2", count: 32)),
                        ("From", "+442071234567"), ("To", Self.number), ("FromCountry", "GB"),
                    ]
                    let english = try await Self.post(
                        base, second, signature: try await Self.twilioSignature(base, second))
                    #expect(
                        english.body.contains(
                            #"<Say language="en-US">Thank you for calling Casa Lupe. Our phone assistant cannot answer right now. We are putting you through to the restaurant.</Say>"#
                        ))
                    let answered = second + [("DialCallStatus", "completed")]
                    let hangUp = try await Self.post(
                        base + "/dial", answered, signature: try await Self.twilioSignature(base + "/dial", answered))
                    #expect(hangUp.body == #"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>"#)
                }
            }
        }
    }

    @Test("registration without a secrets key at headquarters, or with a malformed account, is refused with the reason")
    func refusedRegistrations() async throws {
        try await HQHarness.with { hq in
            try await hq.serve { hqURL in
                let (identity, link) = try await Auth.enrolledBox(hq, url: hqURL, site: "Casa Lupe")
                let client = try SyncClient(baseURL: hqURL, logger: Auth.logger)
                defer { Task { await client.shutdown() } }
                let bad = TwilioRegistrationRequest(
                    accountSID: "AC123", authToken: Self.authToken, phoneNumber: Self.number, landline: nil,
                    language: "en", restaurantName: "Casa Lupe")
                await #expect {
                    _ = try await client.registerTwilio(bad, identity: identity, deviceID: link.deviceID)
                } throws: { error in
                    "\(error)".contains("account_sid is not a Twilio account SID")
                }
                #expect(try await hq.count("site_twilio") == 0)
            }
        }
        let accounts = SiteTwilioAccounts(
            database: HQDatabase(
                location: try HQTestDatabase.baseLocation(), maximumConnections: 1, logger: Auth.logger),
            secretsKey: nil, logger: Auth.logger)
        await #expect {
            _ = try await accounts.register(
                site: "site_x",
                TwilioRegistrationRequest(
                    accountSID: Self.accountSID, authToken: Self.authToken, phoneNumber: Self.number, landline: nil,
                    language: "en", restaurantName: "Casa Lupe"), publicBase: "https://hq.example.com")
        } throws: { error in
            (error as? HQError)?.code == "secrets_key_missing"
        }
    }

    // MARK: Helpers

    struct Answer {
        let status: Int
        let contentType: String?
        let body: String
    }

    /// POSTs `form` to `url` as Twilio would, with `signature` as `X-Twilio-Signature`.
    static func post(_ url: String, _ form: [(String, String)], signature: String) async throws -> Answer {
        let body = FormParameters(form.map { (name: $0.0, value: $0.1) }).encoded
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "X-Twilio-Signature", value: signature)
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let answer = try await response.body.collect(upTo: 1024 * 1024)
        return Answer(
            status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type"),
            body: String(buffer: answer))
    }

    /// `RequestValidator(token).compute_signature(url, params)` from Twilio's own library; where the
    /// library is missing (never in CI, which installs it) the product's own computation.
    static func twilioSignature(_ url: String, _ form: [(String, String)]) async throws -> String {
        guard let made = try await TwilioLibrary.signatures([(url, form)], token: authToken) else {
            #expect(
                ProcessInfo.processInfo.environment["CI"] == nil,
                "the twilio library is not installed at \(TestPython.path)")
            return TwilioSignature.compute(
                url: url, parameters: FormParameters(form.map { (name: $0.0, value: $0.1) }), authToken: authToken)
        }
        return try #require(made.first)
    }

    /// A mono 8 kHz 16-bit WAV of silence, as Twilio serves a recording.
    static func wav(seconds: Int) -> [UInt8] {
        let samples = 8000 * seconds
        func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8((value >> ($0 * 8)) & 0xff) } }
        func le16(_ value: Int) -> [UInt8] { (0..<2).map { UInt8((value >> ($0 * 8)) & 0xff) } }
        var bytes = Array("RIFF".utf8) + le32(36 + samples * 2) + Array("WAVEfmt ".utf8) + le32(16) + le16(1)
        bytes += le16(1) + le32(8000) + le32(16000) + le16(2) + le16(16) + Array("data".utf8) + le32(samples * 2)
        return bytes + [UInt8](repeating: 0, count: samples * 2)
    }
}
