import AsyncHandoff
import Foundation
import Hummingbird
import LocalStore
import Synchronization
import TestSupport
import Testing

@testable import EdgeAgent

@Suite("Phrase catalog")
struct PhraseCatalogTests {
    static let catalogs = try! PhraseCatalog.load()
    static let today = LocalDate(year: 2026, month: 11, day: 25)!

    @Test("times of day are said as people say them, in both languages")
    func times() throws {
        let en = try #require(Self.catalogs["en"])
        let es = try #require(Self.catalogs["es"])
        let cases: [(String, String, String)] = [
            ("19:30", "seven thirty p.m.", "las siete y media de la tarde"),
            ("19:00", "seven p.m.", "las siete de la tarde"),
            ("13:15", "one fifteen p.m.", "la una y cuarto del mediodía"),
            ("09:05", "nine oh five a.m.", "las nueve y cinco de la mañana"),
            ("22:45", "ten forty-five p.m.", "las diez y cuarenta y cinco de la noche"),
            ("12:00", "noon", "las doce del mediodía"),
            ("00:00", "midnight", "medianoche"),
        ]
        for (time, english, spanish) in cases {
            #expect(en.timeWords(LocalTime(time)!) == english)
            #expect(es.timeWords(LocalTime(time)!) == spanish)
        }
    }

