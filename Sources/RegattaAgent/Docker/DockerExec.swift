// SPDX-License-Identifier: Apache-2.0

/// The body of `POST /containers/{id}/exec`: a command run inside a container, its output discarded.
struct DockerExecSpec: Encodable, Sendable, Hashable {
    var cmd: [String]
    var env: [String]
    var workingDir: String?
    var attachStdin = false
    var attachStdout = false
    var attachStderr = false
    var tty = false

    enum CodingKeys: String, CodingKey {
        case cmd = "Cmd"
        case env = "Env"
        case workingDir = "WorkingDir"
        case attachStdin = "AttachStdin"
        case attachStdout = "AttachStdout"
        case attachStderr = "AttachStderr"
        case tty = "Tty"
    }
}

/// The answer to `POST /containers/{id}/exec`.
struct DockerCreatedExec: Decodable, Sendable, Hashable {
    var id: String

    enum CodingKeys: String, CodingKey {
        case id = "Id"
    }
}

/// The answer to `GET /exec/{id}/json`.
public struct DockerExecDetails: Decodable, Sendable, Hashable {
    /// Whether the command still runs.
    public var running: Bool
    /// Its exit code once it has ended.
    public var exitCode: Int?
    /// Its process id on the host (`0` once it has ended).
    public var pid: Int?

    enum CodingKeys: String, CodingKey {
        case running = "Running"
        case exitCode = "ExitCode"
        case pid = "Pid"
    }
}
