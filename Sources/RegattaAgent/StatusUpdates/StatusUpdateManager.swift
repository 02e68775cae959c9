// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Mesos's task status update manager as a pure state machine: one ordered stream of status updates per task,
/// each update resent until the framework acknowledges it.
///
/// - Only the head of a stream is ever in flight. The next update of a task is sent once the head is
///   acknowledged (the master relays the framework's `ACKNOWLEDGE` with the update's uuid).
/// - An update the master did not take (transport error, `503`, …) is retried after
///   ``Configuration/failureBackoff``. An update the master took (`202`) but nobody acknowledged is resent after
///   ``Configuration/acknowledgementTimeout`` (Mesos: 10 s doubling to 10 min).
/// - Acknowledgements of anything but the head are ignored (duplicates, late acks).
/// - While ``pause()``d (the agent is not registered) nothing is sent; ``resume(now:)`` sends every head.
/// - The streams of a framework that was shut down need no acknowledgement: an update is done once the master took
///   it, because nobody will ever acknowledge it.
///
/// Time is passed in (`now`, a monotonic uptime), so the machine is tested with a manual clock. Events return the
/// ``Action``s the caller must perform; checkpointing is the caller's job, before it sends.
struct StatusUpdateManager: Sendable {
    /// Retry timing.
    struct Configuration: Hashable, Sendable {
        /// Delay before retrying an update the master did not take. Defaults to `0.5` s doubling to `10` s.
        var failureBackoff: Backoff
        /// Delay before resending an update the master took but the framework did not acknowledge. Defaults to
        /// `10` s doubling to `10` min, as Mesos's `STATUS_UPDATE_RETRY_INTERVAL_MIN/MAX`.
        var acknowledgementTimeout: Backoff

