// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import RegattaHTTP

/// Security flags every daemon shares (`docs/security.md`).
struct SecurityOptions: ParsableArguments {
    @Flag(
        name: .customLong("insecure_allow_unauthenticated"),
        help:
            "Start without authentication even on a non-loopback address. Anyone who reaches the daemon can then run commands on the cluster; use only on a network you trust."
    )
    var insecureAllowUnauthenticated = false

    @Option(
        name: .customLong("tls_cert_file"),
        help:
            "PEM certificate (chain, leaf first) to serve HTTPS with; plain HTTP is then refused. Needs --tls_key_file."
    )
    var tlsCertFile: String?
    @Option(name: .customLong("tls_key_file"), help: "PEM private key of --tls_cert_file.")
    var tlsKeyFile: String?
    @Option(
        name: .customLong("tls_ca_file"),
        help:
            "PEM CA bundle trusted for the servers this daemon connects to (hostname verification on); a bare host:port is then reached over https."
    )
    var tlsCAFile: String?
    @Flag(
        name: .customLong("tls_require_client_cert"),
        help: "Mutual TLS: refuse clients without a certificate signed by --tls_ca_file."
    )
    var tlsRequireClientCert = false

    /// `--insecure_allow_unauthenticated` from the command line or the environment.
    ///
    /// - Throws: a one-line `ValidationError` for an environment value that is not a boolean.
    func allowsUnauthenticated() throws -> Bool {
        try FlagEnvironment.bool(self.insecureAllowUnauthenticated, "insecure_allow_unauthenticated")
    }

    /// The `--tls_*` flags (or `REGATTA_TLS_*`), read and checked: `nil` when none is given.
    ///
    /// - Throws: a one-line `ValidationError` naming the flag: one of the certificate and key without the other, a
    ///   file that cannot be read or parsed, a key that does not belong to the certificate, or mutual TLS without
    ///   the certificate or the CA.
    func tls() throws -> TLSSettings? {
        let files = TLSSettings.Files(
            certificateFile: FlagEnvironment.string(self.tlsCertFile, "tls_cert_file"),
            keyFile: FlagEnvironment.string(self.tlsKeyFile, "tls_key_file"),
            caFile: FlagEnvironment.string(self.tlsCAFile, "tls_ca_file"),
            requireClientCertificate: try FlagEnvironment.bool(self.tlsRequireClientCert, "tls_require_client_cert")
        )
        do {
            return try TLSSettings.load(files)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
