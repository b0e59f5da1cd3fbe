import Foundation
import TestSupport
import Testing

@testable import EdgeAgent

@Suite("Configuration")
struct ConfigurationTests {
    let loader = ConfigurationLoader()

    func write(_ text: String, to folder: TemporaryFolder, name: String = "config.yaml") throws -> String {
        let path = folder.file(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func error(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as ConfigurationError {
            return error.description
        } catch {
            return "not a ConfigurationError: \(error)"
        }
    }

    @Test("embedded defaults with no file and no variables")
    func defaults() throws {
        let loaded = try loader.load(filePath: nil, environment: [:])
        let configuration = loaded.configuration
        #expect(configuration.dataDirectory == "./edge-agent-data")
        #expect(configuration.http.host == "127.0.0.1")
        #expect(configuration.http.port == 8080)
        #expect(configuration.publicURL.absoluteString == "http://127.0.0.1:8080")
        #expect(configuration.twilio.authToken == nil)
        #expect(configuration.headquartersURL == nil)
        #expect(loaded.sources.isEmpty)
    }

    @Test("the file overrides defaults and the environment overrides the file")
    func precedence() throws {
        let folder = TemporaryFolder()
        let path = try write(
            """
            data_dir: /var/lib/edge-agent
            http:
              host: 0.0.0.0
              port: 9000
            reservations:
              seats_per_slot: 60
              opening_hours:
                mon: closed
                fri: ["12:00-15:00", "18:00-23:30"]
            """, to: folder)
        let loaded = try loader.load(
            filePath: path,
            environment: ["EDGE_HTTP_PORT": "9100", "EDGE_OPENING_HOURS_MON": "17:00-21:00", "PATH": "/bin"])
        let configuration = loaded.configuration
        #expect(configuration.dataDirectory == "/var/lib/edge-agent")
        #expect(configuration.http.host == "0.0.0.0")
        #expect(configuration.http.port == 9100)
        #expect(configuration.reservations.seatsPerSlot == 60)
        #expect(configuration.reservations.openingHours[5]?.map(\.description) == ["12:00-15:00", "18:00-23:30"])
        #expect(configuration.reservations.openingHours[1]?.map(\.description) == ["17:00-21:00"])
        #expect(loaded.sources["http.port"] == .environment(name: "EDGE_HTTP_PORT"))
        #expect(loaded.sources["http.host"] == .file(path: path, line: 3))
        #expect(loaded.sources["llm.model"] == nil)
    }

    @Test("a JSON file works too, YAML being a superset of it")
    func jsonFile() throws {
        let folder = TemporaryFolder()
        let path = try write(
            #"{"http": {"port": 7000}, "restaurant": {"time_zone": "Europe/Madrid"}}"#, to: folder, name: "c.json")
        let configuration = try loader.load(filePath: path, environment: [:]).configuration
        #expect(configuration.http.port == 7000)
        #expect(configuration.reservations.timeZone.identifier == "Europe/Madrid")
    }

    @Test(
        "an unknown key or variable is named, with a suggestion",
        arguments: [
            (
                "http:\n  prot: 80\n", [String: String](),
                "unknown key 'http.prot' in CONFIG line 2 (did you mean 'http.port'?)"
            ),
            (
                "", ["EDGE_HTTP_PROT": "80"],
                "unknown environment variable EDGE_HTTP_PROT (did you mean 'EDGE_HTTP_PORT'?)"
            ),
            ("colour: blue\n", [:], "unknown key 'colour' in CONFIG line 1"),
        ])
    func unknownKeys(file: String, environment: [String: String], expected: String) throws {
        let folder = TemporaryFolder()
        let path = try write(file, to: folder)
        let message = error { _ = try loader.load(filePath: path, environment: environment) }
        #expect(message == "configuration error: " + expected.replacingOccurrences(of: "CONFIG", with: path))
    }

    @Test("variables of edge-hq and of other programs are not typos")
    func foreignVariables() throws {
        let loaded = try loader.load(
            filePath: nil,
            environment: [
                "EDGE_HQ_DATABASE_URL": "postgres://x", "HOME": "/root", "EDGE_HQ_URL": "https://hq.example.com",
            ])
        #expect(loaded.configuration.headquartersURL?.host == "hq.example.com")
    }

    @Test(
        "a bad value names the setting, where it came from and what is expected",
        arguments: [
            (
                ["EDGE_HTTP_PORT": "eighty"],
                "http.port (environment EDGE_HTTP_PORT): 'eighty' is not a whole number from 0 to 65535"
            ),
            (
                ["EDGE_PUBLIC_URL": "agent.example.com"],
                "public_url (environment EDGE_PUBLIC_URL): is not a URL starting with http:// or https://"
            ),
            (
                ["EDGE_TIME_ZONE": "Mars/Olympus"],
                "restaurant.time_zone (environment EDGE_TIME_ZONE): 'Mars/Olympus' is not a time zone name like America/New_York"
            ),
            (
                ["EDGE_OPENING_HOURS_TUE": "22:00-17:00"],
                "reservations.opening_hours.tue (environment EDGE_OPENING_HOURS_TUE): '22:00-17:00' is not an opening period like 17:00-22:00"
            ),
            (
                ["EDGE_OPENING_HOURS_TUE": "12:00-15:00,14:00-22:00"],
                "reservations.opening_hours.tue (environment EDGE_OPENING_HOURS_TUE): '14:00-22:00' overlaps '12:00-15:00'"
            ),
            (
                ["EDGE_RECORDING_PUBLIC_KEY": "bm90IGEga2V5"],
                "recording.public_key (environment EDGE_RECORDING_PUBLIC_KEY): is not a base64 X25519 public key (32 bytes); make one with `edge-agent keys generate`"
            ),
            (["EDGE_SLOT_MINUTES": "7"], "reservations.slot_minutes (7) must divide a day evenly, like 15, 20 or 30"),
            (
                ["EDGE_MAX_PARTY_SIZE": "50", "EDGE_SEATS_PER_SLOT": "20"],
                "reservations.max_party_size (50) is larger than reservations.seats_per_slot (20)"
            ),
            (
                ["EDGE_OTLP_ENDPOINT": "collector:4318"],
                "tracing.otlp_endpoint (environment EDGE_OTLP_ENDPOINT): is not a URL starting with http:// or https://"
            ),
            (
                ["EDGE_LOG_LEVEL": "loud"],
                "log.level (environment EDGE_LOG_LEVEL): 'loud' is not one of trace, debug, info, notice, warning, error, critical"
            ),
            (
                ["TWILIO_ACCOUNT_SID": "XX123"],
                "twilio.account_sid (environment TWILIO_ACCOUNT_SID): a Twilio account SID is AC followed by 32 characters"
            ),
        ])
    func badValues(environment: [String: String], expected: String) {
        let message = error { _ = try loader.load(filePath: nil, environment: environment) }
        #expect(message == "configuration error: " + expected)
    }

    @Test("a YAML syntax error names the file and line; a missing file is named")
    func syntaxErrors() throws {
        let folder = TemporaryFolder()
        let path = try write("http:\n  port: [80\n", to: folder)
        let message = try #require(error { _ = try loader.load(filePath: path, environment: [:]) })
        #expect(message.hasPrefix("configuration error: \(path) is not valid YAML:"))
        #expect(message.contains("line 3"))
        let missing = error { _ = try loader.load(filePath: folder.file("nope.yaml"), environment: [:]) }
        #expect(
            missing
                == "configuration error: cannot read configuration file \(folder.file("nope.yaml")): check the path given to --config"
        )
    }

    @Test("secrets are masked in --check-config output and never echoed in errors")
    func secretsMasked() throws {
        let environment = [
            "TWILIO_AUTH_TOKEN": "tw-secret-value", "OPENAI_API_KEY": "sk-secret-value",
            "ELEVENLABS_API_KEY": "el-secret-value", "EDGE_ADMIN_TOKEN": "admin-secret-value",
        ]
        let description = try loader.load(filePath: nil, environment: environment).effectiveDescription
        #expect(!description.contains("secret-value"))
        #expect(description.contains("twilio.auth_token"))
        #expect(description.contains("******** (set)  [environment TWILIO_AUTH_TOKEN; TWILIO_AUTH_TOKEN]"))
        #expect(description.contains("http.port"))
        #expect("\(Secret("sk-secret-value"))" == "******** (set)")
        #expect(String(reflecting: Secret("sk-secret-value")) == "******** (set)")
        var dumped = ""
        dump(Secret("sk-secret-value"), to: &dumped)
        #expect(!dumped.contains("sk-secret-value"))
    }

    @Test("values from Windows-edited files lose their line endings")
    func carriageReturns() throws {
        let loaded = try loader.load(
            filePath: nil, environment: ["TWILIO_AUTH_TOKEN": "token-value\r\n", "EDGE_HTTP_PORT": "9000\r"])
        #expect(loaded.configuration.twilio.authToken?.value == "token-value")
        #expect(loaded.configuration.http.port == 9000)
    }

    @Test(
        "URLs with credentials, queries or fragments are refused without repeating them",
        arguments: [
            ("EDGE_PUBLIC_URL", "https://user:hunter2@agent.example.com", "must not contain a user name or password"),
            ("EDGE_PUBLIC_URL", "https://agent.example.com?x=1", "must not contain a query"),
            ("OPENAI_BASE_URL", "https://api.example.com/v1#frag", "must not contain a query"),
            ("EDGE_HQ_URL", "ftp://hq.example.com", "is not a URL starting with http:// or https://"),
        ])
    func unsafeURLs(variable: String, value: String, expected: String) {
        let message = error { _ = try loader.load(filePath: nil, environment: [variable: value]) }
        #expect(message?.contains(expected) == true, "\(message ?? "")")
        #expect(message?.contains("hunter2") == false)
        #expect(message?.contains(value) == false)
    }

    @Test("an empty section is fine; a list where one value is expected, or an absurd size, is not")
    func yamlShapes() throws {
        let folder = TemporaryFolder()
        let empty = try write("twilio:\n# account_sid: AC...\nhttp:\n  port: 9000\nhq:\n  url: Null\n", to: folder)
        let loaded = try loader.load(filePath: empty, environment: [:])
        #expect(loaded.configuration.http.port == 9000)
        #expect(loaded.configuration.headquartersURL == nil)
        let list = try write("http:\n  host: [a, b]\n", to: folder, name: "list.yaml")
        #expect(
            error { _ = try loader.load(filePath: list, environment: [:]) }?.contains("takes one value, not a list")
                == true)
        let huge = error {
            _ = try loader.load(filePath: nil, environment: ["EDGE_MINIMUM_FREE_DISK_MB": "99999999999999"])
        }
        #expect(huge?.contains("from 0 to 10000000") == true)
    }

    @Test("voices with their own settings: YAML mappings or text items, shown back, wrong ones named with their line")
    func voiceSettings() throws {
        let folder = TemporaryFolder()
        let file = try write(
            """
            tts:
              voices_en:
                - id: rachel
                  name: Rachel
                  settings: {stability: 0.6, similarity_boost: 0.75, style: 0.1, speed: 0.95}
                - domi:Domi
                - id: bella
            """, to: folder)
        let loaded = try loader.load(filePath: file, environment: [:])
        let english = try #require(loaded.configuration.textToSpeech.voiceChoices["en"])
        #expect(english.map(\.id) == ["rachel", "domi", "bella"])
        #expect(english.map(\.name) == ["Rachel", "Domi", "bella"])
        #expect(
            english[0].settings == VoiceStyle(stability: 0.6, similarityBoost: 0.75, style: 0.1, speed: 0.95))
        #expect(english[1].settings == .standard)
        #expect(loaded.configuration.textToSpeech.voiceSettings["rachel"]?.speed == 0.95)
        #expect(
            loaded.effectiveDescription.contains(
                "rachel:Rachel;stability=0.6;similarity_boost=0.75;style=0.1;speed=0.95,domi:Domi,bella:bella"))

