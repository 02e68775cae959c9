// SPDX-License-Identifier: Apache-2.0
import Foundation
import NIOCore
import NIOSSL

/// A daemon's TLS: the certificate it serves HTTPS with (and presents as a client certificate), the CA bundle it
/// trusts for the servers it connects to, and whether its listener demands client certificates (mutual TLS).
///
/// Built once at start from ``Files`` (the `--tls_*` flags); every file is read and parsed then, so a bad file stops
/// the daemon with a one-line ``TLSSettingsError`` naming the flag instead of failing the first handshake.
///
/// - `certificateFile` (`--tls_cert_file`) and `keyFile` (`--tls_key_file`): PEM certificate chain (leaf first) and
///   its PEM private key. Both or neither. With them the daemon serves HTTPS only, and its own clients present the
///   certificate when a server asks for one.
/// - `caFile` (`--tls_ca_file`): PEM CA bundle trusted for the servers the daemon connects to (hostname verification
///   on), and the CA a client certificate must chain to. Without it, an `https://` server is checked against the
///   system's roots. With it, a bare `host:port` is reached over https.
/// - `requireClientCertificate` (`--tls_require_client_cert`): the listener refuses a client without a certificate
///   signed by `caFile`; needs all three files.
public struct TLSSettings: Sendable {
    /// The files and switches the settings are built from (the `--tls_*` flags).
    public struct Files: Sendable, Hashable {
        /// `--tls_cert_file`: PEM certificate chain, leaf first.
        public var certificateFile: String?
        /// `--tls_key_file`: PEM private key of the certificate.
        public var keyFile: String?
        /// `--tls_ca_file`: PEM CA bundle trusted for servers (and client certificates).
        public var caFile: String?
        /// `--tls_require_client_cert`: demand a client certificate signed by ``caFile``.
        public var requireClientCertificate: Bool

        public init(
            certificateFile: String? = nil,
            keyFile: String? = nil,
            caFile: String? = nil,
            requireClientCertificate: Bool = false
        ) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.caFile = caFile
            self.requireClientCertificate = requireClientCertificate
        }

