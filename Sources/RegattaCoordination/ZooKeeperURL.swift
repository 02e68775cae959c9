// SPDX-License-Identifier: Apache-2.0

/// A Mesos/Marathon-style ZooKeeper URL: `zk://[user:password@]host:port[,host:port…]/path`.
///
/// The path names the znode a component works under (masters elect under `/mesos`, schedulers under their own
/// path); it is not a chroot, so every client sees the full tree. A host without a port gets 2181.
///
/// `description` hides the password, so URLs can be logged.
public struct ZooKeeperURL: Hashable, Sendable, CustomStringConvertible {
    /// One ZooKeeper server.
    public struct Server: Hashable, Sendable, CustomStringConvertible {
        /// A host name or IP address (IPv6 without brackets).
        public var host: String
        public var port: Int

        public init(host: String, port: Int = 2181) {
            self.host = host
            self.port = port
        }

        /// `host:port`, or `[v6]:port` for an IPv6 address.
        public var description: String {
            self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
        }
    }

    /// Digest credentials (`user:password`), sent with `zoo_add_auth("digest", …)`.
    public struct Credentials: Hashable, Sendable, CustomStringConvertible {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }

        /// The `user:password` text ZooKeeper's digest scheme expects.
        public var digest: String { "\(self.username):\(self.password)" }

        /// The user name only; the password never appears in logs.
        public var description: String { "\(self.username):***" }
    }

    /// The ensemble, in the order given.
    public var servers: [Server]
    /// The znode path, absolute, without a trailing slash (`/` for the root).
    public var path: String
    /// Credentials from `user:password@`, if any.
    public var credentials: Credentials?

    public init(servers: [Server], path: String = "/", credentials: Credentials? = nil) {
        self.servers = servers
        self.path = path
        self.credentials = credentials
    }

    /// Parses `zk://[user:password@]host[:port][,host[:port]…][/path]`.
    ///
    /// - Throws: ``ZooKeeperError`` with code ``ZooKeeperError/Code/invalidURL`` naming what is wrong.
    public init(parsing text: String) throws {
        func invalid(_ reason: String) -> ZooKeeperError {
            ZooKeeperError(
                .invalidURL,
                "Invalid ZooKeeper URL '\(Self.redacted(text))': \(reason); expected "
                    + "zk://[user:password@]host:port[,host:port]/path, e.g. zk://127.0.0.1:2181/mesos."
            )
        }
        let trimmed = text.trimmingWhitespace()
        let scheme = "zk://"
        guard trimmed.lowercased().hasPrefix(scheme) else { throw invalid("it must start with zk://") }
        var rest = Substring(trimmed.dropFirst(scheme.count))

        // Authority ends at the first '/'; credentials end at the last '@' before it.
        let authority: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            rest = rest[slash...]
        } else {
            authority = rest
            rest = "/"
        }
        var hostList = authority
        var credentials: Credentials?
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostList = authority[authority.index(after: at)...]
            guard let colon = userInfo.firstIndex(of: ":"), colon != userInfo.startIndex else {
                throw invalid("credentials must be user:password")
            }
            credentials = Credentials(
                username: String(userInfo[..<colon]),
                password: String(userInfo[userInfo.index(after: colon)...])
            )
        }
        guard !hostList.isEmpty else { throw invalid("it names no host") }

        var servers: [Server] = []
        for entry in hostList.split(separator: ",", omittingEmptySubsequences: false) {
            servers.append(try Self.parseServer(entry, invalid: invalid))
        }

        var path = String(rest)
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        guard !path.contains("//") else { throw invalid("the path '\(path)' has an empty component") }

        self.init(servers: servers, path: path, credentials: credentials)
    }

    private static func parseServer(
        _ entry: Substring,
        invalid: (String) -> ZooKeeperError
    ) throws -> Server {
        let entry = entry.trimmingWhitespace()
        guard !entry.isEmpty else { throw invalid("a host in the list is empty") }
        var host: Substring
        var portText: Substring?
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else { throw invalid("'\(entry)' misses its closing ']'") }
            host = entry[entry.index(after: entry.startIndex)..<close]
            let after = entry[entry.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("'\(entry)' has text after ']' that is not :port") }
                portText = after.dropFirst()
            }
        } else if let colon = entry.lastIndex(of: ":") {
            host = entry[..<colon]
            portText = entry[entry.index(after: colon)...]
        } else {
            host = Substring(entry)
        }
        guard !host.isEmpty else { throw invalid("'\(entry)' has no host name") }
        var port = 2181
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw invalid("'\(entry)' has port '\(portText)', which is not a number from 1 to 65535")
            }
            port = value
        }
        return Server(host: String(host), port: port)
    }

    /// The servers as the C client wants them: `host:port,host:port`.
    public var connectionString: String {
        self.servers.map(\.description).joined(separator: ",")
    }

    /// The URL with the password hidden.
    public var description: String {
        let userInfo = self.credentials.map { "\($0.username):***@" } ?? ""
        let path = self.path == "/" ? "" : self.path
        return "zk://\(userInfo)\(self.connectionString)\(path)"
    }

    /// Hides the password of a URL-like text that may not parse.
    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let start = text.firstRange(of: "://")?.upperBound, start < at else {
            return text
        }
        let userInfo = text[start..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> Substring {
        let scalars = Substring(self)
        guard let first = scalars.firstIndex(where: { !$0.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return scalars[first...last]
    }
}