        let environment = try loader.load(
            filePath: nil, environment: ["EDGE_VOICES_ES": "lucia:Lucía;speed=0.9, pablo:Pablo"])
        let spanish = try #require(environment.configuration.textToSpeech.voiceChoices["es"])
        #expect(spanish.map(\.settings.speed) == [0.9, 1])
        #expect(spanish[0].name == "Lucía")

        let outOfRange = try write(
            "tts:\n  voices_en:\n    - domi\n    - id: rachel\n      settings:\n        speed: 2\n", to: folder,
            name: "range.yaml")
        let rangeError = error { _ = try loader.load(filePath: outOfRange, environment: [:]) }
        #expect(rangeError?.contains("tts.voices_en") == true, "\(rangeError ?? "")")
        #expect(rangeError?.contains("speed '2' is not a number from 0.7 to 1.2") == true, "\(rangeError ?? "")")
        #expect(rangeError?.contains("line 4") == true, "\(rangeError ?? "")")

        let unknownSetting = error {
            _ = try loader.load(filePath: nil, environment: ["EDGE_VOICES_EN": "rachel:Rachel;pitch=3"])
        }
        #expect(unknownSetting?.contains("'pitch' is not a voice setting") == true, "\(unknownSetting ?? "")")
        let unknownField = try write(
            "tts:\n  voices_en:\n    - id: rachel\n      colour: red\n", to: folder, name: "field.yaml")
        #expect(
            error { _ = try loader.load(filePath: unknownField, environment: [:]) }?.contains(
                "a voice has no 'colour'") == true)
        let noIdentifier = try write("tts:\n  voices_en:\n    - name: Rachel\n", to: folder, name: "id.yaml")
        #expect(
            error { _ = try loader.load(filePath: noIdentifier, environment: [:]) }?.contains("a voice needs an id")
                == true)
        let badName = try write(
            "tts:\n  voices_en:\n    - {id: rachel, name: 'Rachel, the calm one'}\n", to: folder, name: "name.yaml")
        #expect(
            error { _ = try loader.load(filePath: badName, environment: [:]) }?.contains(
                "must not contain a comma") == true)
        let clash = error {
            _ = try loader.load(
                filePath: nil,
                environment: ["EDGE_VOICES_EN": "rachel:Rachel;speed=0.9", "EDGE_VOICES_ES": "rachel:Raquel;speed=1.1"])
        }
        #expect(clash?.contains("give the voice rachel different settings") == true, "\(clash ?? "")")
        #expect(
            error {
                _ = try loader.load(
                    filePath: nil,
                    environment: [
                        "EDGE_VOICES_EN": "rachel:Rachel;speed=0.9", "EDGE_VOICES_ES": "rachel:Raquel;speed=0.9",
                    ])
            } == nil)
        // Mappings are refused where a list of plain values is expected.
        let mappingElsewhere = try write(
            "reservations:\n  closed_dates:\n    - {date: 2026-12-25}\n", to: folder, name: "closed.yaml")
        #expect(
            error { _ = try loader.load(filePath: mappingElsewhere, environment: [:]) }?.contains(
                "must be a list of plain values") == true)
    }

    @Test("the Media Stream URL follows the public URL")
    func mediaStreamURL() {
        var configuration = AgentConfiguration()
        configuration.publicURL = URL(string: "https://agent.example.com")!
        #expect(configuration.mediaStreamURL == "wss://agent.example.com/twilio/media")
        configuration.publicURL = URL(string: "https://example.com:8443/box7/")!
        #expect(configuration.mediaStreamURL == "wss://example.com:8443/box7/twilio/media")
        configuration.publicURL = URL(string: "http://127.0.0.1:8080")!
        #expect(configuration.mediaStreamURL == "ws://127.0.0.1:8080/twilio/media")
    }
}

@Suite("Shipped configuration example")
struct ConfigurationExampleTests {
    @Test("provisioning/config.example.yaml loads and says what it means")
    func exampleLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("provisioning/config.example.yaml").path
        let configuration = try ConfigurationLoader().load(filePath: path, environment: [:]).configuration
        #expect(configuration.http.host == "0.0.0.0")
        #expect(configuration.reservations.openingHours[1] == [])
        #expect(configuration.reservations.openingHours[5]?.map(\.description) == ["12:00-15:00", "17:00-23:00"])
        #expect(configuration.reservations.closedDates.count == 2)
        #expect(configuration.restaurant.staffPhone == "+15550001111")
        #expect(configuration.mediaStreamURL == "wss://restaurant-box.example.com/twilio/media")
    }
}
