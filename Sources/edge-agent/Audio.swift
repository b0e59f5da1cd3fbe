import ArgumentParser
import AudioIO
import CallSimulator
import Dispatch
import EdgeAgent
import Foundation
import LocalStore
import Sync

/// `edge-agent audio devices | test | bench`.
struct Audio: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The box's own audio: its sound devices, a speaker and microphone check, and how the agent hears.",
        subcommands: [List.self, Test.self])

    /// The devices of `test` and `talk`.
    struct Devices: ParsableArguments {
        @Option(name: .long, help: "The playback device (see `edge-agent audio devices`).")
        var playback = "default"

        @Option(name: .long, help: "The capture device (see `edge-agent audio devices`).")
        var capture = "default"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "devices",
            abstract: "List the sound devices ALSA knows, with the name to pass to --playback and --capture.")

        func run() async throws {
            let devices = ALSADevices.list()
            guard !devices.isEmpty else { throw fail("ALSA lists no sound device (is libasound2 installed?)", code: 1) }
            for device in devices {
                let ways = [device.playback ? "playback" : nil, device.capture ? "capture" : nil].compactMap { $0 }
                print("\(device.name)\t\(ways.joined(separator: "+"))\t\(device.description)")
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Play the agent's greeting through the speaker, then record from the microphone and print levels.",
            discussion: "Exit codes: 0 when the microphone heard something, 1 when a device failed or it heard nothing."
        )

        @OptionGroup var options: Cache.Options
        @OptionGroup var devices: Devices

        @Option(name: .long, help: "Seconds to record (1 to 60).")
        var seconds = 5

        @Option(name: .long, help: "The greeting's language: en or es.")
        var language = "en"

        func run() async throws {
            guard (1...60).contains(seconds) else { throw fail("--seconds must be 1 to 60", code: 2) }
            guard ["en", "es"].contains(language) else { throw fail("--language must be en or es", code: 2) }
            let phrase = try await options.withApp(
                http: true, maintenance: false, failure: "the greeting could not be spoken: "
            ) { app in
                let text = app.phrases.text(
                    .greeting, language: language, ["restaurant": app.configuration.restaurant.name])
                var phrase: [UInt8] = []
                for try await chunk in app.makeSpeechOutput().speak(Utterance(text, language: language)) {
                    phrase += chunk
                }
                return phrase
            }
            let (playback, capture) = (devices.playback, devices.capture)
            print("playing on \(playback), then recording \(seconds) s from \(capture)")
            let report: AudioCheck.Report
            do {
                report = try await AudioCheck(
                    playbackDevice: playback, captureDevice: capture, recordFor: .seconds(seconds)
                ).run(phrase: phrase)
            } catch {
                throw fail("\(error)", code: 1)
            }
            print(report)
            if !report.heardSignal { throw ExitCode(1) }
        }
    }
}

/// `edge-agent talk`.
struct Talk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk with the agent through the box's headset: a whole call, with no phone line.",
        discussion:
            "The same agent, tools and store as a phone call; the call is recorded with source 'local'. "
            + "Ends when the agent hangs up, on Ctrl-C, or after --minutes. Prints the conversation.")

    @OptionGroup var options: Cache.Options
    @OptionGroup var devices: Audio.Devices

    @Option(name: .long, help: "The longest the conversation may last, in minutes (1 to 60).")
    var minutes = 10

    func run() async throws {
        guard (1...60).contains(minutes) else { throw fail("--minutes must be 1 to 60", code: 2) }
        try await options.withApp(http: true, maintenance: false) { app in
            let stop = LocalConversationStop()
            let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .main)
            signal(SIGINT, SIG_IGN)
            interrupt.setEventHandler { stop.open(reason: "stopped with Ctrl-C") }
            interrupt.resume()
            print("talking through \(devices.capture) and \(devices.playback); Ctrl-C ends the call")
            let call = try await LocalConversation(
                services: app.makeCallServices(), playbackDevice: devices.playback, captureDevice: devices.capture,
                longest: .seconds(minutes * 60), logger: app.logger
            ).run(stop: stop)
            let turns = (try? await CallLog(database: app.database).turns(callID: call.id)) ?? []
            for turn in turns where !turn.text.isEmpty {
                print("\(turn.speaker == .caller ? "you" : "agent"): \(turn.text)")
            }
            print("call \(call.id): \(call.outcome ?? "no outcome"), \(call.durationSeconds ?? 0) s")
        }
    }
}
