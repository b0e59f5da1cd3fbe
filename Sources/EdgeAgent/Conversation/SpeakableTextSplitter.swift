import Foundation

/// Cuts the LLM's streamed text into pieces that can be spoken on their own (sentences, or clauses
/// when a sentence runs long), so the first piece is being spoken while the model is still writing.
///
/// It never cuts inside a number (`14.50`, `7:30`), after a common abbreviation (`Mr.`, `Sra.`), or
/// before the first few words of an answer.
public struct SpeakableTextSplitter: Sendable {
    /// A clause boundary (`,` `;` `:`) cuts only once the piece is at least this long.
    public var clauseMinimumCharacters = 48
    /// Nothing shorter than this is cut off (except at the very end).
    public var minimumCharacters = 12
    private var buffer = ""

    static let abbreviations: Set<String> = [
        "mr", "mrs", "ms", "dr", "st", "sr", "sra", "srta", "dra", "etc", "vs", "approx", "no", "núm", "p.m", "a.m",
    ]

    public init() {}

    /// Adds streamed text; returns the pieces it completed.
    public mutating func append(_ text: String) -> [String] {
        buffer += text
        var pieces: [String] = []
        while let cut = nextCut() {
            let piece = String(buffer[..<cut]).trimmingCharacters(in: .whitespacesAndNewlines)
            buffer = String(buffer[cut...])
            if !piece.isEmpty { pieces.append(piece) }
        }
        return pieces
    }

    /// The rest, at the end of the answer.
    public mutating func finish() -> String? {
        let rest = buffer.trimmingCharacters(in: .whitespacesAndNewlines)
        buffer = ""
        return rest.isEmpty ? nil : rest
    }

    /// The index after the first boundary that is followed by whitespace (so the next character is known).
    private func nextCut() -> String.Index? {
        var index = buffer.startIndex
        var count = 0
        while index < buffer.endIndex {
            let character = buffer[index]
            let next = buffer.index(after: index)
            count += 1
            guard next < buffer.endIndex else { return nil }
            let following = buffer[next]
            if following.isWhitespace && count >= minimumCharacters {
                if ".!?…".contains(character) && !endsWithAbbreviation(before: index) {
                    return next
                }
                if ",;:".contains(character) && count >= clauseMinimumCharacters {
                    return next
                }
            }
            if character == "\n" && count >= minimumCharacters { return next }
            index = next
        }
        return nil
    }

    private func endsWithAbbreviation(before period: String.Index) -> Bool {
        guard buffer[period] == "." else { return false }
        let word = buffer[..<period].reversed().prefix { !$0.isWhitespace }
        let text = String(word.reversed()).lowercased().trimmingCharacters(in: .punctuationCharacters)
        return Self.abbreviations.contains(text) || (text.count == 1 && text.first!.isLetter)
    }
}
