// SPDX-License-Identifier: Apache-2.0
import Hummingbird
import Logging
import NIOCore
import RegattaHTTP
import RegattaTestKit
import Testing

/// A listener with a certificate serves HTTPS only, with its limits in force, and the call client verifies the
/// server's chain and name; live servers on loopback with certificates made by openssl.
@Suite(.enabled(if: TLSTestCertificates.available, "needs the openssl CLI"), .timeLimit(.minutes(2)))
struct TLSListenerTests {
    /// Serves `ListenerLimitsTests.router()` over TLS with `server` settings while `body` runs.
    static func serve(
        _ server: TLSSettings.Files,
        body bodyLimit: Int = 1024,
        _ body: @Sendable (Int) async throws -> Void
    ) async throws {
        let settings = try TLSSettings(server)
        try await TestServers.hummingbird(
            ListenerLimitsTests.router(),
            server: LimitedHTTPServer.http1(
                ListenerLimits(maximumConnections: 100, maximumBodySize: bodyLimit),
                tls: settings,
                logger: ListenerLimitsTests.logger
            ),
            body
        )
    }

    static func client(port: Int, host: String = "127.0.0.1", tls: TLSSettings.Files?) throws -> HTTPCallClient {
        var configuration = HTTPCallClient.Configuration()
        configuration.tls = try tls.map { try TLSSettings($0) }
        configuration.timeout = .seconds(20)
        return HTTPCallClient(host: host, port: port, configuration: configuration, logger: ListenerLimitsTests.logger)
    }

    @Test func servesHTTPSWithItsLimitsToAVerifyingClient() async throws {
        // Given
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        try await Self.serve(.init(certificateFile: pki.serverCertificateFile, keyFile: pki.serverKeyFile)) { port in
            for host in ["127.0.0.1", "localhost"] {
                let client = try Self.client(port: port, host: host, tls: .init(caFile: pki.caFile))
                // When
                let health = try await client.execute(HTTPCallRequest(method: .GET, path: "/health"))
                let echo = try await client.execute(
                    HTTPCallRequest(method: .POST, path: "/echo", body: ByteBuffer(string: "hello"))
                )
                let tooLarge = try await client.execute(
                    HTTPCallRequest(method: .POST, path: "/echo", body: ByteBuffer(repeating: 0x61, count: 4096))
                )
                // Then
                #expect(health.status == .ok, "\(host)")
                #expect(echo.bodyText == "hello")
                #expect(tooLarge.status == .payloadTooLarge)
                await client.shutdown()
            }
        }
    }

    @Test func plainHTTPToTheTLSPortFails() async throws {
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        try await Self.serve(.init(certificateFile: pki.serverCertificateFile, keyFile: pki.serverKeyFile)) { port in
            let client = try Self.client(port: port, tls: nil)
            await #expect(throws: HTTPCallError.self) {
                _ = try await client.execute(HTTPCallRequest(method: .GET, path: "/health"))
            }
            await client.shutdown()
        }
    }

    @Test func aServerSignedByAnotherCAIsRefused() async throws {
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        try await Self.serve(.init(certificateFile: pki.serverCertificateFile, keyFile: pki.serverKeyFile)) { port in
            let client = try Self.client(port: port, tls: .init(caFile: pki.otherCAFile))
            let error = await #expect(throws: HTTPCallError.self) {
                _ = try await client.execute(HTTPCallRequest(method: .GET, path: "/health"))
            }
            #expect(error?.message.contains("CERTIFICATE_VERIFY_FAILED") == true, "\(String(describing: error))")
            await client.shutdown()
        }
    }

    @Test func aCertificateForAnotherNameIsRefused() async throws {
        // Given: the server shows a certificate of the right CA that names neither 127.0.0.1 nor localhost.
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        let server = TLSSettings.Files(certificateFile: pki.otherNameCertificateFile, keyFile: pki.otherNameKeyFile)
        try await Self.serve(server) { port in
            let client = try Self.client(port: port, tls: .init(caFile: pki.caFile))
            // Then
            let error = await #expect(throws: HTTPCallError.self) {
                _ = try await client.execute(HTTPCallRequest(method: .GET, path: "/health"))
            }
            #expect(error?.message.contains("failedToValidateHostname") == true, "\(String(describing: error))")
            await client.shutdown()
        }
    }

    @Test func mutualTLSRefusesAClientWithoutACertificate() async throws {
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        let server = TLSSettings.Files(
            certificateFile: pki.serverCertificateFile,
            keyFile: pki.serverKeyFile,
            caFile: pki.caFile,
            requireClientCertificate: true
        )
        try await Self.serve(server) { port in
            // Without a certificate: refused.
            let anonymous = try Self.client(port: port, tls: .init(caFile: pki.caFile))
            await #expect(throws: HTTPCallError.self) {
                _ = try await anonymous.execute(HTTPCallRequest(method: .GET, path: "/health"))
            }
            await anonymous.shutdown()
            // With one the CA signed: served.
            let client = try Self.client(
                port: port,
                tls: .init(certificateFile: pki.clientCertificateFile, keyFile: pki.clientKeyFile, caFile: pki.caFile)
            )
            let response = try await client.execute(HTTPCallRequest(method: .GET, path: "/health"))
            #expect(response.status == .ok)
            await client.shutdown()
        }
    }
}
