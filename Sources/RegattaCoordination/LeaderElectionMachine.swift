// SPDX-License-Identifier: Apache-2.0

/// The failover rules of a component that runs only while it leads (the master and the scheduler with `--zk`), as a
/// pure state machine: coordination-session states and election events go in, with the time they happened; what the
/// shell must do comes out.
///
/// The rules (Mesos's and Marathon's crash-fast ones):
/// - a leader stops acting as leader while its session is disconnected (``Configuration/suspendWhileDisconnected``)
///   and acts again when it reconnects within the session timeout;
/// - a session that stays disconnected for the session timeout, expires, is rejected or closed ends the process
///   (exit code 101) — it may have lost the election without being told;
/// - a lost candidacy ends the process (103) — except, with
///   ``Configuration/contendAgainAfterLosingCandidacyWhileFollowing``, a follower's, which enters the election again;
/// - an abdication ends the term (the shell cancels the leader-only work) and contends again, without exiting.
///
/// No I/O, no clock reads: `now` is the shell's monotonic time, and the shell calls ``tick(now:)`` at ``deadline``.
public struct LeaderElectionMachine: Sendable {
    /// The rules that differ between components.
    public struct Configuration: Sendable {
        /// How long the session may stay disconnected before this process considers it expired and exits (101).
        public var sessionTimeout: Duration
        /// Whether a leader stops acting as leader while disconnected (Mesos masters do). Defaults to `true`.
        public var suspendWhileDisconnected = true
        /// Whether a follower whose candidacy is lost enters the election again (the scheduler does) instead of
        /// exiting with 103 (the master does). Defaults to `false`.
        public var contendAgainAfterLosingCandidacyWhileFollowing = false

        /// Rules with `sessionTimeout` and the defaults.
        public init(sessionTimeout: Duration) {
            self.sessionTimeout = sessionTimeout
        }
    }

    /// Why the process must stop; ``code`` is its exit code.
    public enum ExitReason: Hashable, Sendable {
        /// The service expired the session (101).
        case sessionExpired
        /// The service rejected the credentials (101).
        case authenticationFailed
        /// The session was closed while the process still needed it (101).
        case sessionClosed
        /// A call in the session failed so that the process cannot go on (entering the election, recovering), as
        /// the detail says (101).
        case sessionFailed(String)
        /// The session stayed disconnected for the session timeout, given here (101).
        case disconnected(for: Duration)
        /// The candidacy is gone, before or after this process was elected (103).
        case candidacyLost(afterElection: Bool)
        /// The store refused a write because a newer leader claimed it (103).
        case fenced

        /// The process exit code: 101 when the session is lost, 103 when leadership is.
        public var code: Int32 {
            switch self {
            case .sessionExpired, .authenticationFailed, .sessionClosed, .sessionFailed, .disconnected: 101
            case .candidacyLost, .fenced: 103
            }
        }
    }

    /// What the shell must do after an event.
    public enum Action: Hashable, Sendable {
        /// Nothing.
        case none
        /// Elected: recover what the leader needs (the registry, the store), then report ``recovered(now:)``.
        case recover
        /// Act as leader: for the first time after recovering, or again after a reconnection.
        case serve
        /// Stop acting as leader until ``serve`` comes (the session is disconnected); keep the term.
        case suspend
        /// End the term (cancel the leader-only work, withdraw) and contend again as a follower; do not exit.
        case contendAgain
        /// Stop acting as leader at once, then stop the process with the reason's exit code.
        case exit(ExitReason)
    }

    /// Where this process stands in the election.
    public enum Phase: Hashable, Sendable {
        /// Contending, not (or no longer) elected.
        case following
        /// Elected and recovering; not acting yet.
        case recovering
        /// Elected and recovered: leads (``isServing`` says whether it may act right now).
        case leading
        /// Shut down or exited: every later event is ignored.
        case stopped
    }