        /// Whether no TLS flag is given at all.
        public var isEmpty: Bool {
            self.certificateFile == nil && self.keyFile == nil && self.caFile == nil && !self.requireClientCertificate
        }
    }

    /// The files the settings were built from.
    public let files: Files
    /// The context the listener serves HTTPS with; `nil` when the daemon has no certificate (it serves plain HTTP).
    public let serverContext: NIOSSLContext?
    /// What the daemon's clients use: the CA bundle (or the system's roots), full verification with hostnames, and
    /// the daemon's certificate as client certificate when it has one.
    public let clientConfiguration: TLSConfiguration
    /// ``clientConfiguration`` as a context, for ``HTTPCallClient``.
    public let clientContext: NIOSSLContext

    /// Whether the daemon's listener serves HTTPS.
    public var servesTLS: Bool { self.serverContext != nil }

    /// The scheme the daemon's clients use for a server given as a bare `host:port`: `https` once a CA bundle is
    /// given, else `http`.
    public var defaultScheme: String { self.files.caFile != nil ? "https" : "http" }

    /// Settings for `files`, or `nil` when no TLS flag is given (plain HTTP everywhere).
    ///
    /// - Throws: ``TLSSettingsError`` naming the flag: one of `--tls_cert_file`/`--tls_key_file` without the other,
    ///   `--tls_require_client_cert` without the certificate or CA, or a file that cannot be read or parsed.
    public static func load(_ files: Files) throws(TLSSettingsError) -> TLSSettings? {
        files.isEmpty ? nil : try TLSSettings(files)
    }

    /// Settings for `files`; see ``load(_:)``.
    public init(_ files: Files) throws(TLSSettingsError) {
        self.files = files
        let identity: (chain: [NIOSSLCertificate], key: NIOSSLPrivateKey)?
        switch (files.certificateFile, files.keyFile) {
        case (nil, nil):
            identity = nil
        case (.some, nil):
            throw TLSSettingsError(
                flag: "--tls_key_file",
                "missing: --tls_cert_file needs the certificate's private key too; give both or neither."
            )
        case (nil, .some):
            throw TLSSettingsError(
                flag: "--tls_cert_file",
                "missing: --tls_key_file needs the certificate it belongs to; give both or neither."
            )
        case (.some(let certificateFile), .some(let keyFile)):
            let chain = try Self.certificates(in: certificateFile, flag: "--tls_cert_file")
            let key: NIOSSLPrivateKey
            do {
                key = try NIOSSLPrivateKey(bytes: Array(try Self.read(keyFile, flag: "--tls_key_file")), format: .pem)
            } catch let error as TLSSettingsError {
                throw error
            } catch {
                throw TLSSettingsError(
                    flag: "--tls_key_file",
                    "'\(keyFile)' holds no PEM private key (\(error)); give the key of --tls_cert_file in PEM form."
                )
            }
            identity = (chain, key)
        }
        let authorities = try files.caFile.map { file throws(TLSSettingsError) in
            try Self.certificates(in: file, flag: "--tls_ca_file")
        }
        if files.requireClientCertificate {
            guard identity != nil else {
                throw TLSSettingsError(
                    flag: "--tls_require_client_cert",
                    "needs --tls_cert_file and --tls_key_file: mutual TLS is only served over HTTPS."
                )
            }
            guard authorities != nil else {
                throw TLSSettingsError(
                    flag: "--tls_require_client_cert",
                    "needs --tls_ca_file: the CA that client certificates must be signed by."
                )
            }
        }

        var client = TLSConfiguration.makeClientConfiguration()
        client.minimumTLSVersion = .tlsv12
        client.certificateVerification = .fullVerification
        client.trustRoots = authorities.map { .certificates($0) } ?? .default
        client.shutdownTimeout = Self.shutdownTimeout
        if let identity {
            client.certificateChain = identity.chain.map { .certificate($0) }
            client.privateKey = .privateKey(identity.key)
        }
        self.clientConfiguration = client
        do {
            self.clientContext = try NIOSSLContext(configuration: client)
        } catch {
            throw TLSSettingsError(
                flag: files.certificateFile == nil ? "--tls_ca_file" : "--tls_key_file",
                "the TLS client cannot be set up (\(error)); check that the key belongs to --tls_cert_file."
            )
        }

        guard let identity else {
            self.serverContext = nil
            return
        }
        var server = TLSConfiguration.makeServerConfiguration(
            certificateChain: identity.chain.map { .certificate($0) },
            privateKey: .privateKey(identity.key)
        )
        server.minimumTLSVersion = .tlsv12
        server.shutdownTimeout = Self.shutdownTimeout
        if files.requireClientCertificate, let authorities {
            // A client certificate is checked against the CA; its name is not (clients have no hostname to match).
            server.certificateVerification = .noHostnameVerification
            server.trustRoots = .certificates(authorities)
            server.sendCANameList = true
        }
        do {
            self.serverContext = try NIOSSLContext(configuration: server)
        } catch {
            throw TLSSettingsError(
                flag: "--tls_key_file",
                "'\(files.keyFile ?? "")' cannot serve --tls_cert_file '\(files.certificateFile ?? "")' (\(error)); "
                    + "give the private key that belongs to the certificate."
            )
        }
    }

    /// How long a closing connection waits for the peer's close_notify before it closes anyway (NIOSSL's default is
    /// 5 seconds). Every HTTP message we exchange is framed (content-length or chunked), so a missing close_notify
    /// cannot truncate one unnoticed; a peer streaming to us, such as a master sending an agent its SUBSCRIBE stream,
    /// does not read until it writes again, and made every TLS daemon take 5 seconds to stop.
    static let shutdownTimeout: TimeAmount = .milliseconds(300)

    private static func read(_ path: String, flag: String) throws(TLSSettingsError) -> Data {
        var isDirectory: ObjCBool = false
        let reason: String
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            reason = "no such file"
        } else if isDirectory.boolValue {
            reason = "it is a directory"
        } else if let data = FileManager.default.contents(atPath: path) {
            return data
        } else {
            reason = "permission denied"
        }
        throw TLSSettingsError(flag: flag, "cannot read '\(path)' (\(reason)); give a readable PEM file.")
    }

    private static func certificates(in path: String, flag: String) throws(TLSSettingsError) -> [NIOSSLCertificate] {
        let data = try Self.read(path, flag: flag)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(data))
        } catch {
            throw TLSSettingsError(flag: flag, "'\(path)' holds no PEM certificate (\(error)); give a PEM file.")
        }
        guard !certificates.isEmpty else {
            throw TLSSettingsError(
                flag: flag,
                "'\(path)' holds no PEM certificate (no -----BEGIN CERTIFICATE----- block); give a PEM file."
            )
        }
        return certificates
    }
}

/// A TLS flag whose value cannot be used; the daemon does not start.
public struct TLSSettingsError: Error, Sendable, CustomStringConvertible {
    /// The flag at fault, e.g. `--tls_cert_file`.
    public var flag: String
    /// What is wrong and how to fix it.
    public var message: String

    public init(flag: String, _ message: String) {
        self.flag = flag
        self.message = message
    }

    /// `--flag: message`, one line.
    public var description: String { "\(self.flag): \(self.message)" }
}
