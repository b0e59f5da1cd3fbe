import Testing

@testable import EdgeAgent

/// The frustration estimate as a pure value: words in both languages, the call's history and how
/// the caller spoke, turn by turn.
@Suite("How the caller sounds")
struct CallerMoodTests {
    @Test(
        "ordinary booking lines are calm, in both languages",
        arguments: [
            "Hi, I'd like a table for four tomorrow at eight.", "Do you have anything vegetarian?",
            "Hola, quisiera una mesa para cuatro el viernes.", "¿A qué hora abren el domingo?",
        ])
    func calm(line: String) {
        var mood = CallerMood()
        let reading = mood.hear(line)
        #expect(reading.level == .calm)
        #expect(reading.cues.isEmpty)
        #expect(reading.score == 0)
    }

    @Test(
        "angry words strain the caller, in both languages",
        arguments: [
            ("This is ridiculous, I already told you the time.", 0.45),
            ("Es ridículo, ya le dije la hora.", 0.45),
            ("¡Otra vez! Somos cuatro.", 0.3),
        ])
    func angryWords(line: String, score: Double) {
        var mood = CallerMood()
        let reading = mood.hear(line)
        #expect(reading.cues == [.angryWords])
        #expect(reading.score == score)
        #expect(reading.level == (score >= CallerMood.strainedFrom ? .strained : .calm))
    }

    @Test("the same question a third time upsets; a calm turn halves what is left")
    func repeatedQuestion() {
        var mood = CallerMood()
        #expect(mood.hear("Do you have a vegetarian menu tonight?").cues.isEmpty)
        let second = mood.hear("Do you have a vegetarian menu tonight?")
        #expect(second.cues == [.repeatedQuestion])
        #expect(second.score == 0.15)
        let third = mood.hear("Do you have a vegetarian menu tonight?")
        #expect(third.cues == [.repeatedQuestion])
        #expect(abs(third.score - 0.475) < 1e-9)
        #expect(third.level == .strained)
        let calm = mood.hear("Thank you.")
        #expect(abs(calm.score - 0.2375) < 1e-9)
        #expect(calm.level == .calm)
        #expect(abs(mood.peak - 0.475) < 1e-9)
    }

    @Test("corrections one after another, and two failed tools, add up")
    func correctionsAndTools() {
        var mood = CallerMood()
        #expect(mood.hear("No, for six people.").cues == [.correction])
        #expect(mood.hear("No, no, six, not four.").cues == [.correction, .repeatedCorrections])
        mood.toolFailed()
        mood.toolFailed()
        let reading = mood.hear("Saturday then.")
        #expect(reading.cues == [.failedTools])
        // A failure already counted is not counted again.
        #expect(mood.hear("Okay.").cues.isEmpty)
    }

    @Test(
        "asking for a person is upset at once, in both languages",
        arguments: [
            "Can I speak to someone real?", "Let me talk to the manager.", "Quiero hablar con una persona.",
            "Póngame con el encargado.",
        ])
    func askedForPerson(line: String) {
        var mood = CallerMood()
        let reading = mood.hear(line)
        #expect(reading.cues.contains(.askedForPerson))
        #expect(reading.level == .upset)
    }

    @Test("talking over the agent and a raised voice count; a voice a little louder does not")
    func signals() {
        var mood = CallerMood()
        let reading = mood.hear(
            "Four people.", signals: CallerMood.Signals(interruptedAgent: true, louderThanUsual: 7.5))
        #expect(reading.cues == [.interruptedAgent, .raisedVoice])
        #expect(abs(reading.score - 0.25) < 1e-9)
        #expect(mood.hear("Four.", signals: CallerMood.Signals(louderThanUsual: 3)).cues.isEmpty)
    }

    @Test("an urgent caller is pressed, not angry")
    func urgency() {
        var mood = CallerMood()
        #expect(mood.hear("It's urgent, I need a table right now.").cues == [.urgency])
        #expect(mood.hear("Es urgente.").cues == [.urgency])
    }

    @Test("the styles: calmer is steadier and slower, slower steps down to 0.7, standard keeps its cache text")
    func styles() {
        #expect(
            VoiceStyle.standard.settingsText
                == "stability=0.5,similarity_boost=0.8,style=0.0,speaker_boost=true,speed=1.0")
        let calmer = VoiceStyle.standard.calmer
        #expect(calmer.stability == 0.8)
        #expect(calmer.speed == 0.92)
        #expect(VoiceStyle.standard.slower.speed == 0.9)
        #expect(VoiceStyle.standard.slower.slower.slower.slower.speed == 0.7)
        #expect(VoiceStyle.standard.slower.calmer.speed == 0.9)
    }
}
