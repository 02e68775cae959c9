// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Synchronization

/// Whether this master leads, and which master does when it does not; shared by the election, the master actor and
/// the HTTP routes (read without an actor hop on every request).
///
/// A master without `--zk` leads from the start. With `--zk` it starts following, becomes *elected* when its
/// election node has the lowest sequence, *leads* once it has loaded the registry, and is *suspended* (serves
/// nothing as leader) while its ZooKeeper connection is down, until it reconnects or exits.
public final class MasterLeadership: Sendable {
    /// What the master may do now.
    public enum Role: Sendable, Equatable {
        /// Elected, recovered and connected: acts as the leader.
        case leading
        /// Elected, but loading the registry or disconnected from ZooKeeper: answers 503 until it can act.
        case electedNotServing(reason: String)
        /// Not elected; `leader` is the current leader if known.
        case following(leader: MasterInfo?)
    }

    private struct Status {
        var elected: Bool
        var recovered: Bool
        var connected = true
        var leader: MasterInfo?
        var electedTime: Double?
        /// Callers of ``waitWhileRecovering(atMost:)`` waiting now, resumed once by ``recovered()`` or their limit.
        var recoveryWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let status: Mutex<Status>

    /// A leadership that leads from the start (a single master without `--zk`).
    public static func standalone(now: Double) -> MasterLeadership {
        MasterLeadership(Status(elected: true, recovered: true, electedTime: now))
    }

    /// A leadership that waits for an election.
    public static func contending() -> MasterLeadership {
        MasterLeadership(Status(elected: false, recovered: false))
    }

    private init(_ status: Status) {
        self.status = Mutex(status)
    }

    /// The current role.
    public var role: Role {
        self.status.withLock { status in
            if !status.elected { return .following(leader: status.leader) }
            if !status.recovered {
                return .electedNotServing(
                    reason: "This master was just elected and is recovering the registry; retry shortly."
                )
            }
            if !status.connected {
                return .electedNotServing(
                    reason:
                        "This master lost its ZooKeeper connection and cannot act as leader until it reconnects; retry shortly."
                )
            }
            return .leading
        }
    }

    /// Whether the master may act as leader now.
    public var isLeading: Bool {
        self.status.withLock { $0.elected && $0.recovered && $0.connected }
    }

    /// Whether this master won the election (Mesos's `master/elected`), serving or not.
    public var isElected: Bool { self.status.withLock { $0.elected } }

    /// Whether this master was elected and is still loading the registry (it serves once that is done).
    public var isRecovering: Bool { self.status.withLock { $0.elected && !$0.recovered } }

    /// Waits while this master is recovering after its election, at most `limit`.
    ///
    /// Agents that detect a new leader dial it at once; answering them `503` while the registry loads sends each into
    /// its retry backoff (up to seconds), so the last agents would come back long after the master is ready. Held for
    /// the short recovery instead, they are answered as soon as it serves.
    ///
    /// Waiters are resumed by ``recovered()`` (no polling: 10,000 agents polling every 100 ms were 100,000 timer
    /// wake-ups a second competing with the registry load they wait for), by their limit, or by cancellation.
    public func waitWhileRecovering(atMost limit: Duration) async {
        guard self.isRecovering else { return }
        // Whichever ends first (recovery or the limit) cancels the other.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: limit) }
            group.addTask { await self.waitForRecovery() }
            await group.next()
            group.cancelAll()
        }
    }

    /// Waits until ``recovered()`` is called, or the calling task is cancelled.
    private func waitForRecovery() async {
        let id = self.status.withLock { status in
            status.nextWaiter += 1
            return status.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waiting = self.status.withLock { status in
                    // A cancellation that came first found no waiter to resume: do not wait at all.
                    guard status.elected && !status.recovered, !Task.isCancelled else { return false }
                    status.recoveryWaiters[id] = continuation
                    return true
                }
                guard waiting else { return continuation.resume() }
            }
        } onCancel: {
            self.resumeWaiter(id)
        }
    }

    private func resumeWaiter(_ id: UInt64) {
        self.status.withLock { $0.recoveryWaiters.removeValue(forKey: id) }?.resume()
    }

    /// When this master was elected, seconds since the epoch.
    public var electedTime: Double? { self.status.withLock { $0.electedTime } }

    /// The election chose this master; it serves once ``recovered()`` is called.
    func elected(now: Double) {
        self.status.withLock {
            $0.elected = true
            $0.electedTime = now
            $0.leader = nil
        }
    }

    /// The elected master has loaded the registry and may act.
    func recovered() {
        let waiters = self.status.withLock { status in
            status.recovered = true
            defer { status.recoveryWaiters = [:] }
            return status.recoveryWaiters.values
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Another master leads (or none, with `nil`); ignored once this master is elected.
    func follow(_ leader: MasterInfo?) {
        self.status.withLock { status in
            guard !status.elected else { return }
            status.leader = leader
        }
    }

    /// The ZooKeeper connection dropped (`false`) or came back (`true`).
    func setConnected(_ connected: Bool) {
        self.status.withLock { $0.connected = connected }
    }
}
