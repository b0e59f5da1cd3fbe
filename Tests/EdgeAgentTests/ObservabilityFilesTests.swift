import AsyncHTTPClient
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The shipped Grafana dashboard and Prometheus rules (`observability/`), checked by the tools an
/// operator loads them with: `promtool check rules` and `promtool test rules` accept the rules and
/// their unit tests, the dashboard passes its JSON Schema (and a broken one does not), every query
/// parses as PromQL, and every metric they name is one a running agent really exposes.
@Suite("observability files")
struct ObservabilityFilesTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("observability")
    static let rules = folder.appendingPathComponent("prometheus/edge-agent-rules.yml")
    static let ruleTests = folder.appendingPathComponent("prometheus/edge-agent-rules.test.yml")
    static let dashboard = folder.appendingPathComponent("grafana/edge-agent.json")
    static let schema = folder.appendingPathComponent("grafana/dashboard.schema.json")

    /// A system tool at one of `paths`, or nil, with the reason recorded under CI (where it must be
    /// present) and only printed elsewhere.
    static func tool(_ paths: [String], missing message: String) -> URL? {
        if let path = paths.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return URL(fileURLWithPath: path)
        }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record(Comment(rawValue: message))
        } else {
            print(message)
        }
        return nil
    }

    static func promtool() -> URL? {
        tool(
            ["/usr/bin/promtool", "/usr/local/bin/promtool"],
            missing: "promtool is missing (Debian package prometheus): the alert rules were not checked")
    }

    /// Debian's python3 with `jsonschema` importable (not a pyenv or virtualenv one that may lack it).
    static func schemaValidator() async -> URL? {
        let message =
            "python3 with jsonschema is missing (Debian package python3-jsonschema): the dashboard was not checked"
        guard let python = tool(["/usr/bin/python3"], missing: message) else { return nil }
        if (try? await SystemdUnitTests.run(python, ["-c", "import jsonschema"]).status) == 0 { return python }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record(Comment(rawValue: message))
        } else {
            print(message)
        }
        return nil
    }

    /// Validates the dashboard at `path` against the schema; the output names each error's place.
    static func validate(_ python: URL, dashboard path: String) async throws -> (status: Int32, output: String) {
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))
            for error in errors:
                print("/".join(str(part) for part in error.absolute_path) + ": " + error.message)
            sys.exit(1 if errors else 0)
            """
        return try await SystemdUnitTests.run(python, ["-c", script, schema.path, path])
    }

    static func dashboardObject() throws -> [String: Any] {
        let data = try Data(contentsOf: dashboard)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Every query of the dashboard, as (panel id, refId, PromQL).
    static func dashboardQueries() throws -> [(panel: Int, refID: String, expr: String)] {
        let panels = try #require(try dashboardObject()["panels"] as? [[String: Any]])
        return panels.flatMap { panel -> [(panel: Int, refID: String, expr: String)] in
            let targets = panel["targets"] as? [[String: Any]] ?? []
            return targets.map {
                ((panel["id"] as? Int) ?? 0, ($0["refId"] as? String) ?? "", ($0["expr"] as? String) ?? "")
            }
        }
    }

    /// The metric names a text uses: `edge_…` words (recording rules are `edge:…` and not matched)
    /// and Prometheus' own `up` where a selector follows it.
    static func metricNames(in text: String) -> Set<String> {
        let pattern = try! NSRegularExpression(pattern: #"\b(edge_[a-z0-9_]+\b|up(?=\{))"#)
        let range = NSRange(text.startIndex..., in: text)
        return Set(
            pattern.matches(in: text, range: range).compactMap {
                Range($0.range(at: 1), in: text).map { String(text[$0]) }
            })
    }

    @Test("promtool check rules accepts the alert and recording rules")
    func checkRules() async throws {
        guard let promtool = Self.promtool() else { return }
        let result = try await SystemdUnitTests.run(promtool, ["check", "rules", Self.rules.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("SUCCESS"), "\(result.output)")
    }

    @Test("promtool test rules: the alerts fire for the broken box only, and only after their for:")
    func testRules() async throws {
        guard let promtool = Self.promtool() else { return }
        let result = try await SystemdUnitTests.run(promtool, ["test", "rules", Self.ruleTests.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("SUCCESS"), "\(result.output)")
    }

    @Test("every alert has a for:, a severity and annotations that tell the operator what to do")
    func alertsAreActionable() throws {
        let text = try String(contentsOf: Self.rules, encoding: .utf8)
        let alerts = text.components(separatedBy: "\n      - alert: ").dropFirst()
        #expect(alerts.count >= 15)
        for alert in alerts {
            let name = String(alert.prefix { !$0.isNewline })
            #expect(alert.contains("\n        for: "), "\(name) has no for:")
            #expect(
                alert.range(of: #"severity: (critical|warning|info)"#, options: .regularExpression) != nil, "\(name)")
            #expect(alert.contains("summary: ") && alert.contains("description: "), "\(name)")
        }
    }

    @Test("the dashboard passes its JSON Schema")
    func dashboardMatchesSchema() async throws {
        guard let python = await Self.schemaValidator() else { return }
        let result = try await Self.validate(python, dashboard: Self.dashboard.path)
        #expect(result.status == 0, "\(result.output)")
    }

    /// Ways a hand edit breaks a dashboard, each of which the schema must catch.
    static let breakages: [(name: String, mutate: @Sendable (inout [String: Any]) -> Void)] = [
        ("a panel without queries", { $0["panels"] = Self.editPanel($0["panels"], at: 1) { $0["targets"] = [] } }),
        (
            "a panel wider than the grid",
            {
                $0["panels"] = Self.editPanel($0["panels"], at: 1) {
                    $0["gridPos"] = ["h": 8, "w": 30, "x": 0, "y": 0]
                }
            }
        ),
        (
            "a panel on a fixed datasource",
            {
                $0["panels"] = Self.editPanel($0["panels"], at: 2) {
                    $0["datasource"] = ["type": "prometheus", "uid": "abc123"]
                }
            }
        ),
        (
            "a query with no expression",
            { $0["panels"] = Self.editPanel($0["panels"], at: 1) { $0["targets"] = [["refId": "A"]] } }
        ),
        ("no schemaVersion", { $0.removeValue(forKey: "schemaVersion") }),
        ("no datasource input", { $0["__inputs"] = [] }),
        ("no site variable", { $0["templating"] = ["list": []] }),
    ]

    static func editPanel(_ panels: Any?, at index: Int, _ edit: (inout [String: Any]) -> Void) -> [[String: Any]] {
        var panels = panels as? [[String: Any]] ?? []
        edit(&panels[index])
        return panels
    }

    @Test("a broken dashboard fails the schema check", arguments: breakages.indices)
    func brokenDashboardFails(_ index: Int) async throws {
        guard let python = await Self.schemaValidator() else { return }
        let (name, mutate) = Self.breakages[index]
        var dashboard = try Self.dashboardObject()
        mutate(&dashboard)
        let folder = TemporaryFolder()
        let path = folder.file("broken.json")
        try JSONSerialization.data(withJSONObject: dashboard).write(to: URL(fileURLWithPath: path))
        let result = try await Self.validate(python, dashboard: path)
        #expect(result.status == 1, "\(name) passed the schema: \(result.output)")
        #expect(!result.output.isEmpty, "\(name)")
    }

    @Test("every dashboard query parses as PromQL (promtool, with Grafana's variables filled in)")
    func dashboardQueriesParse() async throws {
        guard let promtool = Self.promtool() else { return }
        let queries = try Self.dashboardQueries()
        #expect(queries.count >= 30)
        let rules = queries.map { query -> [String: String] in
            var expr = query.expr
            for (variable, value) in [
                ("$__rate_interval", "5m"), ("$__range", "1h"), ("$site", ".*"), ("$instance", ".*"),
            ] {
                expr = expr.replacingOccurrences(of: variable, with: value)
            }
            #expect(!expr.contains("$"), "panel \(query.panel) uses a variable the test does not know: \(query.expr)")
            return ["record": "dashboard:panel_\(query.panel)_\(query.refID)", "expr": expr]
        }
        // YAML is a superset of JSON, so promtool reads the rules written as JSON.
        let folder = TemporaryFolder()
        let path = folder.file("dashboard-queries.yml")
        try JSONSerialization.data(
            withJSONObject: ["groups": [["name": "dashboard", "rules": rules]]], options: [.withoutEscapingSlashes]
        )
        .write(to: URL(fileURLWithPath: path))
        let result = try await SystemdUnitTests.run(promtool, ["check", "rules", path])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test("the dashboard has a panel for each thing issue 12 asks an operator to see")
    func dashboardCoversTheIssue() throws {
        let expressions = try Self.dashboardQueries().map(\.expr).joined(separator: "\n")
        for metric in [
            "edge_calls_total", "edge_turn_stage_seconds_bucket", "edge_turn_response_seconds_bucket",
            "edge_stt_fallbacks_total", "edge_llm_fallbacks_total", "edge_tts_local_fallbacks_total",
            "edge_upstream_circuit_state", "edge_phrase_cache_lookups_total",
            "edge_phrase_cache_saved_characters_total",
            "edge_sync_backlog_rows", "edge_sync_backlog_oldest_age_seconds", "edge_disk_free_bytes",
            "edge_recording_failures_total", "edge_watchdog_pings_total", "edge_watchdog_probe_failures_total",
        ] {
            #expect(expressions.contains(metric), "no panel shows \(metric)")
        }
        let ids = try #require(try Self.dashboardObject()["panels"] as? [[String: Any]]).compactMap { $0["id"] as? Int }
        #expect(Set(ids).count == ids.count, "panel ids repeat: \(ids)")
    }

    @Test("every metric the dashboard and the rules name is exposed by a running edge-agent serve")
    func metricNamesExist() async throws {
        let exposed = try await Self.scrapeRunningAgent()
        #expect(exposed.contains("edge_calls_total"), "the scrape looks wrong: \(exposed.sorted())")
        var used = Self.metricNames(in: try String(contentsOf: Self.rules, encoding: .utf8))
        used.formUnion(Self.metricNames(in: try String(contentsOf: Self.ruleTests, encoding: .utf8)))
        used.formUnion(Self.metricNames(in: try Self.dashboardQueries().map(\.expr).joined(separator: "\n")))
        #expect(used.count >= 25, "\(used.sorted())")
        // `up` is written by Prometheus itself for every target.
        let unknown = used.subtracting(exposed).subtracting(["up"])
        #expect(unknown.isEmpty, "not exposed by edge-agent: \(unknown.sorted())")
    }

    /// Starts the built `edge-agent serve` on a free loopback port, with sync pointed at a closed port so
    /// the sync metrics exist too, and returns the sample names of its `/metrics` (second scrape, so the
    /// HTTP metrics of the first are in it). The agent is stopped with SIGTERM before returning.
    static func scrapeRunningAgent() async throws -> Set<String> {
        let folder = TemporaryFolder()
        let log = folder.file("agent.log")
        #expect(FileManager.default.createFile(atPath: log, contents: nil))
        let process = Process()
        process.executableURL = CommandLineTests.binary
        process.arguments = ["serve"]
        process.currentDirectoryURL = URL(fileURLWithPath: folder.path)
        process.environment = [
            "PATH": "/usr/bin:/bin", "EDGE_DATA_DIR": folder.file("data"), "EDGE_HTTP_PORT": "0",
            "EDGE_HQ_URL": "http://127.0.0.1:9",
        ]
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGTERM)
                process.waitUntilExit()
            }
            try? output.close()
        }
        let port = try await Self.listeningPort(log: log, process: process)
        var text = ""
        for _ in 0..<2 {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(10))
            #expect(response.status == .ok)
            text = String(buffer: try await response.body.collect(upTo: 4 << 20))
        }
        return Set(
            text.split(separator: "\n").filter { !$0.hasPrefix("#") }
                .compactMap { $0.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init) })
    }

    /// The port from the agent's `listening` log line, waited for up to 90 s.
    ///
    /// The log is read once more after the deadline passes: in a busy test run this task may not be
    /// scheduled again for many seconds, and a line written meanwhile still counts (CI once failed with
    /// the line in the log it printed).
    static func listeningPort(log: String, process: Process) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(90)
        while true {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let port = Self.listeningPort(in: text) { return port }
            guard process.isRunning, ContinuousClock.now < deadline else {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                if let port = Self.listeningPort(in: text) { return port }
                throw ObservabilityTestError("edge-agent serve did not start listening: \(text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The port in the first `http.address` log line of `text`, if there is one.
    static func listeningPort(in text: String) -> Int? {
        guard let line = text.split(separator: "\n").first(where: { $0.contains("\"http.address\"") }),
            let match = line.range(of: #"127\.0\.0\.1:[0-9]+"#, options: .regularExpression)
        else { return nil }
        return Int(line[match].split(separator: ":")[1])
    }
}

/// Why an observability check could not run.
struct ObservabilityTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
