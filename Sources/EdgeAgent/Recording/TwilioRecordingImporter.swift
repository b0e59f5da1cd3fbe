import AudioIO
import CallRecording
import Foundation
public import LocalStore
public import Logging
import NIOCore
public import Resilience
import Sync

/// Brings Twilio's own recordings of calls onto the box: the recording callback asks
/// (``accept(recordingSid:callSid:)``), and a background pass downloads each one from Twilio's REST
/// API, re-encodes it to Ogg Opus and seals it to the owner as it arrives (the same file format as
/// the box's own recordings), stores the `recordings` row, and, when configuration says so, deletes
/// Twilio's copy. Every request is a row first, so nothing is lost to a crash, a dead upstream or a
/// full disk: failures are retried by the next pass (at start and every few minutes) until Twilio
/// says the recording does not exist or ``maximumAttempts`` is reached.
public actor TwilioRecordingImporter {
    let imports: TwilioRecordingImports
    let twilio: TwilioRESTClient
    let recordings: CallRecordings
    let calls: CallLog
    let upstream: Upstream
    let deleteAtTwilio: Bool
    let logger: Logger
    /// Attempts before an import is given up as failed.
    let maximumAttempts: Int

    private var pass: Task<Void, Never>?
    private var passAgain = false

    public init(
        imports: TwilioRecordingImports, twilio: TwilioRESTClient, recordings: CallRecordings, calls: CallLog,
        upstream: Upstream, deleteAtTwilio: Bool, maximumAttempts: Int = 8, logger: Logger
    ) {
        self.imports = imports
        self.twilio = twilio
        self.recordings = recordings
        self.calls = calls
        self.upstream = upstream
        self.deleteAtTwilio = deleteAtTwilio
        self.maximumAttempts = maximumAttempts
        self.logger = logger
    }

    /// Notes a finished Twilio recording and starts importing it; returns false for a repeat.
    @discardableResult
    public func accept(recordingSid: String, callSid: String) async throws -> Bool {
        let created = try await imports.request(recordingSid: recordingSid, callSid: callSid)
        startPass()
        return created
    }

    /// Starts a pass over everything due, or asks the running one to look again when it ends.
    public func startPass() {
        guard pass == nil else {
            passAgain = true
            return
        }
        pass = Task { await self.runPasses() }
    }

    /// Waits until no pass is running (tests, and a graceful stop).
    public func idle() async {
        while let pass { await pass.value }
    }

    private func runPasses() async {
        repeat {
            passAgain = false
            await importDue()
        } while passAgain && !Task.isCancelled
        pass = nil
    }

    private func importDue() async {
        let due: [TwilioRecordingImport]
        do {
            due = try await imports.due(includeUndeleted: deleteAtTwilio)
        } catch {
            logger.error("cannot read the Twilio recordings to import", metadata: ["error": "\(error)"])
            return
        }
        for entry in due where !Task.isCancelled {
            if entry.state == .pending { await importRecording(entry) }
            guard deleteAtTwilio, let current = try? await imports.import(id: entry.id), current.state == .imported,
                current.deletedAtTwilio == nil
            else { continue }
            await deleteCopy(current)
        }
    }

    /// One attempt at one recording.
    private func importRecording(_ entry: TwilioRecordingImport) async {
        var logger = self.logger
        logger[metadataKey: "twilio.recording_sid"] = .string(entry.id)
        logger[metadataKey: "call.sid"] = .string(entry.callSid)
        do {
            let recording = try await download(entry)
            try await imports.imported(id: entry.id, recording: recording)
            recordings.metrics.twilioRecordingsImported.increment()
            logger.info(
                "Twilio recording stored encrypted",
                metadata: [
                    "recording.id": .string(recording.id),
                    "recording.duration_ms": .stringConvertible(recording.durationMilliseconds ?? 0),
                ])
        } catch {
            recordings.metrics.twilioRecordingImportFailures.increment()
            let permanent = Self.isPermanent(error) || entry.attempts + 1 >= maximumAttempts
            logger.error(
                permanent
                    ? "Twilio recording cannot be imported; given up (see twilio_recording_imports.last_error)"
                    : "Twilio recording import failed; it is retried on the next pass",
                metadata: ["error": "\(error)"])
            try? await imports.failed(id: entry.id, reason: "\(error)", permanent: permanent)
        }
    }

    /// Downloads, re-encodes and seals the recording into a new file; returns its finished row. A failed
    /// attempt leaves no file behind.
    private func download(_ entry: TwilioRecordingImport) async throws -> Recording {
        let call = try await callRow(for: entry.callSid)
        try FileManager.default.createDirectory(atPath: recordings.folder, withIntermediateDirectories: true)
        let startedAt = recordings.clock.nowMilliseconds()
        let recordingID = UUID().uuidString.lowercased()
        let fileName = "\(recordingID).rec"
        let path = recordings.path(of: fileName)
        let (summary, sealedKey) = try await upstream.run(classify: Self.classify) {
            [twilio, ownerPublicKey = recordings.ownerPublicKey] in
            let sink = ImportSink(path: path, ownerPublicKey: ownerPublicKey)
            do {
                try await twilio.downloadRecording(sid: entry.id, timeout: .minutes(5)) { piece in
                    try await sink.consume(piece)
                }
                return try await sink.finish()
            } catch {
                await sink.abandon()
                try? FileManager.default.removeItem(atPath: path)
                throw error
            }
        }
        return Recording(
            id: recordingID, callID: call.id, fileName: fileName, sealedKey: Data(sealedKey), state: .complete,
            startedAt: startedAt - Int64(summary.durationMilliseconds), endedAt: startedAt,
            durationMilliseconds: summary.durationMilliseconds, sizeBytes: summary.sizeBytes,
            ciphertextSHA256: summary.ciphertextSHA256, source: .twilio)
    }

    /// The call the recording belongs to; one whose webhooks never reached the box is recorded now.
    private func callRow(for callSid: String) async throws -> Call {
        if let call = try await calls.call(sid: callSid) { return call }
        return try await calls.applyStatus(
            .init(callSid: callSid, from: "unknown", to: "unknown", direction: "inbound", status: .completed),
            durationSeconds: nil)
    }

    private func deleteCopy(_ entry: TwilioRecordingImport) async {
        do {
            try await upstream.run(classify: TwilioRESTClient.classify) {
                try await twilio.deleteRecording(sid: entry.id)
            }
            try await imports.deletedAtTwilio(id: entry.id)
            logger.info("Twilio's copy of the recording deleted", metadata: ["twilio.recording_sid": .string(entry.id)])
        } catch {
            logger.warning(
                "Twilio's copy of the recording could not be deleted; tried again on the next pass",
                metadata: ["twilio.recording_sid": .string(entry.id), "error": "\(error)"])
        }
    }

    static func classify(_ error: any Error) -> FailureKind {
        isPermanent(error) ? .permanent : TwilioRESTClient.classify(error)
    }

    /// Twilio has no such recording (404), or it is not audio the box can read (a download cut short
    /// is worth another try).
    static func isPermanent(_ error: any Error) -> Bool {
        switch error {
        case let error as TwilioRESTClient.RequestError: error.status == 404
        case let error as WAVStreamDecoder.FormatError: !error.isTruncated
        default: false
        }
    }
}

/// The WAV decoder and the sealed file of one download attempt; the file is made once the WAV's
/// format is known.
private actor ImportSink {
    let path: String
    let ownerPublicKey: [UInt8]
    private var decoder = WAVStreamDecoder()
    private var file: SealedAudioImport?

    init(path: String, ownerPublicKey: [UInt8]) {
        self.path = path
        self.ownerPublicKey = ownerPublicKey
    }

    func consume(_ piece: ByteBuffer) async throws {
        let samples = try decoder.feed(piece.readableBytesView)
        guard !samples.isEmpty, let format = decoder.format else { return }
        if file == nil {
            file = try SealedAudioImport(
                path: path, ownerPublicKey: ownerPublicKey, sampleRate: format.sampleRate, channels: format.channels,
                channelNote: format.channels == 1
                    ? "mono, from Twilio" : "Twilio dual-channel recording, in Twilio's order")
        }
        try await file?.append(samples)
    }

    func finish() async throws -> (SealedAudioImport.Summary, [UInt8]) {
        try decoder.finish()
        guard let file else { throw WAVStreamDecoder.FormatError(description: "the WAV file holds no audio") }
        return (try await file.finish(), file.sealedKey)
    }

    func abandon() async {
        await file?.abandon()
    }
}
