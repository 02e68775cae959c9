// SPDX-License-Identifier: Apache-2.0

/// An error raised by the agent: bad configuration, a task that could not start, or a master that refused a call.
///
/// `description` names the problem and the remedy and is safe to show to operators; `debugDescription` adds the
/// underlying cause and the source location.
public struct AgentError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidConfiguration, workDirectory, resourceDetection, launchFailed, containerNotFound
            case runtimeStopped, masterRejected, protocolViolation, invalidMetadata, alreadyStarted, incompatibleRestart
        }
        private let base: Base

        /// A configuration value is malformed or unsupported.
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// The work directory cannot be created or written.
        public static let workDirectory = Code(base: .workDirectory)
        /// The machine's resources cannot be read.
        public static let resourceDetection = Code(base: .resourceDetection)
        /// A container could not be started.
        public static let launchFailed = Code(base: .launchFailed)
        /// A container id is not known to the runtime.
        public static let containerNotFound = Code(base: .containerNotFound)
        /// The container runtime stopped while a caller was waiting on it.
        public static let runtimeStopped = Code(base: .runtimeStopped)
        /// The master answered a call with an error status.
        public static let masterRejected = Code(base: .masterRejected)
        /// The master sent something the agent protocol does not allow.
        public static let protocolViolation = Code(base: .protocolViolation)
        /// The agent's saved metadata under `<work_dir>/meta` cannot be read.
        public static let invalidMetadata = Code(base: .invalidMetadata)
        /// ``AgentService/run()`` was called a second time.
        public static let alreadyStarted = Code(base: .alreadyStarted)
        /// The agent's resources, attributes or hostname changed incompatibly since the run saved in
        /// `<work_dir>/meta`.
        public static let incompatibleRestart = Code(base: .incompatibleRestart)

        public var description: String { self.base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What failed and how to fix it.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?
    /// Where the error was raised (`file:line`).
    public var location: String

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        cause: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    public var description: String { self.message }

    public var debugDescription: String {
        var text = "\(self.code): \(self.message) (at \(self.location))"
        if let cause { text += "; cause: \(String(reflecting: cause))" }
        return text
    }
}
