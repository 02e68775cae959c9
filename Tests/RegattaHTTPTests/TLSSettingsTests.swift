// SPDX-License-Identifier: Apache-2.0
import Foundation
import NIOHTTP1
import RegattaHTTP
import RegattaTestKit
import Testing

/// Building a daemon's TLS from its `--tls_*` flags: every mistake stops the start with one line naming the flag.
@Suite(.enabled(if: TLSTestCertificates.available, "needs the openssl CLI"))
struct TLSSettingsTests {
    static func error(_ files: TLSSettings.Files) -> TLSSettingsError? {
        #expect(throws: TLSSettingsError.self) { try TLSSettings(files) }
    }

    @Test func noFlagsIsPlainHTTP() throws {
        #expect(try TLSSettings.load(TLSSettings.Files()) == nil)
    }

    @Test func certificateAndKeyServeTLS() throws {
        // Given
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        // When
        let settings = try #require(
            try TLSSettings.load(.init(certificateFile: pki.serverCertificateFile, keyFile: pki.serverKeyFile))
        )
        // Then
        #expect(settings.servesTLS)
        #expect(settings.defaultScheme == "http")
        #expect(settings.clientConfiguration.certificateVerification == .fullVerification)
        // A closing connection does not wait NIOSSL's 5 seconds for a close_notify the peer may never read to
        // answer (every TLS daemon took 5 seconds to stop)
        #expect(settings.clientConfiguration.shutdownTimeout <= .seconds(1))
    }

    @Test func aCAAloneMakesAClientThatDefaultsToHTTPS() throws {
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        let settings = try #require(try TLSSettings.load(.init(caFile: pki.caFile)))
        #expect(!settings.servesTLS)
        #expect(settings.defaultScheme == "https")
    }

    @Test func certificateAndKeyComeTogether() throws {
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        let noKey = Self.error(.init(certificateFile: pki.serverCertificateFile))
        #expect(noKey?.flag == "--tls_key_file")
        #expect(noKey?.description.contains("give both or neither") == true)
        let noCertificate = Self.error(.init(keyFile: pki.serverKeyFile))
        #expect(noCertificate?.flag == "--tls_cert_file")
    }

    @Test func unreadableFilesNameTheFlagAndThePath() throws {
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        let missing = pki.path("missing.pem")
        let certificate = Self.error(.init(certificateFile: missing, keyFile: pki.serverKeyFile))
        #expect(certificate?.flag == "--tls_cert_file")
        #expect(certificate?.description.contains("'\(missing)' (no such file)") == true)
        let key = Self.error(.init(certificateFile: pki.serverCertificateFile, keyFile: missing))
        #expect(key?.flag == "--tls_key_file")
        let authority = Self.error(.init(caFile: pki.directory.path))
        #expect(authority?.flag == "--tls_ca_file")
        #expect(authority?.description.contains("directory") == true)
        #expect(authority?.description.contains("\n") == false)
    }

    @Test func filesThatAreNotPEMAreRefused() throws {
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        let garbage = pki.path("garbage.pem")
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: garbage))
        #expect(Self.error(.init(caFile: garbage))?.flag == "--tls_ca_file")
        #expect(Self.error(.init(certificateFile: garbage, keyFile: pki.serverKeyFile))?.flag == "--tls_cert_file")
        let key = Self.error(.init(certificateFile: pki.serverCertificateFile, keyFile: garbage))
        #expect(key?.flag == "--tls_key_file")
        #expect(key?.description.contains("PEM private key") == true)
    }

    @Test func aKeyOfAnotherCertificateIsRefused() throws {
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        let error = Self.error(.init(certificateFile: pki.serverCertificateFile, keyFile: pki.clientKeyFile))
        #expect(error?.flag == "--tls_key_file")
    }

    @Test func mutualTLSNeedsTheCertificateAndTheCA() throws {
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        let noCA = Self.error(
            .init(
                certificateFile: pki.serverCertificateFile,
                keyFile: pki.serverKeyFile,
                requireClientCertificate: true
            )
        )
        #expect(noCA?.flag == "--tls_require_client_cert")
        #expect(noCA?.description.contains("--tls_ca_file") == true)
        let noCertificate = Self.error(.init(caFile: pki.caFile, requireClientCertificate: true))
        #expect(noCertificate?.flag == "--tls_require_client_cert")
        #expect(noCertificate?.description.contains("--tls_cert_file") == true)
    }
}

/// Credentials never follow a redirect to another origin.
@Suite struct RedirectCredentialsTests {
    @Test func credentialsStayWithTheOrigin() throws {
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Basic c2VjcmV0")
        headers.add(name: "Content-Type", value: "application/json")
        let origin = try #require(URL(string: "https://10.0.0.1:5050/api/v1/scheduler"))
        let samePlace = try #require(URL(string: "https://10.0.0.1:5050/api/v1/scheduler?x"))
        #expect(
            RedirectCredentials.headers(headers, from: origin, to: samePlace)["Authorization"] == ["Basic c2VjcmV0"]
        )
        for other in ["https://10.0.0.2:5050/api", "https://10.0.0.1:5051/api", "http://10.0.0.1:5050/api"] {
            let kept = RedirectCredentials.headers(headers, from: origin, to: try #require(URL(string: other)))
            #expect(kept["Authorization"].isEmpty, "\(other)")
            #expect(kept["Content-Type"] == ["application/json"])
        }
        let defaultPort = try #require(URL(string: "https://m/x"))
        #expect(RedirectCredentials.sameOrigin(defaultPort, try #require(URL(string: "https://m:443/y"))))
    }
}