        init(
            failureBackoff: Backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(10)),
            acknowledgementTimeout: Backoff = Backoff(initial: .seconds(10), maximum: .seconds(600))
        ) {
            self.failureBackoff = failureBackoff
            self.acknowledgementTimeout = acknowledgementTimeout
        }
    }

    /// One status update of a task's stream.
    ///
    /// JSON (with ``MesosJSON``): `{"framework_id": {...}, "status": {...}}`, as Mesos's `StatusUpdate`.
    struct Update: Codable, Hashable, Sendable {
        var frameworkId: FrameworkID
        var status: TaskStatus

        /// The update's uuid (always set by the agent).
        var uuid: String { self.status.uuid ?? "" }
    }

    /// What the caller must do.
    enum Action: Hashable, Sendable {
        /// Send this update, the head of the task's stream, to the master.
        case send(TaskKey, Update)
    }

    /// How the master answered one send.
    enum SendOutcome: Hashable, Sendable {
        /// `2xx`: the master has the update (delivery completes at the acknowledgement).
        case taken
        /// Anything else; retried after the failure backoff.
        case failed
    }

    /// What an acknowledgement did.
    enum Acknowledgement: Hashable, Sendable {
        /// It acknowledged the head; `next` is the following update to send, if any.
        case acknowledged(Update, next: Action?)
        /// It named no pending head: a duplicate or late acknowledgement, ignored.
        case ignored
    }

    /// What a completed send did, for logging.
    struct SendResult: Hashable, Sendable {
        /// The update to send next, when the head is done without an acknowledgement (framework shut down).
        var next: Action?
        /// When the head is retried, if it still waits.
        var retryAt: Duration?
        /// How many times in a row the master did not take the head.
        var failures: Int
        /// Whether the head was completed by this send (its framework needs no acknowledgement).
        var completed: Update?
    }

    private struct Stream: Sendable {
        var pending: [Update] = []
        var inFlight = false
        var retryAt: Duration?
        /// Consecutive sends of the head the master did not take.
        var failures = 0
        /// Resends of the head after acknowledgement timeouts.
        var resends = 0
        /// Whether the master took the head at least once.
        var headTaken = false
        /// The state of the newest update the master took: what the master believes.
        var masterState: TaskState?
    }

    let configuration: Configuration
    private var streams: [TaskKey: Stream] = [:]
    private var shutDownFrameworks: Set<FrameworkID> = []
    private(set) var isPaused = true

    /// Creates a paused manager; ``resume(now:)`` once the agent is registered.
    init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: - Events

    /// Appends an update to its task's stream; sends it at once when it is the head and the manager runs.
    mutating func enqueue(_ update: Update, for key: TaskKey, now: Duration) -> [Action] {
        var stream = self.streams[key] ?? Stream()
        stream.pending.append(update)
        self.streams[key] = stream
        return self.startIfIdle(key, now: now).map { [$0] } ?? []
    }

    /// Restores a stream from the checkpoint after an agent restart (before ``resume(now:)``).
    ///
    /// - Parameters:
    ///   - pending: the unacknowledged updates, oldest first.
    ///   - headTaken: whether the master took the head before the restart.
    ///   - masterState: the state of the newest update the master took.
    mutating func restore(_ key: TaskKey, pending: [Update], headTaken: Bool, masterState: TaskState?) {
        var stream = Stream()
        stream.pending = pending
        stream.headTaken = headTaken && !pending.isEmpty
        stream.masterState = masterState
        self.streams[key] = stream
    }

    /// The master answered a send of `uuid`.
    mutating func sent(_ key: TaskKey, uuid: String, outcome: SendOutcome, now: Duration) -> SendResult {
        guard var stream = self.streams[key], let head = stream.pending.first, head.uuid == uuid else {
            // The head was acknowledged while this send was in flight; the send's answer changes nothing.
            return SendResult(next: nil, retryAt: nil, failures: 0, completed: nil)
        }
        stream.inFlight = false
        switch outcome {
        case .taken:
            stream.headTaken = true
            stream.failures = 0
            stream.masterState = head.status.state
            if self.shutDownFrameworks.contains(key.frameworkID) {
                self.streams[key] = stream
                let next = self.popHead(key, now: now)
                return SendResult(next: next, retryAt: nil, failures: 0, completed: head)
            }
            stream.retryAt = now + self.configuration.acknowledgementTimeout.delay(attempt: stream.resends)
            stream.resends += 1
        case .failed:
            stream.retryAt = now + self.configuration.failureBackoff.delay(attempt: stream.failures)
            stream.failures += 1
        }
        self.streams[key] = stream
        return SendResult(next: nil, retryAt: stream.retryAt, failures: stream.failures, completed: nil)
    }

    /// The framework acknowledged the update `uuid` of a task.
    mutating func acknowledge(_ key: TaskKey, uuid: String, now: Duration) -> Acknowledgement {
        guard var stream = self.streams[key], let head = stream.pending.first, head.uuid == uuid else {
            return .ignored
        }
        // An acknowledged update went through the master, whatever its answer to the send was.
        stream.masterState = head.status.state
        self.streams[key] = stream
        return .acknowledged(head, next: self.popHead(key, now: now))
    }

    /// Heads whose retry time has come.
    mutating func due(now: Duration) -> [Action] {
        guard !self.isPaused else { return [] }
        var actions: [Action] = []
        for key in self.streams.keys.sorted(by: { $0.description < $1.description }) {
            guard var stream = self.streams[key], !stream.inFlight, let retryAt = stream.retryAt, retryAt <= now,
                let head = stream.pending.first
            else { continue }
            stream.inFlight = true
            stream.retryAt = nil
            self.streams[key] = stream
            actions.append(.send(key, head))
        }
        return actions
    }

    /// Stops sending (the agent lost its master). Sends already in flight still complete.
    mutating func pause() {
        self.isPaused = true
    }

    /// Starts sending again (the agent is registered): every head not in flight is sent now.
    mutating func resume(now: Duration) -> [Action] {
        self.isPaused = false
        var actions: [Action] = []
        for key in self.streams.keys.sorted(by: { $0.description < $1.description }) {
            guard var stream = self.streams[key], !stream.inFlight, let head = stream.pending.first else { continue }
            stream.inFlight = true
            stream.retryAt = nil
            self.streams[key] = stream
            actions.append(.send(key, head))
        }
        return actions
    }

    /// The framework was shut down: nobody will acknowledge its updates, so each is done once the master took it.
    ///
    /// - Returns: the heads completed now (already taken) and what to send next.
    mutating func frameworkShutDown(
        _ frameworkID: FrameworkID,
        now: Duration
    ) -> (completed: [Update], actions: [Action]) {
        self.shutDownFrameworks.insert(frameworkID)
        var completed: [Update] = []
        var actions: [Action] = []
        for key in self.streams.keys.sorted(by: { $0.description < $1.description })
        where key.frameworkID == frameworkID {
            while let stream = self.streams[key], stream.headTaken, !stream.inFlight, let head = stream.pending.first {
                completed.append(head)
                if let next = self.popHead(key, now: now) {
                    actions.append(next)
                    break
                }
            }
        }
        return (completed, actions)
    }

    /// Forgets a task's stream (its run was garbage-collected).
    mutating func remove(_ key: TaskKey) {
        self.streams[key] = nil
    }

    // MARK: - Queries

    /// The unacknowledged updates of a task, oldest first.
    func pending(for key: TaskKey) -> [Update] {
        self.streams[key]?.pending ?? []
    }

    /// The state of the newest update of the task the master took, i.e. what the master believes; `nil` if it
    /// took none.
    func masterState(for key: TaskKey) -> TaskState? {
        self.streams[key]?.masterState
    }

    /// Whether the master took the head of the task's stream at least once.
    func isHeadTaken(_ key: TaskKey) -> Bool {
        self.streams[key]?.headTaken ?? false
    }

    /// How many updates wait for acknowledgement, over all tasks.
    var pendingCount: Int {
        self.streams.values.reduce(0) { $0 + $1.pending.count }
    }

    /// How many sends are in flight.
    var inFlightCount: Int {
        self.streams.values.filter(\.inFlight).count
    }

    /// Whether the master has taken every update that was produced, acknowledged or not (what a stopping agent
    /// waits for: the rest is checkpointed and resent after a restart).
    var isEverythingTaken: Bool {
        self.streams.values.allSatisfy { $0.pending.isEmpty || ($0.pending.count == 1 && $0.headTaken) }
    }

    /// The earliest retry time, if any head waits for one.
    var nextRetry: Duration? {
        self.streams.values.compactMap { $0.inFlight ? nil : $0.retryAt }.min()
    }

    // MARK: - Private

    /// Removes the head and starts the next update, if any.
    private mutating func popHead(_ key: TaskKey, now: Duration) -> Action? {
        guard var stream = self.streams[key], !stream.pending.isEmpty else { return nil }
        stream.pending.removeFirst()
        stream.inFlight = false
        stream.retryAt = nil
        stream.failures = 0
        stream.resends = 0
        stream.headTaken = false
        self.streams[key] = stream
        return self.startIfIdle(key, now: now)
    }

    /// Marks the head in flight and returns its send, if the stream is idle and the manager runs.
    private mutating func startIfIdle(_ key: TaskKey, now: Duration) -> Action? {
        guard var stream = self.streams[key], let head = stream.pending.first, !stream.inFlight,
            stream.retryAt == nil || stream.retryAt! <= now
        else { return nil }
        guard !self.isPaused else {
            // Sent on resume.
            return nil
        }
        stream.inFlight = true
        stream.retryAt = nil
        self.streams[key] = stream
        return .send(key, head)
    }
}
