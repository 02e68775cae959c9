// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RegattaCore
import Synchronization

/// Talks to the Docker Engine API over its unix socket, as `docker` itself does.
///
/// Every call goes to `http+unix://<socket>/v<version>/…`. Unless ``Configuration/apiVersion`` pins a version,
/// the first call asks the engine (`GET /_ping`) and uses the newer of what both sides speak, so one agent
/// build works against Docker 20.10 (API 1.41) as well as newer engines.
///
/// Errors are `AgentError`s with Docker's `message` in the text and a ``DockerEngineError`` as `cause`:
/// `containerNotFound` when Docker answers 404 for a container, `launchFailed` otherwise.
/// - Important: The client owns an `HTTPClient`; call ``shutdown()`` once it is no longer needed.
public final class DockerEngineClient: Sendable {
    /// Settings of the Docker Engine client.
    public struct Configuration: Sendable {
        /// The engine's unix socket. Defaults to `/var/run/docker.sock`.
        public var socketPath: String
        /// The API version to use, like `1.41`; `nil` negotiates the newest both sides speak, up to
        /// ``DockerEngineClient/newestAPIVersion``. Defaults to `nil`.
        public var apiVersion: String?
        /// How long a short call (inspect, create, start, list, remove) may take. Defaults to `30` seconds.
        public var requestTimeout: Duration
        /// How long an image pull may take. Defaults to `600` seconds.
        public var pullTimeout: Duration
        /// How long connecting to the socket may take. Defaults to `5` seconds.
        public var connectTimeout: Duration
        /// The most connections kept to the engine. Every running container holds two (its logs stream and
        /// its wait), so this bounds how many containers are followed at once. Defaults to `1024`.
        public var maximumConnections: Int

        /// Creates a configuration; every setting has a default.
        public init(
            socketPath: String = DockerEngineClient.defaultSocketPath,
            apiVersion: String? = nil,
            requestTimeout: Duration = .seconds(30),
            pullTimeout: Duration = .seconds(600),
            connectTimeout: Duration = .seconds(5),
            maximumConnections: Int = 1024
        ) {
            self.socketPath = socketPath
            self.apiVersion = apiVersion
            self.requestTimeout = requestTimeout
            self.pullTimeout = pullTimeout
            self.connectTimeout = connectTimeout
            self.maximumConnections = maximumConnections
        }
    }

    /// Docker's default socket, `/var/run/docker.sock`.
    public static let defaultSocketPath = "/var/run/docker.sock"
    /// The newest API version this client speaks; negotiation never goes above it.
    public static let newestAPIVersion = "1.43"
    /// The oldest API version this client accepts (Docker 17.06: `wait` conditions, `NanoCpus`).
    public static let oldestAPIVersion = "1.30"

    enum Method: String, Sendable {
        case get = "GET"
        case post = "POST"
        case delete = "DELETE"
    }

    private struct State {
        var negotiatedVersion: String?
        var shutDown = false
    }

    /// The client's settings.
    public let configuration: Configuration
    private let http: HTTPClient
    private let logger: Logger
    private let state = Mutex(State())