    @Test("a booking is read back as a sentence of cached fragments, with today and tomorrow")
    func bookingReadBack() throws {
        let es = try #require(Self.catalogs["es"])
        let friday = es.booking(
            partySize: 1, date: LocalDate(year: 2026, month: 12, day: 1)!, time: LocalTime("21:00")!, today: Self.today)
        #expect(friday.text == "Una mesa para una persona, el martes primero de diciembre, a las nueve de la noche.")
        #expect(
            friday.fragments == [
                "Una mesa para", "una", "persona", "el", "martes", "primero", "de", "diciembre", "a",
                "las nueve de la noche",
            ])
        let en = try #require(Self.catalogs["en"])
        #expect(
            en.booking(partySize: 2, date: Self.today.adding(days: 1), time: LocalTime("18:15")!, today: Self.today)
                .text
                == "A table for two people, tomorrow, at six fifteen p.m.")
        #expect(
            en.booking(partySize: 6, date: Self.today, time: LocalTime("18:00")!, today: Self.today).fragments == [
                "A table for", "six", "people", "today", "at", "six p.m.",
            ])
    }

    @Test("opening hours and alternatives are composed the same way")
    func hoursAndAlternatives() throws {
        let en = try #require(Self.catalogs["en"])
        let periods = [ReservationPolicy.Period("12:00-14:30")!, ReservationPolicy.Period("18:00-22:00")!]
        #expect(
            en.openingHours(isoWeekday: 6, periods: periods).text
                == "On Saturday we are open from noon to two thirty p.m. and from six p.m. to ten p.m.")
        #expect(en.openingHours(isoWeekday: 1, periods: []).text == "On Monday we are closed.")
        let es = try #require(Self.catalogs["es"])
        #expect(
            es.alternatives([LocalTime("20:00")!, LocalTime("20:30")!, LocalTime("21:00")!]).text
                == "Tenemos mesa a las ocho de la tarde, las ocho y media de la tarde o las nueve de la noche.")
    }

    @Test("the warm list holds every fragment a read-back can need, and each composed sentence's fragments")
    func warmList() throws {
        let phrases = try PhraseBook.shipped()
        let policy = AgentConfiguration().reservations
        for (language, catalog) in Self.catalogs {
            let texts = Set(catalog.warmTexts(policy: policy, phraseBook: phrases, restaurantName: "Casa Luna"))
            for number in 0...100 { #expect(texts.contains(catalog.numbers[number])) }
            #expect(catalog.weekdays.allSatisfy(texts.contains) && catalog.months.allSatisfy(texts.contains))
            #expect(catalog.ordinals.allSatisfy(texts.contains))
            #expect(texts.contains(phrases.text(.keypadMenu, language: language)))
            #expect(texts.contains(phrases.text(.recordingNotice, language: language)))
            #expect(texts.contains(phrases.text(.greeting, language: language, ["restaurant": "Casa Luna"])))
            #expect(!texts.contains { $0.contains("{") })
            // Every slot of every open day, for every party size and day of the coming weeks.
            for offset in 0..<40 {
                let date = Self.today.adding(days: offset)
                for time in policy.slots(on: date) {
                    for size in 1...policy.maxPartySize {
                        let fragments =
                            catalog.booking(partySize: size, date: date, time: time, today: Self.today)
                            .fragments ?? []
                        #expect(fragments.allSatisfy(texts.contains), "\(fragments.filter { !texts.contains($0) })")
                    }
                }
            }
            for weekday in 1...7 {
                let fragments =
                    catalog.openingHours(isoWeekday: weekday, periods: policy.openingHours[weekday] ?? [])
                    .fragments ?? []
                #expect(fragments.allSatisfy(texts.contains))
            }
        }
    }

    @Test("a catalog with a syntax error or a missing part names the file and the line")
    func badFiles() throws {
        let folder = TemporaryFolder()
        let good = try String(
            contentsOf: Bundle.module.url(forResource: "en", withExtension: "yaml", subdirectory: "catalog")
                ?? Self.shippedURL("en"), encoding: .utf8)
        try good.write(toFile: folder.file("es.yaml"), atomically: true, encoding: .utf8)

        try (good + "\nphrases: [unclosed\n").write(toFile: folder.file("en.yaml"), atomically: true, encoding: .utf8)
        #expect { try PhraseCatalog.load(folder: folder.path) } throws: { error in
            let text = "\(error)"
            return text.contains("en.yaml") && text.contains("line ")
        }

        let broken = good.replacingOccurrences(of: "{party_size}", with: "{size}")
        try broken.write(toFile: folder.file("en.yaml"), atomically: true, encoding: .utf8)
        #expect { try PhraseCatalog.load(folder: folder.path) } throws: { error in
            "\(error)".contains("en.yaml line 30: template 'booking' must use the placeholders")
        }

        let short = good.replacingOccurrences(of: "  - \"one hundred\"\n", with: "")
        try short.write(toFile: folder.file("en.yaml"), atomically: true, encoding: .utf8)
        #expect { try PhraseCatalog.load(folder: folder.path) } throws: { error in
            "\(error)".contains("'numbers' has 100 entries, expected 101")
        }

        // The Spanish file holding English is caught too.
        try good.write(toFile: folder.file("en.yaml"), atomically: true, encoding: .utf8)
        #expect { try PhraseCatalog.load(folder: folder.path) } throws: { error in
            "\(error)".contains("es.yaml: 'language' is en, expected es")
        }
    }

    static func shippedURL(_ language: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/EdgeAgent/Resources/catalog/\(language).yaml")
    }

    @Test("warming fetches every missing phrase several at a time, pins them, and a second warm fetches none")
    func warm() async throws {
        let rig = try PhraseCacheRig()
        // Answers are held until four requests are in progress at once: the warm must get there.
        let double = ElevenLabsDouble(gate: Gate(), openGateAt: 4)
        let router = Router()
        double.register(on: router)
        let texts = (0..<40).map { (text: "Warm phrase \($0).", language: $0 % 2 == 0 ? "en" : "es") }
        try await withLoopbackServer(router) { url in
            let speech = rig.speech(url)
            let progress = Mutex<[Int]>([])
            let warmer = PhraseWarmer(
                speech: speech, cache: rig.cache, texts: texts, concurrency: 4, logger: rig.logs.logger)
            let report = try await warmer.warm { step in progress.withLock { $0.append(step.done) } }
            #expect(report.phrases == 40 && report.fetched == 40 && report.failed == 0)
            #expect(report.bytes == 40 * 300 * 8)
            #expect(progress.withLock { $0 } == Array(0...40))
            #expect(double.requestCount == 40)
            #expect(double.concurrency.withLockedValue { $0.most } == 4)
            let entries = try await rig.cache.index.all()
            #expect(entries.count == 40 && entries.allSatisfy(\.pinned))

            let again = try await warmer.warm()
            #expect(again.fetched == 0 && again.alreadyCached == 40)
            #expect(double.requestCount == 40)

            // With ElevenLabs refusing, the warm reports it instead of pretending.
            double.fault.withLockedValue { $0 = .status(401) }
            let more = PhraseWarmer(
                speech: speech, cache: rig.cache, texts: [(text: "New line.", language: "en")], concurrency: 2,
                logger: rig.logs.logger)
            let failed = try await more.warm()
            #expect(failed.failed == 1 && failed.firstError?.contains("401") == true)
        }
    }
}
