import Foundation
import NIOConcurrencyHelpers

@testable import EdgeAgent

/// A stand-in model that answers from the conversation it is sent, as a real one does, so a lost
/// tool result shows as a second booking: it books when the caller has asked for a table and given
/// a name and the conversation holds no booking yet; it confirms a booking's result; it says goodbye
/// (and ends the call) when the caller does; and when a booking already stands it says so instead of
/// booking again.
struct BookingModelDouble: Sendable {
    let language: String
    let tomorrow: String
    /// How long the model takes to answer a request that ends in a tool result (the confirmation),
    /// so a test can speak before any of it has been heard.
    var confirmationDelay: Duration = .zero

    var confirmation: String {
        language == "es"
            ? "Perfecto, Ana, su mesa para cuatro está reservada para mañana a las siete y media. Se la guardamos quince minutos. ¿Puedo ayudarle en algo más?"
            : "Wonderful, Ana, your table for four is booked for tomorrow at seven thirty. We will hold it for fifteen minutes. Is there anything else I can do for you?"
    }

    var alreadyBooked: String {
        language == "es"
            ? "Sí, Ana, su mesa para cuatro mañana a las siete y media ya está reservada."
            : "Yes, Ana, your table for four tomorrow at seven thirty is already booked."
    }

    var goodbye: String {
        language == "es" ? "Gracias por llamar, hasta mañana." : "Thank you for calling, see you tomorrow."
    }

    var askName: String {
        language == "es" ? "¿A nombre de quién hago la reserva?" : "What name should I put the table under?"
    }

    var bookingArguments: String {
        #"{"name":"Ana","party_size":4,"date":"\#(tomorrow)","time":"19:30"}"#
    }

    func double() -> OpenAIChatDouble {
        OpenAIChatDouble(responder: { messages in await answer(messages) })
    }

    func answer(_ messages: [JSONValue]) async -> OpenAIChatDouble.Answer {
        let last = messages.last
        if last?["role"] == "tool" {
            let name = toolName(answeredBy: last?["tool_call_id"]?.stringValue, in: messages)
            switch name {
            case "create_reservation":
                if confirmationDelay > .zero { try? await Task.sleep(for: confirmationDelay) }
                return ScriptedLLM.text(confirmation)
            case "end_call":
                return ScriptedLLM.text("")
            default:
                return ScriptedLLM.text(askName)
            }
        }
        let said = messages.filter { $0["role"] == "user" }.last?["content"]?.stringValue?.lowercased() ?? ""
        if said.contains("goodbye") || said.contains("adiós") {
            return ScriptedLLM.tool("end_call", "{}", text: goodbye)
        }
        if hasBooking(messages) { return ScriptedLLM.text(alreadyBooked) }
        let asked = messages.contains { message in
            guard message["role"] == "user", let text = message["content"]?.stringValue?.lowercased() else {
                return false
            }
            return text.contains("table") || text.contains("mesa")
        }
        if asked && said.contains("ana") { return ScriptedLLM.tool("create_reservation", bookingArguments) }
        return ScriptedLLM.text(askName)
    }

    /// Whether the conversation holds the result of a booking that went through.
    func hasBooking(_ messages: [JSONValue]) -> Bool {
        messages.contains { message in
            message["role"] == "tool"
                && toolName(answeredBy: message["tool_call_id"]?.stringValue, in: messages) == "create_reservation"
                && message["content"]?.stringValue?.contains("reservation_id") == true
        }
    }

    func toolName(answeredBy id: String?, in messages: [JSONValue]) -> String? {
        for message in messages {
            guard case .array(let calls) = message["tool_calls"] else { continue }
            for call in calls where call["id"]?.stringValue == id {
                return call["function"]?["name"]?.stringValue
            }
        }
        return nil
    }
}
