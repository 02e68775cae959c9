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

    /// A client of the scheduler.
    func schedulerClient() throws -> APIClient {
        APIClient(base: self.schedulerURL, tls: try self.tls())
    }

    /// A client of the master.
    func masterClient() throws -> APIClient {
        APIClient(base: self.masterURL, tls: try self.tls())
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
struct APIClient {
    let base: String
    var tls: TLSSettings? = nil

    /// Sends a request and returns the status and parsed JSON (or raw text).
    func request(
        _ method: HTTPMethod,
        _ path: String,
        body: Data? = nil
    ) async throws -> (status: Int, json: Any?, raw: String) {
        var request = HTTPClientRequest(url: self.base + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await TLSHTTPClients.shared(tls: self.tls).execute(request, timeout: .seconds(30))
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
            throw CLIError(Self.describeError(status: status, json: json, raw: raw))
        }
        return (json, raw)
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
