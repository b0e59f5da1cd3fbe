import EdgeAgent

/// What a simulated caller does, step by step.
public struct CallScript: Sendable {
    /// One thing the caller does.
    public enum Step: Sendable {
        /// Speaks: mu-law 8 kHz audio, sent in real time, 20 ms per message.
        case say([UInt8])
        /// Presses a key (the end of the caller's input, for the response time).
        case press(String)
        /// Stays silent (sending silence, as a phone line does) for a while.
        case pause(Duration)
        /// Waits, listening, until the agent has spoken and finished (or `timeout` passes).
        case waitForAgent(timeout: Duration)
        /// Like ``waitForAgent(timeout:)``, but the agent counts as finished only after `quiet` of silence,
        /// so a short hold line and what follows it are heard as one answer.
        case waitForAgentQuiet(timeout: Duration, quiet: Duration)
        /// Listens until the agent's audio has played out at the caller's end (every mark echoed, the
        /// playout buffer empty) and nothing more has come for `pause`, then goes on: a caller who waits
        /// for the agent to finish, then answers after a natural pause. Needs some agent audio first.
        case waitForPlayback(timeout: Duration, pause: Duration)
        /// Listens until `played` of agent audio has played at the caller's end since this step began
        /// (to speak over an answer part-way through).
        case waitForAgentAudio(played: Duration, timeout: Duration)
        /// Listens (sending silence) until `condition` holds, checked every 20 ms, or `timeout` passes.
        /// For tests that must act on what the agent has done (its call log, its state) rather than on
        /// how long it has been quiet, which a busy machine stretches.
        case waitUntil(timeout: Duration, condition: @Sendable () async -> Bool)
        /// Sends nothing at all for a while, as a frozen connection would.
        case freeze(Duration)
        /// Hangs up.
        case hangUp
    }

    public var steps: [Step]

    public init(_ steps: [Step]) {
        self.steps = steps
    }
}

/// What a simulated call observed, from the caller's side.
public struct CallReport: Sendable {
    /// The call id the agent put in its TwiML.
    public var callID: String?
    /// Agent audio received, in bytes (8 bytes per millisecond).
    public var agentAudioBytes = 0
    /// Marks the agent sent, and how many the simulated Twilio echoed.
    public var marksSent = 0
    public var marksEchoed = 0
    /// `clear` messages the agent sent (barge-ins).
    public var clears = 0
    /// `clear` messages that found nothing left to play after Twilio had told the agent that all of
    /// its audio had played (by echoing a mark after its last audio, or by an earlier clear), a while
    /// before (see `SimulatedLine.State.echoCrossing`): the agent judged as unheard what it knew was
    /// heard.
    public var clearsOfNothing = 0
    /// From the end of each caller utterance to the first agent audio after it.
    public var responseLatencies: [Duration] = []
    /// How far each agent frame's arrival strayed from 20 ms after the previous one, while the agent spoke.
    public var pacingErrors: [Duration] = []
    /// Whether the agent closed the stream (hung up) rather than the caller.
    public var agentHungUp = false
    /// `waitForAgent` steps that timed out.
    public var timeouts = 0
}
