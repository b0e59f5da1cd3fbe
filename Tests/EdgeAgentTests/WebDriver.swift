import AsyncHTTPClient
import Foundation
import NIOCore
import TestSupport
import Testing

/// Headless Chromium from Debian's packages, driven through chromedriver's W3C WebDriver protocol on a
/// loopback port: enough of it to log in, read, click and take screenshots as a person would.
final class WebDriver {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let driver: Process
    /// Ends when chromedriver has exited.
    let exited: AsyncStream<Void>
    let base: String
    let session: String
    let http: HTTPClient

    /// chromedriver and Chromium, or nil (with the reason recorded under CI, where they must be there).
    static func available() -> (driver: String, browser: String)? {
        let driver = "/usr/bin/chromedriver"
        let browser = "/usr/bin/chromium"
        if FileManager.default.isExecutableFile(atPath: driver), FileManager.default.isExecutableFile(atPath: browser) {
            return (driver, browser)
        }
        let message =
            "chromium and chromium-driver are missing (provisioning/install-build-deps.sh --test installs them)"
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record(Comment(rawValue: message))
        } else {
            print(message)
        }
        return nil
    }

    /// Starts chromedriver on a free port and a headless browser session of `width`×`height`; with
    /// `phone`, the page is laid out as a phone of that size would (a desktop window cannot be as narrow).
    static func start(width: Int, height: Int, phone: Bool = false, language: String = "en-US") async throws
        -> WebDriver?
    {
        guard let (driverPath, browserPath) = available() else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: driverPath)
        process.arguments = ["--port=0"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let (exited, exit) = AsyncStream.makeStream(of: Void.self)
        process.terminationHandler = { _ in exit.finish() }
        try process.run()
        // "ChromeDriver was started successfully on port 33499."
        let port = await ChildOutput.watch(output.fileHandleForReading) { line -> Int? in
            guard let range = line.range(of: #"on port (\d+)\."#, options: .regularExpression) else { return nil }
            return Int(line[range].filter(\.isNumber))
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            throw Failure(description: "chromedriver did not say its port")
        }
        let base = "http://127.0.0.1:\(port)"
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        var chrome: [String: Any] = [
            "binary": browserPath,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=\(width),\(height)", "--lang=\(language)", "--hide-scrollbars",
            ],
            "prefs": ["intl.accept_languages": language],
        ]
        if phone {
            chrome["mobileEmulation"] = ["deviceMetrics": ["width": width, "height": height, "pixelRatio": 1]]
        }
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    // An element not there yet is waited for, up to this long, by the browser itself.
                    "timeouts": ["implicit": 10_000, "pageLoad": 30_000, "script": 10_000],
                    "goog:chromeOptions": chrome,
                ]
            ]
        ]
        do {
            let answer = try await Self.send(http, "POST", "\(base)/session", capabilities)
            guard let value = answer["value"] as? [String: Any], let session = value["sessionId"] as? String else {
                throw Failure(description: "no browser session: \(answer)")
            }
            return WebDriver(driver: process, exited: exited, base: base, session: session, http: http)
        } catch {
            kill(process.processIdentifier, SIGKILL)
            try? await http.shutdown()
            throw error
        }
    }

    private init(driver: Process, exited: AsyncStream<Void>, base: String, session: String, http: HTTPClient) {
        self.driver = driver
        self.exited = exited
        self.base = base
        self.session = session
        self.http = http
    }

    static func send(_ http: HTTPClient, _ method: String, _ url: String, _ body: [String: Any]?) async throws
        -> [String: Any]
    {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await http.execute(request, timeout: .seconds(60))
        let data = try await response.body.collect(upTo: 64 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: data))) as? [String: Any] ?? [:]
        if response.status.code >= 400 {
            throw Failure(description: "WebDriver \(method) \(url): \(response.status.code) \(object)")
        }
        return object
    }

    @discardableResult
    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        try await Self.send(http, method, "\(base)/session/\(session)\(path)", body)["value"]
    }

    func open(_ url: String) async throws {
        try await command("POST", "/url", ["url": url])
    }

    /// The element `selector` names (CSS), failing when there is none.
    func element(_ selector: String) async throws -> String {
        let value = try await command("POST", "/element", ["using": "css selector", "value": selector])
        guard let object = value as? [String: Any], let id = object.values.first as? String else {
            throw Failure(description: "no element \(selector)")
        }
        return id
    }

    func type(_ text: String, into selector: String) async throws {
        try await command("POST", "/element/\(try await element(selector))/value", ["text": text])
    }

    func click(_ selector: String) async throws {
        try await command("POST", "/element/\(try await element(selector))/click", [:])
    }

    func text(_ selector: String) async throws -> String {
        (try await command("GET", "/element/\(try await element(selector))/text") as? String) ?? ""
    }

    func title() async throws -> String {
        (try await command("GET", "/title") as? String) ?? ""
    }

    func resize(width: Int, height: Int) async throws {
        try await command("POST", "/window/rect", ["width": width, "height": height])
    }

    /// The page's width as laid out, and the widest its content reaches (a page readable at a width
    /// does not scroll sideways).
    func widths() async throws -> (viewport: Int, content: Int) {
        let value = try await command(
            "POST", "/execute/sync",
            [
                "script": "return [document.documentElement.clientWidth, document.documentElement.scrollWidth];",
                "args": [],
            ])
        let numbers = (value as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? []
        guard numbers.count == 2 else { throw Failure(description: "no widths: \(String(describing: value))") }
        return (numbers[0], numbers[1])
    }

    /// A PNG of the window.
    func screenshot() async throws -> Data {
        guard let base64 = try await command("GET", "/screenshot") as? String, let data = Data(base64Encoded: base64)
        else { throw Failure(description: "no screenshot") }
        return data
    }

    /// Closes the browser, then stops chromedriver. SIGKILL, because chromedriver inherits the test
    /// process's blocked signals (SIGTERM among them) and would never see a polite stop.
    func quit() async {
        _ = try? await command("DELETE", "")
        kill(driver.processIdentifier, SIGKILL)
        for await _ in exited {}
        try? await http.shutdown()
    }
}
