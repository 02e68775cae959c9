// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

extension SimulatedAgent.State {
    /// Sets a task's state and queues its status update.
    ///
    /// - Returns: the job to start the task's sender, when none is running.
    mutating func emit(
        _ key: SimulatedTaskKey,
        _ taskState: TaskState,
        message: String? = nil,
        reason: String? = nil,
        source: TaskStatus.Source,
        counters: SimulatorCounters
    ) -> SimulatedAgent.Job? {
        if let task = self.tasks[key] {
            if !task.state.isTerminal && taskState.isTerminal {
                counters.update { $0.liveTasks -= 1 }
            }
            self.tasks[key]?.state = taskState
        }
        let status = TaskStatus(
            taskId: key.taskID,
            state: taskState,
            message: message,
            source: source,
            reason: reason,
            agentId: self.agentID,
            timestamp: Date().timeIntervalSince1970,
            uuid: self.makeUUID()
        )
        self.queues[key, default: []].append(status)
        return self.sending.insert(key).inserted ? .deliver(key) : nil
    }

    /// Base64 of 16 random bytes, as the real agent's update uuids.
    private mutating func makeUUID() -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for _ in 0..<2 {
            let word = self.random.next()
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return Data(bytes).base64EncodedString()
    }
}

extension SimulatedAgent {
    /// Sends a task's queued updates in order, each until the master takes it (`202`), with backoff.
    ///
    /// The update at the head of the queue keeps its `uuid` across retries; a `404` makes the agent subscribe
    /// again first. A terminal task is forgotten once its terminal update was taken.
    func deliver(_ key: SimulatedTaskKey) async {
        var attempt = 0
        while !Task.isCancelled {
            let next: (TaskStatus, AgentID?, String?, String?)? = self.state.withLock { state in
                guard let head = state.queues[key]?.first else {
                    state.queues[key] = nil
                    state.sending.remove(key)
                    return nil
                }
                return (head, state.agentID, state.masterEndpoint, state.registrationToken)
            }
            guard let (queued, agentID, endpoint, token) = next else { return }
            var outcome: AgentCallClient.Outcome?
            // Updates wait while the agent is not registered (no master holds its stream), then go to the new one.
            if let agentID, let endpoint {
                var status = queued
                status.agentId = agentID
                do {
                    outcome = try await self.client.send(
                        .update(agent: agentID, framework: key.frameworkID, status: status, registrationToken: token),
                        to: endpoint
                    )
                } catch {
                    outcome = nil
                }
            }
            if outcome == .accepted {
                attempt = 0
                self.state.withLock { state in
                    state.queues[key]?.removeFirst()
                    if queued.state.isTerminal, state.queues[key]?.isEmpty ?? true,
                        state.tasks[key]?.state.isTerminal ?? false
                    {
                        state.tasks[key] = nil
                    }
                }
                self.counters.update {
                    $0.updatesAccepted += 1
                    $0.updatesAcceptedByState[queued.state.rawValue, default: 0] += 1
                }
                continue
            }
            if outcome == .unknownAgent { self.requestResubscribe() }
            let delay = self.configuration.statusUpdateBackoff.delay(attempt: attempt)
            attempt += 1
            self.counters.update { $0.updateRetries += 1 }
            self.logger.debug(
                "Retrying a status update",
                metadata: [
                    LogKey.taskID: "\(key.taskID)", LogKey.state: "\(queued.state.rawValue)",
                    LogKey.retryDelay: "\(delay)", LogKey.reason: "\(outcome.map { "\($0)" } ?? "no answer")",
                ]
            )
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
        }
    }
}
