/// A fast local guess between English and Spanish, to back up (or stand in for) the speech
/// recognizer's own language detection: common words and Spanish letters, scored.
public enum LanguageDetector {
    static let english: Set<String> = [
        "the", "and", "i", "you", "a", "is", "for", "to", "of", "my", "what", "can", "have", "table", "please", "like",
        "would", "do", "at", "tomorrow", "tonight", "people", "book", "reservation", "hi", "hello", "yes", "no",
        "thanks",
        "thank", "want", "need", "are", "it", "this", "that", "with", "how", "time", "open", "menu", "we", "our",
    ]
    static let spanish: Set<String> = [
        "el", "la", "los", "las", "y", "yo", "usted", "un", "una", "es", "para", "de", "mi", "qué", "que", "puedo",
        "tengo", "mesa", "por", "favor", "quiero", "quisiera", "a", "mañana", "noche", "personas", "reservar",
        "reserva", "hola", "sí", "gracias", "necesito", "con", "cómo", "como", "hora", "abierto", "menú", "nosotros",
        "buenas", "buenos", "días", "tardes", "está", "son", "hay", "dos", "tres", "cuatro", "cinco",
    ]

    /// `en` or `es`, or nil when the text gives no evidence either way.
    public static func detect(_ text: String) -> String? {
        let lowered = text.lowercased()
        let words = lowered.split { !$0.isLetter && $0 != "'" }.map(String.init)
        var english = words.filter { Self.english.contains($0) && !Self.spanish.contains($0) }.count
        var spanish = words.filter { Self.spanish.contains($0) && !Self.english.contains($0) }.count
        spanish += lowered.filter { "ñ¿¡áéíóú".contains($0) }.count * 2
        english += words.filter { $0.contains("'") }.count
        if english == spanish { return nil }
        return english > spanish ? "en" : "es"
    }
}