    /// The rules.
    public let configuration: Configuration
    /// Where this process stands in the election.
    public private(set) var phase: Phase = .following
    /// Whether the session is connected.
    public private(set) var isConnected = true
    /// Since when the session has been disconnected, `nil` while it is connected.
    public private(set) var disconnectedSince: Duration?
    /// Why the process must exit, once it must.
    public private(set) var exitReason: ExitReason?

    /// A machine that follows, with a connected session.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Whether the process may act as leader now.
    public var isServing: Bool {
        self.phase == .leading && (self.isConnected || !self.configuration.suspendWhileDisconnected)
    }

    /// Whether the process won the election (recovering or leading).
    public var isElected: Bool { self.phase == .recovering || self.phase == .leading }

    /// When the shell must call ``tick(now:)``: the end of the disconnection allowed; `nil` while connected.
    public var deadline: Duration? {
        guard self.phase != .stopped, let since = self.disconnectedSince else { return nil }
        return since + self.configuration.sessionTimeout
    }

    /// The session changed state.
    public mutating func sessionChanged(to state: CoordinationSessionState, now: Duration) -> Action {
        guard self.phase != .stopped else { return .none }
        let wasServing = self.isServing
        switch state {
        case .connected:
            self.isConnected = true
            self.disconnectedSince = nil
            return !wasServing && self.isServing ? .serve : .none
        case .connecting:
            self.isConnected = false
            if self.disconnectedSince == nil { self.disconnectedSince = now }
            return wasServing && !self.isServing ? .suspend : .none
        case .expired:
            return self.exit(.sessionExpired)
        case .authenticationFailed:
            return self.exit(.authenticationFailed)
        case .closed:
            return self.exit(.sessionClosed)
        }
    }

    /// Time passed: exits once the session has been disconnected for the session timeout.
    public mutating func tick(now: Duration) -> Action {
        guard let deadline = self.deadline, now >= deadline else { return .none }
        return self.exit(.disconnected(for: self.configuration.sessionTimeout))
    }

    /// The candidacy leads now.
    public mutating func elected(now: Duration) -> Action {
        guard self.phase == .following else { return .none }
        self.phase = .recovering
        return .recover
    }

    /// The elected process has recovered and may act once connected.
    public mutating func recovered(now: Duration) -> Action {
        guard self.phase == .recovering else { return .none }
        self.phase = .leading
        return self.isServing ? .serve : .none
    }

    /// The candidacy is gone (deleted, or its session ended).
    public mutating func candidacyLost(now: Duration) -> Action {
        switch self.phase {
        case .stopped:
            return .none
        case .following:
            if self.configuration.contendAgainAfterLosingCandidacyWhileFollowing { return .contendAgain }
            return self.exit(.candidacyLost(afterElection: false))
        case .recovering, .leading:
            return self.exit(.candidacyLost(afterElection: true))
        }
    }

    /// A call in the session failed so that the process cannot go on (entering the election, or recovering after
    /// it); `detail` says what failed.
    public mutating func sessionFailed(_ detail: String, now: Duration) -> Action {
        guard self.phase != .stopped else { return .none }
        return self.exit(.sessionFailed(detail))
    }

    /// The store refused a write of this leader because a newer one claimed it.
    public mutating func fenced(now: Duration) -> Action {
        guard self.phase != .stopped else { return .none }
        return self.exit(.fenced)
    }

    /// The leader gave up leadership on request (`DELETE /v2/leader`): end the term and contend again.
    public mutating func abdicated(now: Duration) -> Action {
        guard self.phase == .recovering || self.phase == .leading else { return .none }
        self.phase = .following
        return .contendAgain
    }

    /// The process is shutting down gracefully: it stops acting as leader, and nothing that follows (the session
    /// closing with it) is a reason to exit.
    public mutating func shutDown() -> Action {
        guard self.phase != .stopped else { return .none }
        let wasServing = self.isServing
        self.phase = .stopped
        return wasServing ? .suspend : .none
    }

    private mutating func exit(_ reason: ExitReason) -> Action {
        self.phase = .stopped
        self.exitReason = reason
        return .exit(reason)
    }
}
