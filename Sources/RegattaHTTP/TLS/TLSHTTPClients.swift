// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Synchronization

/// Process-wide AsyncHTTPClient clients that speak TLS with a daemon's ``TLSSettings``: one per settings and
/// variant, made on first use and never shut down, as `HTTPClient.shared` is.
///
/// A daemon's links (agent → master, scheduler → master, follower → leader, the CLI) use these so `https://` servers
/// are verified against `--tls_ca_file` with hostname verification, and a server that asks for a client certificate
/// gets `--tls_cert_file`.
public enum TLSHTTPClients {
    private struct Key: Hashable {
        var files: TLSSettings.Files?
        var variant: String
    }

    private static let clients = Mutex<[Key: HTTPClient]>([:])

    /// The client for `tls` and `variant`; `configure` shapes its configuration the first time (redirects, timeouts),
    /// and the TLS configuration is set after it. Without `tls` and `configure`, `HTTPClient.shared`.
    ///
    /// - Important: One `variant` name must always come with the same `configure`; the first one wins.
    public static func shared(
        tls: TLSSettings?,
        variant: String = "default",
        configure: ((inout HTTPClient.Configuration) -> Void)? = nil
    ) -> HTTPClient {
        if tls == nil && configure == nil { return .shared }
        return Self.clients.withLock { clients in
            let key = Key(files: tls?.files, variant: variant)
            if let client = clients[key] { return client }
            var configuration = HTTPClient.Configuration()
            configure?(&configuration)
            if let tls { configuration.tlsConfiguration = tls.clientConfiguration }
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[key] = client
            return client
        }
    }
}
