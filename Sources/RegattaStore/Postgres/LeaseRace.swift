// SPDX-License-Identifier: Apache-2.0

/// Decides, exactly once, whether a pooled connection arrived before the connection timeout.
///
/// Whichever side calls first wins; the loser learns it and backs off, so a call that timed out never
/// starts a transaction, and a call that got its connection is never reported as timed out.
actor LeaseRace {
    private enum State { case waiting, leased, timedOut }
    private var state = State.waiting

    /// Called with the connection in hand; `true` means go ahead.
    func lease() -> Bool {
        guard self.state == .waiting else { return false }
        self.state = .leased
        return true
    }

    /// Called when the timeout expires; `true` means the call must fail as timed out.
    func timeOut() -> Bool {
        guard self.state == .waiting else { return false }
        self.state = .timedOut
        return true
    }
}
