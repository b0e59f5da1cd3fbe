/// A credential from configuration. Its description is always masked, so it cannot leak into a
/// log line, an error or `--check-config` output by accident.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The credential itself; read it only where it is sent or used.
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "******** (set)" }
    public var debugDescription: String { description }
    /// `dump()` and mirrors see the mask too.
    public var customMirror: Mirror { Mirror(self, children: ["value": description]) }
}
