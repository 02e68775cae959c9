// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A throw-away PKI made with the `openssl` CLI for one test: a CA, a server certificate for `127.0.0.1` and
/// `localhost` (SAN IP and DNS), one of the same CA for another name, a client certificate, and a second CA that
/// signed none of them.
public struct TLSTestCertificates: Sendable {
    public let directory: URL
    public var caFile: String { self.path("ca.crt") }
    public var otherCAFile: String { self.path("other-ca.crt") }
    public var serverCertificateFile: String { self.path("server.crt") }
    public var serverKeyFile: String { self.path("server.key") }
    public var clientCertificateFile: String { self.path("client.crt") }
    public var clientKeyFile: String { self.path("client.key") }
    /// A server certificate of the CA for `elsewhere.example` only.
    public var otherNameCertificateFile: String { self.path("elsewhere.crt") }
    public var otherNameKeyFile: String { self.path("elsewhere.key") }

    public func path(_ name: String) -> String { self.directory.appendingPathComponent(name).path }

    /// Whether `openssl` can be run (scripts/services.sh installs it).
    public static var available: Bool {
        ["/usr/bin/openssl", "/usr/local/bin/openssl"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Makes the files in a new temporary directory.
    public static func make() throws -> TLSTestCertificates {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("regatta-tls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = TLSTestCertificates(directory: directory)
        try certificates.makeAuthority("ca", name: "Regatta Test CA")
        try certificates.makeAuthority("other-ca", name: "Some Other CA")
        try certificates.makeLeaf(
            "server",
            name: "localhost",
            extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n"
        )
        try certificates.makeLeaf(
            "elsewhere",
            name: "elsewhere.example",
            extensions: "subjectAltName=DNS:elsewhere.example\nextendedKeyUsage=serverAuth\n"
        )
        try certificates.makeLeaf("client", name: "regatta-client", extensions: "extendedKeyUsage=clientAuth\n")
        return certificates
    }

    public func remove() {
        try? FileManager.default.removeItem(at: self.directory)
    }

    private func makeAuthority(_ name: String, name subject: String) throws {
        try self.openssl(
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            self.path("\(name).key"),
            "-out",
            self.path("\(name).crt"),
            "-days",
            "2",
            "-subj",
            "/CN=\(subject)",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign"
        )
    }

    private func makeLeaf(_ name: String, name subject: String, extensions: String) throws {
        try self.openssl(
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            self.path("\(name).key"),
            "-out",
            self.path("\(name).csr"),
            "-subj",
            "/CN=\(subject)"
        )
        try Data(("basicConstraints=CA:FALSE\n" + extensions).utf8).write(
            to: URL(fileURLWithPath: self.path("\(name).ext"))
        )
        try self.openssl(
            "x509",
            "-req",
            "-in",
            self.path("\(name).csr"),
            "-CA",
            self.caFile,
            "-CAkey",
            self.path("ca.key"),
            "-CAcreateserial",
            "-out",
            self.path("\(name).crt"),
            "-days",
            "2",
            "-extfile",
            self.path("\(name).ext")
        )
    }

    private func openssl(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CertificateError(message: "openssl \(arguments.joined(separator: " ")) failed: \(text)")
        }
    }

    public struct CertificateError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { self.message }
    }
}
