// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Frameworks: subscription, disconnection, authorization of calls, scheduler calls, removal.
extension MasterState {
    /// A framework subscribed on a new stream.
    ///
    /// - Parameter principal: the authenticated caller (`nil`: anonymous); see
    ///   ``checkFrameworkSubscription(_:principal:)`` for what it must match.
    /// - Throws: `MasterError.forbidden` if the framework id belongs to a removed framework, or the principal may not
    ///   register it (nothing changes).
    public mutating func subscribe(
        framework info: FrameworkInfo,
        streamID: String,
        heartbeat: Duration,
        masterInfo: MasterInfo?,
        principal: String? = nil,
        now: Duration
    ) throws -> (FrameworkID, [MasterAction]) {
        try WireValidation.check(info)
        let info = try self.checkFrameworkSubscription(info, principal: principal)
        var actions: [MasterAction] = []
        let id: FrameworkID
        if let requested = info.id, !requested.value.isEmpty {
            if self.completedFrameworks.contains(where: { $0.id == requested }) {
                throw MasterError(
                    .forbidden,
                    "Framework '\(requested)' has been removed (torn down or failover timeout expired); subscribe without an id to register anew."
                )
            }
            id = requested
        } else {
            self.nextFrameworkNumber += 1
            let number = String(self.nextFrameworkNumber)
            id = FrameworkID("\(self.masterID)-\(String(repeating: "0", count: max(0, 4 - number.count)))\(number)")
        }
        var effectiveInfo = info
        effectiveInfo.id = id
        if var existing = self.frameworks[id] {
            if let old = existing.streamID, old != streamID {
                actions.append(.closeFrameworkStream(id, streamID: old))
            }
            actions += self.recoverOffers(of: &existing, rescind: false)
            existing.info = effectiveInfo
            existing.principal = existing.principal ?? principal
            existing.streamID = streamID
            existing.disconnectedAt = nil
            self.frameworks[id] = existing
        } else {
            var record = FrameworkRecord(
                id: id,
                info: effectiveInfo,
                streamID: streamID,
                registeredAt: now,
                disconnectedAt: nil,
                unregisteredAt: nil,
                offers: [],
                tasks: [],
                completedTasks: [],
                suppressed: false,
                filters: [:],
                used: Resources(),
                offeredResources: Resources(),
                principal: principal
            )
            // Adopt tasks that agents reported before the framework (re)subscribed, e.g. after master failover.
            for (key, task) in self.tasks where key.frameworkID == id {
                if task.state.isTerminal { continue }
                record.tasks.insert(key.taskID)
                record.used += task.info.resources
            }
            self.frameworks[id] = record
        }
        let subscribed = SchedulerEvent.Subscribed(
            frameworkId: id,
            heartbeatIntervalSeconds: heartbeat.seconds,
            masterInfo: masterInfo
        )
        actions.append(.frameworkEvent(id, .subscribed(subscribed)))
        return (id, actions)
    }

    /// A framework's subscription stream ended. Its offers are recovered and its failover timeout starts (the actions
    /// end with ``MasterAction/wakeAt(_:)`` its expiry).
    public mutating func frameworkDisconnected(_ id: FrameworkID, streamID: String, now: Duration) -> [MasterAction] {
        guard var framework = self.frameworks[id], framework.streamID == streamID else { return [] }
        framework.streamID = nil
        framework.disconnectedAt = now
        var actions = self.recoverOffers(of: &framework, rescind: false)
        self.frameworks[id] = framework
        actions.append(.wakeAt(now + Saturating.duration(seconds: framework.info.failoverTimeout ?? 0)))
        return actions
    }

    /// Checks that a call comes from the framework's current stream, sent by the principal that registered it.
    public func authorize(
        _ frameworkID: FrameworkID?,
        streamID: String?,
        principal: String? = nil
    ) throws -> FrameworkID {
        guard let frameworkID else {
            throw MasterError(.badRequest, "Expecting 'framework_id' to be present in the call.")
        }
        guard let framework = self.frameworks[frameworkID], let current = framework.streamID else {
            throw MasterError(.forbidden, "Framework '\(frameworkID)' is not subscribed; send SUBSCRIBE first.")
        }
        try self.checkFrameworkCaller(frameworkID, principal: principal)
        guard let streamID else {
            throw MasterError(
                .forbidden,
                "All non-subscribe calls must include the 'Mesos-Stream-Id' header from SUBSCRIBE."
            )
        }
        guard streamID == current else {
            throw MasterError(
                .forbidden,
                "The stream ID '\(streamID)' does not match the current subscription of framework '\(frameworkID)'; a newer SUBSCRIBE replaced it."
            )
        }
        return frameworkID
    }

