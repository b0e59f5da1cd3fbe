import Foundation
public import NIOCore
import Sync
import SyncAgent

/// `edge-agent provision --twilio-number +1…`: points the restaurant's Twilio number at this box and,
/// for when the box cannot answer, at headquarters' fallback URL. In an order that leaves everything
/// as it was on any failure before the last step: the number is looked up in the account first (a
/// number of another account stops here), headquarters is given the account next (it answers with
/// the fallback URL), and only then are the number's URLs changed and the number noted on the box.
public struct TwilioNumberProvisioning: Sendable {
    let app: EdgeAgentApp
    let timeout: TimeAmount

    public init(app: EdgeAgentApp, timeout: TimeAmount = .seconds(15)) {
        self.app = app
        self.timeout = timeout
    }

    /// Why the number was not provisioned, in a line a technician can act on.
    public struct Failure: Error, CustomStringConvertible, Sendable, Equatable {
        public let description: String

        init(_ description: String) {
            self.description = description
        }
    }

    /// Provisions `text` (E.164, spaces and dashes allowed); returns what was set.
    public func provision(number text: String) async throws(Failure) -> ProvisionedNumber {
        let configuration = app.configuration
        guard let phoneNumber = ProvisionedNumber.normalized(text) else {
            throw Failure("\(text) is not a phone number in E.164 form (+ country code and number, like +15558675309)")
        }
        guard let account = configuration.twilio.accountSID, let token = configuration.twilio.authToken else {
            throw Failure("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (in /etc/edge-agent/secrets.env) first")
        }
        guard configuration.publicURL.scheme == "https" else {
            throw Failure(
                "EDGE_PUBLIC_URL is \(configuration.publicURL.absoluteString); Twilio needs the box's https URL")
        }
        let directory = configuration.dataDirectory
        let link: HeadquartersLink
        let identity: DeviceIdentity
        do {
            guard
                let loaded = try HeadquartersLink.load(
                    dataDirectory: directory, urlOverride: configuration.headquartersURL?.absoluteString),
                let key = try DeviceIdentity.load(dataDirectory: directory)
            else {
                throw Failure(
                    "this box is not enrolled at headquarters, which answers the number while the box cannot; run edge-agent provision --hq URL --token TOKEN first"
                )
            }
            link = loaded
            identity = key
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("\(error)")
        }

        let twilio = TwilioRESTClient(
            http: app.http, baseURL: configuration.twilio.apiBaseURL, accountSID: account, authToken: token,
            timeout: timeout, logger: app.logger)
        let number: IncomingPhoneNumber
        do {
            guard let found = try await twilio.incomingPhoneNumber(phoneNumber) else {
                throw Failure(
                    "\(phoneNumber) is not a number of Twilio account \(account): check the number and TWILIO_ACCOUNT_SID"
                )
            }
            number = found
        } catch let failure as Failure {
            throw failure
        } catch let error as TwilioRESTClient.RequestError where error.status == 401 || error.status == 403 {
            throw Failure("Twilio refused the account's credentials (HTTP \(error.status)): check TWILIO_AUTH_TOKEN")
        } catch {
            throw Failure("Twilio's REST API cannot be asked: \(Doctor.describe(error)); check the internet line")
        }

        let fallbackURL: String
        do {
            let client = try SyncClient(
                baseURL: link.url, caCertificatePEM: link.caCertificatePEM, timeout: timeout, logger: app.logger)
            defer { Task { await client.shutdown() } }
            let registration = TwilioRegistrationRequest(
                accountSID: account, authToken: token.value, phoneNumber: phoneNumber,
                landline: configuration.restaurant.staffPhone.flatMap(ProvisionedNumber.normalized), language: "en",
                restaurantName: configuration.restaurant.name)
            fallbackURL = try await client.registerTwilio(registration, identity: identity, deviceID: link.deviceID)
                .fallbackURL
        } catch {
            throw Failure("headquarters did not take the Twilio account: \(error)")
        }

        let voiceURL = Doctor.voiceURL(of: configuration)
        let configured: IncomingPhoneNumber
        do {
            configured = try await twilio.configure(number: number.sid, voiceURL: voiceURL, fallbackURL: fallbackURL)
        } catch {
            throw Failure("Twilio did not change \(phoneNumber)'s URLs: \(Doctor.describe(error)); run this again")
        }
        let provisioned = ProvisionedNumber(
            phoneNumber: configured.phoneNumber, sid: configured.sid, voiceURL: configured.voiceURL ?? voiceURL,
            fallbackURL: configured.voiceFallbackURL ?? fallbackURL)
        do {
            try provisioned.save(dataDirectory: directory)
        } catch {
            throw Failure("\(phoneNumber) now calls this box, but the note of it could not be written: \(error)")
        }
        return provisioned
    }
}
