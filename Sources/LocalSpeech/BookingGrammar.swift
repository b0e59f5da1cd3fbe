/// A step of the offline booking dialogue, and the small language a caller answers it in: each step
/// has its own JSGF grammar, so the recognizer only ever chooses among the answers that make sense
/// there ("four", "a table for four", "four people"; "tomorrow", "Friday", "December fourth"; "seven
/// thirty", "half past seven"; "yes", "no, change it"; "book a table", "a person").
public enum SpokenStep: String, Sendable, CaseIterable, Hashable {
    /// What the caller wants: a table, the opening hours, a message, a person.
    case menu
    case partySize
    case day
    case time
    /// The read-back: yes or no.
    case confirmation

    /// The step's grammar in English, in JSGF. Every step also takes "a person" and "again".
    public var englishGrammar: String {
        let body: String
        switch self {
        case .menu:
            body = """
                public <answer> = [<polite>] (<book> | <hours> | <message> | <person> | <again>) [please];
                <polite> = i would like to | i'd like to | i want to | can i | could i | i'd like | i want;
                <book> = book a table | make a reservation | a table | reservation | book | booking;
                <hours> = [what are your] opening hours | [what are] your hours | hours | when are you open;
                <message> = leave a message | a message | message;
                """
        case .partySize:
            body = """
                public <answer> = ([<intro>] <number> [<people>] [please]) | <person> | <again>;
                <intro> = a table for | table for | for | we are | we're | there will be | party of;
                <people> = people | persons | guests | of us;
                <number> = \(Self.alternatives(Self.cardinals.prefix(20)));
                """
        case .day:
            body = """
                public <answer> = ([<intro>] <day> [please]) | <person> | <again>;
                <intro> = on | for | this | next;
                <day> = today | tonight | tomorrow | <weekday> | <date>;
                <weekday> = \(Self.alternatives(Self.weekdays));
                <date> = ([the] <ordinal> [of <month>]) | (<month> [the] <ordinal>);
                <month> = \(Self.alternatives(Self.months));
                <ordinal> = \(Self.alternatives(Self.ordinals));
                """
        case .time:
            body = """
                public <answer> = ([at] <time> [please]) | <person> | <again>;
                <time> = (<hour> [o'clock | <minutes>] [<meridiem>]) | (<past> <hour> [<meridiem>]) | noon;
                <hour> = \(Self.alternatives(Self.cardinals.prefix(12)));
                <minutes> = fifteen | thirty | forty-five | forty five | oh five | ten | twenty | forty | fifty;
                <past> = half past | quarter past | quarter to;
                <meridiem> = a.m. | p.m. | in the evening | in the afternoon | in the morning;
                """
        case .confirmation:
            body = """
                public <answer> = <yes> | <no> | <person> | <again>;
                <yes> = yes | yeah | yep | yes please | that's right | that is right | correct | sounds good | perfect;
                <no> = no | nope | no thanks | that's wrong | change it | no change it | wrong;
                """
        }
        return """
            #JSGF V1.0;
            grammar \(rawValue);
            \(body)
            <person> = [i want to | can i] (talk | speak) to (someone | a person | somebody) | a person | someone;
            <again> = again | repeat that | say that again | what;
            """
    }

    static func alternatives(_ words: some Sequence<String>) -> String {
        words.joined(separator: " | ")
    }

    static let cardinals = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    ]
    static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    static let months = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december",
    ]
    static let ordinals = [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
        "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
        "twentieth", "twenty first", "twenty second", "twenty third", "twenty fourth", "twenty fifth",
        "twenty sixth", "twenty seventh", "twenty eighth", "twenty ninth", "thirtieth", "thirty first",
    ]
}