    /// Handles a non-SUBSCRIBE scheduler call from an authorized framework.
    public mutating func handle(_ call: SchedulerCall, from id: FrameworkID, now: Duration) throws -> [MasterAction] {
        try WireValidation.check(call)
        switch call.type {
        case .accept:
            guard let accept = call.accept else { throw MasterError(.badRequest, "Expecting 'accept' to be present.") }
            return self.accept(accept, from: id, now: now)
        case .decline:
            guard let decline = call.decline else {
                throw MasterError(.badRequest, "Expecting 'decline' to be present.")
            }
            return self.decline(decline.offerIds, filters: decline.filters, from: id, now: now)
        case .revive:
            self.frameworks[id]?.filters = [:]
            self.frameworks[id]?.suppressed = false
            return []
        case .suppress:
            self.frameworks[id]?.suppressed = true
            return []
        case .kill:
            guard let kill = call.kill else { throw MasterError(.badRequest, "Expecting 'kill' to be present.") }
            return self.kill(kill, from: id, now: now)
        case .acknowledge:
            guard let ack = call.acknowledge else {
                throw MasterError(.badRequest, "Expecting 'acknowledge' to be present.")
            }
            self.counters["status_update_acknowledgement", default: 0] += 1
            let key = TaskKey(id, ack.taskId)
            guard
                let agentID = self.tasks[key]?.agentID
                    ?? self.frameworks[id]?.completedTasks.last(where: { $0.info.taskId == ack.taskId })?.agentID
            else { return [] }
            if let awaited = self.agents[agentID]?.terminalAwaitingAck[key], awaited.isEmpty || awaited == ack.uuid {
                self.agents[agentID]?.terminalAwaitingAck[key] = nil
            }
            guard self.agents[agentID]?.isActive == true else { return [] }
            return [
                .agentMessage(agentID, .acknowledge(.init(frameworkId: id, taskId: ack.taskId, uuid: ack.uuid)))
            ]
        case .reconcile:
            return self.reconcile(call.reconcile?.tasks ?? [], from: id)
        case .teardown:
            return self.removeFramework(id, now: now)
        case .message, .request, .shutdown, .acknowledgeOperationStatus, .reconcileOperations, .updateFramework,
            .acceptInverseOffers, .declineInverseOffers:
            return []
        case .subscribe, .unknown:
            throw MasterError(.badRequest, "Call type '\(call.type.rawValue)' is not valid here.")
        }
    }

    /// Removes a framework (TEARDOWN or failover timeout): its tasks are killed and its offers recovered.
    public mutating func removeFramework(_ id: FrameworkID, now: Duration) -> [MasterAction] {
        guard var framework = self.frameworks[id] else { return [] }
        var actions = self.recoverOffers(of: &framework, rescind: false)
        if let stream = framework.streamID {
            actions.append(.closeFrameworkStream(id, streamID: stream))
        }
        for taskID in framework.tasks.sorted() {
            guard let task = self.tasks[TaskKey(id, taskID)], !task.state.isTerminal else { continue }
            if self.agents[task.agentID]?.isActive == true {
                actions.append(
                    .agentMessage(task.agentID, .kill(.init(frameworkId: id, taskId: taskID, killPolicy: nil)))
                )
            }
        }
        let agentsWithTasks = Set(framework.tasks.compactMap { self.tasks[TaskKey(id, $0)]?.agentID })
        for agent in agentsWithTasks.sorted() where self.agents[agent]?.isActive == true {
            actions.append(.agentMessage(agent, .shutdownFramework(id)))
        }
        framework.streamID = nil
        framework.unregisteredAt = now
        self.frameworks[id] = nil
        for index in self.agents.indices
        where self.agents.values[index].terminalAwaitingAck.keys.contains(where: { $0.frameworkID == id }) {
            self.agents.values[index].terminalAwaitingAck = self.agents.values[index].terminalAwaitingAck.filter {
                $0.key.frameworkID != id
            }
        }
        self.completedFrameworks.append(framework)
        if self.completedFrameworks.count > self.configuration.maxCompletedFrameworks {
            self.completedFrameworks.removeFirst(
                self.completedFrameworks.count - self.configuration.maxCompletedFrameworks
            )
        }
        return actions
    }
}
