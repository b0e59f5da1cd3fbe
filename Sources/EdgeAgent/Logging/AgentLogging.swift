public import Logging

/// Sets up process-wide logging from configuration; call once, at the start of `main`.
public enum AgentLogging {
    /// Installs the configured handler (JSON lines or plain text, on standard error) and returns the
    /// agent's root logger.
    public static func bootstrap(_ configuration: AgentConfiguration.Logging) -> Logger {
        let level = Logger.Level(rawValue: configuration.level) ?? .info
        let json = configuration.format == "json"
        LoggingSystem.bootstrap { label in
            if json { return JSONLogHandler(label: label, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "edge-agent")
    }
}
