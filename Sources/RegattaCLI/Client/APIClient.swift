// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RegattaHTTP

/// Options shared by the client commands.
struct ClientOptions: ParsableArguments {
    @Option(
        name: .customLong("scheduler"),
        help: "Scheduler URL (env REGATTA_SCHEDULER, default http://127.0.0.1:8080)."
    )
    var scheduler: String?
    @Option(name: .customLong("master"), help: "Master URL (env REGATTA_MASTER, default http://127.0.0.1:5050).")
    var master: String?
    @Option(
        name: .customLong("user"),
        help:
            "PRINCIPAL:SECRET sent as HTTP Basic (env REGATTA_USER; the environment keeps it out of the process list)."
    )
    var user: String?
    @Option(name: .customLong("token"), help: "Token sent as 'Authorization: Bearer' (env REGATTA_TOKEN).")
    var token: String?
    @Option(
        name: .customLong("tls_ca_file"),
        help:
            "PEM CA bundle to verify an https:// scheduler or master with (env REGATTA_TLS_CA_FILE); an address without a scheme then means https."
    )
    var tlsCAFile: String?
    @Flag(name: .customLong("json"), help: "Print the raw JSON response.") var json = false

    /// `--tls_ca_file`, else `REGATTA_TLS_CA_FILE`.
    var caFile: String? {
        self.tlsCAFile ?? ProcessInfo.processInfo.environment["REGATTA_TLS_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var schedulerURL: String {
        Self.normalize(
            self.scheduler ?? ProcessInfo.processInfo.environment["REGATTA_SCHEDULER"] ?? "http://127.0.0.1:8080",
            defaultScheme: self.caFile == nil ? "http" : "https"
        )
    }
    var masterURL: String {
        Self.normalize(
            self.master ?? ProcessInfo.processInfo.environment["REGATTA_MASTER"] ?? "http://127.0.0.1:5050",
            defaultScheme: self.caFile == nil ? "http" : "https"
        )
    }

    func validate() throws {
        _ = try self.credentials()
        _ = try self.tls()
    }

    /// A client of the scheduler, with the credentials and the CA given.
    func schedulerClient() throws -> APIClient {
        APIClient(base: self.schedulerURL, credentials: try self.credentials(), tls: try self.tls())
    }

    /// A client of the master, with the credentials and the CA given.
    func masterClient() throws -> APIClient {
        APIClient(base: self.masterURL, credentials: try self.credentials(), tls: try self.tls())
    }

    /// The credentials of `--user` or `--token`; the environment (`REGATTA_USER`, `REGATTA_TOKEN`) is read only when
    /// neither flag is given.
    ///
    /// - Throws: a one-line error when both are given or `--user` has no `:`.
    func credentials(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> APIClient.Credentials? {
        var user = self.user
        var token = self.token
        var source = (user: "--user", token: "--token")
        if user == nil && token == nil {
            user = environment["REGATTA_USER"].flatMap { $0.isEmpty ? nil : $0 }
            token = environment["REGATTA_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            source = ("REGATTA_USER", "REGATTA_TOKEN")
        }
        switch (user, token) {
        case (nil, nil):
            return nil
        case (.some, .some):
            throw ValidationError("give \(source.user) or \(source.token), not both.")
        case (.some(let user), nil):
            guard let colon = user.firstIndex(of: ":"), colon != user.startIndex,
                user.index(after: colon) != user.endIndex
            else {
                throw ValidationError("\(source.user) takes PRINCIPAL:SECRET, e.g. --user alice:s3cret.")
            }
            return .user(principal: String(user[..<colon]), secret: String(user[user.index(after: colon)...]))
        case (nil, .some(let token)):
            return .token(token)
        }
    }

    /// The CA of `--tls_ca_file` / `REGATTA_TLS_CA_FILE`, read and checked.
    ///
    /// - Throws: a one-line `ValidationError` naming the flag for a file that cannot be read or holds no certificate.
    func tls() throws -> TLSSettings? {
        do {
            return try TLSSettings.load(TLSSettings.Files(caFile: self.caFile))
        } catch {
            throw ValidationError(error.description)
        }
    }

    private static func normalize(_ url: String, defaultScheme: String) -> String {
        var url = url.hasPrefix("http://") || url.hasPrefix("https://") ? url : "\(defaultScheme)://\(url)"
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}

/// A one-line error for the CLI: ArgumentParser prints it after "Error:" and exits non-zero.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A small JSON-over-HTTP client for the scheduler's and master's APIs; an `https://` server is verified with the
/// `tls` CA (else the system's roots), hostname included.
///
/// Credentials go in the `Authorization` header of every request. Redirects are followed by `HTTPClient`, which
/// drops that header when a redirect leads to another host, so a secret never reaches a server it was not given for.
struct APIClient {
    /// What the CLI presents: `--user PRINCIPAL:SECRET` (HTTP Basic) or `--token T` (Bearer).
    enum Credentials: Equatable, CustomStringConvertible {
        case user(principal: String, secret: String)
        case token(String)

        /// The `Authorization` header value.
        var authorization: String {
            switch self {
            case .user(let principal, let secret):
                "Basic " + Data("\(principal):\(secret)".utf8).base64EncodedString()
            case .token(let token): "Bearer \(token)"
            }
        }

        /// Safe to print: never the secret.
        var description: String {
            switch self {
            case .user(let principal, _): "user '\(principal)'"
            case .token: "the token"
            }
        }
    }

    let base: String
    var credentials: Credentials?
    var tls: TLSSettings?

    init(base: String, credentials: Credentials? = nil, tls: TLSSettings? = nil) {
        self.base = base
        self.credentials = credentials
        self.tls = tls
    }

    /// Sends a request and returns the status and parsed JSON (or raw text).
    func request(
        _ method: HTTPMethod,
        _ path: String,
        body: Data? = nil
    ) async throws -> (status: Int, json: Any?, raw: String) {
        var request = HTTPClientRequest(url: self.base + path)
        request.method = method
        if let credentials = self.credentials {
            request.headers.add(name: "Authorization", value: credentials.authorization)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do {
            // A one-shot command fails at the first refused connection or untrusted certificate instead of retrying
            // until the deadline (AsyncHTTPClient's default retries connection establishment with backoff).
            let client = TLSHTTPClients.shared(tls: self.tls, variant: "cli") { configuration in
                configuration.connectionPool.retryConnectionEstablishment = false
                configuration.timeout.connect = .seconds(10)
            }
            response = try await client.execute(request, timeout: .seconds(30))
        } catch {
            let text = "\(error)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("failedToValidateHostname") {
                throw CLIError(
                    "\(self.base) presented a TLS certificate that is not trusted (\(text)); pass --tls_ca_file or set "
                        + "REGATTA_TLS_CA_FILE to the CA that signed it"
                )
            }
            throw CLIError(
                "cannot reach \(self.base): \(Self.reason(error)); is it running? (set --scheduler/--master or REGATTA_SCHEDULER/REGATTA_MASTER)"
            )
        }
        let buffer = try await response.body.collect(upTo: 64 << 20)
        let data = Data(buffer: buffer)
        let json = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        return (Int(response.status.code), json, String(decoding: data, as: UTF8.self))
    }

    /// Like `request`, but throws a one-line error for a non-2xx answer, quoting Marathon's message and details.
    func call(_ method: HTTPMethod, _ path: String, body: Data? = nil) async throws -> (json: Any?, raw: String) {
        let (status, json, raw) = try await self.request(method, path, body: body)
        guard (200..<300).contains(status) else {
            switch status {
            case 401: throw CLIError(self.unauthenticated())
            case 403: throw CLIError(self.forbidden(method, path, json: json))
            default: throw CLIError(Self.describeError(status: status, json: json, raw: raw))
            }
        }
        return (json, raw)
    }

    /// The one line for a `401`: which flag to give, or that the given credentials were refused.
    func unauthenticated() -> String {
        switch self.credentials {
        case nil:
            "\(self.base) requires authentication: pass --user PRINCIPAL:SECRET or --token TOKEN "
                + "(or set REGATTA_USER or REGATTA_TOKEN) (HTTP 401)"
        case .user(let principal, _)?:
            "\(self.base) refused user '\(principal)': check the principal and secret given with --user or "
                + "REGATTA_USER (HTTP 401)"
        case .token?:
            "\(self.base) refused the token given with --token or REGATTA_TOKEN (HTTP 401)"
        }
    }

    /// The one line for a `403`: who was refused what, with the server's reason.
    func forbidden(_ method: HTTPMethod, _ path: String, json: Any?) -> String {
        let who = self.credentials.map { "\($0)" } ?? "an anonymous caller"
        let reason = ((json as? [String: Any])?["message"] as? String).map { ": \($0)" } ?? ""
        let line = "\(who) may not \(method.rawValue) \(path) on \(self.base)\(reason) (HTTP 403)"
        return line.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    static func describeError(status: Int, json: Any?, raw: String) -> String {
        guard let object = json as? [String: Any], let message = object["message"] as? String else {
            return "HTTP \(status): \(raw.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
        var line = "\(message) (HTTP \(status))"
        if let details = object["details"] as? [[String: Any]], !details.isEmpty {
            let parts = details.map { detail -> String in
                let path = detail["path"] as? String ?? "/"
                let errors = (detail["errors"] as? [String] ?? []).joined(separator: "; ")
                return "\(path): \(errors)"
            }
            line += ": " + parts.joined(separator: ", ")
        }
        return line
    }

    private static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }
}

/// Renders rows as an aligned text table.
enum Table {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

/// Prints JSON prettily.
func printJSON(_ value: Any?) {
    guard let value,
        let data = try? JSONSerialization.data(
            withJSONObject: value,
            options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
        )
    else {
        print("null")
        return
    }
    print(String(decoding: data, as: UTF8.self))
}

/// Makes an app id absolute.
func absoluteAppID(_ id: String) -> String {
    id.hasPrefix("/") ? id : "/" + id
}
