// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Time-based decisions: the state says when it next needs to act (``nextDeadline()``), and acts on whatever is due
/// when the shell wakes it then (``timerFired(now:)``).
///
/// Deadlines: offers past `offerTimeout` (rescinded), disconnected frameworks past their failover timeout (removed),
/// recovered agents past `agentReregisterTimeout` (marked unreachable), and the agent ping round every
/// `agentPingTimeout` (agents that missed `maxAgentPingTimeouts` pings are marked unreachable). Refusal filters need
/// no wake: they only matter to allocation rounds, which expire them first.
extension MasterState {
    /// The earliest time at which ``timerFired(now:)`` has something to do; there is always the next ping round.
    ///
    /// The shell sleeps until then; events that bring a nearer deadline return ``MasterAction/wakeAt(_:)``.
    public func nextDeadline() -> Duration {
        var earliest = self.nextPingAt
        if let timeout = self.configuration.offerTimeout {
            for record in self.offers.values { earliest = min(earliest, record.createdAt + timeout) }
        }
        for framework in self.frameworks.values {
            guard let disconnectedAt = framework.disconnectedAt else { continue }
            earliest = min(earliest, disconnectedAt + Saturating.duration(seconds: framework.info.failoverTimeout ?? 0))
        }
        if let deadline = self.recoveryDeadline, !self.recoveryLimitReported {
            earliest = min(earliest, deadline)
        }
        return earliest
    }

    /// Does what is due at `now`: rescinds expired offers, removes frameworks past their failover timeout, marks
    /// recovered agents that did not re-register in time unreachable (``MasterAction/recordAgent(_:_:)`` for each),
    /// or reports that too many did not (``MasterAction/recoveryRemovalLimitExceeded(missing:admitted:)``), and runs
    /// the ping round when its time has come. Nothing that is not due changes, so an early call is harmless.
    public mutating func timerFired(now: Duration) -> [MasterAction] {
        var actions = self.tick(now: now)
        if !self.recoveryLimitReported {
            switch self.expireRecoveredAgents(now: now) {
            case .pending:
                break
            case .markedUnreachable(let ids):
                for id in ids {
                    if let info = self.agents[id]?.info { actions.append(.recordAgent(info, .unreachable)) }
                }
            case .limitExceeded(let missing, let admitted):
                self.recoveryLimitReported = true
                actions.append(.recoveryRemovalLimitExceeded(missing: missing, admitted: admitted))
            }
        }
        if now >= self.nextPingAt {
            actions += self.pingAgents(now: now)
            // The next round on the schedule after `now` (rounds missed while not leading are not made up).
            let interval = max(self.configuration.agentPingTimeout, .milliseconds(1))
            let missed = Int((now - self.nextPingAt) / interval)
            self.nextPingAt += interval * (missed + 1)
        }
        return actions
    }
}