    /// Creates a client; it connects on the first call.
    public init(configuration: Configuration = Configuration(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var http = HTTPClient.Configuration()
        http.timeout = .init(connect: Self.timeAmount(configuration.connectTimeout))
        http.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: max(2, configuration.maximumConnections)
        )
        // A local socket that refuses a connection will not accept the next one a few milliseconds later: fail the
        // call now and let the caller's own retry decide.
        http.connectionPool.retryConnectionEstablishment = false
        http.redirectConfiguration = .disallow
        self.http = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: http,
            backgroundActivityLogger: logger
        )
    }

    /// Closes the client's connections; calls made afterwards fail. Calling it again does nothing.
    public func shutdown() async throws {
        let first = self.state.withLock { state in
            defer { state.shutDown = true }
            return !state.shutDown
        }
        guard first else { return }
        try await self.http.shutdown()
    }

    // MARK: - Engine

    /// Checks that the engine answers (`GET /_ping`) and returns the newest API version it speaks.
    public func ping() async throws -> String {
        let response = try await self.send(
            .get,
            "/_ping",
            versioned: false,
            deadline: self.deadline(self.configuration.requestTimeout),
            action: "answer a ping"
        )
        try await self.expect(response, [200], method: .get, path: "/_ping", action: "answer a ping")
        _ = try? await response.body.collect(upTo: 1 << 16)
        return response.headers.first(name: "Api-Version") ?? Self.newestAPIVersion
    }

    /// The engine's version (`GET /version`).
    public func version() async throws -> DockerEngineVersion {
        try await self.decode(
            DockerEngineVersion.self,
            .get,
            "/version",
            expecting: [200],
            action: "report its version"
        )
    }

    /// The API version calls use: the configured one, else the negotiated one (negotiating on first use).
    public func apiVersion() async throws -> String {
        if let pinned = self.configuration.apiVersion { return pinned }
        if let negotiated = self.state.withLock({ $0.negotiatedVersion }) { return negotiated }
        let server = try await self.ping()
        guard Self.compare(server, Self.oldestAPIVersion) >= 0 else {
            throw AgentError(
                .launchFailed,
                "The Docker Engine on '\(self.configuration.socketPath)' speaks API \(server), older than the "
                    + "\(Self.oldestAPIVersion) Regatta needs; upgrade Docker to 17.06 or later."
            )
        }
        let chosen = Self.compare(server, Self.newestAPIVersion) < 0 ? server : Self.newestAPIVersion
        self.state.withLock { $0.negotiatedVersion = chosen }
        return chosen
    }

    // MARK: - Images

    /// The local image named `reference`, or `nil` when the engine does not have it.
    public func inspectImage(_ reference: String) async throws -> DockerImageDetails? {
        let path = "/images/\(Self.pathEncoded(reference))/json"
        let response = try await self.send(
            .get,
            path,
            deadline: self.deadline(self.configuration.requestTimeout),
            action: "inspect image '\(reference)'"
        )
        if response.status.code == 404 {
            _ = try? await response.body.collect(upTo: 1 << 16)
            return nil
        }
        try await self.expect(response, [200], method: .get, path: path, action: "inspect image '\(reference)'")
        return try await self.decodeBody(DockerImageDetails.self, response, path: path)
    }

    /// Pulls `reference` from its registry (`POST /images/create`), reporting each progress line.
    ///
    /// A reference without a tag or digest pulls `latest`, never every tag.
    /// - Throws: `AgentError.launchFailed` with Docker's message when the pull fails, including failures Docker
    ///   reports inside the progress stream after answering 200.
    public func pullImage(
        _ reference: String,
        progress: (DockerPullProgress) -> Void = { _ in }
    ) async throws {
        let image = DockerImageReference(reference)
        let path = "/images/create"
        let action = "pull image '\(reference)'"
        let response = try await self.send(
            .post,
            path,
            query: [("fromImage", image.repository), ("tag", image.tagOrDigest)],
            deadline: self.deadline(self.configuration.pullTimeout),
            action: action
        )
        try await self.expect(response, [200], method: .post, path: path, action: action)
        var pending = Data()
        let decoder = JSONDecoder()
        func handle(_ line: Data) throws {
            guard let line = Self.trimmed(line), let item = try? decoder.decode(DockerPullProgress.self, from: line)
            else { return }
            if let failure = item.errorDetail?.message ?? item.error {
                throw AgentError(
                    .launchFailed,
                    "Docker could not pull image '\(reference)': \(failure); check the image name and that the "
                        + "registry is reachable, or load the image on this agent.",
                    cause: DockerEngineError(method: "POST", path: path, statusCode: 200, message: failure)
                )
            }
            progress(item)
        }
        do {
            for try await chunk in response.body {
                pending.append(contentsOf: chunk.readableBytesView)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[pending.startIndex..<newline]
                    pending = Data(pending[pending.index(after: newline)...])
                    try handle(Data(line))
                }
            }
        } catch let error as AgentError {
            throw error
        } catch {
            throw self.transportError(error, method: .post, path: path, action: action)
        }
        try handle(pending)
    }

    // MARK: - Containers

    /// Creates a container (`POST /containers/create`) and returns its id and Docker's warnings.
    ///
    /// - Parameter name: the container's name; `nil` lets Docker choose one.
    /// - Throws: `AgentError.launchFailed` with Docker's message; its ``AgentError/dockerStatusCode`` is 404 when
    ///   the image is missing and 409 when the name is taken.
    public func createContainer(name: String?, spec: DockerContainerSpec) async throws -> DockerCreatedContainer {
        let body = try Self.encoder().encode(spec)
        return try await self.decode(
            DockerCreatedContainer.self,
            .post,
            "/containers/create",
            query: name.map { [("name", $0)] } ?? [],
            body: body,
            expecting: [201],
            action: "create container '\(name ?? spec.image)'"
        )
    }

    /// Starts a created container (`POST /containers/{id}/start`); starting a running one does nothing.
    public func startContainer(_ id: String) async throws {
        try await self.call(.post, "/containers/\(id)/start", expecting: [204, 304], action: "start container '\(id)'")
    }

    /// What Docker knows about a container (`GET /containers/{id}/json`).
    public func inspectContainer(_ id: String) async throws -> DockerContainerDetails {
        try await self.decode(
            DockerContainerDetails.self,
            .get,
            "/containers/\(id)/json",
            expecting: [200],
            action: "inspect container '\(id)'"
        )
    }

    /// Waits until the container is no longer running (`POST /containers/{id}/wait?condition=not-running`).
    ///
    /// Waits without a time limit; cancel the calling task to stop waiting.
    public func waitContainer(_ id: String) async throws -> DockerWaitResult {
        try await self.decode(
            DockerWaitResult.self,
            .post,
            "/containers/\(id)/wait",
            query: [("condition", "not-running")],
            expecting: [200],
            deadline: .distantFuture,
            action: "wait for container '\(id)'"
        )
    }

    /// Stops a container (`POST /containers/{id}/stop?t=`): its stop signal (SIGTERM unless the image says
    /// otherwise), then SIGKILL after `timeout`, rounded up to whole seconds. Returns when it has stopped.
    ///
    /// - Returns: `false` when the container was not running.
    @discardableResult
    public func stopContainer(_ id: String, timeout: Duration) async throws -> Bool {
        let seconds = Self.wholeSeconds(timeout)
        let status = try await self.call(
            .post,
            "/containers/\(id)/stop",
            query: [("t", String(seconds))],
            expecting: [204, 304],
            deadline: self.deadline(timeout + .seconds(5) + self.configuration.requestTimeout),
            action: "stop container '\(id)'"
        )
        return status == 204
    }

    /// Creates a process to run inside a running container (`POST /containers/{id}/exec`), detached from any
    /// output, and returns the exec's id.
    public func createExec(
        _ id: String,
        command: [String],
        environment: [String],
        workingDirectory: String?
    ) async throws -> String {
        let body = try Self.encoder().encode(
            DockerExecSpec(cmd: command, env: environment, workingDir: workingDirectory)
        )
        return try await self.decode(
            DockerCreatedExec.self,
            .post,
            "/containers/\(id)/exec",
            body: body,
            expecting: [201],
            action: "create a command in container '\(id)'"
        ).id
    }

    /// Starts a created exec detached (`POST /exec/{id}/start`); its exit is read with ``inspectExec(_:)``.
    public func startExec(_ execID: String) async throws {
        try await self.call(
            .post,
            "/exec/\(execID)/start",
            body: Data(#"{"Detach":true,"Tty":false}"#.utf8),
            expecting: [200],
            action: "start command '\(execID)'"
        )
    }

    /// Whether an exec still runs, its exit code and its host process id (`GET /exec/{id}/json`).
    public func inspectExec(_ execID: String) async throws -> DockerExecDetails {
        try await self.decode(
            DockerExecDetails.self,
            .get,
            "/exec/\(execID)/json",
            expecting: [200],
            action: "inspect command '\(execID)'"
        )
    }

    /// Sends `signal` to a container's main process (`POST /containers/{id}/kill`).
    ///
    /// - Returns: `false` when the container was not running.
    @discardableResult
    public func killContainer(_ id: String, signal: String = "SIGKILL") async throws -> Bool {
        let status = try await self.call(
            .post,
            "/containers/\(id)/kill",
            query: [("signal", signal)],
            expecting: [204, 409],
            action: "kill container '\(id)'"
        )
        return status == 204
    }

    /// Removes a container (`DELETE /containers/{id}`) with its anonymous volumes.
    ///
    /// - Parameter force: kill it first if it runs.
    public func removeContainer(_ id: String, force: Bool = false) async throws {
        try await self.call(
            .delete,
            "/containers/\(id)",
            query: [("force", force ? "1" : "0"), ("v", "1")],
            expecting: [204],
            action: "remove container '\(id)'"
        )
    }

    /// Containers whose labels match every filter (`GET /containers/json?all=1`), stopped ones included.
    ///
    /// - Parameter labels: filters, each `key` (the label is set) or `key=value`.
    public func listContainers(labels: [String]) async throws -> [DockerContainerSummary] {
        let filters = try String(decoding: Self.encoder().encode(["label": labels]), as: UTF8.self)
        return try await self.decode(
            [DockerContainerSummary].self,
            .get,
            "/containers/json",
            query: [("all", "1"), ("filters", filters)],
            expecting: [200],
            action: "list containers"
        )
    }

    /// Streams a container's output (`GET /containers/{id}/logs`), split into stdout and stderr, to `output`.
    ///
    /// With `follow` it returns once the container has stopped and its output is drained; cancel the calling
    /// task to stop earlier.
    /// - Parameters:
    ///   - since: only output from this UNIX time on (seconds, with a fraction); `nil` for everything.
    ///   - tty: whether the container has a TTY, whose output is not multiplexed (it all goes to stdout).
    ///   - output: called with each piece of output as it arrives.
    public func streamLogs(
        _ id: String,
        follow: Bool = true,
        since: Double? = nil,
        tty: Bool = false,
        output: (DockerLogStream, ByteBuffer) throws -> Void
    ) async throws {
        var query = [("follow", follow ? "1" : "0"), ("stdout", "1"), ("stderr", "1")]
        if let since { query.append(("since", String(format: "%.9f", since))) }
        let path = "/containers/\(id)/logs"
        let action = "stream the logs of container '\(id)'"
        let response = try await self.send(.get, path, query: query, deadline: .distantFuture, action: action)
        try await self.expect(response, [200], method: .get, path: path, action: action)
        var demultiplexer = DockerLogDemultiplexer()
        do {
            for try await chunk in response.body {
                if tty {
                    try output(.stdout, chunk)
                } else {
                    for piece in try demultiplexer.consume(chunk) {
                        try output(piece.stream, piece.payload)
                    }
                }
            }
        } catch let error as AgentError {
            throw error
        } catch {
            throw self.transportError(error, method: .get, path: path, action: action)
        }
    }

    /// Streams a container's output like ``streamLogs(_:follow:since:tty:output:)``, but strictly after the log
    /// message stamped `after` (the logs call's `since` is inclusive, so messages stamped at or before it are
    /// skipped here), for containers without a TTY.
    ///
    /// - Parameters:
    ///   - after: resume after the message stamped this; `nil` for all output.
    ///   - output: called with each piece of output as it arrives, without Docker's timestamps.
    ///   - copied: called after the output of each chunk of the stream, with the timestamp of the last message
    ///     whose output was handed to `output` whole, when that changed.
    public func streamLogs(
        _ id: String,
        follow: Bool = true,
        after: DockerLogTimestamp?,
        output: (DockerLogStream, ByteBuffer) throws -> Void,
        copied: (DockerLogTimestamp) throws -> Void
    ) async throws {
        var query = [("follow", follow ? "1" : "0"), ("stdout", "1"), ("stderr", "1"), ("timestamps", "1")]
        if let after { query.append(("since", after.sinceArgument)) }
        let path = "/containers/\(id)/logs"
        let action = "stream the logs of container '\(id)'"
        let response = try await self.send(.get, path, query: query, deadline: .distantFuture, action: action)
        try await self.expect(response, [200], method: .get, path: path, action: action)
        var reader = DockerTimestampedLogReader(resumingAfter: after)
        var reported = after
        do {
            for try await chunk in response.body {
                for piece in try reader.consume(chunk) {
                    try output(piece.stream, piece.payload)
                }
                if let last = reader.lastCopied, last != reported {
                    reported = last
                    try copied(last)
                }
            }
        } catch let error as AgentError {
            throw error
        } catch {
            throw self.transportError(error, method: .get, path: path, action: action)
        }
    }

    // MARK: - Requests

    /// The encoder for request bodies (Docker's field names come from each type's coding keys).
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }

    /// The URL of an API call: `http+unix://<percent-encoded socket>/v<version><path>?<query>`.
    static func url(socketPath: String, version: String?, path: String, query: [(String, String)]) -> String {
        var uri = (version.map { "/v\($0)" } ?? "") + path
        if !query.isEmpty {
            uri += "?" + query.map { "\(Self.queryEncoded($0.0))=\(Self.queryEncoded($0.1))" }.joined(separator: "&")
        }
        return "http+unix://\(Self.queryEncoded(socketPath))\(uri)"
    }

    /// Sends a call and returns Docker's answer, whatever its status; the body is not read yet.
    func send(
        _ method: Method,
        _ path: String,
        query: [(String, String)] = [],
        body: Data? = nil,
        versioned: Bool = true,
        deadline: NIODeadline,
        action: String
    ) async throws -> HTTPClientResponse {
        let version = versioned ? try await self.apiVersion() : nil
        var request = HTTPClientRequest(
            url: Self.url(socketPath: self.configuration.socketPath, version: version, path: path, query: query)
        )
        // Over a unix socket AsyncHTTPClient sends an empty Host header, which Go's HTTP server refuses; the docker
        // CLI sends a placeholder too.
        request.headers.replaceOrAdd(name: "Host", value: "docker")
        switch method {
        case .get: request.method = .GET
        case .post: request.method = .POST
        case .delete: request.method = .DELETE
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            return try await self.http.execute(request, deadline: deadline, logger: self.logger)
        } catch {
            throw self.transportError(error, method: method, path: path, action: action)
        }
    }

    /// Sends a call, checks its status, drains the body and returns the status code.
    @discardableResult
    private func call(
        _ method: Method,
        _ path: String,
        query: [(String, String)] = [],
        body: Data? = nil,
        expecting: Set<UInt>,
        deadline: NIODeadline? = nil,
        action: String
    ) async throws -> UInt {
        let response = try await self.send(
            method,
            path,
            query: query,
            body: body,
            deadline: deadline ?? self.deadline(self.configuration.requestTimeout),
            action: action
        )
        try await self.expect(response, expecting, method: method, path: path, action: action)
        do {
            _ = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw self.transportError(error, method: method, path: path, action: action)
        }
        return response.status.code
    }

    private func decode<T: Decodable>(
        _ type: T.Type,
        _ method: Method,
        _ path: String,
        query: [(String, String)] = [],
        body: Data? = nil,
        expecting: Set<UInt>,
        deadline: NIODeadline? = nil,
        action: String
    ) async throws -> T {
        let response = try await self.send(
            method,
            path,
            query: query,
            body: body,
            deadline: deadline ?? self.deadline(self.configuration.requestTimeout),
            action: action
        )
        try await self.expect(response, expecting, method: method, path: path, action: action)
        return try await self.decodeBody(type, response, path: path)
    }

    private func decodeBody<T: Decodable>(
        _ type: T.Type,
        _ response: HTTPClientResponse,
        path: String
    ) async throws -> T {
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw self.transportError(error, method: .get, path: path, action: "answer")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
        } catch {
            throw AgentError(
                .protocolViolation,
                "Docker answered \(path) with JSON Regatta cannot read; check that the engine speaks API "
                    + "\(Self.oldestAPIVersion) or later.",
                cause: error
            )
        }
    }

    /// Throws the `AgentError` for a response whose status is not one of `expected`, with Docker's message.
    private func expect(
        _ response: HTTPClientResponse,
        _ expected: Set<UInt>,
        method: Method,
        path: String,
        action: String
    ) async throws {
        let status = response.status.code
        guard !expected.contains(status) else { return }
        let message = await Self.message(from: response)
        let cause = DockerEngineError(method: method.rawValue, path: path, statusCode: Int(status), message: message)
        let aboutOneContainer =
            path.hasPrefix("/containers/") && path != "/containers/create" && path != "/containers/json"
        let code: AgentError.Code = status == 404 && aboutOneContainer ? .containerNotFound : .launchFailed
        throw AgentError(code, "Docker could not \(action): \(message) (HTTP \(status)).", cause: cause)
    }

    private func transportError(_ error: any Error, method: Method, path: String, action: String) -> any Error {
        if error is AgentError { return error }
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        if let client = error as? HTTPClientError, client == .alreadyShutdown {
            return AgentError(
                .runtimeStopped,
                "The Docker client was shut down before it could \(action).",
                cause: client
            )
        }
        let socket = self.configuration.socketPath
        return AgentError(
            .launchFailed,
            "The Docker Engine on '\(socket)' did not \(action); check that dockerd runs and that the agent may "
                + "use the socket.",
            cause: DockerEngineError(method: method.rawValue, path: path, statusCode: nil, message: "\(error)")
        )
    }

    /// The `message` of Docker's JSON error body, else the body text, shortened.
    private static func message(from response: HTTPClientResponse) async -> String {
        guard let body = try? await response.body.collect(upTo: 1 << 16), body.readableBytes > 0 else {
            return "no message"
        }
        let data = Data(body.readableBytesView)
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let message = object["message"] as? String
        {
            return message
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    private func deadline(_ duration: Duration) -> NIODeadline {
        .now() + Self.timeAmount(duration)
    }

    // MARK: - Helpers

    /// `duration` as NIO's `TimeAmount`, saturating at `Int64` nanoseconds: a kill policy's grace period of
    /// centuries (a value from the wire) becomes "never", not a trap.
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(Saturating.nanoseconds(duration))
    }

    /// The longest stop timeout sent to Docker, in seconds (about 68 years): Docker multiplies `t` into a Go
    /// `time.Duration` of nanoseconds, which a larger value would overflow into a negative (immediate) timeout.
    static let maximumStopSeconds = Int64(Int32.max)

    /// `duration` in whole seconds, rounded up, never negative, at most ``maximumStopSeconds``.
    static func wholeSeconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        guard seconds < Self.maximumStopSeconds else { return Self.maximumStopSeconds }
        return attoseconds > 0 ? seconds + 1 : seconds
    }

    /// Compares dotted version numbers (`1.41` < `1.43` < `1.100`).
    static func compare(_ lhs: String, _ rhs: String) -> Int {
        let left = lhs.split(separator: ".").map { Int($0) ?? 0 }
        let right = rhs.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? left[index] : 0
            let b = index < right.count ? right[index] : 0
            if a != b { return a < b ? -1 : 1 }
        }
        return 0
    }

    private static let unreserved = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
    )

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func queryEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? text
    }

    /// Percent-encodes an image reference for a path, keeping the `/` and `:` Docker's router expects.
    static func pathEncoded(_ reference: String) -> String {
        reference.addingPercentEncoding(withAllowedCharacters: Self.unreserved.union(CharacterSet(charactersIn: "/:@")))
            ?? reference
    }

    private static func trimmed(_ line: Data) -> Data? {
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : Data(text.utf8)
    }
}
